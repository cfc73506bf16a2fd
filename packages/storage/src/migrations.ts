/**
 * The one migration set of the Patchbay store, applied on open for SQLite and PostgreSQL alike
 * (Kysely's Migrator; the schema builder emits each dialect's DDL). Migrations are append-only:
 * never edit a published migration, add a new one.
 */
import type { Kysely, Migration, MigrationProvider } from 'kysely';
import { m005Execution } from './execution-migration.js';

const m001: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('environments')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('name_key', 'text', (c) => c.notNull().unique())
      .addColumn('display_name', 'text', (c) => c.notNull())
      .addColumn('policy', 'text', (c) => c.notNull())
      .addColumn('created_on', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('principals')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('name_key', 'text', (c) => c.notNull().unique())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('display_name', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('created_on', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('role_assignments')
      .addColumn('environment_id', 'text', (c) => c.notNull())
      .addColumn('principal_id', 'text', (c) => c.notNull())
      .addColumn('role', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('role_assignments_pk', ['environment_id', 'principal_id'])
      .execute();
    await db.schema
      .createTable('connectors')
      .addColumn('environment_id', 'text', (c) => c.notNull())
      .addColumn('id', 'text', (c) => c.notNull())
      .addColumn('id_key', 'text', (c) => c.notNull())
      .addColumn('display_name', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('definition', 'text')
      .addColumn('package_connector_id', 'text')
      .addColumn('created_on', 'text', (c) => c.notNull())
      .addColumn('modified_on', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('connectors_pk', ['environment_id', 'id_key'])
      .execute();
    await db.schema
      .createTable('connections')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('environment_id', 'text', (c) => c.notNull())
      .addColumn('connector_id', 'text', (c) => c.notNull())
      .addColumn('display_name', 'text', (c) => c.notNull())
      .addColumn('owner_id', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('status_message', 'text')
      .addColumn('parameter_set', 'text')
      .addColumn('parameters', 'text', (c) => c.notNull())
      .addColumn('secret_parameter_names', 'text', (c) => c.notNull())
      .addColumn('shares', 'text', (c) => c.notNull())
      .addColumn('created_on', 'text', (c) => c.notNull())
      .addColumn('modified_on', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('connections_env_idx').on('connections').column('environment_id').execute();
    await db.schema.createIndex('connections_owner_idx').on('connections').column('owner_id').execute();
    await db.schema
      .createTable('connection_references')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('environment_id', 'text', (c) => c.notNull())
      .addColumn('logical_name', 'text', (c) => c.notNull())
      .addColumn('logical_name_key', 'text', (c) => c.notNull())
      .addColumn('display_name', 'text', (c) => c.notNull())
      .addColumn('connector_id', 'text', (c) => c.notNull())
      .addColumn('custom_connector_id', 'text')
      .addColumn('description', 'text')
      .addColumn('prompting_behavior', 'integer')
      .addColumn('owner_id', 'text', (c) => c.notNull())
      .addColumn('connection_id', 'text')
      .addColumn('created_on', 'text', (c) => c.notNull())
      .addColumn('modified_on', 'text', (c) => c.notNull())
      .addUniqueConstraint('connection_references_name_uq', ['environment_id', 'logical_name_key'])
      .execute();
    await db.schema
      .createIndex('connection_references_conn_idx')
      .on('connection_references')
      .column('connection_id')
      .execute();
    await db.schema
      .createTable('flows')
      .addColumn('environment_id', 'text', (c) => c.notNull())
      .addColumn('id', 'text', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('definition', 'text', (c) => c.notNull())
      .addColumn('connections', 'text', (c) => c.notNull())
      .addColumn('child_flow_ids', 'text', (c) => c.notNull())
      .addColumn('owner_id', 'text', (c) => c.notNull())
      .addColumn('co_owner_ids', 'text', (c) => c.notNull())
      .addColumn('turned_on', 'integer', (c) => c.notNull())
      .addColumn('suspended', 'integer', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('reasons', 'text', (c) => c.notNull())
      .addColumn('modified_on', 'text', (c) => c.notNull())
      .addColumn('state_changed_on', 'text', (c) => c.notNull())
      .addColumn('created_on', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('flows_pk', ['environment_id', 'id'])
      .execute();
    await db.schema.createIndex('flows_owner_idx').on('flows').column('owner_id').execute();
    await db.schema
      .createTable('env_var_definitions')
      .addColumn('environment_id', 'text', (c) => c.notNull())
      .addColumn('schema_name', 'text', (c) => c.notNull())
      .addColumn('schema_key', 'text', (c) => c.notNull())
      .addColumn('display_name', 'text', (c) => c.notNull())
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('default_value', 'text')
      .addColumn('is_required', 'integer', (c) => c.notNull())
      .addColumn('created_on', 'text', (c) => c.notNull())
      .addColumn('modified_on', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('env_var_definitions_pk', ['environment_id', 'schema_key'])
      .execute();
    await db.schema
      .createTable('env_var_values')
      .addColumn('environment_id', 'text', (c) => c.notNull())
      .addColumn('schema_name', 'text', (c) => c.notNull())
      .addColumn('schema_key', 'text', (c) => c.notNull())
      .addColumn('value', 'text', (c) => c.notNull())
      .addColumn('modified_on', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('env_var_values_pk', ['environment_id', 'schema_key'])
      .execute();
    await db.schema
      .createTable('solutions')
      .addColumn('environment_id', 'text', (c) => c.notNull())
      .addColumn('unique_name', 'text', (c) => c.notNull())
      .addColumn('unique_name_key', 'text', (c) => c.notNull())
      .addColumn('display_name', 'text', (c) => c.notNull())
      .addColumn('version', 'text', (c) => c.notNull())
      .addColumn('managed', 'integer', (c) => c.notNull())
      .addColumn('publisher', 'text', (c) => c.notNull())
      .addColumn('components', 'text', (c) => c.notNull())
      .addColumn('installed_on', 'text', (c) => c.notNull())
      .addColumn('modified_on', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('solutions_pk', ['environment_id', 'unique_name_key'])
      .execute();
    await db.schema
      .createTable('secrets')
      .addColumn('owner_id', 'text', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('environment_id', 'text', (c) => c.notNull())
      .addColumn('key_id', 'text', (c) => c.notNull())
      .addColumn('ciphertext', 'text', (c) => c.notNull())
      .addColumn('modified_on', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('secrets_pk', ['owner_id', 'name'])
      .execute();
    await db.schema.createIndex('secrets_env_idx').on('secrets').column('environment_id').execute();
    await db.schema
      .createTable('data_keys')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('environment_id', 'text', (c) => c.notNull())
      .addColumn('wrapped_key', 'text', (c) => c.notNull())
      .addColumn('master_key_id', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('created_on', 'text', (c) => c.notNull())
      .execute();
  },
};

const m002: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('runs')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('environment_id', 'text', (c) => c.notNull())
      .addColumn('flow_id', 'text', (c) => c.notNull())
      .addColumn('flow_name', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('started_by', 'text', (c) => c.notNull())
      .addColumn('invoker_id', 'text')
      .addColumn('start_time', 'text', (c) => c.notNull())
      .addColumn('end_time', 'text')
      .addColumn('duration_ms', 'integer')
      .addColumn('error', 'text')
      .addColumn('response', 'text')
      .addColumn('record', 'text', (c) => c.notNull())
      .addColumn('resubmitted_from', 'text')
      .execute();
    await db.schema.createIndex('runs_env_start_idx').on('runs').columns(['environment_id', 'start_time']).execute();
    await db.schema
      .createIndex('runs_flow_start_idx')
      .on('runs')
      .columns(['environment_id', 'flow_id', 'start_time'])
      .execute();
  },
};

const m003: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('audit_log')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('at', 'text', (c) => c.notNull())
      .addColumn('actor_id', 'text')
      .addColumn('actor_name', 'text')
      .addColumn('environment_id', 'text')
      .addColumn('action', 'text', (c) => c.notNull())
      .addColumn('target_type', 'text', (c) => c.notNull())
      .addColumn('target_id', 'text', (c) => c.notNull())
      .addColumn('target_name', 'text')
      .addColumn('before', 'text')
      .addColumn('after', 'text')
      .addColumn('details', 'text')
      .execute();
    await db.schema.createIndex('audit_log_at_idx').on('audit_log').column('at').execute();
    await db.schema.createIndex('audit_log_env_at_idx').on('audit_log').columns(['environment_id', 'at']).execute();
  },
};

const m004: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('api_tokens')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('principal_id', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('description', 'text', (c) => c.notNull())
      .addColumn('hash', 'text', (c) => c.notNull())
      .addColumn('created_on', 'text', (c) => c.notNull())
      .addColumn('expires_on', 'text')
      .addColumn('revoked_on', 'text')
      .addColumn('created_by', 'text')
      .execute();
    await db.schema.createIndex('api_tokens_principal_idx').on('api_tokens').column('principal_id').execute();
    await db.schema
      .createTable('client_credentials')
      .addColumn('client_id', 'text', (c) => c.primaryKey())
      .addColumn('principal_id', 'text', (c) => c.notNull())
      .addColumn('description', 'text', (c) => c.notNull())
      .addColumn('secret_hash', 'text', (c) => c.notNull())
      .addColumn('created_on', 'text', (c) => c.notNull())
      .addColumn('expires_on', 'text')
      .addColumn('revoked_on', 'text')
      .execute();
    await db.schema
      .createTable('callback_keys')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('environment_id', 'text', (c) => c.notNull())
      .addColumn('flow_id', 'text', (c) => c.notNull())
      .addColumn('trigger_name', 'text', (c) => c.notNull())
      .addColumn('created_on', 'text', (c) => c.notNull())
      .addColumn('revoked_on', 'text')
      .execute();
    await db.schema
      .createIndex('callback_keys_flow_idx')
      .on('callback_keys')
      .columns(['environment_id', 'flow_id'])
      .execute();
  },
};

/** Every migration, in order. Names sort lexically. */
export const migrations: Record<string, Migration> = {
  '001_connection_model': m001,
  '002_runs': m002,
  '003_audit': m003,
  '004_server': m004,
  '005_execution': m005Execution,
};

/** A Kysely MigrationProvider over {@link migrations} (no files read at run time). */
export const migrationProvider: MigrationProvider = {
  getMigrations: async () => migrations,
};
