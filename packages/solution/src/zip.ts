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

/**
 * Reads every file entry of a zip into memory (directory entries are skipped). Errors:
 * ZIP_INVALID (truncated or corrupt), ZIP_TOO_MANY_ENTRIES, ZIP_TOO_LARGE, ZIP_ENTRY_TOO_LARGE,
 * ZIP_COMPRESSION_RATIO, ZIP_ENTRY_PATH_INVALID, ZIP_ENTRY_ENCRYPTED, ZIP_DUPLICATE_ENTRY.
 */
export async function readZipEntries(buffer: Buffer, options: ReadZipOptions): Promise<Map<string, Buffer>> {
  const limits = resolveLimits(options.limits);
  const { file } = options;
  const zip = await openZip(buffer, file);
  if (zip.entryCount > limits.maxEntries) {
    zip.close();
    throw fileError(
      'ZIP_TOO_MANY_ENTRIES',
      file,
      `the zip has ${zip.entryCount} entries, more than the limit of ${limits.maxEntries}`,
      {
        entries: zip.entryCount,
        limit: limits.maxEntries,
      },
    );
  }
  const out = new Map<string, Buffer>();
  const lower = new Set<string>();
  let declaredTotal = 0;
  let actualTotal = 0;
  return new Promise((resolve, reject) => {
    let done = false;
    const fail = (e: Error): void => {
      if (done) return;
      done = true;
      zip.close();
      reject(e);
    };
    zip.on('error', (err: Error) => fail(zipError(file, err)));
    zip.on('end', () => {
      if (done) return;
      done = true;
      resolve(out);
    });
    zip.on('entry', (entry: yauzl.Entry) => {
      const name = entry.fileName;
      if (name.endsWith('/')) {
        zip.readEntry();
        return;
      }
      const problem = unsafePathReason(name);
      if (problem)
        return fail(
          fileError('ZIP_ENTRY_PATH_INVALID', file, `entry ${JSON.stringify(name)} refused: ${problem}`, {
            entry: name,
            reason: problem,
          }),
        );
      if (lower.has(name.toLowerCase()))
        return fail(fileError('ZIP_DUPLICATE_ENTRY', file, `entry ${name} appears twice`, { entry: name }));
      lower.add(name.toLowerCase());
      if (entry.isEncrypted())
        return fail(fileError('ZIP_ENTRY_ENCRYPTED', file, `entry ${name} is encrypted`, { entry: name }));
      const size = entry.uncompressedSize;
      if (size > limits.maxEntryBytes) {
        return fail(
          fileError(
            'ZIP_ENTRY_TOO_LARGE',
            file,
            `entry ${name} is ${size} bytes uncompressed, more than the limit of ${limits.maxEntryBytes}`,
            { entry: name, size, limit: limits.maxEntryBytes },
          ),
        );
      }
      declaredTotal += size;
      if (declaredTotal > limits.maxTotalBytes) {
        return fail(
          fileError('ZIP_TOO_LARGE', file, `entries hold more than ${limits.maxTotalBytes} bytes uncompressed`, {
            limit: limits.maxTotalBytes,
            entry: name,
          }),
        );
      }
      const ratio = size / Math.max(entry.compressedSize, 1);
      if (size >= limits.ratioMinBytes && ratio > limits.maxCompressionRatio) {
        return fail(
          fileError(
            'ZIP_COMPRESSION_RATIO',
            file,
            `entry ${name} expands ${Math.round(ratio)}:1, more than the limit of ${limits.maxCompressionRatio}:1`,
            {
              entry: name,
              ratio: Math.round(ratio),
              limit: limits.maxCompressionRatio,
            },
          ),
        );
      }
      zip.openReadStream(entry, (err, stream: Readable) => {
        if (err || !stream) return fail(zipError(file, err ?? new Error('cannot read entry'), name));
        const chunks: Buffer[] = [];
        let got = 0;
        stream.on('data', (chunk: Buffer) => {
          got += chunk.length;
          actualTotal += chunk.length;
          if (got > size || got > limits.maxEntryBytes || actualTotal > limits.maxTotalBytes) {
            stream.destroy();
            fail(
              fileError('ZIP_TOO_LARGE', file, `entry ${name} inflates beyond its declared size or the limits`, {
                entry: name,
              }),
            );
            return;
          }
          chunks.push(chunk);
        });
        stream.on('error', (e: Error) => fail(zipError(file, e, name)));
        stream.on('end', () => {
          if (done) return;
          out.set(name, Buffer.concat(chunks, got));
          zip.readEntry();
        });
      });
    });
    zip.readEntry();
  });
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
