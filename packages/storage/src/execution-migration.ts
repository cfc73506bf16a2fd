/**
 * Migration `005_execution` (issue 9): the tables of durable execution on both stores. See
 * execution-schema.ts for the columns and `@patchbay/core` execution.ts for their meaning.
 * Append-only like every migration.
 */
import type { Kysely, Migration } from 'kysely';

export const m005Execution: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('run_states')
      .addColumn('run_id', 'text', (c) => c.primaryKey())
      .addColumn('environment_id', 'text', (c) => c.notNull())
      .addColumn('flow_id', 'text', (c) => c.notNull())
      .addColumn('phase', 'text', (c) => c.notNull())
      .addColumn('owner', 'text')
      .addColumn('version', 'integer', (c) => c.notNull())
      .addColumn('key_id', 'text', (c) => c.notNull())
      .addColumn('sealed', 'text', (c) => c.notNull())
      .addColumn('next_due', 'text')
      .addColumn('inbox', 'integer', (c) => c.notNull())
      .addColumn('concurrency_key', 'text')
      .addColumn('concurrency_limit', 'integer')
      .addColumn('holds_slot', 'integer', (c) => c.notNull())
      .addColumn('parent_run_id', 'text')
      .addColumn('parent_call_id', 'text')
      .addColumn('response', 'text')
      .addColumn('definition', 'text')
      .addColumn('created_on', 'text', (c) => c.notNull())
      .addColumn('updated_on', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('run_states_owner_idx').on('run_states').columns(['owner', 'phase']).execute();
    await db.schema
      .createIndex('run_states_waiting_idx')
      .on('run_states')
      .columns(['concurrency_key', 'phase', 'created_on'])
      .execute();
    await db.schema
      .createTable('run_inbox')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('run_id', 'text', (c) => c.notNull())
      .addColumn('at', 'text', (c) => c.notNull())
      .addColumn('key_id', 'text', (c) => c.notNull())
      .addColumn('sealed', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('run_inbox_run_idx').on('run_inbox').columns(['run_id', 'at']).execute();
    await db.schema
      .createTable('jobs')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('task', 'text', (c) => c.notNull())
      .addColumn('payload', 'text', (c) => c.notNull())
      .addColumn('run_at', 'text', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull())
      .addColumn('max_attempts', 'integer', (c) => c.notNull())
      .addColumn('locked_by', 'text')
      .addColumn('locked_at', 'text')
      .addColumn('last_error', 'text')
      .addColumn('created_on', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('jobs_due_idx').on('jobs').columns(['locked_by', 'run_at']).execute();
    await db.schema
      .createTable('execution_nodes')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('host', 'text', (c) => c.notNull())
      .addColumn('pid', 'integer', (c) => c.notNull())
      .addColumn('started_on', 'text', (c) => c.notNull())
      .addColumn('heartbeat_on', 'text', (c) => c.notNull())
      .addColumn('info', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('flow_concurrency')
      .addColumn('flow_key', 'text', (c) => c.primaryKey())
      .addColumn('running', 'integer', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('schedules')
      .addColumn('flow_key', 'text', (c) => c.primaryKey())
      .addColumn('environment_id', 'text', (c) => c.notNull())
      .addColumn('flow_id', 'text', (c) => c.notNull())
      .addColumn('spec_hash', 'text', (c) => c.notNull())
      .addColumn('anchor', 'text', (c) => c.notNull())
      .addColumn('last_occurrence', 'text', (c) => c.notNull())
      .addColumn('updated_on', 'text', (c) => c.notNull())
      .execute();
  },
};
