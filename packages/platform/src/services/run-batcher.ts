/**
 * Group commit of run history (issue 8, HTTP-triggered flows): a write-behind batcher that
 * collects run rows from many concurrent requests and writes them in one transaction. Each
 * `insert`/`update` resolves only after the transaction holding it committed, so a caller that
 * answers after awaiting it never answers for a run that is not persisted.
 *
 * Batching is adaptive: the first write schedules a flush on the next turn of the event loop
 * (`setImmediate`), so every request handled in the same I/O phase joins it; writes arriving
 * while a flush runs form the next batch, which starts as soon as the previous one committed.
 * Under load the batch grows with the commit time; idle, a write waits one loop turn.
 */
import type { Run, Store } from '@patchbay/core';

type Op = { kind: 'insert' | 'update'; run: Run };

interface Batch {
  ops: Op[];
  promise: Promise<void>;
  resolve: () => void;
  reject: (e: unknown) => void;
}

function newBatch(): Batch {
  let resolve!: () => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // A batch nobody awaits (all callers gone) must not crash the process on failure.
  promise.catch(() => undefined);
  return { ops: [], promise, resolve, reject };
}

/** Statistics of a batcher (for benchmarks and logs). */
export interface RunBatcherStats {
  batches: number;
  rows: number;
  largestBatch: number;
}

/** Writes run rows in batches (group commit). */
export class RunBatcher {
  private current: Batch | undefined;
  private flushing: Promise<void> | undefined;
  private scheduled = false;
  readonly stats: RunBatcherStats = { batches: 0, rows: 0, largestBatch: 0 };

  constructor(
    private readonly store: Store,
    private readonly options: { maxBatch?: number } = {},
  ) {}

  /** Inserts a run row; resolves after the batch holding it committed. */
  insert(run: Run): Promise<void> {
    return this.add({ kind: 'insert', run });
  }

  /** Updates a run row (written after every earlier operation on it); resolves after commit. */
  update(run: Run): Promise<void> {
    return this.add({ kind: 'update', run });
  }

  /** Resolves when every operation added so far is committed. */
  async drain(): Promise<void> {
    while (this.current || this.flushing) {
      if (this.flushing) await this.flushing.catch(() => undefined);
      else if (this.current) await this.flushNow();
    }
  }

  private add(op: Op): Promise<void> {
    if (!this.current) this.current = newBatch();
    const batch = this.current;
    batch.ops.push(op);
    if (batch.ops.length >= (this.options.maxBatch ?? 2000) && !this.flushing) void this.flushNow();
    else this.schedule();
    return batch.promise;
  }

  private schedule(): void {
    if (this.scheduled || this.flushing) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (!this.flushing && this.current) void this.flushNow();
    });
  }

  private flushNow(): Promise<void> {
    const batch = this.current;
    if (!batch) return Promise.resolve();
    this.current = undefined;
    const run = async (): Promise<void> => {
      try {
        await this.store.transaction(async (tx) => {
          let inserts: Run[] = [];
          for (const op of batch.ops) {
            if (op.kind === 'insert') inserts.push(op.run);
            else {
              if (inserts.length) await tx.runs.insertMany(inserts);
              inserts = [];
              await tx.runs.update(op.run);
            }
          }
          if (inserts.length) await tx.runs.insertMany(inserts);
        });
        this.stats.batches++;
        this.stats.rows += batch.ops.length;
        if (batch.ops.length > this.stats.largestBatch) this.stats.largestBatch = batch.ops.length;
        batch.resolve();
      } catch (e) {
        batch.reject(e);
      }
    };
    this.flushing = run().finally(() => {
      this.flushing = undefined;
      if (this.current) void this.flushNow();
    });
    return this.flushing;
  }
}
