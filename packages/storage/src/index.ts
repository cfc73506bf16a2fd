/**
 * @patchbay/storage — the core's repositories over SQLite (embedded default, better-sqlite3 in
 * WAL mode) and PostgreSQL (`pg`), through Kysely, with one migration set applied on open.
 */
export { openStore, mapDbError, redactUrl, type OpenStoreOptions, type KyselyStore } from './store.js';
export type { Database } from './schema.js';
export { migrations } from './migrations.js';
export { GRAPHILE_WORKER_SCHEMA } from './execution-repositories.js';
