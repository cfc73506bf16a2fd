/**
 * File-system side of @patchbay/solution: reading a package from a zip file or an unpacked
 * folder (with or without a `src/` wrapper next to a `.cdsproj`), writing a folder atomically
 * (temp folder + rename), writing a zip file atomically, and reading a connector source folder.
 */
import { lstat, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { conflict, notFound } from '@patchbay/core';
import type { SolutionPackage } from './model.js';
import { resolveLimits, type SolutionLimits } from './limits.js';
import { parseSolutionFiles, renderSolutionFiles, type SolutionFiles } from './package.js';
import { readSolutionZip, writeSolutionZip } from './zip-package.js';
import { decodeText, fileError } from './text.js';
import { parseCustomConnectorSource, type CustomConnectorDefinition } from './connector-source.js';

/** Options of {@link readSolution}. */
export interface ReadSolutionOptions {
  limits?: Partial<SolutionLimits>;
}

async function statOrUndefined(path: string): Promise<Awaited<ReturnType<typeof stat>> | undefined> {
  try {
    return await stat(path);
  } catch {
    return undefined;
  }
}

/**
 * The root of an unpacked tree: the folder itself when it holds `Other/Solution.xml`, else its
 * `src/` (pac `clone` projects), else the `SolutionRootPath` of a `.cdsproj` in it.
 * Throws SOLUTION_NOT_FOUND (exit 2) when none holds `Other/Solution.xml`.
 */
export async function findSolutionRoot(folder: string): Promise<string> {
  if (await statOrUndefined(join(folder, 'Other', 'Solution.xml'))) return folder;
  const candidates = ['src'];
  let entries: string[] = [];
  try {
    entries = await readdir(folder);
  } catch {
    entries = [];
  }
  for (const e of entries.filter((x) => x.toLowerCase().endsWith('.cdsproj')).sort()) {
    const text = decodeText(await readFile(join(folder, e)), { file: join(folder, e), code: 'XML_INVALID' }).text;
    const m = /<SolutionRootPath>\s*([^<]+?)\s*<\/SolutionRootPath>/i.exec(text);
    if (m?.[1]) candidates.unshift(m[1].replace(/\\/g, '/').replace(/^\.\//, '').replace(/\/$/, ''));
  }
  for (const c of candidates) {
    const root = resolve(folder, c);
    if (!root.startsWith(resolve(folder))) continue;
    if (await statOrUndefined(join(root, 'Other', 'Solution.xml'))) return root;
  }
  throw notFound(
    'SOLUTION_NOT_FOUND',
    `${folder}: no Other/Solution.xml here, in src/, or at the SolutionRootPath of a .cdsproj`,
    { file: folder },
  );
}

/** Reads every file under `root` (sorted, `/` separators), refusing symlinks and applying the caps. */
export async function readFolderFiles(root: string, limits: SolutionLimits): Promise<SolutionFiles> {
  const files: SolutionFiles = new Map();
  let total = 0;
  const walk = async (dir: string): Promise<void> => {
    const names = (await readdir(dir)).sort();
    for (const n of names) {
      const full = join(dir, n);
      const rel = relative(root, full).split(sep).join('/');
      const st = await lstat(full);
      if (st.isSymbolicLink())
        throw fileError('FOLDER_SYMLINK_REFUSED', full, 'symbolic links are not followed in a solution folder', {
          entry: rel,
        });
      if (st.isDirectory()) {
        await walk(full);
        continue;
      }
      if (!st.isFile()) continue;
      if (files.size + 1 > limits.maxEntries)
        throw fileError('FOLDER_TOO_MANY_FILES', root, `more than ${limits.maxEntries} files`, {
          limit: limits.maxEntries,
        });
      if (st.size > limits.maxEntryBytes)
        throw fileError(
          'FOLDER_FILE_TOO_LARGE',
          full,
          `${st.size} bytes, more than the limit of ${limits.maxEntryBytes}`,
          { entry: rel, limit: limits.maxEntryBytes },
        );
      total += st.size;
      if (total > limits.maxTotalBytes)
        throw fileError('FOLDER_TOO_LARGE', root, `files hold more than ${limits.maxTotalBytes} bytes`, {
          limit: limits.maxTotalBytes,
        });
      files.set(rel, await readFile(full));
    }
  };
  await walk(root);
  return files;
}

/**
 * Reads a solution package from a `.zip` file or an unpacked folder (layout detected, `src/`
 * wrapper and `.cdsproj` handled). Errors: SOLUTION_NOT_FOUND, and the read errors of
 * readSolutionZip / parseSolutionFiles, each naming the file.
 */
export async function readSolution(path: string, options: ReadSolutionOptions = {}): Promise<SolutionPackage> {
  const limits = resolveLimits(options.limits);
  const st = await statOrUndefined(path);
  if (!st) throw notFound('SOLUTION_NOT_FOUND', `${path}: no such file or folder`, { file: path });
  if (st.isFile()) {
    if (st.size > limits.maxTotalBytes)
      throw fileError(
        'ZIP_TOO_LARGE',
        path,
        `the file is ${st.size} bytes, more than the limit of ${limits.maxTotalBytes}`,
        { limit: limits.maxTotalBytes },
      );
    return readSolutionZip(await readFile(path), { name: path, limits });
  }
  const root = await findSolutionRoot(path);
  const files = await readFolderFiles(root, limits);
  const name = root;
  return parseSolutionFiles(files, { layout: 'folder', name, limits, label: (p) => join(root, p) });
}

async function isEmptyDir(path: string): Promise<boolean> {
  return (await readdir(path)).length === 0;
}

function tempName(target: string, tag: string): string {
  return join(dirname(target), `.${basename(target)}.${tag}-${process.pid}-${randomBytes(4).toString('hex')}`);
}

/** Options of {@link writeSolutionFolder}. */
export interface WriteFolderOptions {
  /** Replace a non-empty folder (its current content is deleted). Default false: refuse. */
  allowDelete?: boolean;
}

/**
 * Writes `pkg` as an unpacked tree at `dir`, atomically: the tree is written to a temporary
 * sibling folder and renamed into place, so a failure leaves `dir` as it was. A non-empty `dir`
 * is refused with FOLDER_NOT_EMPTY (exit 3) unless `allowDelete`. Returns the written paths.
 */
export async function writeSolutionFolder(
  pkg: SolutionPackage,
  dir: string,
  options: WriteFolderOptions = {},
): Promise<string[]> {
  const files = renderSolutionFiles(pkg, 'folder');
  const target = resolve(dir);
  const existing = await statOrUndefined(target);
  if (existing && !existing.isDirectory())
    throw conflict('FOLDER_NOT_A_DIRECTORY', `${dir} exists and is not a folder`, { file: dir });
  if (existing && !(await isEmptyDir(target)) && !options.allowDelete) {
    throw conflict('FOLDER_NOT_EMPTY', `${dir} is not empty; use --allow-delete to replace its content`, { file: dir });
  }
  await mkdir(dirname(target), { recursive: true });
  const tmp = tempName(target, 'patchbay-new');
  try {
    await mkdir(tmp);
    for (const [p, data] of files) {
      const full = resolve(tmp, p);
      if (!full.startsWith(tmp + sep))
        throw fileError('SOLUTION_PATH_INVALID', p, 'path escapes the target folder', { entry: p });
      await mkdir(dirname(full), { recursive: true });
      await writeFile(full, data);
    }
    if (existing) {
      const old = tempName(target, 'patchbay-old');
      await rename(target, old);
      try {
        await rename(tmp, target);
      } catch (e) {
        await rename(old, target);
        throw e;
      }
      await rm(old, { recursive: true, force: true });
    } else await rename(tmp, target);
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
  return [...files.keys()];
}

/** Writes `pkg` as a solution zip file, atomically (temporary file + rename); an existing file is replaced. */
export async function writeSolutionZipFile(pkg: SolutionPackage, file: string): Promise<number> {
  const data = await writeSolutionZip(pkg);
  const target = resolve(file);
  await mkdir(dirname(target), { recursive: true });
  const tmp = tempName(target, 'patchbay-new');
  try {
    await writeFile(tmp, data);
    await rename(tmp, target);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  return data.length;
}

/**
 * Reads a custom connector in source form (`apiDefinition.swagger.json`, `apiProperties.json`,
 * optional `script.csx`). Errors name the file and the line or field: CONNECTOR_FILE_MISSING,
 * CONNECTOR_JSON_INVALID, CONNECTOR_FIELD_INVALID.
 */
export async function readCustomConnectorFolder(
  dir: string,
  options: ReadSolutionOptions = {},
): Promise<CustomConnectorDefinition> {
  const limits = resolveLimits(options.limits);
  const read = async (name: string, required: boolean): Promise<string | undefined> => {
    const full = join(dir, name);
    const st = await statOrUndefined(full);
    if (!st || !st.isFile()) {
      if (required) throw fileError('CONNECTOR_FILE_MISSING', full, 'file not found', { field: name });
      return undefined;
    }
    if (st.size > limits.maxJsonBytes)
      throw fileError(
        'CONNECTOR_JSON_TOO_LARGE',
        full,
        `${st.size} bytes, more than the limit of ${limits.maxJsonBytes}`,
        { limit: limits.maxJsonBytes },
      );
    const code = name.endsWith('.json') ? 'CONNECTOR_JSON_INVALID' : 'CONNECTOR_SCRIPT_INVALID';
    return decodeText(await readFile(full), { file: full, code }).text;
  };
  const apiDefinition = (await read('apiDefinition.swagger.json', true)) as string;
  const apiProperties = (await read('apiProperties.json', true)) as string;
  const script = await read('script.csx', false);
  return parseCustomConnectorSource(
    script === undefined ? { apiDefinition, apiProperties } : { apiDefinition, apiProperties, script },
    { name: basename(resolve(dir)), label: (f) => join(dir, f), limits },
  );
}
