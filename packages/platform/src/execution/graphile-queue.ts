/**
 * The scale-out job queue: graphile-worker (0.17, PostgreSQL) in its own schema
 * (`graphile_worker`, created by its migrations on `prepare`). Jobs are added with
 * `graphile_worker.add_job(...)` in the caller's transaction (through the store), so a job exists
 * exactly when the change that needs it committed; workers are graphile-worker runners.
 *
 * graphile-worker keeps a job locked for 4 hours when the process working on it dies. Patchbay
 * records each runner's worker-pool id on the node row and, when the sweeper finds the node dead,
 * calls `graphile_worker.force_unlock_workers(pool ids)` so the job runs again at once.
 */
import { EventEmitter } from 'node:events';
import {
  Logger as GraphileLogger,
  makeWorkerUtils,
  run as runGraphile,
  runMigrations,
  type Runner,
  type WorkerEvents,
} from 'graphile-worker';
import type { ExecutionNodeRecord, Repositories, Store } from '@patchbay/core';
import type { ExecutionLogger, ExecutionQueue, JobHandler, JobSpec, QueueDepth } from './types.js';

/** Options of {@link GraphileQueue}. */
export interface GraphileQueueOptions {
  store: Store;
  databaseUrl: string;
  logger: ExecutionLogger;
  /** Poll interval for jobs due later (ms). */
  pollMs: number;
  maxAttempts: number;
  /** Most connections of graphile-worker's own pool (default 8). */
  poolSize?: number;
}

/** graphile-worker's log lines go to our structured logger (debug lines dropped). */
function graphileLogger(logger: ExecutionLogger): GraphileLogger {
  return new GraphileLogger(() => (level, message) => {
    const obj = { component: 'graphile-worker' };
    if (level === 'error') logger.error(obj, message);
    else if (level === 'warning') logger.warn(obj, message);
    else if (level === 'info') logger.debug(obj, message);
  });
}

/** The graphile-worker queue. */
export class GraphileQueue implements ExecutionQueue {
  readonly kind = 'graphile' as const;
  private runner: Runner | undefined;
  private readonly poolIds: string[] = [];
  private prepared: Promise<void> | undefined;

  constructor(private readonly o: GraphileQueueOptions) {}

  prepare(): Promise<void> {
    this.prepared ??= runMigrations({
      connectionString: this.o.databaseUrl,
      logger: graphileLogger(this.o.logger),
    }).catch((e: unknown) => {
      this.prepared = undefined;
      throw e;
    });
    return this.prepared;
  }

  async add(tx: Repositories, job: JobSpec): Promise<void> {
    await tx.graphileJobs.add({
      task: job.task,
      payload: job.payload,
      ...(job.runAt ? { runAt: job.runAt } : {}),
      maxAttempts: this.o.maxAttempts,
    });
  }

  nudge(): void {
    // graphile-worker hears new jobs through LISTEN/NOTIFY.
  }

  async start(o: { concurrency: number; nodeId: string; handler: JobHandler }): Promise<void> {
    await this.prepare();
    const events = new EventEmitter() as WorkerEvents;
    events.on('pool:create', ({ workerPool }) => {
      this.poolIds.push(workerPool.id);
    });
    this.runner = await runGraphile({
      connectionString: this.o.databaseUrl,
      concurrency: Math.max(1, o.concurrency),
      // Handlers use the store's pool, not graphile-worker's: its pool only fetches and completes jobs.
      maxPoolSize: Math.max(2, Math.min(o.concurrency + 1, this.o.poolSize ?? 8)),
      noHandleSignals: true,
      pollInterval: this.o.pollMs,
      logger: graphileLogger(this.o.logger),
      events,
      taskList: {
        run: async (payload, helpers) => {
          await o.handler({
            id: String(helpers.job.id),
            task: helpers.job.task_identifier,
            payload: payload as { runId: string },
            attempt: helpers.job.attempts,
            maxAttempts: helpers.job.max_attempts,
          });
        },
      },
    });
  }

  nodeInfo(): Record<string, unknown> {
    return { graphilePools: [...this.poolIds] };
  }

  async recover(dead: ExecutionNodeRecord[]): Promise<void> {
    const ids: string[] = [];
    for (const n of dead) {
      try {
        const info = JSON.parse(n.info) as { graphilePools?: unknown };
        if (Array.isArray(info.graphilePools))
          ids.push(...info.graphilePools.filter((x): x is string => typeof x === 'string'));
      } catch {
        /* no info */
      }
    }
    if (ids.length === 0) return;
    const utils = await makeWorkerUtils({
      connectionString: this.o.databaseUrl,
      logger: graphileLogger(this.o.logger),
    });
    try {
      await utils.forceUnlockWorkers(ids);
      this.o.logger.info({ pools: ids }, 'unlocked graphile-worker jobs of dead nodes');
    } finally {
      await utils.release();
    }
  }

  async depth(): Promise<QueueDepth> {
    return this.o.store.repos.graphileJobs.depth();
  }

  async stop(o: { abrupt?: boolean } = {}): Promise<void> {
    const r = this.runner;
    this.runner = undefined;
    if (r) await (o.abrupt ? r.kill('halt') : r.stop());
  }
}
