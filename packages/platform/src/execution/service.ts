/**
 * The execution service (issue 9): queued, durable runs on the embedded queue (SQLite, in-process
 * workers) or on graphile-worker (PostgreSQL, any number of worker processes); the scheduler of
 * Recurrence triggers; cancel; per-flow concurrency; health and metrics. Same code in every
 * process; configuration selects the queue (`executionConfig`). See docs/operations.md.
 *
 * Enqueue writes the run's history row (status Running), its sealed start request and its first
 * job in one transaction: a run is never lost (no job without a run, no run without a job) and
 * never started twice (a driver takes a run with a compare-and-set, and every later job of the
 * run finds it taken, parked or done).
 */
import { randomInt } from 'node:crypto';
import {
  conflict,
  notFound,
  notReady,
  type Environment,
  type Repositories,
  type Run,
  type RunStateRecord,
  type RunStatusName,
} from '@patchbay/core';
import { createHttpClient, type HttpPolicy, type OutboundHttpClient } from '@patchbay/connectors';
import { definitionOf, type RunResponse, type TriggerInput } from '@patchbay/engine';
import type { Platform } from '../platform.js';
import { DEFAULT_HISTORY_VALUE_CAP } from '../services/runs.js';
import { OwnershipLost, RunDriver } from './durable.js';
import type { Envelope, ExecutionHost, InboxEvent, QueuedRunSpec, StartRequest } from './host.js';
import { EmbeddedQueue } from './embedded-queue.js';
import { GraphileQueue } from './graphile-queue.js';
import { ExecutionMetrics } from './metrics.js';
import { NodeRegistry } from './nodes.js';
import { Scheduler } from './scheduler.js';
import {
  silentLogger,
  type ExecutionConfig,
  type ExecutionLogger,
  type ExecutionQueue,
  type QueuedJob,
} from './types.js';

/** Options of {@link ExecutionService.create}. */
export interface ExecutionServiceOptions {
  platform: Platform;
  config: ExecutionConfig;
  logger?: ExecutionLogger;
  /** What this process is: `server`, `worker`, `embedded` (server with in-process workers on SQLite), `cli`. */
  kind: string;
  /** Environment variables (PATCHBAY_HISTORY_VALUE_CAP). */
  env?: Record<string, string | undefined>;
}

/** Options of {@link ExecutionService.enqueue}. */
export interface EnqueueOptions {
  environment: string;
  /** Flow id or display name. */
  flow: string;
  trigger?: TriggerInput;
  /** Principal starting the run (default the local admin). */
  actor?: string;
  /** `manual` (default), `http`, `recurrence`, `resubmit`, … */
  startedBy?: string;
  /** Fixed run id (scheduled runs use one derived from the occurrence). */
  runId?: string;
  callbackUrl?: string;
  /** Enqueue even when the flow is not On (tests). */
  ignoreState?: boolean;
  resubmittedFrom?: string;
}

/** The concurrency limit of a flow's trigger (`runtimeConfiguration.concurrency.runs`, or 1 for `operationOptions: SingleInstance`). */
export function triggerConcurrency(flowDefinition: unknown): number | undefined {
  const def = definitionOf(flowDefinition) as { triggers?: Record<string, unknown> };
  const trigger = Object.values(def.triggers ?? {})[0] as Record<string, unknown> | undefined;
  if (!trigger) return undefined;
  const rc = trigger.runtimeConfiguration as { concurrency?: { runs?: unknown } } | undefined;
  const runs = Number(rc?.concurrency?.runs);
  if (Number.isInteger(runs) && runs > 0) return Math.min(runs, 50);
  const opts = String(trigger.operationOptions ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase());
  if (opts.includes('singleinstance')) return 1;
  return undefined;
}

const MAX_DEFINITION_CACHE = 200;

/** Queued durable runs, workers, scheduler, cancel, metrics. */
export class ExecutionService implements ExecutionHost {
  readonly queue: ExecutionQueue;
  readonly nodes: NodeRegistry;
  readonly metrics: ExecutionMetrics;
  readonly logger: ExecutionLogger;
  readonly historyValueCap: number;
  private readonly drivers = new Map<string, RunDriver>();
  private readonly claiming = new Set<string>();
  private readonly environments = new Map<string, { env: Environment; at: number }>();
  private readonly httpClients = new Map<string, OutboundHttpClient>();
  private readonly definitions = new Map<string, unknown>();
  private readonly waiters = new Map<string, Set<() => void>>();
  private readonly responses = new Map<string, RunResponse>();
  private scheduler: Scheduler | undefined;
  private inboxPoller: ReturnType<typeof setInterval> | undefined;
  private pruner: ReturnType<typeof setInterval> | undefined;
  private workersStarted = false;
  private stopped = false;
  private registered = false;

  private constructor(
    readonly platform: Platform,
    readonly config: ExecutionConfig,
    readonly kind: string,
    logger: ExecutionLogger,
    env: Record<string, string | undefined>,
  ) {
    this.logger = logger;
    const store = platform.ctx.store;
    const cap = Number(env['PATCHBAY_HISTORY_VALUE_CAP']);
    this.historyValueCap = Number.isFinite(cap) && cap > 0 ? cap : DEFAULT_HISTORY_VALUE_CAP;
    if (config.queue === 'graphile') {
      if (store.kind !== 'postgres' || !config.databaseUrl)
        throw notReady(
          'QUEUE_NEEDS_POSTGRES',
          'the graphile-worker queue needs the PostgreSQL store (--database-url postgres://…)',
          { queue: 'graphile' },
        );
      this.queue = new GraphileQueue({
        store,
        databaseUrl: config.databaseUrl,
        logger,
        pollMs: config.graphilePollMs,
        poolSize: config.graphilePoolSize,
        maxAttempts: config.maxJobAttempts,
      });
    } else {
      this.queue = new EmbeddedQueue({
        store,
        logger,
        pollMs: config.pollMs,
        maxAttempts: config.maxJobAttempts,
        now: () => this.now(),
      });
    }
    this.nodes = new NodeRegistry({
      store,
      queue: this.queue,
      logger,
      kind,
      heartbeatMs: config.heartbeatMs,
      nodeTimeoutMs: config.nodeTimeoutMs,
      sweepMs: config.sweepMs,
      now: () => this.now(),
      onLost: () => {
        for (const d of this.drivers.values()) d.abandon();
      },
      onRecovered: (n) => this.metrics.runsRecovered.inc(n),
    });
    this.metrics = new ExecutionMetrics({
      depth: () => this.queue.depth(),
      phases: () => store.repos.runStates.countByPhase(),
      queueKind: this.queue.kind,
    });
  }

  /** Creates the service: prepares the queue's storage and registers this process as a node. */
  static async create(o: ExecutionServiceOptions): Promise<ExecutionService> {
    const svc = new ExecutionService(o.platform, o.config, o.kind, o.logger ?? silentLogger, o.env ?? {});
    await svc.queue.prepare();
    await svc.nodes.register();
    svc.registered = true;
    svc.nodes.start({ sweep: true });
    return svc;
  }

  /** This process's node id. */
  get nodeId(): string {
    return this.nodes.id;
  }

  /** Epoch ms from the platform clock. */
  now(): number {
    return this.platform.ctx.clock.now();
  }

  nowIso(): string {
    return new Date(this.now()).toISOString();
  }

  // ------------------------------------------------------------------ helpers for drivers

  /** Seals run data (state, inbox events, responses) with the environment's data key. */
  sealRunData(
    environmentId: string,
    aad: string,
    plaintext: string,
    tx?: Repositories,
  ): Promise<{ keyId: string; sealed: string }> {
    return this.platform.vault.sealData(environmentId, aad, plaintext, tx);
  }

  openRunData(environmentId: string, aad: string, keyId: string, sealed: string): Promise<string> {
    return this.platform.vault.openData(environmentId, aad, keyId, sealed);
  }

  /** The flow definition a run started with (parsed once per text). */
  definitionOf(row: RunStateRecord): unknown {
    const text = row.definition ?? 'null';
    let d = this.definitions.get(text);
    if (d === undefined) {
      d = JSON.parse(text) as unknown;
      if (this.definitions.size >= MAX_DEFINITION_CACHE)
        this.definitions.delete(this.definitions.keys().next().value as string);
      this.definitions.set(text, d);
    }
    return d;
  }

  /** An environment by id, cached for 2 s (its policy shapes the outbound HTTP client). */
  async environment(id: string): Promise<Environment | undefined> {
    const now = this.now();
    const hit = this.environments.get(id);
    if (hit && now - hit.at < 2000) return hit.env;
    const env = await this.platform.ctx.store.repos.environments.get(id);
    if (env) this.environments.set(id, { env, at: now });
    return env;
  }

  /** One outbound HTTP client per environment policy, kept for the life of the service. */
  httpClient(
    policy: { allowedHosts?: string[]; deniedHosts?: string[]; allowLoopback?: boolean } | undefined,
  ): OutboundHttpClient {
    const p: HttpPolicy = {
      ...(policy?.allowedHosts && policy.allowedHosts.length > 0 ? { allowHosts: policy.allowedHosts } : {}),
      ...(policy?.deniedHosts && policy.deniedHosts.length > 0 ? { denyHosts: policy.deniedHosts } : {}),
      allowLoopback: policy?.allowLoopback === true,
    };
    const key = JSON.stringify(p);
    let c = this.httpClients.get(key);
    if (!c) {
      c = createHttpClient({ policy: p });
      this.httpClients.set(key, c);
    }
    return c;
  }

  /** Inserts a queued run (history row, sealed start request, first job) in `tx`. */
  async insertQueuedRun(tx: Repositories, o: QueuedRunSpec): Promise<Run> {
    const now = this.nowIso();
    const limit = triggerConcurrency(o.flow.definition);
    const envelope: Envelope = { v: 1, request: o.request, timers: {}, children: {} };
    const { keyId, sealed } = await this.sealRunData(
      o.flow.environmentId,
      `run:${o.runId}`,
      JSON.stringify(envelope),
      tx,
    );
    const run: Run = {
      id: o.runId,
      environmentId: o.flow.environmentId,
      flowId: o.flow.id,
      flowName: o.flow.name,
      status: 'Running',
      startedBy: o.request.startedBy,
      invokerId: o.request.actorId,
      startTime: now,
      record: null,
      ...(o.request.resubmittedFrom ? { resubmittedFrom: o.request.resubmittedFrom } : {}),
    };
    await tx.runs.insert(run);
    await tx.runStates.insert({
      runId: o.runId,
      environmentId: o.flow.environmentId,
      flowId: o.flow.id,
      phase: 'queued',
      version: 0,
      keyId,
      sealed,
      inbox: 0,
      holdsSlot: false,
      ...(limit !== undefined
        ? { concurrencyKey: `${o.flow.environmentId}:${o.flow.id}`, concurrencyLimit: limit }
        : {}),
      ...(o.parentRunId ? { parentRunId: o.parentRunId } : {}),
      ...(o.parentCallId ? { parentCallId: o.parentCallId } : {}),
      definition: JSON.stringify(o.flow.definition),
      createdOn: now,
      updatedOn: now,
    });
    await this.queue.add(tx, { task: 'run', payload: { runId: o.runId } });
    this.metrics.runsEnqueued.inc({ trigger: o.request.startedBy });
    return run;
  }

  /** Posts an event to a run's inbox (with a job to deliver it) in `tx`; false when the run is done or unknown. */
  async postInbox(tx: Repositories, runId: string, event: InboxEvent): Promise<boolean> {
    const row = await tx.runStates.get(runId);
    if (!row || row.phase === 'done') return false;
    const id = this.platform.ctx.ids.newId();
    const { keyId, sealed } = await this.sealRunData(
      row.environmentId,
      `inbox:${runId}:${id}`,
      JSON.stringify(event),
      tx,
    );
    await tx.runInbox.add({ id, runId, at: `${this.nowIso()}:${id}`, keyId, sealed });
    await tx.runStates.bumpInbox(runId);
    await this.queue.add(tx, { task: 'run', payload: { runId } });
    this.drivers.get(runId)?.nudgeInbox();
    return true;
  }

  /** Gives back one unit of a concurrency group and wakes the oldest run waiting for it, in `tx`. */
  async releaseSlot(tx: Repositories, key: string): Promise<void> {
    await tx.flowConcurrency.lock(key);
    await tx.flowConcurrency.release(key);
    for (const runId of await tx.runStates.listWaiting(key, 1))
      await this.queue.add(tx, { task: 'run', payload: { runId } });
  }

  /**
   * Wakes the oldest run waiting for a slot of a group (it takes a free slot or waits again), in
   * `tx`: used when a run that was woken for a slot ends without taking it (cancelled, failed).
   */
  async wakeWaiting(tx: Repositories, key: string): Promise<void> {
    for (const runId of await tx.runStates.listWaiting(key, 1))
      await this.queue.add(tx, { task: 'run', payload: { runId } });
  }

  /** A run answered (Response action): wake local waiters. */
  responded(runId: string, response: RunResponse): void {
    if (this.waiters.has(runId)) this.responses.set(runId, response);
    this.notify(runId);
  }

  /** A run ended: wake local waiters. */
  finished(runId: string, _status: RunStatusName): void {
    this.notify(runId);
  }

  private notify(runId: string): void {
    const set = this.waiters.get(runId);
    if (set) for (const fn of set) fn();
  }

  // ------------------------------------------------------------------ API

  /**
   * Queues a run of a flow (history row, sealed start request and first job in one transaction).
   * @throws FLOW_NOT_ON (not-ready, exit 3) when the flow is not On.
   */
  async enqueue(o: EnqueueOptions): Promise<Run> {
    const p = this.platform;
    const env = await p.environments.get(o.environment);
    const actor = await p.ctx.actor(o.actor);
    const flow =
      (await p.ctx.store.repos.flows.get(env.id, o.flow.replace(/[{}]/g, '').toLowerCase())) ??
      (await p.flows.get(env.name, o.flow));
    if (flow.state !== 'On' && !o.ignoreState) {
      throw notReady(
        'FLOW_NOT_ON',
        `flow ${flow.name} is ${flow.state}: ${flow.reasons.map((r) => r.message).join('; ') || 'turned off'}`,
        {
          flow: flow.name,
          state: flow.state,
          reasons: flow.reasons,
        },
      );
    }
    const runId = o.runId ?? p.ctx.ids.newId();
    const request: StartRequest = {
      trigger: o.trigger ?? {},
      startedBy: o.startedBy ?? 'manual',
      actorId: actor.id,
      flowName: flow.name,
      seed: randomInt(0, 2 ** 32),
      depth: 0,
      enqueuedAt: this.nowIso(),
      ...(o.callbackUrl !== undefined ? { callbackUrl: o.callbackUrl } : {}),
      ...(o.resubmittedFrom ? { resubmittedFrom: o.resubmittedFrom } : {}),
    };
    const run = await p.ctx.store.transaction((tx) => this.insertQueuedRun(tx, { runId, flow, request }));
    this.queue.nudge();
    this.logger.info({ runId, flowId: flow.id, environmentId: env.id, startedBy: request.startedBy }, 'run queued');
    return run;
  }

  /**
   * Requests cancellation of a queued run: a run that has not started ends Cancelled without
   * running anything; a started run gets `cancelRequested` (in-flight actions are abandoned, the
   * run ends Cancelled) as soon as its driver sees it (at once when parked, within the inbox
   * poll period when a worker holds it).
   * @throws RUN_NOT_FOUND, RUN_NOT_QUEUED (a run executed in-process by `flow run`), RUN_ALREADY_ENDED.
   */
  async cancel(o: { runId: string; actor?: string; reason?: string }): Promise<Run> {
    const p = this.platform;
    const actor = await p.ctx.actor(o.actor);
    const run = await p.ctx.store.repos.runs.get(o.runId);
    if (!run) throw notFound('RUN_NOT_FOUND', `run ${o.runId} does not exist`, { run: o.runId });
    if (run.status !== 'Running')
      throw conflict('RUN_ALREADY_ENDED', `run ${o.runId} already ended ${run.status}`, {
        run: o.runId,
        status: run.status,
      });
    await p.ctx.store.transaction(async (tx) => {
      const row = await tx.runStates.get(o.runId);
      if (!row)
        throw conflict(
          'RUN_NOT_QUEUED',
          `run ${o.runId} runs in-process (patchbay flow run), not on the queue; it cannot be cancelled from here`,
          { run: o.runId },
        );
      const posted = await this.postInbox(tx, o.runId, {
        type: 'cancelRequested',
        at: this.nowIso(),
        reason: o.reason ?? `cancelled by ${actor.name}`,
      });
      if (!posted) throw conflict('RUN_ALREADY_ENDED', `run ${o.runId} already ended`, { run: o.runId });
      await p.ctx.audit(tx, {
        actor,
        environmentId: run.environmentId,
        action: 'run.cancel',
        target: { type: 'run', id: run.id, name: run.flowName },
      });
    });
    this.queue.nudge();
    this.logger.info({ runId: o.runId, actor: actor.name }, 'run cancel requested');
    return (await p.ctx.store.repos.runs.get(o.runId)) ?? run;
  }

  /**
   * Waits until a queued run answers (Response action) or ends, at most `timeoutMs`. Local runs
   * wake the waiter at once; runs driven by other processes are polled every `pollMs`.
   * Returns the unredacted response for the caller of the trigger (never log or store it).
   */
  async waitForResponse(
    runId: string,
    o: { timeoutMs: number; pollMs?: number },
  ): Promise<{ status: RunStatusName; response?: RunResponse; run?: Run }> {
    const deadline = this.now() + o.timeoutMs;
    const repos = this.platform.ctx.store.repos;
    let wake: (() => void) | undefined;
    const set = this.waiters.get(runId) ?? new Set<() => void>();
    const fn = (): void => wake?.();
    set.add(fn);
    this.waiters.set(runId, set);
    try {
      for (;;) {
        const local = this.responses.get(runId);
        if (local) return { status: 'Running', response: local };
        const row = await repos.runStates.get(runId);
        if (!row) throw notFound('RUN_NOT_FOUND', `run ${runId} is not a queued run`, { run: runId });
        if (row.response) {
          const response = JSON.parse(
            await this.openRunData(row.environmentId, `response:${runId}`, row.keyId, row.response),
          ) as RunResponse;
          const run = await repos.runs.get(runId);
          return { status: run?.status ?? 'Running', response, ...(run ? { run } : {}) };
        }
        if (row.phase === 'done') {
          const run = await repos.runs.get(runId);
          return { status: run?.status ?? 'Succeeded', ...(run ? { run } : {}) };
        }
        const left = deadline - this.now();
        if (left <= 0) return { status: 'Running' };
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, Math.min(left, o.pollMs ?? 100));
          wake = () => {
            clearTimeout(t);
            resolve();
          };
        });
        wake = undefined;
      }
    } finally {
      set.delete(fn);
      if (set.size === 0) {
        this.waiters.delete(runId);
        this.responses.delete(runId);
      }
    }
  }

  /**
   * Waits until a run ends, at most `timeoutMs`; returns the run row (status Running when the time
   * ran out). Local runs wake the waiter at once; others are polled every `pollMs` (default 100).
   */
  async waitForEnd(runId: string, o: { timeoutMs: number; pollMs?: number }): Promise<Run> {
    const deadline = this.now() + o.timeoutMs;
    const repos = this.platform.ctx.store.repos;
    let wake: (() => void) | undefined;
    const set = this.waiters.get(runId) ?? new Set<() => void>();
    const fn = (): void => wake?.();
    set.add(fn);
    this.waiters.set(runId, set);
    try {
      for (;;) {
        const run = await repos.runs.get(runId);
        if (!run) throw notFound('RUN_NOT_FOUND', `run ${runId} does not exist`, { run: runId });
        const left = deadline - this.now();
        if (run.status !== 'Running' || left <= 0) return run;
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, Math.min(left, o.pollMs ?? 100));
          wake = () => {
            clearTimeout(t);
            resolve();
          };
        });
        wake = undefined;
      }
    } finally {
      set.delete(fn);
      if (set.size === 0) {
        this.waiters.delete(runId);
        this.responses.delete(runId);
      }
    }
  }

  /** Starts `concurrency` job handlers in this process. */
  async startWorkers(concurrency: number): Promise<void> {
    if (this.workersStarted) return;
    this.workersStarted = true;
    await this.queue.start({ concurrency, nodeId: this.nodeId, handler: (job) => this.handleJob(job) });
    // Cancel requests for runs this process holds while they wait on I/O.
    this.inboxPoller = setInterval(() => void this.pollInbox(), this.config.inboxPollMs);
    this.inboxPoller.unref?.();
    this.logger.info({ node: this.nodeId, queue: this.queue.kind, concurrency }, 'workers started');
  }

  /** Starts the Recurrence scheduler in this process (servers). */
  startScheduler(): void {
    if (this.scheduler) return;
    this.scheduler = new Scheduler(this);
    this.scheduler.start();
    // Servers also drop the done states of runs that retention pruned.
    this.pruner = setInterval(() => {
      void this.platform.ctx.store.repos.runStates
        .pruneOrphanedDone()
        .then((n) => n > 0 && this.logger.info({ states: n }, 'pruned states of deleted runs'))
        .catch(() => undefined);
    }, 600_000);
    this.pruner.unref?.();
  }

  /** The scheduler, when started. */
  get schedulerInstance(): Scheduler | undefined {
    return this.scheduler;
  }

  private async pollInbox(): Promise<void> {
    if (this.drivers.size === 0) return;
    try {
      for (const runId of await this.platform.ctx.store.repos.runStates.listOwnedWithInbox(this.nodeId))
        this.drivers.get(runId)?.nudgeInbox();
    } catch {
      /* next poll */
    }
  }

  /** Handles one `run` job: drives the run when this process can take it. */
  async handleJob(job: QueuedJob): Promise<void> {
    const runId = job.payload.runId;
    // One driver per run in this process (acquire also succeeds for a run this node already holds).
    if (this.stopped || this.drivers.has(runId) || this.claiming.has(runId)) return;
    const store = this.platform.ctx.store;
    let acquired: RunStateRecord | undefined;
    this.claiming.add(runId);
    try {
      acquired = await store.repos.runStates.acquire(runId, this.nodeId, this.nodes.liveSince());
    } catch (e) {
      this.metrics.jobsProcessed.inc({ outcome: 'error' });
      throw e;
    } finally {
      this.claiming.delete(runId);
    }
    if (!acquired) {
      this.metrics.jobsProcessed.inc({ outcome: 'skipped' });
      return;
    }
    const driver = new RunDriver(this, runId);
    this.drivers.set(runId, driver);
    try {
      await driver.drive(acquired);
      this.metrics.jobsProcessed.inc({ outcome: 'ok' });
    } catch (e) {
      if (e instanceof OwnershipLost) {
        driver.abandon();
        this.metrics.jobsProcessed.inc({ outcome: 'lost' });
        this.logger.warn({ runId, node: this.nodeId }, 'run taken over by another node');
        return;
      }
      driver.abandon();
      this.metrics.jobsProcessed.inc({ outcome: 'error' });
      const message = (e as Error).message ?? String(e);
      this.logger.error(
        { runId, attempt: job.attempt, code: (e as { code?: string }).code, err: message },
        'driving the run failed',
      );
      await store.repos.runStates.release(runId, this.nodeId).catch(() => undefined);
      if (job.attempt >= job.maxAttempts) {
        await this.failRun(runId, (e as { code?: string }).code ?? 'EXECUTION_FAILED', message).catch((err: unknown) =>
          this.logger.error({ runId, err: (err as Error).message }, 'could not mark the run failed'),
        );
        return;
      }
      throw e;
    } finally {
      this.drivers.delete(runId);
    }
  }

  /** Ends a run whose jobs kept failing (e.g. its state cannot be decrypted): Failed with the error. */
  private async failRun(runId: string, code: string, message: string): Promise<void> {
    const now = this.nowIso();
    await this.platform.ctx.store.transaction(async (tx) => {
      const row = await tx.runStates.get(runId);
      if (!row || row.phase === 'done') return;
      if (!(await tx.runStates.acquire(runId, this.nodeId, this.nodes.liveSince()))) return;
      await tx.runStates.save({
        runId,
        owner: this.nodeId,
        phase: 'done',
        keyId: row.keyId,
        sealed: row.sealed,
        holdsSlot: false,
        drained: 0,
        release: false,
        updatedOn: now,
      });
      await tx.runStates.release(runId, this.nodeId);
      if (row.holdsSlot && row.concurrencyKey) await this.releaseSlot(tx, row.concurrencyKey);
      else if (row.concurrencyKey) await this.wakeWaiting(tx, row.concurrencyKey);
      const run = await tx.runs.get(runId);
      if (run)
        await tx.runs.update({
          ...run,
          status: 'Failed',
          endTime: now,
          error: { code, message: `The run could not be executed: ${message}` },
        });
    });
    this.metrics.runsFinished.inc({ status: 'Failed' });
    this.metrics.runsFailed.inc();
    this.logger.error({ runId, code }, 'run failed: its jobs kept failing');
    this.notify(runId);
  }

  /** Liveness: the process runs. Readiness: the database answers and this node is registered. */
  async readiness(): Promise<{ ready: boolean; checks: Record<string, string> }> {
    const checks: Record<string, string> = {};
    try {
      const me = await this.platform.ctx.store.repos.executionNodes.get(this.nodeId);
      checks['database'] = 'ok';
      checks['node'] = me ? 'registered' : 'not registered';
    } catch (e) {
      checks['database'] = `error: ${(e as Error).message}`;
    }
    if (this.stopped) checks['state'] = 'stopping';
    return { ready: checks['database'] === 'ok' && checks['node'] === 'registered' && !this.stopped, checks };
  }

  /**
   * Stops this process's execution abruptly, as a crash would: drivers drop their runs without
   * saving or releasing them, jobs stay locked, the node row stays with its last heartbeat. Another
   * process recovers the runs once the node timeout has passed. For crash rehearsals and tests.
   */
  async halt(): Promise<void> {
    this.stopped = true;
    this.scheduler?.stop();
    if (this.inboxPoller) clearInterval(this.inboxPoller);
    if (this.pruner) clearInterval(this.pruner);
    this.nodes.halt();
    for (const d of this.drivers.values()) d.abandon();
    await this.queue.stop({ abrupt: true });
    for (const c of this.httpClients.values()) await c.close().catch(() => undefined);
    this.httpClients.clear();
  }

  /** Stops the scheduler and workers (in-flight calls get `shutdownGraceMs`), then deregisters the node. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.scheduler?.stop();
    if (this.inboxPoller) clearInterval(this.inboxPoller);
    if (this.pruner) clearInterval(this.pruner);
    for (const d of this.drivers.values()) d.stop();
    await this.queue.stop();
    if (this.registered) await this.nodes.stop();
    for (const c of this.httpClients.values()) await c.close().catch(() => undefined);
    this.httpClients.clear();
    this.logger.info({ node: this.nodeId }, 'execution stopped');
  }
}
