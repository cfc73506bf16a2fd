/**
 * Tables of durable execution (issue 9, migration `005_execution`): run states, run inbox, the
 * embedded job queue, execution nodes, per-flow concurrency counters, Recurrence schedules.
 * Same conventions as schema.ts (TEXT JSON, INTEGER 0/1 booleans, ISO 8601 TEXT timestamps).
 */
export interface RunStatesTable {
  run_id: string;
  environment_id: string;
  flow_id: string;
  phase: string;
  owner: string | null;
  version: number;
  key_id: string;
  sealed: string;
  next_due: string | null;
  inbox: number;
  concurrency_key: string | null;
  concurrency_limit: number | null;
  holds_slot: number;
  parent_run_id: string | null;
  parent_call_id: string | null;
  response: string | null;
  definition: string | null;
  created_on: string;
  updated_on: string;
}

export interface RunInboxTable {
  id: string;
  run_id: string;
  at: string;
  key_id: string;
  sealed: string;
}

export interface JobsTable {
  id: string;
  task: string;
  payload: string;
  run_at: string;
  attempts: number;
  max_attempts: number;
  locked_by: string | null;
  locked_at: string | null;
  last_error: string | null;
  created_on: string;
}

export interface ExecutionNodesTable {
  id: string;
  kind: string;
  host: string;
  pid: number;
  started_on: string;
  heartbeat_on: string;
  info: string;
}

export interface FlowConcurrencyTable {
  flow_key: string;
  running: number;
}

export interface SchedulesTable {
  flow_key: string;
  environment_id: string;
  flow_id: string;
  spec_hash: string;
  anchor: string;
  last_occurrence: string;
  updated_on: string;
}

/** The execution tables, merged into the store's `Database`. */
export interface ExecutionTables {
  run_states: RunStatesTable;
  run_inbox: RunInboxTable;
  jobs: JobsTable;
  execution_nodes: ExecutionNodesTable;
  flow_concurrency: FlowConcurrencyTable;
  schedules: SchedulesTable;
}
