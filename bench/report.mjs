// Shared helpers of the `npm run bench:*` scripts: machine facts, medians, and writing one
// section of BENCHMARKS.md between `<!-- bench:NAME -->` and `<!-- /bench:NAME -->` markers,
// so each benchmark replaces only its own section.
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import os from 'node:os';
import { fileURLToPath } from 'node:url';

const file = fileURLToPath(new URL('../BENCHMARKS.md', import.meta.url));

/** Median of a list of numbers (the middle value; mean of the two middle values for even counts). */
export function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Percentile (0..100) by nearest rank. */
export function percentile(values, p) {
  const s = [...values].sort((a, b) => a - b);
  const i = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
  return s[i];
}

/** One line describing the machine and the date, for the method paragraph. */
export function machineLine() {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  return `Measured ${new Date().toISOString().slice(0, 10)} on ${os.cpus().length} × ${cpu}, Node.js ${process.version}, ${os.platform()} ${os.release()}.`;
}

/** Replaces (or appends) the section NAME of BENCHMARKS.md with `markdown`. */
export function writeBenchSection(name, markdown) {
  const start = `<!-- bench:${name} -->`;
  const end = `<!-- /bench:${name} -->`;
  let text = existsSync(file)
    ? readFileSync(file, 'utf8')
    : '# Benchmarks\n\nEach section is written by its `npm run bench:*` script; numbers are medians of repeated rounds on a shared, noisy machine, so compare ratios measured in the same run rather than absolute numbers across runs.\n';
  const block = `${start}\n${markdown.trim()}\n${end}`;
  const i = text.indexOf(start);
  const j = text.indexOf(end);
  if (i >= 0 && j > i) text = text.slice(0, i) + block + text.slice(j + end.length);
  else text = text.trimEnd() + '\n\n' + block + '\n';
  writeFileSync(file, text);
}

/**
 * The shared folder (corpus, conformance): PATCHBAY_SHARED_DIR, else ../shared next to the
 * repository, else /work/shared (see test-support/shared.ts).
 */
export function sharedDir() {
  const repoRoot = fileURLToPath(new URL('..', import.meta.url));
  return (
    process.env.PATCHBAY_SHARED_DIR ??
    [join(repoRoot, '..', 'shared'), '/work/shared'].find((d) => existsSync(join(d, 'corpus', 'MANIFEST.json'))) ??
    join(repoRoot, '..', 'shared')
  );
}
