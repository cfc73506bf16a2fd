/**
 * The run's deterministic random source: a 32-bit generator (mulberry32) whose state lives in
 * the run state, seeded by the `runStarted` event. `rand()`, `guid()` and retry jitter draw from
 * it, so replaying the event log reproduces every value.
 */

/** Advances the generator; returns `[value in [0,1), next state]`. */
export function nextRandom(stateValue: number): [number, number] {
  const s = (stateValue + 0x6d2b79f5) >>> 0;
  let t = s;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  const value = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  return [value, s];
}

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** A version-4 GUID (lowercase, hyphenated) from 16 bytes drawn with `draw()` (each call: [0,1)). */
export function guidFrom(draw: () => number): string {
  const b: number[] = [];
  for (let i = 0; i < 4; i++) {
    const n = Math.floor(draw() * 4294967296) >>> 0;
    b.push(n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255);
  }
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.map((x) => HEX[x]!);
  return `${h.slice(0, 4).join('')}-${h.slice(4, 6).join('')}-${h.slice(6, 8).join('')}-${h.slice(8, 10).join('')}-${h.slice(10, 16).join('')}`;
}
