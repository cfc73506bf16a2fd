/**
 * Clocks of the in-process runner: when events happen (`now`) and when timers fire. The engine
 * itself never reads a clock; the runner stamps every event with `clock.now()`.
 * - `realClock`: wall-clock time and real timers.
 * - `scaledClock(factor)`: time runs `factor` times faster (a PT1H Delay at 3600× takes a second).
 * - `virtualClock(start)`: time stands still while the run has work in flight and jumps to the
 *   next timer as soon as the run is idle, so Delay, Until pauses and retry waits cost nothing
 *   (used by `patchbay flow test` and tests).
 */

/** A timer handle returned by `setTimer`. */
export type TimerHandle = { cancel(): void };

/** What the runner needs from a clock. */
export interface RunnerClock {
  /** Current instant, epoch milliseconds. */
  now(): number;
  /** Calls `fn` at `dueAtMs` (epoch ms) or as soon as possible after it. */
  setTimer(dueAtMs: number, fn: () => void): TimerHandle;
  /**
   * Virtual clocks only: fires the earliest pending timer (moving time to its due instant) and
   * returns true, or returns false when no timer is pending. The runner calls it when idle.
   */
  advance?(): boolean;
}

const MAX_TIMEOUT = 2_147_483_647;

function realTimer(delayMs: () => number, fn: () => void): TimerHandle {
  let handle: ReturnType<typeof setTimeout> | undefined;
  let cancelled = false;
  const arm = (): void => {
    const d = delayMs();
    if (d > MAX_TIMEOUT) handle = setTimeout(arm, MAX_TIMEOUT);
    else handle = setTimeout(() => !cancelled && fn(), Math.max(0, d));
  };
  arm();
  return {
    cancel: () => {
      cancelled = true;
      if (handle) clearTimeout(handle);
    },
  };
}

/** Wall-clock time and real timers. */
export const realClock: RunnerClock = {
  now: () => Date.now(),
  setTimer: (due, fn) => realTimer(() => due - Date.now(), fn),
};

/** Time that runs `factor` times faster than the wall clock, starting at `startMs` (default now). */
export function scaledClock(factor: number, startMs: number = Date.now()): RunnerClock {
  const realStart = Date.now();
  const now = (): number => startMs + (Date.now() - realStart) * factor;
  return {
    now,
    setTimer: (due, fn) => realTimer(() => (due - now()) / factor, fn),
  };
}

/** A clock whose time moves only when the runner is idle: to the next timer's due instant. */
export function virtualClock(startMs: number = Date.now()): RunnerClock & { advance(): boolean } {
  let current = startMs;
  let seq = 0;
  const timers: Array<{ due: number; seq: number; fn: () => void; cancelled: boolean }> = [];
  return {
    now: () => current,
    setTimer(due, fn) {
      const t = { due, seq: seq++, fn, cancelled: false };
      timers.push(t);
      return { cancel: () => void (t.cancelled = true) };
    },
    advance() {
      for (;;) {
        if (timers.length === 0) return false;
        let best = 0;
        for (let i = 1; i < timers.length; i++) {
          const a = timers[i]!;
          const b = timers[best]!;
          if (a.due < b.due || (a.due === b.due && a.seq < b.seq)) best = i;
        }
        const [t] = timers.splice(best, 1);
        if (t!.cancelled) continue;
        current = Math.max(current, t!.due);
        t!.fn();
        return true;
      }
    },
  };
}
