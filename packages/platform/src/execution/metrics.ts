/**
 * Prometheus metrics of the execution layer (prom-client), one registry per execution service.
 * Counters count what this process did; `patchbay_queue_depth` and `patchbay_runs_in_phase` read
 * the database, so every process reports the same cluster-wide values (aggregate them with
 * `max`, not `sum`). See docs/operations.md for the list.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { QueueDepth } from './types.js';

/** The metrics of one execution service. */
export class ExecutionMetrics {
  readonly registry = new Registry();
  readonly runsEnqueued: Counter<'trigger'>;
  readonly runsStarted: Counter;
  readonly runsFinished: Counter<'status'>;
  readonly runsSucceeded: Counter;
  readonly runsFailed: Counter;
  readonly runsRecovered: Counter;
  readonly actionDuration: Histogram<'operation' | 'outcome'>;
  readonly queueToFinish: Histogram;
  readonly schedulesFired: Counter;
  readonly jobsProcessed: Counter<'outcome'>;

  constructor(o: {
    depth: () => Promise<QueueDepth>;
    phases: () => Promise<Record<string, number>>;
    queueKind: string;
  }) {
    const r = this.registry;
    this.runsEnqueued = new Counter({
      name: 'patchbay_runs_enqueued_total',
      help: 'Runs put on the queue by this process',
      labelNames: ['trigger'],
      registers: [r],
    });
    this.runsStarted = new Counter({
      name: 'patchbay_runs_started_total',
      help: 'Runs started (first step) by this process',
      registers: [r],
    });
    this.runsFinished = new Counter({
      name: 'patchbay_runs_finished_total',
      help: 'Runs ended by this process, by final status',
      labelNames: ['status'],
      registers: [r],
    });
    this.runsSucceeded = new Counter({
      name: 'patchbay_runs_succeeded_total',
      help: 'Runs ended Succeeded by this process',
      registers: [r],
    });
    this.runsFailed = new Counter({
      name: 'patchbay_runs_failed_total',
      help: 'Runs ended Failed by this process',
      registers: [r],
    });
    this.runsRecovered = new Counter({
      name: 'patchbay_runs_recovered_total',
      help: 'Runs re-queued by this process after their node died',
      registers: [r],
    });
    this.actionDuration = new Histogram({
      name: 'patchbay_action_duration_seconds',
      help: 'Latency of actions that do I/O (Http, connector), per attempt',
      labelNames: ['operation', 'outcome'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120],
      registers: [r],
    });
    this.queueToFinish = new Histogram({
      name: 'patchbay_run_queue_to_finish_seconds',
      help: 'Time from enqueue to the end of a run (includes Delays)',
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600],
      registers: [r],
    });
    this.schedulesFired = new Counter({
      name: 'patchbay_schedule_occurrences_fired_total',
      help: 'Recurrence occurrences fired by this process',
      registers: [r],
    });
    this.jobsProcessed = new Counter({
      name: 'patchbay_jobs_processed_total',
      help: 'Queue jobs handled by this process',
      labelNames: ['outcome'],
      registers: [r],
    });
    new Gauge({
      name: 'patchbay_queue_depth',
      help: 'Jobs in the queue (cluster-wide): ready = due now, scheduled = due later (timers), locked = being worked on',
      labelNames: ['state', 'queue'],
      registers: [r],
      async collect() {
        try {
          const d = await o.depth();
          for (const [state, n] of Object.entries(d)) this.set({ state, queue: o.queueKind }, n);
        } catch {
          /* database unavailable: keep the last values */
        }
      },
    });
    new Gauge({
      name: 'patchbay_runs_in_phase',
      help: 'Queued runs by phase (cluster-wide): queued, waiting (concurrency limit), active, done',
      labelNames: ['phase'],
      registers: [r],
      async collect() {
        try {
          const phases = await o.phases();
          for (const p of ['queued', 'waiting', 'active', 'done']) this.set({ phase: p }, phases[p] ?? 0);
        } catch {
          /* keep the last values */
        }
      },
    });
  }

  /** The metrics in the Prometheus text format. */
  text(): Promise<string> {
    return this.registry.metrics();
  }
}
