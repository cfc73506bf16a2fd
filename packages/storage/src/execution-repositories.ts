/**
 * Repositories of durable execution (`ExecutionRepositories` of @patchbay/core) over a Kysely
 * handle: run states, run inbox, the embedded job queue, execution nodes, per-flow concurrency
 * counters, Recurrence schedules, and graphile-worker jobs added in the caller's transaction.
 *
 * Concurrency notes (PostgreSQL, READ COMMITTED): every compare-and-set below is one UPDATE whose
 * WHERE clause carries the condition, so a concurrent writer that waited for the row lock
 * re-checks it against the committed row (PostgreSQL re-evaluates the qualifiers of the updated
 * row). SQLite serialises writers.
 */
import { PostgresAdapter, sql, type Kysely } from 'kysely';
import type {
  ExecutionNodeRecord,
  ExecutionRepositories,
  JobRecord,
  RunInboxRecord,
  RunPhase,
  RunStateRecord,
  ScheduleRecord,
} from '@patchbay/core';
import type { Database } from './schema.js';
import type { JobsTable, RunStatesTable, SchedulesTable } from './execution-schema.js';

/** The schema graphile-worker installs its tables and functions in. */
export const GRAPHILE_WORKER_SCHEMA = 'graphile_worker';

function runStateFromRow(r: RunStatesTable): RunStateRecord {
  const s: RunStateRecord = {
    runId: r.run_id,
    environmentId: r.environment_id,
    flowId: r.flow_id,
    phase: r.phase as RunPhase,
    version: Number(r.version),
    keyId: r.key_id,
    sealed: r.sealed,
    inbox: Number(r.inbox),
    holdsSlot: Number(r.holds_slot) === 1,
    createdOn: r.created_on,
    updatedOn: r.updated_on,
  };
  if (r.owner !== null) s.owner = r.owner;
  if (r.next_due !== null) s.nextDue = r.next_due;
  if (r.concurrency_key !== null) s.concurrencyKey = r.concurrency_key;
  if (r.concurrency_limit !== null) s.concurrencyLimit = Number(r.concurrency_limit);
  if (r.parent_run_id !== null) s.parentRunId = r.parent_run_id;
  if (r.parent_call_id !== null) s.parentCallId = r.parent_call_id;
  if (r.response !== null) s.response = r.response;
  if (r.definition !== null) s.definition = r.definition;
  return s;
}

function jobFromRow(r: JobsTable): JobRecord {
  const j: JobRecord = {
    id: r.id,
    task: r.task,
    payload: r.payload,
    runAt: r.run_at,
    attempts: Number(r.attempts),
    maxAttempts: Number(r.max_attempts),
    createdOn: r.created_on,
  };
  if (r.locked_by !== null) j.lockedBy = r.locked_by;
  if (r.locked_at !== null) j.lockedAt = r.locked_at;
  if (r.last_error !== null) j.lastError = r.last_error;
  return j;
}

function scheduleFromRow(r: SchedulesTable): ScheduleRecord {
  return {
    key: r.flow_key,
    environmentId: r.environment_id,
    flowId: r.flow_id,
    specHash: r.spec_hash,
    anchor: r.anchor,
    lastOccurrence: r.last_occurrence,
    updatedOn: r.updated_on,
  };
}

/** Builds the execution repositories over a Kysely database or transaction handle. */
export function createExecutionRepositories(db: Kysely<Database>): ExecutionRepositories {
  const isPostgres = db.getExecutor().adapter instanceof PostgresAdapter;
  const liveNodes = (liveSince: string) =>
    db.selectFrom('execution_nodes').select('id').where('heartbeat_on', '>=', liveSince);
  return {
    runStates: {
      async insert(r) {
        await db
          .insertInto('run_states')
          .values({
            run_id: r.runId,
            environment_id: r.environmentId,
            flow_id: r.flowId,
            phase: r.phase,
            owner: r.owner ?? null,
            version: r.version,
            key_id: r.keyId,
            sealed: r.sealed,
            next_due: r.nextDue ?? null,
            inbox: r.inbox,
            concurrency_key: r.concurrencyKey ?? null,
            concurrency_limit: r.concurrencyLimit ?? null,
            holds_slot: r.holdsSlot ? 1 : 0,
            parent_run_id: r.parentRunId ?? null,
            parent_call_id: r.parentCallId ?? null,
            response: r.response ?? null,
            definition: r.definition ?? null,
            created_on: r.createdOn,
            updated_on: r.updatedOn,
          })
          .execute();
      },
      async get(runId) {
        const r = await db.selectFrom('run_states').selectAll().where('run_id', '=', runId).executeTakeFirst();
        return r && runStateFromRow(r);
      },
      async acquire(runId, owner, liveSince) {
        const res = await db
          .updateTable('run_states')
          .set({ owner })
          .where('run_id', '=', runId)
          .where('phase', '<>', 'done')
          .where((eb) =>
            eb.or([eb('owner', 'is', null), eb('owner', '=', owner), eb('owner', 'not in', liveNodes(liveSince))]),
          )
          .returningAll()
          .executeTakeFirst();
        return res && runStateFromRow(res);
      },
      async save(s) {
        let q = db
          .updateTable('run_states')
          .set((eb) => ({
            phase: s.phase,
            key_id: s.keyId,
            sealed: s.sealed,
            next_due: s.nextDue ?? null,
            holds_slot: s.holdsSlot ? 1 : 0,
            inbox: eb('inbox', '-', s.drained),
            version: eb('version', '+', 1),
            owner: s.release ? null : s.owner,
            updated_on: s.updatedOn,
            ...(s.response !== undefined ? { response: s.response } : {}),
          }))
          .where('run_id', '=', s.runId)
          .where('owner', '=', s.owner);
        if (s.release) q = q.where('inbox', '=', s.drained);
        const res = await q.executeTakeFirst();
        return Number(res.numUpdatedRows) === 1;
      },
      async release(runId, owner) {
        const res = await db
          .updateTable('run_states')
          .set({ owner: null })
          .where('run_id', '=', runId)
          .where('owner', '=', owner)
          .executeTakeFirst();
        return Number(res.numUpdatedRows) === 1;
      },
      async bumpInbox(runId) {
        await db
          .updateTable('run_states')
          .set((eb) => ({ inbox: eb('inbox', '+', 1) }))
          .where('run_id', '=', runId)
          .execute();
        const r = await db.selectFrom('run_states').selectAll().where('run_id', '=', runId).executeTakeFirst();
        return r && runStateFromRow(r);
      },
      async listOwnedWithInbox(owner) {
        const rows = await db
          .selectFrom('run_states')
          .select('run_id')
          .where('owner', '=', owner)
          .where('inbox', '>', 0)
          .execute();
        return rows.map((r) => r.run_id);
      },
      async listOrphaned(liveSince, limit) {
        const rows = await db
          .selectFrom('run_states')
          .select(['run_id', 'owner'])
          .where('phase', '<>', 'done')
          .where('owner', 'is not', null)
          .where('owner', 'not in', liveNodes(liveSince))
          .limit(limit)
          .execute();
        return rows.map((r) => ({ runId: r.run_id, owner: r.owner ?? '' }));
      },
      async listWaiting(concurrencyKey, limit) {
        const rows = await db
          .selectFrom('run_states')
          .select('run_id')
          .where('concurrency_key', '=', concurrencyKey)
          .where('phase', '=', 'waiting')
          .orderBy('created_on')
          .orderBy('run_id')
          .limit(limit)
          .execute();
        return rows.map((r) => r.run_id);
      },
      async countByPhase() {
        const rows = await db
          .selectFrom('run_states')
          .select(['phase', (eb) => eb.fn.countAll<string | number>().as('n')])
          .groupBy('phase')
          .execute();
        return Object.fromEntries(rows.map((r) => [r.phase, Number(r.n)]));
      },
      async pruneOrphanedDone() {
        const res = await db
          .deleteFrom('run_states')
          .where('phase', '=', 'done')
          .where('run_id', 'not in', db.selectFrom('runs').select('id'))
          .executeTakeFirst();
        return Number(res.numDeletedRows);
      },
    },
    runInbox: {
      async add(e: RunInboxRecord) {
        await db
          .insertInto('run_inbox')
          .values({ id: e.id, run_id: e.runId, at: e.at, key_id: e.keyId, sealed: e.sealed })
          .execute();
      },
      async list(runId) {
        const rows = await db
          .selectFrom('run_inbox')
          .selectAll()
          .where('run_id', '=', runId)
          .orderBy('at')
          .orderBy('id')
          .execute();
        return rows.map((r) => ({ id: r.id, runId: r.run_id, at: r.at, keyId: r.key_id, sealed: r.sealed }));
      },
      async delete(ids) {
        if (ids.length === 0) return;
        await db.deleteFrom('run_inbox').where('id', 'in', ids).execute();
      },
    },
    jobs: {
      async add(j) {
        await db
          .insertInto('jobs')
          .values({
            id: j.id,
            task: j.task,
            payload: j.payload,
            run_at: j.runAt,
            attempts: j.attempts,
            max_attempts: j.maxAttempts,
            locked_by: j.lockedBy ?? null,
            locked_at: j.lockedAt ?? null,
            last_error: j.lastError ?? null,
            created_on: j.createdOn,
          })
          .execute();
      },
      async claim(node, now, limit) {
        // The outer `locked_by is null` is re-checked on the row a concurrent claimer just locked
        // (PostgreSQL), so one job is never claimed twice.
        const rows = await db
          .updateTable('jobs')
          .set((eb) => ({ locked_by: node, locked_at: now, attempts: eb('attempts', '+', 1) }))
          .where('locked_by', 'is', null)
          .where('id', 'in', (eb) => {
            let q = eb
              .selectFrom('jobs')
              .select('id')
              .where('locked_by', 'is', null)
              .where('run_at', '<=', now)
              .orderBy('run_at')
              .orderBy('id')
              .limit(limit);
            if (isPostgres) q = q.forUpdate().skipLocked();
            return q;
          })
          .returningAll()
          .execute();
        return rows
          .map(jobFromRow)
          .sort((a, b) => (a.runAt < b.runAt ? -1 : a.runAt > b.runAt ? 1 : a.id < b.id ? -1 : 1));
      },
      async complete(id) {
        await db.deleteFrom('jobs').where('id', '=', id).execute();
      },
      async retry(id, runAt, error) {
        await db
          .updateTable('jobs')
          .set({ locked_by: null, locked_at: null, run_at: runAt, last_error: error })
          .where('id', '=', id)
          .execute();
      },
      async unlockNodes(nodes) {
        if (nodes.length === 0) return 0;
        const res = await db
          .updateTable('jobs')
          .set({ locked_by: null, locked_at: null })
          .where('locked_by', 'in', nodes)
          .executeTakeFirst();
        return Number(res.numUpdatedRows);
      },
      async nextRunAt() {
        const r = await db
          .selectFrom('jobs')
          .select((eb) => eb.fn.min('run_at').as('next'))
          .where('locked_by', 'is', null)
          .executeTakeFirst();
        return r?.next ?? undefined;
      },
      async depth(now) {
        const rows = await db
          .selectFrom('jobs')
          .select([
            (eb) =>
              eb
                .case()
                .when('locked_by', 'is not', null)
                .then('locked')
                .when('run_at', '<=', now)
                .then('ready')
                .else('scheduled')
                .end()
                .as('state'),
            (eb) => eb.fn.countAll<string | number>().as('n'),
          ])
          .groupBy('state')
          .execute();
        const out = { ready: 0, scheduled: 0, locked: 0 };
        for (const r of rows) out[r.state as keyof typeof out] = Number(r.n);
        return out;
      },
    },
    executionNodes: {
      async upsert(n: ExecutionNodeRecord) {
        const values = {
          id: n.id,
          kind: n.kind,
          host: n.host,
          pid: n.pid,
          started_on: n.startedOn,
          heartbeat_on: n.heartbeatOn,
          info: n.info,
        };
        await db
          .insertInto('execution_nodes')
          .values(values)
          .onConflict((oc) => oc.column('id').doUpdateSet({ heartbeat_on: n.heartbeatOn, info: n.info }))
          .execute();
      },
      async heartbeat(id, at, info) {
        const res = await db
          .updateTable('execution_nodes')
          .set({ heartbeat_on: at, ...(info !== undefined ? { info } : {}) })
          .where('id', '=', id)
          .executeTakeFirst();
        return Number(res.numUpdatedRows) === 1;
      },
      async get(id) {
        const r = await db.selectFrom('execution_nodes').selectAll().where('id', '=', id).executeTakeFirst();
        return r && nodeFromRow(r);
      },
      async list() {
        const rows = await db.selectFrom('execution_nodes').selectAll().orderBy('started_on').orderBy('id').execute();
        return rows.map(nodeFromRow);
      },
      async deleteIfDead(id, before) {
        const res = await db
          .deleteFrom('execution_nodes')
          .where('id', '=', id)
          .where('heartbeat_on', '<', before)
          .executeTakeFirst();
        return Number(res.numDeletedRows) === 1;
      },
      async delete(id) {
        await db.deleteFrom('execution_nodes').where('id', '=', id).execute();
      },
    },
    flowConcurrency: {
      async lock(key) {
        await db
          .insertInto('flow_concurrency')
          .values({ flow_key: key, running: 0 })
          .onConflict((oc) => oc.column('flow_key').doNothing())
          .execute();
        // A no-op update takes the row lock until the transaction ends (PostgreSQL).
        await db
          .updateTable('flow_concurrency')
          .set((eb) => ({ running: eb.ref('running') }))
          .where('flow_key', '=', key)
          .execute();
      },
      async tryAcquire(key, limit) {
        const res = await db
          .updateTable('flow_concurrency')
          .set((eb) => ({ running: eb('running', '+', 1) }))
          .where('flow_key', '=', key)
          .where('running', '<', limit)
          .executeTakeFirst();
        return Number(res.numUpdatedRows) === 1;
      },
      async release(key) {
        await db
          .updateTable('flow_concurrency')
          .set((eb) => ({ running: eb('running', '-', 1) }))
          .where('flow_key', '=', key)
          .where('running', '>', 0)
          .execute();
      },
      async get(key) {
        const r = await db
          .selectFrom('flow_concurrency')
          .select('running')
          .where('flow_key', '=', key)
          .executeTakeFirst();
        return r ? Number(r.running) : 0;
      },
    },
    schedules: {
      async ensure(s) {
        await db
          .insertInto('schedules')
          .values({
            flow_key: s.key,
            environment_id: s.environmentId,
            flow_id: s.flowId,
            spec_hash: s.specHash,
            anchor: s.anchor,
            last_occurrence: s.lastOccurrence,
            updated_on: s.updatedOn,
          })
          .onConflict((oc) => oc.column('flow_key').doNothing())
          .execute();
        const r = await db.selectFrom('schedules').selectAll().where('flow_key', '=', s.key).executeTakeFirstOrThrow();
        return scheduleFromRow(r);
      },
      async get(key) {
        const r = await db.selectFrom('schedules').selectAll().where('flow_key', '=', key).executeTakeFirst();
        return r && scheduleFromRow(r);
      },
      async reset(s) {
        await db
          .updateTable('schedules')
          .set({ spec_hash: s.specHash, anchor: s.anchor, last_occurrence: s.lastOccurrence, updated_on: s.updatedOn })
          .where('flow_key', '=', s.key)
          .execute();
      },
      async advance(key, from, to, at) {
        const res = await db
          .updateTable('schedules')
          .set({ last_occurrence: to, updated_on: at })
          .where('flow_key', '=', key)
          .where('last_occurrence', '=', from)
          .executeTakeFirst();
        return Number(res.numUpdatedRows) === 1;
      },
      async list() {
        return (await db.selectFrom('schedules').selectAll().orderBy('flow_key').execute()).map(scheduleFromRow);
      },
      async delete(key) {
        await db.deleteFrom('schedules').where('flow_key', '=', key).execute();
      },
    },
    graphileJobs: {
      async add(j) {
        if (!isPostgres) throw new Error('graphile-worker jobs need the PostgreSQL store');
        await sql`select ${sql.id(GRAPHILE_WORKER_SCHEMA)}.add_job(${j.task}::text, ${JSON.stringify(j.payload)}::json, ${j.queueName ?? null}::text, ${j.runAt ?? null}::timestamptz, ${j.maxAttempts ?? null}::int, ${j.jobKey ?? null}::text)`.execute(
          db,
        );
      },
      async depth() {
        if (!isPostgres) return { ready: 0, scheduled: 0, locked: 0 };
        const r = await sql<{ ready: string; scheduled: string; locked: string }>`
          select
            count(*) filter (where locked_at is null and run_at <= now()) as ready,
            count(*) filter (where locked_at is null and run_at > now()) as scheduled,
            count(*) filter (where locked_at is not null) as locked
          from ${sql.id(GRAPHILE_WORKER_SCHEMA)}.jobs
          where attempts < max_attempts`.execute(db);
        const row = r.rows[0];
        return {
          ready: Number(row?.ready ?? 0),
          scheduled: Number(row?.scheduled ?? 0),
          locked: Number(row?.locked ?? 0),
        };
      },
    },
  };
}

function nodeFromRow(r: Database['execution_nodes']): ExecutionNodeRecord {
  return {
    id: r.id,
    kind: r.kind,
    host: r.host,
    pid: Number(r.pid),
    startedOn: r.started_on,
    heartbeatOn: r.heartbeat_on,
    info: r.info,
  };
}
