/**
 * Durable runs: the driver that carries one queued run forward. A `run` job names a run; the
 * driver takes the run (a compare-and-set on `run_states.owner`, so one process drives a run at a
 * time), loads its sealed state, applies what is due — inbox events (cancel requests, child-flow
 * results), completions of its own in-flight actions, elapsed timers — through the engine, and
 * persists the new state *before* it carries out the commands of that step:
 *
 *   load → step(event…) → persist {state, timers, child runs, parent notice, final run row} → execute I/O → …
 *
 * So a completed action is recorded in the same transaction as the state it leads to and the
 * jobs/child runs that follow from it. When nothing is in flight and only timers remain the run
 * is *parked*: released with a job due at its earliest timer (Delay, Until pauses, retry waits
 * and polls hold no worker). When the run ends the final history row, the concurrency slot and
 * the parent's notice commit together.
 *
 * Crash recovery (docs/operations.md, docs/engine.md §8): a run whose node died is resumed from
 * its last persisted state. Actions that completed are in that state and never run again. An
 * I/O call that was in flight has no completion: it is reported to the engine as a failed attempt
 * with code `ActionInterrupted`, retryable when the call is safe to repeat — Http and ApiConnection
 * calls with GET, HEAD, OPTIONS, PUT or DELETE, or any action with an explicit `retryPolicy`
 * (fixed/exponential): the retry policy applies — and not retryable otherwise (POST/PATCH, and
 * OpenApiConnection operations whose method this layer does not know), so the action fails with
 * `ActionInterrupted` and the run follows its runAfter rules. Child flows are separate durable
 * runs and never in flight in a worker.
 */
import { randomInt } from 'node:crypto';
import {
  conflict,
  type Environment,
  type Flow,
  type Principal,
  type Repositories,
  type Run,
  type RunStateRecord,
} from '@patchbay/core';
import {
  compileDefinition,
  runRecord,
  startRun,
  step,
  type ActionResult,
  type CallState,
  type EngineCommand,
  type ExecuteActionCommand,
  type Plan,
  type RunEvent,
  type RunResponse,
  type RunStartedEvent,
  type RunState,
  type TriggerInput,
} from '@patchbay/engine';
import { executeAction, type ExecutorDeps } from '../runner/executor.js';
import { capHistory } from '../services/runs.js';
import { effectiveVariableValues } from '../deploy/variables.js';
import type { Envelope, ExecutionHost, InboxEvent, QueuedRunSpec } from './host.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);
/** Child flows nest at most this deep (Logic Apps' limit, as the in-process runner). */
export const MAX_CHILD_DEPTH = 8;

/** Thrown when another node took the run over (this node was declared dead). */
export class OwnershipLost extends Error {
  constructor(runId: string) {
    super(`run ${runId} is driven by another node now`);
  }
}

/**
 * The result an in-flight call gets when its worker died: a failed attempt `ActionInterrupted`,
 * retryable when repeating the call is safe (see the module comment).
 */
export function interruptedResult(plan: Plan, call: CallState): ActionResult {
  const cmd = call.command;
  const def = plan.actions.get(cmd.action)?.def as Record<string, unknown> | undefined;
  const inputs = (def?.inputs ?? {}) as Record<string, unknown>;
  const rp = inputs.retryPolicy as Record<string, unknown> | undefined;
  const explicitRetry =
    typeof rp === 'object' && rp !== null && ['fixed', 'exponential'].includes(String(rp.type).toLowerCase());
  const method = typeof cmd.inputs.method === 'string' ? cmd.inputs.method.toUpperCase() : undefined;
  const safeMethod = method !== undefined && SAFE_METHODS.has(method) && cmd.actionType !== 'OpenApiConnection';
  const safe = explicitRetry || safeMethod;
  const what = method ? `${cmd.actionType} ${method}` : cmd.actionType;
  return {
    kind: 'error',
    code: 'ActionInterrupted',
    retryable: safe,
    message: safe
      ? `The process running action '${cmd.action}' stopped while its call was in flight (attempt ${call.attempt}); the call is repeated under the action's retry policy.`
      : `The process running action '${cmd.action}' stopped while its call was in flight (attempt ${call.attempt}); a ${what} call is not safe to repeat, so the action failed. Give the action an explicit retryPolicy to have such calls repeated.`,
  };
}

const needsCache = new WeakMap<Plan, { connectors: boolean; variables: boolean }>();

/** What a plan needs at run time: the connector invoker (connector actions), environment variables (parameters bound to them). */
function needsOf(plan: Plan): { connectors: boolean; variables: boolean } {
  let n = needsCache.get(plan);
  if (!n) {
    n = {
      connectors: [...plan.actions.values()].some((a) => a.kind === 'connector'),
      variables: plan.parameters.some((p) => p.schemaName !== undefined),
    };
    needsCache.set(plan, n);
  }
  return n;
}

function isoOf(ms: number): string {
  return new Date(ms).toISOString();
}

function earliest(timers: Record<string, string>): number | undefined {
  let best: number | undefined;
  for (const at of Object.values(timers)) {
    const t = Date.parse(at);
    if (best === undefined || t < best) best = t;
  }
  return best;
}

interface ChildToStart {
  runId: string;
  flow: Flow;
  trigger: TriggerInput;
  parentCallId: string;
}

/** Drives one run while this process holds it. Created per job by the execution service. */
export class RunDriver {
  private row!: RunStateRecord;
  private env!: Envelope;
  private plan!: Plan;
  private flow: Flow | undefined;
  private actor: Principal | undefined;
  private environment: Environment | undefined;
  private deps!: ExecutorDeps;
  private readonly inflight = new Map<string, { ctl: AbortController; startedAt: number; operation: string }>();
  private readonly completions: RunEvent[] = [];
  private wakeFn: (() => void) | undefined;
  private inboxHint = false;
  private stopping = false;
  private lost = false;
  private startedNow = false;
  // Produced while handling a step's commands, written by the next persist.
  private childrenToStart: ChildToStart[] = [];
  private childrenToCancel: string[] = [];
  private parentNotice: ActionResult | undefined;
  private response: RunResponse | undefined;
  /** Workflow calls to delegate again after a crash. */
  private readonly redelegate: ExecuteActionCommand[] = [];

  constructor(
    private readonly svc: ExecutionHost,
    readonly runId: string,
  ) {}

  private get repos() {
    return this.svc.platform.ctx.store.repos;
  }

  private get state(): RunState | undefined {
    return this.env.state;
  }

  /** Wakes the driver: an inbox event may be waiting. */
  nudgeInbox(): void {
    this.inboxHint = true;
    this.wake();
  }

  /** Asks the driver to give the run back (shutdown): it finishes in-flight calls within the grace time. */
  stop(): void {
    this.stopping = true;
    this.wake();
  }

  /** The node lost the run (declared dead): drop everything at once. */
  abandon(): void {
    this.lost = true;
    for (const f of this.inflight.values()) f.ctl.abort();
    this.inflight.clear();
    this.wake();
  }

  private wake(): void {
    const w = this.wakeFn;
    this.wakeFn = undefined;
    w?.();
  }

  private sleep(untilMs: number | undefined): Promise<void> {
    if (this.completions.length > 0 || this.inboxHint || this.lost || (this.stopping && this.inflight.size === 0))
      return Promise.resolve();
    return new Promise((resolve) => {
      let t: ReturnType<typeof setTimeout> | undefined;
      if (untilMs !== undefined)
        t = setTimeout(() => this.wake(), Math.max(0, Math.min(untilMs - this.svc.now(), 2 ** 31 - 1)));
      this.wakeFn = () => {
        if (t) clearTimeout(t);
        resolve();
      };
    });
  }

  // ------------------------------------------------------------------ loading

  private async load(taken?: RunStateRecord): Promise<boolean> {
    const row = taken ?? (await this.repos.runStates.get(this.runId));
    if (!row) return false;
    this.row = row;
    this.env = JSON.parse(
      await this.svc.openRunData(row.environmentId, `run:${row.runId}`, row.keyId, row.sealed),
    ) as Envelope;
    this.plan = compileDefinition(this.svc.definitionOf(row));
    const needs = needsOf(this.plan);
    // The flow record and its invoker matter only for connector actions.
    if (needs.connectors) {
      this.flow = await this.repos.flows.get(row.environmentId, row.flowId);
      this.actor = await this.repos.principals.get(this.env.request.actorId);
    }
    const environment = await this.svc.environment(row.environmentId);
    this.environment = environment;
    const invoker =
      this.flow && this.actor
        ? this.svc.platform.runs.invokerFactory?.({
            environmentId: row.environmentId,
            flow: this.flow,
            actor: this.actor,
            runId: row.runId,
          })
        : undefined;
    const connectionReferences = (
      this.flow?.definition as { properties?: { connectionReferences?: Record<string, unknown> } } | undefined
    )?.properties?.connectionReferences;
    this.deps = {
      runId: row.runId,
      workflowId: row.flowId,
      http: this.svc.httpClient(environment?.policy),
      ...(invoker ? { invoker } : {}),
      ...(connectionReferences ? { connectionReferences } : {}),
    };
    return true;
  }

  private async readInbox(): Promise<Array<{ id: string; event: InboxEvent }>> {
    this.inboxHint = false;
    const rows = await this.repos.runInbox.list(this.runId);
    const out: Array<{ id: string; event: InboxEvent }> = [];
    for (const r of rows) {
      out.push({
        id: r.id,
        event: JSON.parse(
          await this.svc.openRunData(this.row.environmentId, `inbox:${r.runId}:${r.id}`, r.keyId, r.sealed),
        ) as InboxEvent,
      });
    }
    return out;
  }

  // ------------------------------------------------------------------ main

  /** Runs while the run needs this process; resolves when it parked, ended, waits for a slot, or was given back. */
  async drive(taken?: RunStateRecord): Promise<void> {
    if (!(await this.load(taken))) return;
    if (this.row.phase === 'done') {
      await this.repos.runStates.release(this.runId, this.svc.nodeId);
      return;
    }
    let inbox = this.row.inbox > 0 ? await this.readInbox() : [];
    if (!this.state) {
      for (;;) {
        if (inbox.some((m) => m.event.type === 'cancelRequested')) {
          await this.cancelBeforeStart(inbox.map((m) => m.id));
          return;
        }
        if (this.row.concurrencyKey && !this.row.holdsSlot) {
          const slot = await this.takeSlot();
          if (slot === 'waiting') return;
          if (slot === 'inbox') {
            inbox = await this.readInbox();
            continue;
          }
        }
        break;
      }
      await this.start(inbox.map((m) => m.id));
      inbox = [];
    } else {
      this.recoverInFlight();
    }
    await this.loop(inbox);
  }

  private async takeSlot(): Promise<'acquired' | 'waiting' | 'inbox'> {
    const key = this.row.concurrencyKey!;
    const limit = this.row.concurrencyLimit ?? 1;
    const outcome = await this.svc.platform.ctx.store.transaction(async (tx) => {
      await tx.flowConcurrency.lock(key);
      const base = {
        runId: this.runId,
        owner: this.svc.nodeId,
        keyId: this.row.keyId,
        sealed: this.row.sealed,
        drained: 0,
        updatedOn: this.svc.nowIso(),
      };
      if (await tx.flowConcurrency.tryAcquire(key, limit)) {
        if (!(await tx.runStates.save({ ...base, phase: 'queued', holdsSlot: true, release: false })))
          throw new OwnershipLost(this.runId);
        return 'acquired' as const;
      }
      if (await tx.runStates.save({ ...base, phase: 'waiting', holdsSlot: false, release: true }))
        return 'waiting' as const;
      const now = await tx.runStates.get(this.runId);
      if (now?.owner !== this.svc.nodeId) throw new OwnershipLost(this.runId);
      return 'inbox' as const;
    });
    if (outcome === 'acquired') this.row.holdsSlot = true;
    if (outcome === 'waiting')
      this.svc.logger.info(
        { runId: this.runId, flowId: this.row.flowId, concurrencyKey: key, limit },
        'run waits for a concurrency slot',
      );
    return outcome;
  }

  private async start(drainedIds: string[]): Promise<void> {
    const req = this.env.request;
    const environment = this.environment;
    // Environment variables by the definitions' own spelling (the engine matches `metadata.schemaName` exactly).
    const variables: Record<string, string> = {};
    if (needsOf(this.plan).variables) {
      const effective = await effectiveVariableValues(this.svc.platform.ctx, this.row.environmentId);
      for (const d of await this.repos.environmentVariables.listDefinitions(this.row.environmentId)) {
        const v = effective.get(d.schemaName.toLowerCase());
        if (v !== undefined) variables[d.schemaName] = v;
      }
    }
    const ev: RunStartedEvent = {
      type: 'runStarted',
      at: this.svc.nowIso(),
      runId: this.runId,
      seed: req.seed,
      trigger: req.trigger,
      workflow: {
        id: this.row.flowId,
        displayName: req.flowName,
        ...(environment ? { environmentName: environment.name } : {}),
      },
      environmentVariables: variables,
      ...(req.callbackUrl !== undefined ? { callbackUrl: req.callbackUrl } : {}),
    };
    const r = startRun(this.plan, ev);
    this.env.state = r.state;
    this.startedNow = true;
    const io = await this.handle(r.commands);
    await this.persist(drainedIds);
    this.svc.metrics.runsStarted.inc();
    this.svc.logger.info(
      { runId: this.runId, flowId: this.row.flowId, environmentId: this.row.environmentId, startedBy: req.startedBy },
      'run started',
    );
    this.launch(io);
  }

  /** Calls that were in flight when the previous holder died get an `ActionInterrupted` completion (workflow calls are delegated again). */
  private recoverInFlight(): void {
    const state = this.state!;
    for (const [callId, call] of Object.entries(state.calls)) {
      if (call.retryTimer) continue;
      if (this.env.children[callId]) continue;
      if (call.command.operation === 'workflow') {
        // Never enqueued (the persist that would have enqueued it did not commit with it): redo it.
        this.redelegate.push(call.command);
        continue;
      }
      const result = interruptedResult(this.plan, call);
      this.svc.logger.warn(
        {
          runId: this.runId,
          action: call.command.action,
          callId,
          attempt: call.attempt,
          retryable: (result as { retryable?: boolean }).retryable,
        },
        'action was in flight when its process stopped',
      );
      this.completions.push({ type: 'actionCompleted', at: this.svc.nowIso(), callId, result });
    }
  }

  private readonly completionsAfterRedelegate: ExecuteActionCommand[] = [];

  private async loop(initialInbox: Array<{ id: string; event: InboxEvent }>): Promise<void> {
    let inbox = initialInbox;
    if (this.redelegate.length > 0) {
      const cmds = this.redelegate.splice(0);
      for (const c of cmds) await this.delegate(c);
      if (this.childrenToStart.length > 0 || this.completions.length > 0) await this.persist([]);
    }
    let graceUntil: number | undefined;
    for (;;) {
      if (this.lost) return;
      const state = this.state!;
      const now = this.svc.now();
      const events: RunEvent[] = [];
      const drained: string[] = [];
      for (const m of inbox) {
        drained.push(m.id);
        events.push(m.event);
      }
      inbox = [];
      events.push(...this.completions.splice(0));
      const due = Object.entries(this.env.timers)
        .filter(([, at]) => Date.parse(at) <= now)
        .sort((a, b) => Date.parse(a[1]) - Date.parse(b[1]) || (a[0] < b[0] ? -1 : 1));
      for (const [id, at] of due) {
        delete this.env.timers[id];
        events.push({ type: 'timerElapsed', at: isoOf(Math.max(now, Date.parse(at))), timerId: id });
      }
      if (events.length > 0) {
        const io: ExecuteActionCommand[] = [];
        for (const ev of events) {
          if (ev.type === 'actionCompleted' && this.env.children[ev.callId]) delete this.env.children[ev.callId];
          const r = step(this.plan, state, ev);
          this.env.state = r.state;
          io.push(...(await this.handle(r.commands)));
        }
        await this.persist(drained);
        if (this.state!.status !== 'Running') return;
        this.launch(io);
        continue;
      }
      if (state.status !== 'Running') return;
      if (this.stopping && this.inflight.size > 0) {
        graceUntil ??= now + this.svc.config.shutdownGraceMs;
        if (now >= graceUntil) {
          await this.giveBack();
          return;
        }
      }
      const next = earliest(this.env.timers);
      if (this.inflight.size === 0) {
        if (next !== undefined && next - now <= this.svc.config.parkAfterMs && !this.stopping) {
          await this.sleep(next);
        } else if (await this.park(next)) {
          return;
        } else {
          inbox = await this.readInbox();
          continue;
        }
      } else {
        await this.sleep(graceUntil !== undefined && (next === undefined || graceUntil < next) ? graceUntil : next);
      }
      if (this.inboxHint) inbox = await this.readInbox();
    }
  }

  // ------------------------------------------------------------------ commands

  private async handle(commands: EngineCommand[]): Promise<ExecuteActionCommand[]> {
    const io: ExecuteActionCommand[] = [];
    for (const cmd of commands) {
      switch (cmd.type) {
        case 'executeAction':
          if (cmd.operation === 'workflow') await this.delegate(cmd);
          else io.push(cmd);
          break;
        case 'cancelAction': {
          const f = this.inflight.get(cmd.callId);
          this.inflight.delete(cmd.callId);
          f?.ctl.abort();
          const child = this.env.children[cmd.callId];
          if (child) {
            this.childrenToCancel.push(child);
            delete this.env.children[cmd.callId];
          }
          break;
        }
        case 'startTimer':
          this.env.timers[cmd.timerId] = cmd.dueAt;
          break;
        case 'cancelTimer':
          delete this.env.timers[cmd.timerId];
          break;
        case 'respond':
          this.response = { action: cmd.action, statusCode: cmd.statusCode, headers: cmd.headers, body: cmd.body };
          if (this.row.parentRunId && !this.env.parentNotified) {
            this.parentNotice = { kind: 'http', statusCode: cmd.statusCode, headers: cmd.headers, body: cmd.body };
            this.env.parentNotified = true;
          }
          break;
        case 'finish':
          break;
      }
    }
    return io;
  }

  /** A Workflow action: the child flow becomes its own queued run (enqueued by the next persist). */
  private async delegate(cmd: ExecuteActionCommand): Promise<void> {
    const id = (cmd.workflowId ?? '').replace(/[{}]/g, '').toLowerCase();
    const depth = this.env.request.depth + 1;
    const fail = (code: string, message: string): void => {
      this.completions.push({
        type: 'actionCompleted',
        at: this.svc.nowIso(),
        callId: cmd.callId,
        result: { kind: 'error', code, message },
      });
    };
    if (depth > MAX_CHILD_DEPTH)
      return fail(
        'CHILD_FLOW_TOO_DEEP',
        `Action '${cmd.action}' would nest child flows deeper than ${MAX_CHILD_DEPTH} levels.`,
      );
    const child = id ? await this.repos.flows.get(this.row.environmentId, id) : undefined;
    if (!child)
      return fail(
        'CHILD_FLOW_NOT_FOUND',
        `Action '${cmd.action}' runs child flow '${cmd.workflowId ?? ''}', which does not exist here.`,
      );
    const headers: Record<string, string> = {};
    const h = cmd.inputs.headers;
    if (h && typeof h === 'object' && !Array.isArray(h))
      for (const [k, v] of Object.entries(h)) headers[k] = typeof v === 'string' ? v : JSON.stringify(v);
    const childRunId = this.svc.platform.ctx.ids.newId();
    this.env.children[cmd.callId] = childRunId;
    this.childrenToStart.push({
      runId: childRunId,
      flow: child,
      trigger: { body: cmd.inputs.body, headers },
      parentCallId: cmd.callId,
    });
  }

  private launch(io: ExecuteActionCommand[]): void {
    for (const cmd of io) {
      const ctl = new AbortController();
      const startedAt = this.svc.now();
      this.inflight.set(cmd.callId, { ctl, startedAt, operation: cmd.operation });
      void executeAction(this.deps, cmd, ctl.signal).then((result) => {
        const f = this.inflight.get(cmd.callId);
        if (!f || f.ctl !== ctl) return;
        this.inflight.delete(cmd.callId);
        this.svc.metrics.actionDuration.observe(
          {
            operation: cmd.operation,
            outcome: result.kind === 'http' ? String(Math.floor(result.statusCode / 100)) + 'xx' : result.kind,
          },
          (this.svc.now() - startedAt) / 1000,
        );
        if (this.lost) return;
        this.completions.push({ type: 'actionCompleted', at: this.svc.nowIso(), callId: cmd.callId, result });
        this.wake();
      });
    }
  }

  // ------------------------------------------------------------------ persistence

  private async sealEnvelope(tx: Repositories): Promise<{ keyId: string; sealed: string }> {
    return this.svc.sealRunData(this.row.environmentId, `run:${this.runId}`, JSON.stringify(this.env), tx);
  }

  /**
   * Writes the state (and everything that follows from the last step) in one transaction. When
   * the run ended: the final history row, phase done, the concurrency slot, the parent's notice.
   * @throws OwnershipLost when another node holds the run now.
   */
  private async persist(drained: string[]): Promise<void> {
    const state = this.state!;
    const finished = state.status !== 'Running';
    if (finished && this.row.parentRunId && !this.env.parentNotified) {
      this.parentNotice =
        state.status === 'Succeeded'
          ? { kind: 'outputs', status: 'Succeeded', outputs: {} }
          : {
              kind: 'error',
              code: 'ChildFlowFailed',
              message: `Child flow '${this.row.flowId}' ended ${state.status} without answering${state.error ? `: ${state.error.code}: ${state.error.message}` : ''}.`,
            };
      this.env.parentNotified = true;
    }
    const children = this.childrenToStart;
    const cancels = this.childrenToCancel;
    const notice = this.parentNotice;
    const response = this.response;
    for (;;) {
      const result = await this.svc.platform.ctx.store.transaction(async (tx) => {
        const { keyId, sealed } = await this.sealEnvelope(tx);
        const responseSealed = response
          ? (await this.svc.sealRunData(this.row.environmentId, `response:${this.runId}`, JSON.stringify(response), tx))
              .sealed
          : undefined;
        const ok = await tx.runStates.save({
          runId: this.runId,
          owner: this.svc.nodeId,
          phase: finished ? 'done' : 'active',
          keyId,
          sealed,
          holdsSlot: finished ? false : this.row.holdsSlot,
          ...(responseSealed !== undefined ? { response: responseSealed } : {}),
          drained: drained.length,
          release: finished,
          updatedOn: this.svc.nowIso(),
        });
        if (!ok) {
          const now = await tx.runStates.get(this.runId);
          if (now?.owner !== this.svc.nodeId) throw new OwnershipLost(this.runId);
          return 'inbox' as const;
        }
        this.row.keyId = keyId;
        this.row.sealed = sealed;
        await tx.runInbox.delete(drained);
        for (const c of children) await this.svc.insertQueuedRun(tx, this.childRun(c));
        for (const childId of cancels)
          await this.svc.postInbox(tx, childId, { type: 'cancelRequested', at: this.svc.nowIso(), reason: 'parent' });
        if (notice && this.row.parentRunId && this.row.parentCallId) {
          await this.svc.postInbox(tx, this.row.parentRunId, {
            type: 'actionCompleted',
            at: this.svc.nowIso(),
            callId: this.row.parentCallId,
            result: notice,
          });
        }
        if (finished) {
          await tx.runs.update(this.finalRun(state));
          if (this.row.holdsSlot && this.row.concurrencyKey) await this.svc.releaseSlot(tx, this.row.concurrencyKey);
        }
        return 'ok' as const;
      });
      if (result === 'ok') break;
      // A finished run cannot be released while inbox events wait: drain them (they change nothing now).
      const more = await this.readInbox();
      drained = [...new Set([...drained, ...more.map((m) => m.id)])];
    }
    this.childrenToStart = [];
    this.childrenToCancel = [];
    this.parentNotice = undefined;
    if (response) {
      this.response = undefined;
      this.svc.responded(this.runId, response);
    }
    this.svc.queue.nudge();
    if (finished) this.finishedHere(state);
  }

  private childRun(c: ChildToStart): QueuedRunSpec {
    return {
      runId: c.runId,
      flow: c.flow,
      request: {
        trigger: c.trigger,
        startedBy: 'child',
        actorId: this.env.request.actorId,
        flowName: c.flow.name,
        seed: randomInt(0, 2 ** 32),
        depth: this.env.request.depth + 1,
        enqueuedAt: this.svc.nowIso(),
      },
      parentRunId: this.runId,
      parentCallId: c.parentCallId,
    };
  }

  private finalRun(state: RunState): Run {
    const record = capHistory(runRecord(state), this.svc.historyValueCap);
    const req = this.env.request;
    const run: Run = {
      id: this.runId,
      environmentId: this.row.environmentId,
      flowId: this.row.flowId,
      flowName: req.flowName,
      status: state.status,
      startedBy: req.startedBy,
      invokerId: req.actorId,
      startTime: record.startTime,
      record,
      ...(record.endTime ? { endTime: record.endTime } : {}),
      ...(record.durationMs !== undefined ? { durationMs: record.durationMs } : {}),
      ...(record.error ? { error: { code: record.error.code, message: record.error.message } } : {}),
      ...(record.response
        ? {
            response: {
              statusCode: record.response.statusCode,
              ...(record.response.headers ? { headers: record.response.headers } : {}),
              body: record.response.body,
            },
          }
        : {}),
      ...(req.resubmittedFrom ? { resubmittedFrom: req.resubmittedFrom } : {}),
    };
    return run;
  }

  private finishedHere(state: RunState): void {
    const m = this.svc.metrics;
    m.runsFinished.inc({ status: state.status });
    if (state.status === 'Succeeded') m.runsSucceeded.inc();
    if (state.status === 'Failed') m.runsFailed.inc();
    const enq = Date.parse(this.env.request.enqueuedAt);
    if (Number.isFinite(enq)) m.queueToFinish.observe(Math.max(0, this.svc.now() - enq) / 1000);
    this.svc.logger.info(
      {
        runId: this.runId,
        flowId: this.row.flowId,
        environmentId: this.row.environmentId,
        status: state.status,
        ...(state.error ? { error: state.error.code } : {}),
        startedHere: this.startedNow,
      },
      'run finished',
    );
    this.svc.finished(this.runId, state.status);
  }

  /** Releases the run with a job at its next timer; false when inbox events arrived meanwhile. */
  private async park(next: number | undefined): Promise<boolean> {
    const state = this.state!;
    const parked = await this.svc.platform.ctx.store.transaction(async (tx) => {
      const { keyId, sealed } = await this.sealEnvelope(tx);
      const ok = await tx.runStates.save({
        runId: this.runId,
        owner: this.svc.nodeId,
        phase: 'active',
        keyId,
        sealed,
        ...(next !== undefined ? { nextDue: isoOf(next) } : {}),
        holdsSlot: this.row.holdsSlot,
        drained: 0,
        release: true,
        updatedOn: this.svc.nowIso(),
      });
      if (!ok) {
        const now = await tx.runStates.get(this.runId);
        if (now?.owner !== this.svc.nodeId) throw new OwnershipLost(this.runId);
        return false;
      }
      // Waiting on timers: a job at the earliest one. Waiting only on child runs: they post to the inbox with a job.
      if (next !== undefined)
        await this.svc.queue.add(tx, { task: 'run', payload: { runId: this.runId }, runAt: isoOf(next) });
      // The history shows the progress of a parked run.
      const progress = this.finalRun(state);
      await tx.runs.update({ ...progress, status: 'Running', startTime: progress.startTime });
      return true;
    });
    if (parked) {
      this.svc.queue.nudge();
      this.svc.logger.debug({ runId: this.runId, nextDue: next !== undefined ? isoOf(next) : null }, 'run parked');
    }
    return parked;
  }

  /** Shutdown with calls still in flight: give the run back now (the calls count as interrupted). */
  private async giveBack(): Promise<void> {
    for (const f of this.inflight.values()) f.ctl.abort();
    this.inflight.clear();
    this.lost = true;
    await this.svc.platform.ctx.store.transaction(async (tx) => {
      if (await tx.runStates.release(this.runId, this.svc.nodeId))
        await this.svc.queue.add(tx, { task: 'run', payload: { runId: this.runId } });
    });
    this.svc.logger.warn({ runId: this.runId }, 'run given back at shutdown with calls in flight');
  }

  /** A run cancelled before it started: Cancelled without running anything. */
  private async cancelBeforeStart(drained: string[]): Promise<void> {
    const req = this.env.request;
    const now = this.svc.nowIso();
    await this.svc.platform.ctx.store.transaction(async (tx) => {
      const ok = await tx.runStates.save({
        runId: this.runId,
        owner: this.svc.nodeId,
        phase: 'done',
        keyId: this.row.keyId,
        sealed: this.row.sealed,
        holdsSlot: false,
        drained: drained.length,
        release: false,
        updatedOn: now,
      });
      if (!ok) throw new OwnershipLost(this.runId);
      await tx.runStates.release(this.runId, this.svc.nodeId);
      await tx.runInbox.delete(drained);
      if (this.row.holdsSlot && this.row.concurrencyKey) await this.svc.releaseSlot(tx, this.row.concurrencyKey);
      else if (this.row.concurrencyKey) await this.svc.wakeWaiting(tx, this.row.concurrencyKey);
      const stored = await tx.runs.get(this.runId);
      await tx.runs.update({
        id: this.runId,
        environmentId: this.row.environmentId,
        flowId: this.row.flowId,
        flowName: req.flowName,
        status: 'Cancelled',
        startedBy: req.startedBy,
        invokerId: req.actorId,
        startTime: stored?.startTime ?? req.enqueuedAt,
        endTime: now,
        error: { code: 'RunCancelled', message: 'The run was cancelled before it started.' },
        record: null,
        ...(req.resubmittedFrom ? { resubmittedFrom: req.resubmittedFrom } : {}),
      });
      if (this.row.parentRunId && this.row.parentCallId) {
        await this.svc.postInbox(tx, this.row.parentRunId, {
          type: 'actionCompleted',
          at: now,
          callId: this.row.parentCallId,
          result: {
            kind: 'error',
            code: 'ChildFlowFailed',
            message: `Child flow '${this.row.flowId}' was cancelled before it started.`,
          },
        });
      }
    });
    this.svc.queue.nudge();
    this.svc.metrics.runsFinished.inc({ status: 'Cancelled' });
    this.svc.logger.info(
      { runId: this.runId, flowId: this.row.flowId, status: 'Cancelled' },
      'run cancelled before it started',
    );
    this.svc.finished(this.runId, 'Cancelled');
  }
}

/** Refuses to cancel a run that already ended. */
export function runAlreadyEnded(runId: string): Error {
  return conflict('RUN_ALREADY_ENDED', `run ${runId} already ended`, { run: runId });
}
