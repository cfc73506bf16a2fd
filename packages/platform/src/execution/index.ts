/**
 * The execution layer (issue 9): queued durable runs on the embedded queue or graphile-worker,
 * crash recovery through execution nodes, Recurrence scheduling, per-flow concurrency, metrics.
 * See docs/operations.md.
 */
export { ExecutionService, triggerConcurrency, type ExecutionServiceOptions, type EnqueueOptions } from './service.js';
export {
  executionConfig,
  silentLogger,
  type ExecutionConfig,
  type ExecutionLogger,
  type ExecutionQueue,
  type JobSpec,
  type QueuedJob,
  type QueueDepth,
} from './types.js';
export { EmbeddedQueue, type EmbeddedQueueOptions } from './embedded-queue.js';
export { GraphileQueue, type GraphileQueueOptions } from './graphile-queue.js';
export { NodeRegistry, type NodeRegistryOptions } from './nodes.js';
export { ExecutionMetrics } from './metrics.js';
export { Scheduler, occurrenceRunId, recurrenceTrigger } from './scheduler.js';
export { interruptedResult, MAX_CHILD_DEPTH } from './durable.js';
export type { Envelope, InboxEvent, StartRequest, QueuedRunSpec, ExecutionHost } from './host.js';
export {
  parseRecurrence,
  Recurrence,
  resolveTimeZone,
  zonedToUtc,
  utcToZoned,
  type Frequency,
  type RecurrenceSpec,
} from './recurrence.js';
