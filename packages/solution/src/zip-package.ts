/**
 * Solution packages as zip buffers. No file system (see fs.ts for paths).
 */
import type { SolutionPackage } from './model.js';
import type { SolutionLimits } from './limits.js';
import { parseSolutionFiles, renderSolutionFiles } from './package.js';
import { readZipEntries, writeZipEntries } from './zip.js';

/** Options of {@link readSolutionZip}. */
export interface ReadSolutionZipOptions {
  /** Name used in messages, e.g. the zip file name. */
  name: string;
  limits?: Partial<SolutionLimits>;
}

/**
 * Reads an exported solution zip from a buffer. Errors (exit 2) name the zip and the entry:
 * ZIP_* for the container (see readZipEntries), XML_* / JSON_* / FLOW_SHAPE_INVALID /
 * SOLUTION_* for the parts.
 */
export async function readSolutionZip(buffer: Buffer, options: ReadSolutionZipOptions): Promise<SolutionPackage> {
  const files = await readZipEntries(buffer, { file: options.name, limits: options.limits });
  return parseSolutionFiles(files, { layout: 'zip', name: options.name, limits: options.limits });
}

/** Writes a package as an exported solution zip (deterministic bytes for the same package). */
export async function writeSolutionZip(pkg: SolutionPackage): Promise<Buffer> {
  return writeZipEntries(renderSolutionFiles(pkg, 'zip'));
}
