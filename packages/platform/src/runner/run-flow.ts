/**
 * The in-process runner: runs one flow to its end by looping over the engine's commands.
 * It stamps every event with the clock, carries out `executeAction` through the executor
 * (outbound HTTP client, connector invoker, child flows in-process), timers through the clock,
 * and reports every event and step to an optional history sink. The engine (`step`) stays pure;
 * a queue worker can replace this loop by persisting the state between steps.
 */
import { randomInt, randomUUID } from 'node:crypto';
import { createHttpClient, type HttpPolicy, type OutboundHttpClient } from '@patchbay/connectors';
import {
  compileDefinition,
  runRecord,
  startRun,
  step,
  summarizeRun,
  type EngineCommand,
  type RunEvent,
  type RunRecord,
  type RunResponse,
  type RunStartedEvent,
  type RunState,
  type RunStatus,
  type RunSummary,
  type StaticResult,
  type TriggerInput,
  type WorkflowInfo,
  type RunError,
} from '@patchbay/engine';
import { realClock, type RunnerClock, type TimerHandle } from './clock.js';
import { executeAction, type ConnectorInvoker } from './executor.js';

/** A child flow found by workflow id. */
export interface ChildFlow {
  /** The flow file (Power Automate export) or its definition. */
  flow: unknown;
  workflow?: WorkflowInfo;
  parameters?: Record<string, unknown>;
  environmentVariables?: Record<string, unknown>;
}

/** Finds a child flow by workflow id (`host.workflowReferenceName`); undefined when there is none. */
export type ChildFlowResolver = (workflowId: string) => ChildFlow | undefined | Promise<ChildFlow | undefined>;

/** Receives a run's history as it happens. Every callback is awaited in order. */
export interface HistorySink {
  /** Every event, `runStarted` first: the replayable log of the run. */
  event?(runId: string, event: RunEvent): void | Promise<void>;
  /** After every step, with the new state (for durable execution or live views). */
  step?(state: RunState): void | Promise<void>;
  /** Once when the run ended, with its redacted history record. */
  finished?(record: RunRecord, state: RunState): void | Promise<void>;
}

/** Options of {@link runFlow}. */
export interface RunFlowOptions {
  /** Flow file (`{properties: {definition, connectionReferences}}`), `{definition}` or a bare definition. */
  flow: unknown;
  /** What fired the trigger (body, headers, queries; scheduledTime for Recurrence). */
  trigger?: TriggerInput;
  /** Flow id and names for `workflow()`. */
  workflow?: WorkflowInfo;
  /** Definition parameter values by name. */
  parameters?: Record<string, unknown>;
  /** Environment variable values by schema name. */
  environmentVariables?: Record<string, unknown>;
  /** Mocked results by action name or static-result name. */
  staticResults?: Record<string, StaticResult>;
  /** `listCallbackUrl()` value. */
  callbackUrl?: string;
  /** Calls connector actions; without it they fail with CONNECTOR_NOT_AVAILABLE (unless mocked). */
  connectorInvoker?: ConnectorInvoker;
  /** Outbound HTTP client; default: one created for this run with `httpPolicy`, closed at the end. */
  httpClient?: OutboundHttpClient;
  /** Policy of the default client (ignored when `httpClient` is given). */
  httpPolicy?: HttpPolicy;
  /** Finds child flows for Workflow actions. */
  resolveChildFlow?: ChildFlowResolver;
  /** Default `realClock`. */
  clock?: RunnerClock;
  history?: HistorySink;
  /** Called as soon as a Response action answers (before the run ends). */
  onResponse?(response: RunResponse): void;
  /** Aborting cancels the run (status Cancelled). */
  signal?: AbortSignal;
  /** Run id; default a new UUID. */
  runId?: string;
  /** Seed of the run's random source; default random. */
  seed?: number;
  /** Child-flow nesting limit (default 8, the Logic Apps nesting depth). */
  maxChildDepth?: number;
  /** @internal current nesting depth of child flows. */
  depth?: number;
}

/** The outcome of {@link runFlow}. */
export interface RunFlowResult {
  runId: string;
  status: RunStatus;
  error?: RunError;
  response?: RunResponse;
  outputs?: Record<string, unknown>;
  /** Final engine state (unredacted; keep it inside the environment). */
  state: RunState;
  /** The event log: `replay(plan, events)` rebuilds `state`. */
  events: RunEvent[];
  /** Redacted history record. */
  record: RunRecord;
  /** Redacted compact summary (the `--json` shape of `flow test`). */
  summary: RunSummary;
  /** Child flow runs started by Workflow actions (any depth), in the order they ended. */
  children: RunFlowResult[];
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The `connectionReferences` map of a flow file, if any. */
function connectionReferencesOf(flow: unknown): Record<string, unknown> | undefined {
  if (isObject(flow) && isObject(flow.properties) && isObject(flow.properties.connectionReferences))
    return flow.properties.connectionReferences;
  return undefined;
}

/**
 * Runs a flow in-process until it ends and returns its outcome. Throws only for a definition
 * that does not compile (PatchbayError, category invalid); failing actions end in a Failed run.
 */
export async function runFlow(options: RunFlowOptions): Promise<RunFlowResult> {
  const plan = compileDefinition(options.flow);
  const clock = options.clock ?? realClock;
  const ownClient = options.httpClient ? undefined : createHttpClient({ policy: options.httpPolicy ?? {} });
  const http = options.httpClient ?? ownClient!;
  const runId = options.runId ?? randomUUID();
  const workflow = options.workflow ?? { id: 'flow' };
  const depth = options.depth ?? 0;
  const maxDepth = options.maxChildDepth ?? 8;
  const children: RunFlowResult[] = [];
  const childRuns: Array<Promise<unknown>> = [];

  const inbox: RunEvent[] = [];
  let wake: (() => void) | undefined;
  const push = (ev: RunEvent): void => {
    inbox.push(ev);
    const w = wake;
    wake = undefined;
    w?.();
  };
  const inflight = new Map<string, AbortController>();
  const timers = new Map<string, TimerHandle>();
  const events: RunEvent[] = [];
  let response: RunResponse | undefined;

  const runChild: Parameters<typeof executeAction>[0]['runChild'] = async (call) => {
    if (depth + 1 > maxDepth) return { tooDeep: maxDepth };
    const child = options.resolveChildFlow ? await options.resolveChildFlow(call.workflowId) : undefined;
    if (!child) return { notFound: true };
    return new Promise((resolve) => {
      let answered = false;
      const run = runFlow({
        ...options,
        flow: child.flow,
        trigger: { body: call.body, headers: call.headers },
        workflow: child.workflow ?? { id: call.workflowId },
        parameters: child.parameters,
        environmentVariables: child.environmentVariables ?? options.environmentVariables,
        staticResults: options.staticResults,
        httpClient: http,
        runId: undefined,
        seed: undefined,
        signal: call.signal,
        depth: depth + 1,
        onResponse: (r) => {
          if (!answered) {
            answered = true;
            resolve({ response: r, status: 'Running' });
          }
        },
      }).then((result) => {
        children.push(result, ...result.children);
        if (!answered) {
          answered = true;
          resolve({
            status: result.status,
            ...(result.response ? { response: result.response } : {}),
            ...(result.error ? { error: result.error } : {}),
          });
        }
        return result;
      });
      childRuns.push(run.catch(() => undefined));
    });
  };
  const deps = {
    runId,
    workflowId: workflow.id,
    http,
    ...(options.connectorInvoker ? { invoker: options.connectorInvoker } : {}),
    connectionReferences: connectionReferencesOf(options.flow),
    runChild,
  };

  const handle = (commands: EngineCommand[]): void => {
    for (const cmd of commands) {
      switch (cmd.type) {
        case 'executeAction': {
          const ctl = new AbortController();
          inflight.set(cmd.callId, ctl);
          void executeAction(deps, cmd, ctl.signal).then((result) => {
            if (inflight.get(cmd.callId) !== ctl) return;
            inflight.delete(cmd.callId);
            push({ type: 'actionCompleted', at: iso(clock.now()), callId: cmd.callId, result });
          });
          break;
        }
        case 'cancelAction': {
          const ctl = inflight.get(cmd.callId);
          inflight.delete(cmd.callId);
          ctl?.abort();
          break;
        }
        case 'startTimer':
          timers.set(
            cmd.timerId,
            clock.setTimer(Date.parse(cmd.dueAt), () => {
              if (!timers.delete(cmd.timerId)) return;
              push({
                type: 'timerElapsed',
                at: iso(Math.max(clock.now(), Date.parse(cmd.dueAt))),
                timerId: cmd.timerId,
              });
            }),
          );
          break;
        case 'cancelTimer':
          timers.get(cmd.timerId)?.cancel();
          timers.delete(cmd.timerId);
          break;
        case 'respond':
          response = { action: cmd.action, statusCode: cmd.statusCode, headers: cmd.headers, body: cmd.body };
          options.onResponse?.(response);
          break;
        case 'finish':
          break;
      }
    }
  };

  const onAbort = (): void => push({ type: 'cancelRequested', at: iso(clock.now()), reason: 'aborted' });
  const start: RunStartedEvent = {
    type: 'runStarted',
    at: iso(clock.now()),
    runId,
    seed: options.seed ?? randomInt(0, 2 ** 32),
    trigger: options.trigger ?? {},
    workflow,
    ...(options.parameters ? { parameters: options.parameters } : {}),
    ...(options.environmentVariables ? { environmentVariables: options.environmentVariables } : {}),
    ...(options.staticResults ? { staticResults: options.staticResults } : {}),
    ...(options.callbackUrl !== undefined ? { callbackUrl: options.callbackUrl } : {}),
  };
  const sink = options.history;
  let state: RunState;
  try {
    events.push(start);
    await sink?.event?.(runId, start);
    let r = startRun(plan, start);
    state = r.state;
    handle(r.commands);
    await sink?.step?.(state);
    if (options.signal?.aborted) onAbort();
    else options.signal?.addEventListener('abort', onAbort, { once: true });
    while (state.status === 'Running') {
      if (inbox.length === 0) {
        if (clock.advance && inflight.size === 0 && clock.advance()) continue;
        await new Promise<void>((resolve) => {
          wake = resolve;
          if (inbox.length > 0) {
            wake = undefined;
            resolve();
          }
        });
        continue;
      }
      const ev = inbox.shift()!;
      events.push(ev);
      await sink?.event?.(runId, ev);
      r = step(plan, state, ev);
      state = r.state;
      handle(r.commands);
      await sink?.step?.(state);
    }
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    for (const ctl of inflight.values()) ctl.abort();
    for (const t of timers.values()) t.cancel();
  }
  await Promise.all(childRuns);
  if (ownClient) await ownClient.close();
  const record = runRecord(state);
  await sink?.finished?.(record, state);
  const result: RunFlowResult = {
    runId,
    status: state.status,
    state,
    events,
    record,
    summary: summarizeRun(state, record),
    children,
  };
  if (state.error) result.error = state.error;
  if (response) result.response = response;
  if (state.outputs) result.outputs = state.outputs;
  return result;
}
