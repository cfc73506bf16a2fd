/**
 * The embedded job queue: the `jobs` table of the store (SQLite by default; it works on
 * PostgreSQL too) and in-process workers. A dispatcher claims due jobs (locking them with this
 * node's id), runs up to `concurrency` handlers at once, deletes a job when its handler resolves
 * and makes it due again with back-off when it rejects. Jobs added by this process wake the
 * dispatcher at once (`nudge`); jobs added by other processes are seen within `pollMs`.
 * A job locked by a node that died is unlocked by the sweeper (nodes.ts) through `recover`.
 */
import { randomUUID } from 'node:crypto';
import type { ExecutionNodeRecord, JobRecord, Repositories, Store } from '@patchbay/core';
import type { ExecutionLogger, ExecutionQueue, JobHandler, JobSpec, QueueDepth } from './types.js';

/** Options of {@link EmbeddedQueue}. */
export interface EmbeddedQueueOptions {
  store: Store;
  logger: ExecutionLogger;
  /** Poll period (ms). */
  pollMs: number;
  maxAttempts: number;
  now?: () => number;
}

/** The jobs-table queue with in-process workers. */
export class EmbeddedQueue implements ExecutionQueue {
  readonly kind = 'embedded' as const;
  private running = 0;
  private concurrency = 0;
  private nodeId = '';
  private handler: JobHandler | undefined;
  private stopped = true;
  private wake: (() => void) | undefined;
  private nudged = false;
  private abrupt = false;
  private loop: Promise<void> | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly now: () => number;

  constructor(private readonly o: EmbeddedQueueOptions) {
    this.now = o.now ?? Date.now;
  }

  async prepare(): Promise<void> {}

  async add(tx: Repositories, job: JobSpec): Promise<void> {
    const now = new Date(this.now()).toISOString();
    await tx.jobs.add({
      id: randomUUID(),
      task: job.task,
      payload: JSON.stringify(job.payload),
      runAt: job.runAt ?? now,
      attempts: 0,
      maxAttempts: this.o.maxAttempts,
      createdOn: now,
    });
  }

  nudge(): void {
    const w = this.wake;
    this.wake = undefined;
    if (w) w();
    else this.nudged = true;
  }

  async start(o: { concurrency: number; nodeId: string; handler: JobHandler }): Promise<void> {
    this.concurrency = Math.max(1, o.concurrency);
    this.nodeId = o.nodeId;
    this.handler = o.handler;
    this.stopped = false;
    this.loop = this.dispatch();
  }

  nodeInfo(): Record<string, unknown> {
    return {};
  }

  async recover(dead: ExecutionNodeRecord[]): Promise<void> {
    const n = await this.o.store.repos.jobs.unlockNodes(dead.map((d) => d.id));
    if (n > 0) this.o.logger.info({ jobs: n, nodes: dead.map((d) => d.id) }, 'unlocked jobs of dead nodes');
    this.nudge();
  }

  async depth(): Promise<QueueDepth> {
    return this.o.store.repos.jobs.depth(new Date(this.now()).toISOString());
  }

  async stop(o: { abrupt?: boolean } = {}): Promise<void> {
    if (o.abrupt) this.abrupt = true;
    this.stopped = true;
    this.nudge();
    await this.loop;
    await Promise.all([...this.inFlight]);
  }

  private async dispatch(): Promise<void> {
    const repos = this.o.store.repos;
    while (!this.stopped) {
      const free = this.concurrency - this.running;
      if (free <= 0) {
        // Full: a finishing handler nudges.
        await this.sleep(60_000);
        continue;
      }
      let claimed = 0;
      try {
        const jobs = await repos.jobs.claim(this.nodeId, new Date(this.now()).toISOString(), free);
        claimed = jobs.length;
        for (const job of jobs) this.run(job);
      } catch (e) {
        this.o.logger.error({ err: (e as Error).message }, 'claiming jobs failed');
        await this.sleep(this.o.pollMs);
        continue;
      }
      if (this.stopped) break;
      if (claimed > 0) continue;
      let wait = this.o.pollMs;
      try {
        const next = await repos.jobs.nextRunAt();
        if (next) wait = Math.min(wait, Math.max(1, Date.parse(next) - this.now()));
      } catch {
        /* the next claim reports database errors */
      }
      await this.sleep(wait);
    }
  }

  private sleep(ms: number): Promise<void> {
    if (this.nudged) {
      this.nudged = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.wake = undefined;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }

  private run(job: JobRecord): void {
    this.running++;
    const p = (async () => {
      const repos = this.o.store.repos;
      let payload: { runId: string };
      try {
        payload = JSON.parse(job.payload) as { runId: string };
      } catch {
        await repos.jobs.complete(job.id);
        return;
      }
      try {
        await this.handler!({
          id: job.id,
          task: job.task,
          payload,
          attempt: job.attempts,
          maxAttempts: job.maxAttempts,
        });
        if (this.abrupt) return;
        await repos.jobs.complete(job.id);
      } catch (e) {
        if (this.abrupt) return;
        const message = (e as Error).message ?? String(e);
        if (job.attempts >= job.maxAttempts) {
          this.o.logger.error(
            { jobId: job.id, runId: payload.runId, attempts: job.attempts, err: message },
            'job failed for good',
          );
          await repos.jobs.complete(job.id);
        } else {
          const backoff = Math.min(60_000, 500 * 2 ** (job.attempts - 1));
          this.o.logger.warn(
            { jobId: job.id, runId: payload.runId, attempt: job.attempts, err: message },
            'job failed; retrying',
          );
          await repos.jobs.retry(job.id, new Date(this.now() + backoff).toISOString(), message.slice(0, 1000));
        }
      }
    })()
      .catch((e: unknown) =>
        this.o.logger.error({ jobId: job.id, err: (e as Error).message }, 'job bookkeeping failed'),
      )
      .finally(() => {
        this.running--;
        this.inFlight.delete(p);
        this.nudge();
      });
    this.inFlight.add(p);
  }
}
