/** Shared test helpers: the real corpus (../shared/corpus), temporary folders, zip surgery. */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { readZipEntries, writeZipEntries } from '@patchbay/solution';
import { CORPUS_DIR } from '../../../test-support/shared.js';

/** /work/shared/corpus, resolved from the repository (../shared/corpus). */
export const CORPUS = CORPUS_DIR + '/';

export interface ManifestItem {
  path: string;
  kind: 'unpacked-solution' | 'solution-zip' | 'deployment-settings' | 'connector';
  notes: Record<string, unknown> & {
    flows: number;
    connectionReferences: number;
    envVars: number;
  };
}

export interface CorpusManifest {
  summary: Record<string, Record<string, number>>;
  items: ManifestItem[];
}

export const manifest: CorpusManifest = JSON.parse(
  readFileSync(join(CORPUS, 'MANIFEST.json'), 'utf8'),
) as CorpusManifest;

export const solutionItems = manifest.items.filter((i) => i.kind === 'unpacked-solution' || i.kind === 'solution-zip');
export const settingsItems = manifest.items.filter((i) => i.kind === 'deployment-settings');
export const connectorItems = manifest.items.filter((i) => i.kind === 'connector');

export function corpusPath(rel: string): string {
  return join(CORPUS, rel);
}

const made: string[] = [];
afterAll(async () => {
  for (const d of made) await rm(d, { recursive: true, force: true });
});

/** A fresh temporary folder, removed after the test file. */
export async function tempDir(prefix = 'pb-solution-'): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), prefix));
  made.push(d);
  return d;
}

/** The entries of a corpus zip. */
export async function corpusZipEntries(rel: string): Promise<Map<string, Buffer>> {
  return readZipEntries(await readFile(corpusPath(rel)), { file: rel });
}

/** Builds a zip from entries, then replaces entry-name bytes `from` by `to` (same length) everywhere. */
export async function zipWithRenamedEntry(entries: Map<string, Buffer>, from: string, to: string): Promise<Buffer> {
  if (from.length !== to.length) throw new Error('same length needed');
  const zip = await writeZipEntries(entries);
  const a = Buffer.from(from, 'utf8');
  const b = Buffer.from(to, 'utf8');
  let i = zip.indexOf(a);
  let n = 0;
  while (i >= 0) {
    b.copy(zip, i);
    n++;
    i = zip.indexOf(a, i + 1);
  }
  if (n === 0) throw new Error('name not found');
  return zip;
}

/** Sets the uncompressed size recorded in the central directory for entry `name`. */
export function patchCentralDirectorySize(zip: Buffer, name: string, size: number): Buffer {
  const out = Buffer.from(zip);
  const nameBuf = Buffer.from(name, 'utf8');
  for (let i = out.length - 46; i >= 0; i--) {
    if (out.readUInt32LE(i) !== 0x02014b50) continue;
    const nameLen = out.readUInt16LE(i + 28);
    if (nameLen === nameBuf.length && out.subarray(i + 46, i + 46 + nameLen).equals(nameBuf)) {
      out.writeUInt32LE(size, i + 24);
      return out;
    }
  }
  throw new Error('entry not found in central directory');
}
