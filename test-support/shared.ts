/**
 * Where the shared material (design, corpus, conformance cases) is. The repository normally sits
 * next to it (`../shared` from the repository root, as in /work/main and /work/shared), but CI
 * may clone the repository elsewhere: then PATCHBAY_SHARED_DIR, else /work/shared.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));

/** The shared folder (absolute). */
export const SHARED_DIR: string =
  process.env['PATCHBAY_SHARED_DIR'] ??
  [join(repoRoot, '..', 'shared'), '/work/shared'].find((d) => existsSync(join(d, 'corpus', 'MANIFEST.json'))) ??
  join(repoRoot, '..', 'shared');

/** The real corpus: solutions, settings, connectors, MANIFEST.json. */
export const CORPUS_DIR = join(SHARED_DIR, 'corpus');

/** The documented expression results. */
export const CONFORMANCE_FILE = join(SHARED_DIR, 'conformance', 'wdl-expressions.jsonl');
