/**
 * Opening a store: SQLite (better-sqlite3, WAL mode) as the embedded default, or PostgreSQL
 * (`pg`), both through Kysely, with the one migration set applied on open.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, sql, type Transaction } from 'kysely';
import pg from 'pg';
import { PatchbayError, conflict, type Repositories, type Store } from '@patchbay/core';
import { migrationProvider } from './migrations.js';
import { createRepositories } from './repositories.js';
import type { Database } from './schema.js';

/** Options of {@link openStore}: exactly one of `databaseUrl` and `sqliteFile`. */
export interface OpenStoreOptions {
  /** `postgres://…` / `postgresql://…`: use PostgreSQL. */
  databaseUrl?: string;
  /** Path of the SQLite file (created with its directory when missing), or `:memory:`. */
  sqliteFile?: string;
  /** PostgreSQL pool size (default 10). */
  poolSize?: number;
}

/** The Kysely-backed store; `db` is exposed to other storage modules (run history, queue). */
export interface KyselyStore extends Store {
  readonly db: Kysely<Database>;
}

/**
 * Opens a store and applies pending migrations.
 *
 * @throws STORE_UNAVAILABLE (not-ready, operational) when the database cannot be reached or migrated.
 * @throws STORE_URL_INVALID (usage) when the URL is not a PostgreSQL URL.
 */
export async function openStore(options: OpenStoreOptions): Promise<KyselyStore> {
  let db: Kysely<Database>;
  let kind: Store['kind'];
  if (options.databaseUrl) {
    if (!/^postgres(ql)?:\/\//.test(options.databaseUrl)) {
      throw new PatchbayError({
        code: 'STORE_URL_INVALID',
        message: `--database-url must be a postgres:// URL (got ${redactUrl(options.databaseUrl)})`,
        category: 'usage',
      });
    }
    kind = 'postgres';
    const pool = new pg.Pool({ connectionString: options.databaseUrl, max: options.poolSize ?? 10 });
    pool.on('error', () => {
      /* idle client errors surface on the next query */
    });
    db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  } else {
    kind = 'sqlite';
    const file = options.sqliteFile ?? ':memory:';
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    let sqlite: BetterSqlite3.Database;
    try {
      sqlite = new BetterSqlite3(file);
      sqlite.pragma('journal_mode = WAL');
      sqlite.pragma('synchronous = NORMAL');
      sqlite.pragma('busy_timeout = 15000');
    } catch (e) {
      throw new PatchbayError({
        code: 'STORE_UNAVAILABLE',
        message: `cannot open SQLite database ${file}: ${(e as Error).message}`,
        category: 'not-ready',
        kind: 'operational',
        details: { file },
        cause: e,
      });
    }
    db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
  }
  try {
    const { error } = await new Migrator({ db, provider: migrationProvider }).migrateToLatest();
    if (error) throw error;
  } catch (e) {
    await db.destroy().catch(() => undefined);
    throw new PatchbayError({
      code: 'STORE_UNAVAILABLE',
      message: `cannot open the ${kind} store: ${(e as Error).message}`,
      category: 'not-ready',
      kind: 'operational',
      details: { store: kind, ...(options.databaseUrl ? { url: redactUrl(options.databaseUrl) } : {}) },
      cause: e,
    });
  }
  return new KyselyStoreImpl(db, kind);
}

class KyselyStoreImpl implements KyselyStore {
  readonly repos: Repositories;
  private readonly active = new AsyncLocalStorage<Repositories>();

  constructor(
    readonly db: Kysely<Database>,
    readonly kind: Store['kind'],
  ) {
    const base = createRepositories(db);
    // Inside a transaction, `repos` means the transaction's repositories: a read through `repos`
    // sees the transaction's writes and never waits for the connection the transaction holds.
    this.repos = new Proxy(base, {
      get: (target, prop: keyof Repositories) => (this.active.getStore() ?? target)[prop],
    });
  }

  async transaction<T>(fn: (tx: Repositories) => Promise<T>): Promise<T> {
    const outer = this.active.getStore();
    if (outer) return fn(outer);
    try {
      if (this.kind === 'sqlite') return await this.sqliteTransaction(fn);
      return await this.db.transaction().execute((trx: Transaction<Database>) => {
        const tx = createRepositories(trx);
        return this.active.run(tx, () => fn(tx));
      });
    } catch (e) {
      throw mapDbError(e);
    }
  }

  /**
   * SQLite transactions start with BEGIN IMMEDIATE: the write lock is taken up front (waiting up
   * to busy_timeout for another process), so two processes writing the same data dir queue up
   * instead of failing with SQLITE_BUSY when a deferred read transaction tries to become a write.
   */
  private async sqliteTransaction<T>(fn: (tx: Repositories) => Promise<T>): Promise<T> {
    return this.db.connection().execute(async (conn) => {
      await sql`begin immediate`.execute(conn);
      const tx = createRepositories(conn);
      try {
        const result = await this.active.run(tx, () => fn(tx));
        await sql`commit`.execute(conn);
        return result;
      } catch (e) {
        await sql`rollback`.execute(conn).catch(() => undefined);
        throw e;
      }
    });
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }
}

/** Maps unique-constraint violations of both databases to a CONFLICT PatchbayError; other errors pass through. */
export function mapDbError(e: unknown): unknown {
  if (e instanceof PatchbayError) return e;
  const code = (e as { code?: unknown })?.code;
  if (code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
    return conflict('STORE_CONFLICT', `a concurrent change created the same object: ${(e as Error).message}`);
  }
  if (code === 'SQLITE_BUSY' || code === 'SQLITE_BUSY_SNAPSHOT' || code === '40001' || code === '40P01') {
    return new PatchbayError({
      code: 'STORE_BUSY',
      message: `the store is busy with another change (${(e as Error).message}); nothing was written, try again`,
      category: 'not-ready',
      kind: 'operational',
      cause: e,
    });
  }
  return e;
}

/** Removes the password from a database URL for messages. */
export function redactUrl(url: string): string {
  return url.replace(/(\/\/[^:/@]+:)[^@]*@/, '$1***@');
}
