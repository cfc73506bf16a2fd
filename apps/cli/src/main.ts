/**
 * The `patchbay` command: parses arguments with commander, dispatches to the command modules
 * in ./commands, and turns errors into the documented exit codes (docs/cli.md).
 */
import { Command, CommanderError } from 'commander';
import { ExitCode, PatchbayError, exitCodeFor, isPatchbayError, type ErrorCategory } from '@patchbay/core';
import { CliContext } from './context.js';
import { processIO, type CliIO } from './io.js';
import { registerAll } from './commands/index.js';

/** Builds the commander program for one invocation. */
export function buildProgram(ctx: CliContext): Command {
  const program = new Command('patchbay');
  program
    .description('Patchbay: a self-hosted platform for the Power Platform connection model')
    .version('0.1.0', '--version')
    .option('--data-dir <dir>', 'data directory of the embedded store (env PATCHBAY_DATA_DIR, default ~/.patchbay)')
    .option('--database-url <url>', 'PostgreSQL URL instead of the embedded SQLite store (env PATCHBAY_DATABASE_URL)')
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({ writeOut: (s) => ctx.io.out(s), writeErr: (s) => ctx.io.err(s) })
    .hook('preAction', (thisCommand) => {
      ctx.globals = thisCommand.opts();
    });
  registerAll(program, ctx);
  // Every sub-command reports usage errors through the same override and output.
  const apply = (cmd: Command): void => {
    cmd.exitOverride().configureOutput({ writeOut: (s) => ctx.io.out(s), writeErr: (s) => ctx.io.err(s) });
    cmd.commands.forEach(apply);
  };
  program.commands.forEach(apply);
  return program;
}

/**
 * Runs the CLI with `argv` (without node and script) and returns the exit code.
 * Never throws and never calls process.exit, so it can run in-process in tests.
 */
export async function main(argv: string[], io: CliIO = processIO()): Promise<number> {
  const ctx = new CliContext(io);
  const program = buildProgram(ctx);
  const wantsJson = argv.includes('--json');
  try {
    await program.parseAsync(argv, { from: 'user' });
    return ctx.exitCode;
  } catch (caught) {
    let e: unknown = caught;
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help')
        return 0;
      return ExitCode.Usage;
    }
    const fsError = fromFileSystemError(e);
    if (fsError) e = fsError;
    if (isPatchbayError(e)) {
      if (wantsJson)
        io.out(JSON.stringify({ error: { code: e.code, message: e.message, details: e.details } }, null, 2) + '\n');
      io.err(`error ${e.code}: ${e.message}\n`);
      return exitCodeFor(e.category);
    }
    io.err(`internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    return ExitCode.Internal;
  } finally {
    await ctx.close().catch((e: unknown) => io.err(`error while closing: ${String(e)}\n`));
  }
}

const FS_ERRORS: Record<string, { category: ErrorCategory; what: string }> = {
  EACCES: { category: 'permission', what: 'permission denied' },
  EPERM: { category: 'permission', what: 'operation not permitted' },
  EROFS: { category: 'permission', what: 'read-only file system' },
  ENOENT: { category: 'invalid', what: 'no such file or folder' },
  ENOTDIR: { category: 'invalid', what: 'a part of the path is not a folder' },
  EISDIR: { category: 'invalid', what: 'is a folder, a file was expected' },
  EEXIST: { category: 'invalid', what: 'already exists' },
  ENOTEMPTY: { category: 'not-ready', what: 'folder is not empty' },
  ENOSPC: { category: 'not-ready', what: 'no space left on the device' },
  EMFILE: { category: 'not-ready', what: 'too many open files' },
};

/**
 * Maps a Node.js file-system error (EACCES, ENOENT, EISDIR, …) that reached the top to a
 * PatchbayError naming the path: permission problems exit 4, bad paths exit 2, a full disk 3.
 */
function fromFileSystemError(e: unknown): PatchbayError | undefined {
  if (isPatchbayError(e) || !(e instanceof Error)) return undefined;
  const { code, path, dest, syscall } = e as NodeJS.ErrnoException & { dest?: string };
  const known = code ? FS_ERRORS[code] : undefined;
  if (!known) return undefined;
  const file = path ?? dest;
  return new PatchbayError({
    code: `FILE_${code}`,
    message: `${file ?? 'a file'}: ${known.what}${syscall ? ` (${syscall})` : ''}`,
    category: known.category,
    details: { ...(file ? { file } : {}), ...(syscall ? { operation: syscall } : {}) },
    cause: e,
  });
}
