/**
 * Execution nodes: every process that drives runs or fires schedules registers a row in
 * `execution_nodes` and refreshes its heartbeat. A node whose heartbeat is older than the node
 * timeout is dead: any live process's sweeper deletes its row (one sweeper wins), unlocks the
 * jobs it had locked, and re-queues the runs it held, which another node then resumes from their
 * last persisted state. A node that finds its own row gone was declared dead (a long pause): it
 * stops driving (its saves are refused anyway, see `runStates.save`) and registers again.
 *
 * Embedded nodes (SQLite: one machine) whose process no longer exists on this host are dead at
 * once, so a restarted server resumes the runs of the one that crashed without waiting.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { ExecutionNodeRecord, Store } from '@patchbay/core';
import type { ExecutionLogger, ExecutionQueue, JobSpec } from './types.js';

/** Options of {@link NodeRegistry}. */
export interface NodeRegistryOptions {
  store: Store;
  queue: ExecutionQueue;
  logger: ExecutionLogger;
  kind: string;
  heartbeatMs: number;
  nodeTimeoutMs: number;
  sweepMs: number;
  now?: () => number;
  /** Called when this node learns it was declared dead. */
  onLost?: () => void;
  /** Called after runs were re-queued by a sweep (metrics). */
  onRecovered?: (runs: number) => void;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as { code?: string }).code === 'EPERM';
  }
}

/** This process's node row, heartbeat and sweeper. */
export class NodeRegistry {
  id: string;
  private hb: ReturnType<typeof setInterval> | undefined;
  private sweeper: ReturnType<typeof setInterval> | undefined;
  private sweeping = false;
  private readonly now: () => number;
  private readonly startedOn: string;

  constructor(private readonly o: NodeRegistryOptions) {
    this.now = o.now ?? Date.now;
    this.id = NodeRegistry.newId(o.kind);
    this.startedOn = new Date(this.now()).toISOString();
  }

  private static newId(kind: string): string {
    return `${kind}-${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`;
  }

  /** ISO instant: nodes with a heartbeat at or after it are live. */
  liveSince(): string {
    return new Date(this.now() - this.o.nodeTimeoutMs).toISOString();
  }

  private record(): ExecutionNodeRecord {
    const at = new Date(this.now()).toISOString();
    return {
      id: this.id,
      kind: this.o.kind,
      host: hostname(),
      pid: process.pid,
      startedOn: this.startedOn,
      heartbeatOn: at,
      info: JSON.stringify(this.o.queue.nodeInfo()),
    };
  }

  /** Registers the node (call before taking jobs). */
  async register(): Promise<void> {
    await this.o.store.repos.executionNodes.upsert(this.record());
  }

  /** Starts the heartbeat and (unless `sweep` is false) the sweeper. */
  start(o: { sweep: boolean }): void {
    this.hb = setInterval(() => void this.beat(), this.o.heartbeatMs);
    this.hb.unref?.();
    if (o.sweep) {
      this.sweeper = setInterval(() => void this.sweep(), this.o.sweepMs);
      this.sweeper.unref?.();
    }
  }

  /** Refreshes the heartbeat; re-registers under a new id when the row was deleted. */
  async beat(): Promise<void> {
    try {
      const ok = await this.o.store.repos.executionNodes.heartbeat(
        this.id,
        new Date(this.now()).toISOString(),
        JSON.stringify(this.o.queue.nodeInfo()),
      );
      if (!ok) {
        const old = this.id;
        this.id = NodeRegistry.newId(this.o.kind);
        this.o.logger.error(
          { node: old, newNode: this.id },
          'this node was declared dead (heartbeat too old); it gives up its runs and registers again',
        );
        this.o.onLost?.();
        await this.register();
      }
    } catch (e) {
      this.o.logger.warn({ node: this.id, err: (e as Error).message }, 'heartbeat failed');
    }
  }

  /**
   * One sweep: dead nodes are deleted (their jobs unlocked), runs held by nodes that are not live
   * are released and get a job. Returns the number of runs re-queued.
   */
  async sweep(): Promise<number> {
    if (this.sweeping) return 0;
    this.sweeping = true;
    try {
      const repos = this.o.store.repos;
      const now = this.now();
      const cutoff = new Date(now - this.o.nodeTimeoutMs).toISOString();
      const host = hostname();
      const dead: ExecutionNodeRecord[] = [];
      for (const n of await repos.executionNodes.list()) {
        if (n.id === this.id) continue;
        const gone = n.kind === 'embedded' && n.host === host && n.pid !== process.pid && !pidAlive(n.pid);
        if (n.heartbeatOn >= cutoff && !gone) continue;
        // `gone` nodes are deleted whatever their heartbeat: the process no longer exists.
        const before = gone ? new Date(now + 86_400_000).toISOString() : cutoff;
        if (await repos.executionNodes.deleteIfDead(n.id, before)) dead.push(n);
      }
      if (dead.length > 0) {
        this.o.logger.warn(
          {
            nodes: dead.map((d) => ({ id: d.id, kind: d.kind, host: d.host, pid: d.pid, heartbeatOn: d.heartbeatOn })),
          },
          'dead nodes found',
        );
        await this.o.queue.recover(dead);
      }
      // Runs whose owner is not a live node (deleted just now, or earlier by another sweeper).
      const deadIds = new Set(dead.map((d) => d.id));
      const liveSince = deadIds.size > 0 ? cutoff : this.liveSince();
      let requeued = 0;
      for (const { runId, owner } of await repos.runStates.listOrphaned(liveSince, 500)) {
        const liveNow = (await repos.executionNodes.get(owner)) !== undefined && !deadIds.has(owner);
        if (liveNow) continue;
        const done = await this.o.store.transaction(async (tx) => {
          if (!(await tx.runStates.release(runId, owner))) return false;
          const job: JobSpec = { task: 'run', payload: { runId } };
          await this.o.queue.add(tx, job);
          return true;
        });
        if (done) {
          requeued++;
          this.o.logger.warn({ runId, deadNode: owner }, 'run resumed after its node died');
        }
      }
      if (requeued > 0) {
        this.o.queue.nudge();
        this.o.onRecovered?.(requeued);
      }
      return requeued;
    } catch (e) {
      this.o.logger.warn({ node: this.id, err: (e as Error).message }, 'sweep failed');
      return 0;
    } finally {
      this.sweeping = false;
    }
  }

  /** Stops the heartbeat and sweeper and leaves the row behind (a crash, see `ExecutionService.halt`). */
  halt(): void {
    if (this.hb) clearInterval(this.hb);
    if (this.sweeper) clearInterval(this.sweeper);
    this.hb = undefined;
    this.sweeper = undefined;
  }

  /** Stops the heartbeat and sweeper and deletes the node row (a clean exit). */
  async stop(): Promise<void> {
    if (this.hb) clearInterval(this.hb);
    if (this.sweeper) clearInterval(this.sweeper);
    this.hb = undefined;
    this.sweeper = undefined;
    try {
      await this.o.store.repos.executionNodes.delete(this.id);
    } catch {
      /* the store may be closing */
    }
  }
}
