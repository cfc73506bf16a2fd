/**
 * Test stores for the `sqlite` and `postgres` tiers (see vitest.config.ts). Each call makes a
 * fresh, empty store: a temporary SQLite file, or a new PostgreSQL database created on the
 * server named by PATCHBAY_TEST_PG_URL (default postgres://postgres@127.0.0.1:5432/postgres).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openStore, type KyselyStore } from '@patchbay/storage';

/** Which store the current tier tests. Outside the db tiers, SQLite. */
export function testStoreKind(): 'sqlite' | 'postgres' {
  return process.env['PATCHBAY_TEST_STORE'] === 'postgres' ? 'postgres' : 'sqlite';
}

/** The admin URL of the test PostgreSQL server. */
export function adminPgUrl(): string {
  return process.env['PATCHBAY_TEST_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
}

/** A fresh location for a store: a data dir (SQLite) or a new database URL (PostgreSQL). */
export interface TestStoreLocation {
  kind: 'sqlite' | 'postgres';
  /** A new empty directory (always set: also used for key files). */
  dataDir: string;
  /** Set for PostgreSQL. */
  databaseUrl?: string;
  /** CLI global flags selecting this store. */
  cliArgs: string[];
  /** Drops the database / removes the directory. */
  cleanup(): Promise<void>;
}

/** Creates a fresh store location for the current tier. */
export async function testStoreLocation(): Promise<TestStoreLocation> {
  const dataDir = mkdtempSync(join(tmpdir(), 'patchbay-test-'));
  const kind = testStoreKind();
  if (kind === 'sqlite') {
    return {
      kind,
      dataDir,
      cliArgs: ['--data-dir', dataDir],
      cleanup: async () => rmSync(dataDir, { recursive: true, force: true }),
    };
  }
  const name = `pb_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminPgUrl() });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminPgUrl());
  url.pathname = `/${name}`;
  const databaseUrl = url.toString();
  return {
    kind,
    dataDir,
    databaseUrl,
    cliArgs: ['--data-dir', dataDir, '--database-url', databaseUrl],
    cleanup: async () => {
      rmSync(dataDir, { recursive: true, force: true });
      const c = new pg.Client({ connectionString: adminPgUrl() });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

/** Opens a fresh store of the current tier; `cleanup` closes and removes it. */
export async function testStore(): Promise<{
  store: KyselyStore;
  location: TestStoreLocation;
  cleanup(): Promise<void>;
}> {
  const location = await testStoreLocation();
  const store = await openStore(
    location.databaseUrl
      ? { databaseUrl: location.databaseUrl }
      : { sqliteFile: join(location.dataDir, 'patchbay.db') },
  );
  return {
    store,
    location,
    cleanup: async () => {
      await store.close();
      await location.cleanup();
    },
  };
}
