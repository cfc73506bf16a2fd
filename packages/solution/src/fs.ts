/**
 * File-system side of @patchbay/solution: reading a package from a zip file or an unpacked
 * folder (with or without a `src/` wrapper next to a `.cdsproj`), writing a folder atomically
 * (temp folder + rename), writing a zip file atomically, and reading a connector source folder.
 */
import { chmod, lstat, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { conflict, isPatchbayError, notFound, PatchbayError, type ErrorCategory } from '@patchbay/core';
import type { SolutionPackage } from './model.js';
import { resolveLimits, type SolutionLimits } from './limits.js';
import { parseSolutionFiles, renderSolutionFiles, type SolutionFiles } from './package.js';
import { readSolutionZip, writeSolutionZip } from './zip-package.js';
import { decodeText, fileError } from './text.js';
import { ignoredPathReason } from './components.js';
import { parseCustomConnectorSource, type CustomConnectorDefinition } from './connector-source.js';

/** Options of {@link readSolution}. */
export interface ReadSolutionOptions {
  limits?: Partial<SolutionLimits>;
  /**
   * Files not to read from a folder (absolute or relative to the working directory), e.g. the zip
   * `pack` is about to write inside the tree it packs.
   */
  exclude?: readonly string[];
}

const FS_REASONS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOENT: 'no such file or folder',
  ENOTDIR: 'a part of the path is not a folder',
  EISDIR: 'is a folder',
  ELOOP: 'too many levels of symbolic links',
  ENAMETOOLONG: 'name too long',
  ENOSPC: 'no space left on the device',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files',
  EBUSY: 'resource busy',
  EIO: 'input/output error',
};

/**
 * A file-system failure as a PatchbayError naming `path`: permission problems are `permission`
 * (exit 4), a full disk or too many open files `not-ready` (exit 3), other causes `invalid` (exit 2).
 * `details.errno` keeps Node's code (EACCES, ENOTDIR, …).
 */
function fsFailure(e: unknown, path: string, code: string, doing: string): PatchbayError {
  if (isPatchbayError(e)) return e;
  const errno = (e as NodeJS.ErrnoException | undefined)?.code;
  const category: ErrorCategory =
    errno === 'EACCES' || errno === 'EPERM' || errno === 'EROFS'
      ? 'permission'
      : errno === 'ENOSPC' || errno === 'EMFILE' || errno === 'ENFILE' || errno === 'EBUSY'
        ? 'not-ready'
        : 'invalid';
  const reason = (errno && FS_REASONS[errno]) ?? (e instanceof Error ? e.message : String(e));
  return new PatchbayError({
    code,
    message: `${path}: cannot ${doing}: ${reason}`,
    category,
    details: { file: path, operation: doing, ...(errno ? { errno } : {}) },
    cause: e,
  });
}

function isMissing(e: unknown): boolean {
  const errno = (e as NodeJS.ErrnoException | undefined)?.code;
  return errno === 'ENOENT' || errno === 'ENOTDIR';
}

/** `stat` (or `lstat`), undefined when the path does not exist; other failures are FILE_NOT_READABLE. */
async function statOrUndefined(path: string, link = false): Promise<Stats | undefined> {
  try {
    return await (link ? lstat(path) : stat(path));
  } catch (e) {
    if (isMissing(e)) return undefined;
    throw fsFailure(e, path, 'FILE_NOT_READABLE', 'read');
  }
}

async function listFolder(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).sort();
  } catch (e) {
    throw fsFailure(e, dir, 'FOLDER_NOT_READABLE', 'list the folder');
  }
}

async function readBytes(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (e) {
    throw fsFailure(e, path, 'FILE_NOT_READABLE', 'read');
  }
}

function symlinkRefused(full: string, entry: string): PatchbayError {
  return fileError('FOLDER_SYMLINK_REFUSED', full, 'symbolic links are not followed in a solution folder', { entry });
}

/**
 * The entry of `dir` named `name`, matched case-insensitively (an exact match wins), as a real
 * folder (`kind: 'dir'`) or file. Undefined when absent or of the other kind; a symbolic link is
 * refused with FOLDER_SYMLINK_REFUSED.
 */
async function entryIn(dir: string, name: string, kind: 'dir' | 'file'): Promise<string | undefined> {
  const names = await listFolder(dir);
  const lower = name.toLowerCase();
  const matches = names
    .filter((n) => n.toLowerCase() === lower)
    .sort((a, b) => Number(b === name) - Number(a === name));
  for (const n of matches) {
    const full = join(dir, n);
    const st = await statOrUndefined(full, true);
    if (!st) continue;
    if (st.isSymbolicLink()) throw symlinkRefused(full, n);
    if (kind === 'dir' ? st.isDirectory() : st.isFile()) return full;
  }
  return undefined;
}

/** True when `dir` holds `Other/Solution.xml` (names matched case-insensitively, no symbolic links). */
async function holdsSolutionXml(dir: string): Promise<boolean> {
  const other = await entryIn(dir, 'Other', 'dir');
  return other !== undefined && (await entryIn(other, 'Solution.xml', 'file')) !== undefined;
}

/** The `SolutionRootPath` values of the `.cdsproj` files of `folder`, with the file each comes from. */
async function solutionRootPaths(
  folder: string,
  names: string[],
  limits: SolutionLimits,
): Promise<Array<{ value: string; file: string }>> {
  const out: Array<{ value: string; file: string }> = [];
  for (const e of names.filter((x) => x.toLowerCase().endsWith('.cdsproj'))) {
    const file = join(folder, e);
    const st = await statOrUndefined(file, true);
    if (!st) continue;
    if (st.isSymbolicLink()) throw symlinkRefused(file, e);
    if (!st.isFile()) continue;
    if (st.size > limits.maxXmlBytes)
      throw fileError('XML_TOO_LARGE', file, `${st.size} bytes, more than the limit of ${limits.maxXmlBytes}`, {
        limit: limits.maxXmlBytes,
      });
    const text = decodeText(await readBytes(file), { file, code: 'XML_INVALID' }).text;
    const m = /<SolutionRootPath>\s*([^<]+?)\s*<\/SolutionRootPath>/i.exec(text);
    if (m?.[1]) out.push({ value: m[1], file });
  }
  return out;
}

/**
 * The root of an unpacked tree: the folder itself when it holds `Other/Solution.xml`, else the
 * `SolutionRootPath` of a `.cdsproj` in it, else its `src/` (pac `clone` projects). Names are
 * matched case-insensitively (`other/solution.xml`, `SRC/`). The root must lie inside `folder`
 * (compared by path segments) and be reached without symbolic links (`folder` itself may be one).
 * Errors: SOLUTION_NOT_FOUND (exit 2) when none holds `Other/Solution.xml`; SOLUTION_PATH_INVALID
 * (naming the .cdsproj) for a SolutionRootPath outside the folder; FOLDER_SYMLINK_REFUSED;
 * FOLDER_NOT_READABLE / FILE_NOT_READABLE for file-system failures.
 */
export async function findSolutionRoot(folder: string, options: ReadSolutionOptions = {}): Promise<string> {
  const limits = resolveLimits(options.limits);
  const names = await listFolder(folder);
  if (await holdsSolutionXml(folder)) return folder;
  const base = resolve(folder);
  const candidates: Array<{ value: string; file?: string }> = [
    ...(await solutionRootPaths(folder, names, limits)),
    { value: 'src' },
  ];
  for (const c of candidates) {
    const rel = relative(base, resolve(base, c.value.replace(/\\/g, '/')));
    if (rel === '..' || rel.startsWith('..' + sep) || isAbsolute(rel)) {
      throw fileError(
        'SOLUTION_PATH_INVALID',
        c.file ?? folder,
        `SolutionRootPath ${JSON.stringify(c.value)} leaves the project folder ${folder}`,
        { field: 'SolutionRootPath', value: c.value },
      );
    }
    let dir: string | undefined = folder;
    for (const seg of rel.split(sep).filter((x) => x !== '')) {
      dir = await entryIn(dir, seg, 'dir');
      if (dir === undefined) break;
    }
    if (dir !== undefined && dir !== folder && (await holdsSolutionXml(dir))) return dir;
  }
  throw notFound(
    'SOLUTION_NOT_FOUND',
    `${folder}: no Other/Solution.xml here, at the SolutionRootPath of a .cdsproj, or in src/`,
    { file: folder },
  );
}

/** What {@link readFolderFiles} read, and the files it skipped that are worth a warning. */
export interface FolderFiles {
  files: SolutionFiles;
  /** Root-level files skipped because they are not part of a solution (hidden entries, VCS folders and OS junk are skipped silently). */
  ignored: Array<{ path: string; reason: string }>;
}

/**
 * Reads every file under `root` (sorted, `/` separators), refusing symlinks and applying the caps.
 * Entries that are not part of a solution (see {@link ignoredPathReason}: `.git/`, `.DS_Store`,
 * `*~`, root-level files, …) and the `exclude`d paths are not read at all.
 */
export async function readFolderFiles(
  root: string,
  limits: SolutionLimits,
  exclude: readonly string[] = [],
): Promise<FolderFiles> {
  const files: SolutionFiles = new Map();
  const ignored: FolderFiles['ignored'] = [];
  const skip = new Set(exclude.map((p) => resolve(p)));
  let total = 0;
  const walk = async (dir: string): Promise<void> => {
    for (const n of await listFolder(dir)) {
      const full = join(dir, n);
      const rel = relative(root, full).split(sep).join('/');
      if (skip.has(resolve(full))) continue;
      const st = await statOrUndefined(full, true);
      if (!st) continue;
      const reason = ignoredPathReason(st.isDirectory() ? `${rel}/x` : rel, 'folder');
      if (reason) {
        if (reason.includes('root')) ignored.push({ path: rel, reason });
        continue;
      }
      if (st.isSymbolicLink()) throw symlinkRefused(full, rel);
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
      files.set(rel, await readBytes(full));
    }
  };
  await walk(root);
  return { files, ignored };
}

/**
 * Reads a solution package from a `.zip` file or an unpacked folder (layout detected, `src/`
 * wrapper and `.cdsproj` handled). Errors: SOLUTION_NOT_FOUND, FILE_NOT_READABLE /
 * FOLDER_NOT_READABLE (file-system failures, naming the path), and the read errors of
 * readSolutionZip / parseSolutionFiles, each naming the file. Root-level files of a folder
 * (not part of pac's layout) are skipped with the warning FOLDER_FILE_IGNORED.
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
    return readSolutionZip(await readBytes(path), { name: path, limits });
  }
  if (!st.isDirectory()) throw fileError('SOLUTION_NOT_FOUND', path, 'neither a file nor a folder', { file: path });
  const root = await findSolutionRoot(path, { limits });
  const { files, ignored } = await readFolderFiles(root, limits, options.exclude);
  const pkg = parseSolutionFiles(files, { layout: 'folder', name: root, limits, label: (p) => join(root, p) });
  for (const i of ignored)
    pkg.warnings.push({
      code: 'FOLDER_FILE_IGNORED',
      message: `${i.path} is not part of the solution (${i.reason}); not read`,
      file: join(root, i.path),
    });
  return pkg;
}

function tempName(target: string, tag: string): string {
  return join(dirname(target), `.${basename(target)}.${tag}-${process.pid}-${randomBytes(4).toString('hex')}`);
}

/** Options of {@link writeSolutionFolder}. */
export interface WriteFolderOptions {
  /**
   * Replace the content of a non-empty folder. Default false: refuse. Entries at the top of the
   * folder whose name starts with `.` (`.git`, `.gitignore`, …) are not part of a solution: they
   * are kept, and a folder holding only such entries counts as empty.
   */
  allowDelete?: boolean;
}

/** True when `dir` (with top-level entries `names`) holds an unpacked solution: `Other/Solution.xml`, any case. */
async function isSolutionTree(dir: string, names: string[]): Promise<boolean> {
  const other = names.find((n) => n.toLowerCase() === 'other');
  if (!other) return false;
  try {
    return (await readdir(join(dir, other))).some((n) => n.toLowerCase() === 'solution.xml');
  } catch {
    return false;
  }
}

async function moveAll(names: string[], from: string, to: string): Promise<void> {
  for (const n of names) await rename(join(from, n), join(to, n));
}

/**
 * Writes `pkg` as an unpacked tree at `dir`, atomically: the tree is written to a temporary
 * sibling folder and renamed into place, so a failure leaves `dir` as it was. A `dir` holding
 * anything but hidden entries is refused with FOLDER_NOT_EMPTY (exit 3) unless `allowDelete`;
 * even then only an unpacked solution tree (it holds `Other/Solution.xml`) is replaced: any
 * other folder (a home folder, /tmp, a data dir) is refused with FOLDER_NOT_A_SOLUTION (exit 3)
 * naming a few of its entries. Hidden top-level entries (`.git`, …) are moved into the new tree,
 * never deleted, and the folder keeps its permission bits.
 * File-system failures are FOLDER_NOT_WRITABLE naming `dir`. Returns the written paths.
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
  const present = existing ? await listFolder(target) : [];
  const kept = present.filter((n) => n.startsWith('.'));
  const visible = present.filter((n) => !n.startsWith('.'));
  if (visible.length > 0 && !options.allowDelete) {
    throw conflict('FOLDER_NOT_EMPTY', `${dir} is not empty; use --allow-delete to replace its content`, { file: dir });
  }
  if (visible.length > 0 && !(await isSolutionTree(target, visible))) {
    throw conflict(
      'FOLDER_NOT_A_SOLUTION',
      `${dir} is not an unpacked solution (no Other/Solution.xml): refusing to replace its content (${visible.slice(0, 5).join(', ')}${visible.length > 5 ? ', …' : ''}); choose an empty or new folder`,
      { file: dir, entries: visible.slice(0, 20) },
    );
  }
  const tmp = tempName(target, 'patchbay-new');
  try {
    await mkdir(dirname(target), { recursive: true });
    await mkdir(tmp);
    for (const [p, data] of files) {
      const full = resolve(tmp, p);
      if (!full.startsWith(tmp + sep))
        throw fileError('SOLUTION_PATH_INVALID', p, 'path escapes the target folder', { entry: p });
      await mkdir(dirname(full), { recursive: true });
      await writeFile(full, data);
    }
    if (existing) {
      await moveAll(kept, target, tmp);
      await chmod(tmp, existing.mode & 0o7777);
      const old = tempName(target, 'patchbay-old');
      try {
        await rename(target, old);
        try {
          await rename(tmp, target);
        } catch (e) {
          await rename(old, target);
          throw e;
        }
      } catch (e) {
        await moveAll(kept, tmp, target);
        throw e;
      }
      await rm(old, { recursive: true, force: true });
    } else await rename(tmp, target);
  } catch (e) {
    await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    throw fsFailure(e, dir, 'FOLDER_NOT_WRITABLE', 'write the folder');
  }
  return [...files.keys()];
}

/**
 * Writes `pkg` as a solution zip file, atomically (temporary file + rename); an existing file is
 * replaced. File-system failures are FILE_NOT_WRITABLE naming `file`. Returns the byte count.
 */
export async function writeSolutionZipFile(pkg: SolutionPackage, file: string): Promise<number> {
  const data = await writeSolutionZip(pkg);
  const target = resolve(file);
  const tmp = tempName(target, 'patchbay-new');
  try {
    await mkdir(dirname(target), { recursive: true });
    await writeFile(tmp, data);
    await rename(tmp, target);
  } catch (e) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw fsFailure(e, file, 'FILE_NOT_WRITABLE', 'write the file');
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
    return decodeText(await readBytes(full), { file: full, code }).text;
  };
  const apiDefinition = (await read('apiDefinition.swagger.json', true)) as string;
  const apiProperties = (await read('apiProperties.json', true)) as string;
  const script = await read('script.csx', false);
  return parseCustomConnectorSource(
    script === undefined ? { apiDefinition, apiProperties } : { apiDefinition, apiProperties, script },
    { name: basename(resolve(dir)), label: (f) => join(dir, f), limits },
  );
}
