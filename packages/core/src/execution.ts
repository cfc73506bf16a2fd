/**
 * Ports of durable execution (issue 9): the persisted state of queued runs, their inbox, the
 * embedded job queue, the registry of execution nodes (processes that drive runs), per-flow
 * concurrency counters and Recurrence schedules. Implemented by packages/storage on SQLite and
 * PostgreSQL alike; used by packages/platform/src/execution. Times are ISO 8601 UTC strings
 * (`Date.prototype.toISOString()`, so they compare as text).
 */

/** Where a queued run is: not started, waiting for a concurrency slot, started, ended. */
export type RunPhase = 'queued' | 'waiting' | 'active' | 'done';

/**
 * The durable state of one queued run. `sealed` is the encrypted envelope (engine state, start
 * request, pending timers, delegated child calls) under the environment's data key `keyId`: the
 * engine state holds unredacted values, so it never leaves the environment in clear (invariant 5).
 */
export interface RunStateRecord {
  runId: string;
  environmentId: string;
  flowId: string;
  phase: RunPhase;
  /** Execution node driving the run right now; absent when no process holds it. */
  owner?: string;
  /** Incremented on every save. */
  version: number;
  keyId: string;
  /** base64 of IV ‖ ciphertext ‖ tag of the JSON envelope. */
  sealed: string;
  /** Earliest pending timer of a parked run. */
  nextDue?: string;
  /** Number of undelivered inbox events (cancel requests, child-flow results). */
  inbox: number;
  /** Concurrency group (`<environment id>:<flow id>`) when the trigger limits concurrent runs. */
  concurrencyKey?: string;
  concurrencyLimit?: number;
  /** True while the run holds one unit of its concurrency group. */
  holdsSlot: boolean;
  /** Child runs: the parent run and the parent's call id that waits for this run. */
  parentRunId?: string;
  parentCallId?: string;
  /** Sealed (same key) JSON of the unredacted Response the flow answered with, once it answered. */
  response?: string;
  /** The flow definition (JSON text) the run started with; a run keeps it when the flow changes. */
  definition?: string;
  createdOn: string;
  updatedOn: string;
}

/** What a save changes on a run state row. */
export interface RunStateSave {
  runId: string;
  /** The node that must own the row (the save fails when another node took it over). */
  owner: string;
  phase: RunPhase;
  keyId: string;
  sealed: string;
  nextDue?: string;
  holdsSlot: boolean;
  response?: string;
  /** Inbox events applied by this save (their rows are deleted by the caller in the same transaction). */
  drained: number;
  /** Release the row (owner cleared); refused while undelivered inbox events remain. */
  release: boolean;
  updatedOn: string;
}

/** An event waiting for a run's driver (cancel request, child-flow result), sealed like the state. */
export interface RunInboxRecord {
  id: string;
  runId: string;
  /** Ordering key (ISO time + id). */
  at: string;
  keyId: string;
  sealed: string;
}

/** A job of the embedded queue. */
export interface JobRecord {
  id: string;
  /** Task name, e.g. `run`. */
  task: string;
  /** JSON text of the payload (no secrets: run ids only). */
  payload: string;
  /** Due time. */
  runAt: string;
  attempts: number;
  maxAttempts: number;
  lockedBy?: string;
  lockedAt?: string;
  lastError?: string;
  createdOn: string;
}

/** A process that drives runs or fires schedules, with its heartbeat. */
export interface ExecutionNodeRecord {
  id: string;
  /** `server`, `worker`, `embedded`, `cli`. */
  kind: string;
  host: string;
  pid: number;
  startedOn: string;
  heartbeatOn: string;
  /** JSON text: queue-specific facts (graphile-worker pool ids). */
  info: string;
}

/** The Recurrence schedule of one flow: the last occurrence fired cluster-wide. */
export interface ScheduleRecord {
  /** `<environment id>:<flow id>`. */
  key: string;
  environmentId: string;
  flowId: string;
  /** Hash of the trigger's recurrence; a changed recurrence restarts the schedule. */
  specHash: string;
  /** When the schedule started (occurrence origin of recurrences without a start time). */
  anchor: string;
  /** The last occurrence fired (or the anchor before the first one). */
  lastOccurrence: string;
  updatedOn: string;
}

/** A graphile-worker job added through SQL in the caller's transaction (PostgreSQL only). */
export interface GraphileJobSpec {
  task: string;
  payload: Record<string, unknown>;
  runAt?: string;
  maxAttempts?: number;
  jobKey?: string;
  queueName?: string;
}

/** Repositories of durable execution, part of {@link Repositories}. */
export interface ExecutionRepositories {
  runStates: {
    insert(r: RunStateRecord): Promise<void>;
    get(runId: string): Promise<RunStateRecord | undefined>;
    /**
     * Takes the run for `owner` when nobody holds it, `owner` already holds it (the caller makes
     * sure it drives a run once), or its holder is not live (no node with a heartbeat at or after
     * `liveSince`). Returns the row as taken; undefined when another live node holds it or it is done.
     */
    acquire(runId: string, owner: string, liveSince: string): Promise<RunStateRecord | undefined>;
    /** Saves the state when `owner` still holds the run; false otherwise (or when releasing with pending inbox events). */
    save(s: RunStateSave): Promise<boolean>;
    /** Clears the owner when it is `owner`; true when it was. */
    release(runId: string, owner: string): Promise<boolean>;
    /** Counts one more inbox event; returns the row after the change (undefined when there is no such run). */
    bumpInbox(runId: string): Promise<RunStateRecord | undefined>;
    /** Runs held by `owner` that have inbox events. */
    listOwnedWithInbox(owner: string): Promise<string[]>;
    /** Runs not done whose holder is not live (see `acquire`). */
    listOrphaned(liveSince: string, limit: number): Promise<Array<{ runId: string; owner: string }>>;
    /** Oldest runs waiting for a slot of a concurrency group. */
    listWaiting(concurrencyKey: string, limit: number): Promise<string[]>;
    /** Number of runs by phase. */
    countByPhase(): Promise<Record<string, number>>;
    /** Deletes done states whose run no longer exists (after retention pruned the runs). */
    pruneOrphanedDone(): Promise<number>;
  };
  runInbox: {
    add(e: RunInboxRecord): Promise<void>;
    list(runId: string): Promise<RunInboxRecord[]>;
    delete(ids: string[]): Promise<void>;
  };
  jobs: {
    add(j: JobRecord): Promise<void>;
    /** Locks up to `limit` due, unlocked jobs for `node` (attempts + 1) and returns them. */
    claim(node: string, now: string, limit: number): Promise<JobRecord[]>;
    complete(id: string): Promise<void>;
    /** Unlocks a failed job and makes it due again at `runAt`. */
    retry(id: string, runAt: string, error: string): Promise<void>;
    /** Unlocks every job locked by these nodes; returns how many. */
    unlockNodes(nodes: string[]): Promise<number>;
    /** Earliest due time of an unlocked job. */
    nextRunAt(): Promise<string | undefined>;
    /** Jobs by state: due now and unlocked (`ready`), due later (`scheduled`), running (`locked`). */
    depth(now: string): Promise<{ ready: number; scheduled: number; locked: number }>;
  };
  executionNodes: {
    upsert(n: ExecutionNodeRecord): Promise<void>;
    /** Updates the heartbeat; false when the row is gone (the node was declared dead). */
    heartbeat(id: string, at: string, info?: string): Promise<boolean>;
    get(id: string): Promise<ExecutionNodeRecord | undefined>;
    list(): Promise<ExecutionNodeRecord[]>;
    /** Deletes the node when its heartbeat is older than `before`; true when this call deleted it. */
    deleteIfDead(id: string, before: string): Promise<boolean>;
    delete(id: string): Promise<void>;
  };
  flowConcurrency: {
    /** Locks the counter row of a group (creating it), so acquire and release of one group serialise. */
    lock(key: string): Promise<void>;
    /** Takes one unit when fewer than `limit` are taken; true when taken. Call after `lock`. */
    tryAcquire(key: string, limit: number): Promise<boolean>;
    /** Gives one unit back. Call after `lock`. */
    release(key: string): Promise<void>;
    get(key: string): Promise<number>;
  };
  schedules: {
    /** Inserts when absent; returns the stored row (another process may have created it first). */
    ensure(s: ScheduleRecord): Promise<ScheduleRecord>;
    get(key: string): Promise<ScheduleRecord | undefined>;
    /** Replaces the row (a changed recurrence). */
    reset(s: ScheduleRecord): Promise<void>;
    /** Compare-and-set of the last occurrence: true when it was `from` and is now `to` (this process fires `to`). */
    advance(key: string, from: string, to: string, at: string): Promise<boolean>;
    list(): Promise<ScheduleRecord[]>;
    delete(key: string): Promise<void>;
  };
  graphileJobs: {
    /** Adds a graphile-worker job with `graphile_worker.add_job` in the current transaction (PostgreSQL only). */
    add(j: GraphileJobSpec): Promise<void>;
    /** Jobs in graphile-worker's queue: due and unlocked, scheduled later, locked. */
    depth(): Promise<{ ready: number; scheduled: number; locked: number }>;
  };
}
