/**
 * Shared types of the execution layer: the queue interface (embedded and graphile-worker
 * implementations), the logger it writes to, and the configuration.
 */
import type { ExecutionNodeRecord, Repositories } from '@patchbay/core';

/** Structured logger (pino's call shape: `logger.info({runId}, 'message')`). Never give it secrets. */
export interface ExecutionLogger {
  debug(obj: Record<string, unknown>, msg: string): void;
  info(obj: Record<string, unknown>, msg: string): void;
  warn(obj: Record<string, unknown>, msg: string): void;
  error(obj: Record<string, unknown>, msg: string): void;
}

/** A logger that drops everything. */
export const silentLogger: ExecutionLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

/** A job to add: task name, payload (ids only, never secrets), due time. */
export interface JobSpec {
  /** `run`: drive one run (start it, apply due timers and inbox events, resume it after a crash). */
  task: 'run';
  payload: { runId: string };
  /** ISO 8601 due time; default now. */
  runAt?: string;
}

/** A job handed to the handler. */
export interface QueuedJob {
  id: string;
  task: string;
  payload: { runId: string };
  /** 1-based attempt number of this job. */
  attempt: number;
  maxAttempts: number;
}

/** Runs one job; a rejection makes the queue retry it later (until its attempts run out). */
export type JobHandler = (job: QueuedJob) => Promise<void>;

/** How many jobs wait: due now (`ready`), due later (`scheduled`), being worked on (`locked`). */
export interface QueueDepth {
  ready: number;
  scheduled: number;
  locked: number;
}

/**
 * A job queue. Jobs are added inside the caller's database transaction, so a job exists exactly
 * when the change that needs it committed. Implementations: {@link EmbeddedQueue} (the `jobs`
 * table, in-process workers) and {@link GraphileQueue} (graphile-worker on PostgreSQL).
 */
export interface ExecutionQueue {
  readonly kind: 'embedded' | 'graphile';
  /** Creates the queue's own storage when needed (graphile-worker migrations). Idempotent. */
  prepare(): Promise<void>;
  /** Adds a job in the transaction `tx` (the repositories of `store.transaction`). */
  add(tx: Repositories, job: JobSpec): Promise<void>;
  /** Tells local workers that jobs were added (after the transaction committed). */
  nudge(): void;
  /** Starts `concurrency` parallel job handlers in this process, locking jobs as node `nodeId`. */
  start(o: { concurrency: number; nodeId: string; handler: JobHandler }): Promise<void>;
  /** Facts to keep on this node's row (graphile-worker pool ids, to unlock their jobs if it dies). */
  nodeInfo(): Record<string, unknown>;
  /** Unlocks the jobs dead nodes had locked, so other workers run them again. */
  recover(dead: ExecutionNodeRecord[]): Promise<void>;
  depth(): Promise<QueueDepth>;
  /**
   * Stops taking jobs and waits for running handlers (which the caller asked to stop). `abrupt`
   * (crash rehearsal, embedded queue only): jobs being worked on stay locked, as after a crash.
   */
  stop(o?: { abrupt?: boolean }): Promise<void>;
}

/** Configuration of the execution layer (docs/operations.md lists the environment variables). */
export interface ExecutionConfig {
  /** `embedded` (jobs table; default on SQLite) or `graphile` (default on PostgreSQL). */
  queue: 'embedded' | 'graphile';
  /** PostgreSQL URL (graphile-worker connects on its own pool). */
  databaseUrl?: string;
  /** Heartbeat period of this process (ms). Default 2000. */
  heartbeatMs: number;
  /** A node whose heartbeat is older than this is dead and its runs are resumed elsewhere (ms). Default 15000. */
  nodeTimeoutMs: number;
  /** How often a process looks for dead nodes and orphaned runs (ms). Default 3000. */
  sweepMs: number;
  /** How often a driver holding runs checks their inbox for cancel requests (ms). Default 1000. */
  inboxPollMs: number;
  /** Embedded queue: poll period for jobs added by other processes and for due jobs (ms). Default 250. */
  pollMs: number;
  /** graphile-worker poll interval for jobs due later (ms). Default 500. */
  graphilePollMs: number;
  /** Connections of graphile-worker's own pool per process (job fetch and completion only). Default 8. */
  graphilePoolSize: number;
  /** A run waits in the worker instead of parking when its next timer is due within this (ms). Default 0. */
  parkAfterMs: number;
  /** Attempts of a job whose handler throws (a failing database) before the run is failed. Default 5. */
  maxJobAttempts: number;
  /** On stop, how long drivers may finish in-flight calls before their runs are released (ms). Default 10000. */
  shutdownGraceMs: number;
  /** Scheduler tick (ms). Default 500. */
  schedulerTickMs: number;
  /** How often the scheduler reloads the flows (ms). Default 5000. */
  schedulerRefreshMs: number;
  /** Occurrences overdue by more than this collapse into one firing (downtime rule, ms). Default 60000. */
  missedGraceMs: number;
}

/** Reads the configuration from environment variables (PATCHBAY_*), with defaults. */
export function executionConfig(
  env: Record<string, string | undefined>,
  o: { databaseUrl?: string; queue?: 'embedded' | 'graphile' } = {},
): ExecutionConfig {
  const num = (name: string, dflt: number): number => {
    const v = Number(env[name]);
    return env[name] !== undefined && env[name] !== '' && Number.isFinite(v) && v >= 0 ? v : dflt;
  };
  const q =
    o.queue ??
    (env['PATCHBAY_QUEUE'] === 'embedded' || env['PATCHBAY_QUEUE'] === 'graphile' ? env['PATCHBAY_QUEUE'] : undefined);
  return {
    queue: q ?? (o.databaseUrl ? 'graphile' : 'embedded'),
    ...(o.databaseUrl ? { databaseUrl: o.databaseUrl } : {}),
    heartbeatMs: num('PATCHBAY_HEARTBEAT_MS', 2000),
    nodeTimeoutMs: num('PATCHBAY_NODE_TIMEOUT_MS', 15000),
    sweepMs: num('PATCHBAY_SWEEP_MS', 3000),
    inboxPollMs: num('PATCHBAY_INBOX_POLL_MS', 1000),
    pollMs: num('PATCHBAY_QUEUE_POLL_MS', 250),
    graphilePollMs: num('PATCHBAY_GRAPHILE_POLL_MS', 500),
    graphilePoolSize: Math.max(2, num('PATCHBAY_GRAPHILE_POOL_SIZE', 8)),
    parkAfterMs: num('PATCHBAY_PARK_AFTER_MS', 0),
    maxJobAttempts: Math.max(1, num('PATCHBAY_JOB_ATTEMPTS', 5)),
    shutdownGraceMs: num('PATCHBAY_SHUTDOWN_GRACE_MS', 10000),
    schedulerTickMs: num('PATCHBAY_SCHEDULER_TICK_MS', 500),
    schedulerRefreshMs: num('PATCHBAY_SCHEDULER_REFRESH_MS', 5000),
    missedGraceMs: num('PATCHBAY_SCHEDULER_MISSED_GRACE_MS', 60000),
  };
}
