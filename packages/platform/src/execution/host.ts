/**
 * What the run driver and the scheduler need from the execution service (kept apart so the
 * modules do not import each other), and the shapes persisted for queued runs.
 */
import type { Environment, Flow, Repositories, RunStateRecord, RunStatusName } from '@patchbay/core';
import type { OutboundHttpClient } from '@patchbay/connectors';
import type { ActionResult, RunResponse, RunState, TriggerInput } from '@patchbay/engine';
import type { Platform } from '../platform.js';
import type { ExecutionMetrics } from './metrics.js';
import type { ExecutionConfig, ExecutionLogger, ExecutionQueue } from './types.js';

/** What started a queued run (sealed with the state: the trigger body may hold secrets). */
export interface StartRequest {
  trigger: TriggerInput;
  startedBy: string;
  actorId: string;
  flowName: string;
  seed: number;
  callbackUrl?: string;
  /** Child-flow nesting depth (0 for a run started by a trigger). */
  depth: number;
  resubmittedFrom?: string;
  /** When the run was enqueued (ISO), for the queue-to-finish latency. */
  enqueuedAt: string;
}

/** The sealed JSON of a run state row. */
export interface Envelope {
  v: 1;
  request: StartRequest;
  /** The engine state once the run started. */
  state?: RunState;
  /** Pending timers: timer id → due time (ISO). */
  timers: Record<string, string>;
  /** Workflow calls delegated to child runs: call id → child run id. */
  children: Record<string, string>;
  /** A child run told its parent already (it responded). */
  parentNotified?: boolean;
}

/** An inbox event (sealed). */
export type InboxEvent =
  | { type: 'cancelRequested'; at: string; reason?: string }
  | { type: 'actionCompleted'; at: string; callId: string; result: ActionResult };

/** A queued run to insert (see {@link ExecutionHost.insertQueuedRun}). */
export interface QueuedRunSpec {
  runId: string;
  flow: Flow;
  request: StartRequest;
  parentRunId?: string;
  parentCallId?: string;
}

/** The execution service as the driver and the scheduler see it. */
export interface ExecutionHost {
  readonly platform: Platform;
  readonly config: ExecutionConfig;
  readonly logger: ExecutionLogger;
  readonly metrics: ExecutionMetrics;
  readonly queue: ExecutionQueue;
  readonly historyValueCap: number;
  readonly nodeId: string;
  now(): number;
  nowIso(): string;
  sealRunData(
    environmentId: string,
    aad: string,
    plaintext: string,
    tx?: Repositories,
  ): Promise<{ keyId: string; sealed: string }>;
  openRunData(environmentId: string, aad: string, keyId: string, sealed: string): Promise<string>;
  definitionOf(row: RunStateRecord): unknown;
  environment(id: string): Promise<Environment | undefined>;
  httpClient(
    policy: { allowedHosts?: string[]; deniedHosts?: string[]; allowLoopback?: boolean } | undefined,
  ): OutboundHttpClient;
  insertQueuedRun(tx: Repositories, o: QueuedRunSpec): Promise<unknown>;
  postInbox(tx: Repositories, runId: string, event: InboxEvent): Promise<boolean>;
  releaseSlot(tx: Repositories, key: string): Promise<void>;
  wakeWaiting(tx: Repositories, key: string): Promise<void>;
  responded(runId: string, response: RunResponse): void;
  finished(runId: string, status: RunStatusName): void;
}
