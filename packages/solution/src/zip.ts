/**
 * Zip reading and writing over buffers (yauzl / yazl), with the caps of design §6: entry
 * count, total uncompressed size, per-entry size and compression ratio are checked from the
 * central directory before anything is inflated, and again on the inflated bytes; entries
 * whose names escape the package (absolute, `..`, backslash) are refused. No file system.
 */
import yauzl from 'yauzl';
import yazl from 'yazl';
import type { Readable } from 'node:stream';
import { resolveLimits, type SolutionLimits } from './limits.js';
import { fileError } from './text.js';
import { unsafePathReason } from './components.js';

/** Options of {@link readZipEntries}. */
export interface ReadZipOptions {
  /** File named in errors. */
  file: string;
  limits?: Partial<SolutionLimits>;
}

function openZip(buffer: Buffer, file: string): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(
      buffer,
      { lazyEntries: true, decodeStrings: true, validateEntrySizes: true, strictFileNames: false },
      (err, zip) => {
        if (err || !zip) reject(zipError(file, err ?? new Error('cannot open')));
        else resolve(zip);
      },
    );
  });
}

function zipError(file: string, err: Error, entry?: string): Error {
  const message = err.message;
  if (/invalid relative path|absolute path|invalid characters in fileName/i.test(message)) {
    return fileError('ZIP_ENTRY_PATH_INVALID', file, `entry name refused: ${message}`, {
      reason: message,
      ...(entry ? { entry } : {}),
    });
  }
  return fileError('ZIP_INVALID', file, `not a readable zip file: ${message}`, {
    reason: message,
    ...(entry ? { entry } : {}),
  });
}

/** A file entry accepted from the central directory, not yet inflated. */
interface PlannedEntry {
  entry: yauzl.Entry;
  name: string;
  size: number;
}

/** Reads the central directory (no entry is inflated): every entry, in zip order. */
function listEntries(zip: yauzl.ZipFile, file: string): Promise<yauzl.Entry[]> {
  return new Promise((resolve, reject) => {
    const list: yauzl.Entry[] = [];
    zip.on('error', (err: Error) => reject(zipError(file, err)));
    zip.on('entry', (entry: yauzl.Entry) => {
      list.push(entry);
      zip.readEntry();
    });
    zip.on('end', () => resolve(list));
    zip.readEntry();
  });
}

/** Inflates one entry, stopping as soon as it grows beyond `size` (its declared size). */
function inflateEntry(zip: yauzl.ZipFile, file: string, planned: PlannedEntry): Promise<Buffer> {
  const { entry, name, size } = planned;
  return new Promise((resolve, reject) => {
    zip.openReadStream(entry, (err, stream: Readable) => {
      if (err || !stream) return reject(zipError(file, err ?? new Error('cannot read entry'), name));
      const out = Buffer.allocUnsafe(size);
      let got = 0;
      let failed = false;
      stream.on('data', (chunk: Buffer) => {
        if (failed) return;
        if (got + chunk.length > size) {
          failed = true;
          stream.destroy();
          reject(
            fileError('ZIP_TOO_LARGE', file, `entry ${name} inflates beyond its declared size of ${size} bytes`, {
              entry: name,
              size,
            }),
          );
          return;
        }
        chunk.copy(out, got);
        got += chunk.length;
      });
      stream.on('error', (e: Error) => {
        if (failed) return;
        failed = true;
        reject(zipError(file, e, name));
      });
      stream.on('end', () => {
        if (failed) return;
        if (got !== size) {
          reject(
            fileError('ZIP_INVALID', file, `entry ${name} holds ${got} bytes, not the ${size} its header declares`, {
              entry: name,
              size,
            }),
          );
          return;
        }
        resolve(out);
      });
    });
  });
}

/**
 * Reads every file entry of a zip into memory (directory entries are skipped), in two passes:
 * the whole central directory is checked first (names, duplicates, encryption, entry count,
 * per-entry size and ratio, total size, and the overall ratio of the declared uncompressed
 * total to the zip's own size), and only then is anything inflated, each entry into a buffer
 * of its declared size that it may not outgrow. Memory therefore stays below
 * min(maxTotalBytes, maxCompressionRatio × zip size) (or ratioMinBytes) plus the zip itself.
 * Errors: ZIP_INVALID (truncated or corrupt), ZIP_TOO_MANY_ENTRIES, ZIP_TOO_LARGE,
 * ZIP_ENTRY_TOO_LARGE, ZIP_COMPRESSION_RATIO, ZIP_ENTRY_PATH_INVALID, ZIP_ENTRY_ENCRYPTED,
 * ZIP_DUPLICATE_ENTRY.
 */
export async function readZipEntries(buffer: Buffer, options: ReadZipOptions): Promise<Map<string, Buffer>> {
  const limits = resolveLimits(options.limits);
  const { file } = options;
  const zip = await openZip(buffer, file);
  try {
    if (zip.entryCount > limits.maxEntries) {
      throw fileError(
        'ZIP_TOO_MANY_ENTRIES',
        file,
        `the zip has ${zip.entryCount} entries, more than the limit of ${limits.maxEntries}`,
        { entries: zip.entryCount, limit: limits.maxEntries },
      );
    }
    const planned: PlannedEntry[] = [];
    const lower = new Set<string>();
    let declaredTotal = 0;
    for (const entry of await listEntries(zip, file)) {
      const name = entry.fileName;
      if (name.endsWith('/')) continue;
      const problem = unsafePathReason(name);
      if (problem)
        throw fileError('ZIP_ENTRY_PATH_INVALID', file, `entry ${JSON.stringify(name)} refused: ${problem}`, {
          entry: name,
          reason: problem,
        });
      if (lower.has(name.toLowerCase()))
        throw fileError('ZIP_DUPLICATE_ENTRY', file, `entry ${name} appears twice`, { entry: name });
      lower.add(name.toLowerCase());
      if (entry.isEncrypted())
        throw fileError('ZIP_ENTRY_ENCRYPTED', file, `entry ${name} is encrypted`, { entry: name });
      const size = entry.uncompressedSize;
      if (size > limits.maxEntryBytes) {
        throw fileError(
          'ZIP_ENTRY_TOO_LARGE',
          file,
          `entry ${name} is ${size} bytes uncompressed, more than the limit of ${limits.maxEntryBytes}`,
          { entry: name, size, limit: limits.maxEntryBytes },
        );
      }
      declaredTotal += size;
      if (declaredTotal > limits.maxTotalBytes) {
        throw fileError('ZIP_TOO_LARGE', file, `entries hold more than ${limits.maxTotalBytes} bytes uncompressed`, {
          limit: limits.maxTotalBytes,
          entry: name,
        });
      }
      const ratio = size / Math.max(entry.compressedSize, 1);
      if (size >= limits.ratioMinBytes && ratio > limits.maxCompressionRatio) {
        throw fileError(
          'ZIP_COMPRESSION_RATIO',
          file,
          `entry ${name} expands ${Math.round(ratio)}:1, more than the limit of ${limits.maxCompressionRatio}:1`,
          { entry: name, ratio: Math.round(ratio), limit: limits.maxCompressionRatio },
        );
      }
      planned.push({ entry, name, size });
    }
    // Overall ratio against the zip's own size (not the sum of compressed sizes, which entries
    // sharing their data would inflate): splitting a bomb into many small entries does not help.
    const overall = declaredTotal / Math.max(buffer.length, 1);
    if (declaredTotal >= limits.ratioMinBytes && overall > limits.maxCompressionRatio) {
      throw fileError(
        'ZIP_COMPRESSION_RATIO',
        file,
        `the ${planned.length} entries expand ${Math.round(overall)}:1 together (${declaredTotal} bytes from a ${buffer.length}-byte zip), more than the limit of ${limits.maxCompressionRatio}:1`,
        {
          ratio: Math.round(overall),
          limit: limits.maxCompressionRatio,
          uncompressedBytes: declaredTotal,
          zipBytes: buffer.length,
        },
      );
    }
    const out = new Map<string, Buffer>();
    for (const p of planned) out.set(p.name, await inflateEntry(zip, file, p));
    return out;
  } finally {
    zip.close();
  }
}

/** A fixed timestamp for every written entry, so the same package always gives the same bytes. */
const ZIP_MTIME = new Date(Date.UTC(2000, 0, 1, 0, 0, 0));

/** Writes `files` (path → bytes, in order) as a deflated zip. */
export function writeZipEntries(files: Map<string, Buffer>): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const [path, data] of files) zip.addBuffer(data, path, { mtime: ZIP_MTIME, mode: 0o100644, compress: true });
  zip.end();
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    zip.outputStream.on('data', (c: Buffer) => chunks.push(c));
    zip.outputStream.on('error', reject);
    zip.outputStream.on('end', () => resolve(Buffer.concat(chunks)));
  });
}
