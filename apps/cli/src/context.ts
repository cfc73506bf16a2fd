/**
 * Shared state of one CLI invocation: IO, global options, output helpers and the lazily
 * opened platform. Every command module receives it through its `register` function.
 */
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { PatchbayError, type Role } from '@patchbay/core';
import { openPlatform, type Platform } from '@patchbay/platform';
import type { CliIO } from './io.js';

/** Global options every command accepts (see docs/cli.md). */
export interface GlobalOptions {
  /** Directory of the embedded store (SQLite file, master key file). Env PATCHBAY_DATA_DIR, default ~/.patchbay. */
  dataDir?: string;
  /** PostgreSQL URL; when set, the store is PostgreSQL instead of SQLite. Env PATCHBAY_DATABASE_URL. */
  databaseUrl?: string;
}

/** What a command needs from the invocation. */
export class CliContext {
  /** Resources opened during the command, closed by `main` when the command ends. */
  private readonly closers: Array<() => Promise<void>> = [];
  globals: GlobalOptions = {};
  /** Exit code of a command that completed without throwing (e.g. 5 when a run ended Failed). */
  exitCode = 0;

  constructor(readonly io: CliIO) {}

  /** The data directory after flags, environment and default are applied (absolute). */
  dataDir(): string {
    const raw = this.globals.dataDir ?? this.io.env['PATCHBAY_DATA_DIR'] ?? join(homedir(), '.patchbay');
    return isAbsolute(raw) ? raw : resolve(this.io.cwd, raw);
  }

  /** The PostgreSQL URL, or undefined for the embedded SQLite store. */
  databaseUrl(): string | undefined {
    return this.globals.databaseUrl ?? (this.io.env['PATCHBAY_DATABASE_URL'] || undefined);
  }

  /** Resolves a path argument against the working directory. */
  path(p: string): string {
    return isAbsolute(p) ? p : resolve(this.io.cwd, p);
  }

  private platformPromise: Promise<Platform> | undefined;

  /** The platform over the selected store, opened on first use and closed when the command ends. */
  platform(): Promise<Platform> {
    if (!this.platformPromise) {
      const databaseUrl = this.databaseUrl();
      this.platformPromise = openPlatform({
        dataDir: this.dataDir(),
        env: this.io.env,
        ...(databaseUrl ? { databaseUrl } : {}),
      }).then((p) => {
        this.onClose(() => p.close());
        return p;
      });
    }
    return this.platformPromise;
  }

  /**
   * Checks that `--as PRINCIPAL` holds at least `role` in the environment (given by name, or as
   * the environment of a connection), as the API does (docs/api.md). Without `--as` the command
   * acts as the local admin, who may do everything. @throws ROLE_REQUIRED (exit 4)
   */
  async requireRole(
    as: string | undefined,
    where: { environment?: string; connectionId?: string },
    role: Role,
    action: string,
  ): Promise<void> {
    if (as === undefined) return;
    const p = await this.platform();
    const principal = await p.ctx.actor(as);
    const env = where.environment
      ? await p.environments.get(where.environment)
      : await p.environments.get((await p.connections.get(where.connectionId ?? '')).environmentId);
    await p.auth.requireRole(principal, env, role, action);
  }

  /** Registers a cleanup to run when the command ends (also on error). */
  onClose(fn: () => Promise<void>): void {
    this.closers.push(fn);
  }

  /** Runs the registered cleanups, last registered first. */
  async close(): Promise<void> {
    while (this.closers.length > 0) {
      const fn = this.closers.pop();
      if (fn) await fn();
    }
  }

  /** Prints a value as pretty JSON on stdout. */
  printJson(value: unknown): void {
    this.io.out(JSON.stringify(value, null, 2) + '\n');
  }

  /** Prints a line on stdout. */
  println(line = ''): void {
    this.io.out(line + '\n');
  }

  /** Prints rows as an aligned text table on stdout (header first). */
  printTable(header: string[], rows: Array<Array<string | number | undefined | null>>): void {
    const cells = [header, ...rows.map((r) => r.map((c) => (c === undefined || c === null ? '' : String(c))))];
    const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
    for (const r of cells)
      this.println(
        r
          .map((c, i) => (c ?? '').padEnd(widths[i] ?? 0))
          .join('  ')
          .trimEnd(),
      );
  }

  /** Reads a `@FILE`, `-` (stdin) or literal argument as text. */
  async readArg(value: string): Promise<string> {
    if (value === '-') return this.io.readStdin();
    if (value.startsWith('@')) {
      const { readFile } = await import('node:fs/promises');
      try {
        return await readFile(this.path(value.slice(1)), 'utf8');
      } catch (e) {
        throw new PatchbayError({
          code: 'FILE_NOT_READABLE',
          message: `cannot read ${value.slice(1)}: ${(e as Error).message}`,
          category: 'invalid',
          details: { file: value.slice(1) },
        });
      }
    }
    return value;
  }
}

/** Raised by commands for bad usage (exit 1). */
export function usageError(message: string, details?: Record<string, unknown>): PatchbayError {
  return new PatchbayError({ code: 'USAGE', message, category: 'usage', details });
}
