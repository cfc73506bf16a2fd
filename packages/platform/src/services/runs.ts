/**
 * Runs (design §3D/§3G, issue 6 items 4–5): run a flow of an environment in-process, keep its
 * history, list, show, prune, resubmit.
 *
 * History: one `runs` row per run, inserted when the run starts (status Running) and completed
 * when it ends with the engine's redacted history record (secure data already redacted by the
 * engine). Values larger than the history value cap are cut and replaced with a marker
 * `{"$truncated": true, "size": <bytes>, "preview": "<first 1 KiB>"}`.
 */
import { forbidden, notFound, notReady, type Environment, type Flow, type Principal, type Run } from '@patchbay/core';
import { httpPolicyFromEnvironment, type OutboundHttpClient } from '@patchbay/connectors';
import type { RunRecord, TriggerInput } from '@patchbay/engine';
import type { PlatformContext } from '../context.js';
import { effectiveVariableValues } from '../deploy/variables.js';
import {
  runFlow,
  type ChildFlowResolver,
  type ConnectorInvoker,
  type RunFlowResult,
  type RunnerClock,
} from '../runner/index.js';
import type { EnvironmentService } from './environments.js';
import type { FlowService } from './flows.js';

/** Default cap of one stored input/output value, in bytes of JSON (PATCHBAY_HISTORY_VALUE_CAP overrides). */
export const DEFAULT_HISTORY_VALUE_CAP = 128 * 1024;

/**
 * Builds the connector invoker of one run (provided by the connector runtime, platform/src/connectors).
 * `http` is the run's outbound client; `invokerConnections` the connection ids the caller supplied
 * for `invoker` references. The invoker's optional `close` is called when the run ends.
 */
export type ConnectorInvokerFactory = (o: {
  environmentId: string;
  flow: Flow;
  actor: Principal;
  runId: string;
  http?: OutboundHttpClient;
  invokerConnections?: string[];
}) => ConnectorInvoker & { close?(): void | Promise<void> };

/** Gives the outbound HTTP client of a run in an environment (provided by the connector runtime; not closed by the run). */
export type RunHttpClientFactory = (o: { environment: Environment }) => OutboundHttpClient;

/** Options of {@link RunService.run}. */
export interface RunOptions {
  environment: string;
  /** Flow id or display name. */
  flow: string;
  trigger?: TriggerInput;
  /** The principal starting the run (default the local admin). */
  actor?: string;
  /** `manual` (default), `http`, `recurrence`, `resubmit`, … */
  startedBy?: string;
  /** Run even when the flow is not On (tests); default false. */
  ignoreState?: boolean;
  /** Fixed run id (default a new UUID). */
  runId?: string;
  clock?: RunnerClock;
  signal?: AbortSignal;
  /** Called as soon as the flow answers (Response action). */
  onResponse?: Parameters<typeof runFlow>[0]['onResponse'];
  /** Override the connector invoker (tests). */
  connectorInvoker?: ConnectorInvoker;
  /**
   * Connection ids the caller supplies for the flow's `invoker` connection references (their own
   * connections, one per connector); without one, such actions fail with INVOKER_CONNECTION_MISSING.
   */
  invokerConnections?: string[];
  resubmittedFrom?: string;
}

/** Cuts values over `cap` bytes (as JSON) in a history record; returns a new record. */
export function capHistory(record: RunRecord, cap: number): RunRecord {
  const cut = (v: unknown): unknown => {
    if (v === undefined) return v;
    const text = JSON.stringify(v);
    if (text === undefined || Buffer.byteLength(text) <= cap) return v;
    return { $truncated: true, size: Buffer.byteLength(text), preview: text.slice(0, 1024) };
  };
  return {
    ...record,
    trigger: {
      ...record.trigger,
      inputs: cut(record.trigger.inputs),
      outputs: cut(record.trigger.outputs) as RunRecord['trigger']['outputs'],
    },
    actions: record.actions.map((a) => ({
      ...a,
      ...(a.inputs !== undefined ? { inputs: cut(a.inputs) } : {}),
      ...(a.outputs !== undefined ? { outputs: cut(a.outputs) } : {}),
    })),
    ...(record.outputs ? { outputs: cut(record.outputs) as Record<string, unknown> } : {}),
    ...(record.response ? { response: { ...record.response, body: cut(record.response.body) } } : {}),
  };
}

/** Run operations. */
export class RunService {
  /** Set by the connector runtime so connector actions resolve through references. */
  invokerFactory: ConnectorInvokerFactory | undefined;
  /** Set by the connector runtime: the outbound client of runs (else one per run from the environment's policy). */
  httpClientFactory: RunHttpClientFactory | undefined;
  private readonly cap: number;

  constructor(
    private readonly ctx: PlatformContext,
    private readonly environments: EnvironmentService,
    private readonly flows: FlowService,
    env: Record<string, string | undefined> = {},
  ) {
    const c = Number(env['PATCHBAY_HISTORY_VALUE_CAP']);
    this.cap = Number.isFinite(c) && c > 0 ? c : DEFAULT_HISTORY_VALUE_CAP;
  }

  /**
   * Runs a flow of an environment in-process to its end and stores its history.
   * @throws FLOW_NOT_ON (not-ready, exit 3) listing the reasons when the flow is not On.
   */
  async run(o: RunOptions): Promise<{ run: Run; result: RunFlowResult }> {
    const env = await this.environments.get(o.environment);
    const actor = await this.ctx.actor(o.actor);
    const flow = await this.flows.get(env.name, o.flow);
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
    // By the definitions' own spelling: the engine matches a parameter's `metadata.schemaName` exactly.
    const effective = await effectiveVariableValues(this.ctx, env.id);
    const variables: Record<string, string> = {};
    for (const d of await this.ctx.store.repos.environmentVariables.listDefinitions(env.id)) {
      const v = effective.get(d.schemaName.toLowerCase());
      if (v !== undefined) variables[d.schemaName] = v;
    }
    // Child flows are looked up when a Workflow action calls them (and kept for the rest of the run).
    const flowsById = new Map<string, Flow>([[flow.id, flow]]);
    const resolveChildFlow: ChildFlowResolver = async (workflowId) => {
      const id = workflowId.replace(/[{}]/g, '').toLowerCase();
      let child = flowsById.get(id);
      if (!child) {
        child = await this.ctx.store.repos.flows.get(env.id, id);
        if (child) flowsById.set(id, child);
      }
      return child
        ? { flow: child.definition, workflow: { id: child.id, displayName: child.name, environmentName: env.name } }
        : undefined;
    };
    const runId = o.runId ?? this.ctx.ids.newId();
    const http = this.httpClientFactory?.({ environment: env });
    const own = o.connectorInvoker
      ? undefined
      : this.invokerFactory?.({
          environmentId: env.id,
          flow,
          actor,
          runId,
          ...(http ? { http } : {}),
          ...(o.invokerConnections ? { invokerConnections: o.invokerConnections } : {}),
        });
    const invoker = o.connectorInvoker ?? own;
    const repos = this.ctx.store.repos;
    const startTime = this.ctx.nowIso();
    const rootRun: Run = {
      id: runId,
      environmentId: env.id,
      flowId: flow.id,
      flowName: flow.name,
      status: 'Running',
      startedBy: o.startedBy ?? 'manual',
      invokerId: actor.id,
      startTime,
      record: null,
      ...(o.resubmittedFrom ? { resubmittedFrom: o.resubmittedFrom } : {}),
    };
    await repos.runs.insert(rootRun);
    let stored: Run = rootRun;
    const result = await runFlow({
      flow: flow.definition,
      runId,
      workflow: { id: flow.id, displayName: flow.name, environmentName: env.name },
      environmentVariables: variables,
      ...(o.trigger ? { trigger: o.trigger } : {}),
      ...(invoker ? { connectorInvoker: invoker } : {}),
      ...(http ? { httpClient: http } : { httpPolicy: httpPolicyFromEnvironment(env.policy) }),
      resolveChildFlow,
      ...(o.clock ? { clock: o.clock } : {}),
      ...(o.signal ? { signal: o.signal } : {}),
      ...(o.onResponse ? { onResponse: o.onResponse } : {}),
      history: {
        finished: async (record, state) => {
          const capped = capHistory(record, this.cap);
          const isRoot = state.runId === runId;
          const childFlow = isRoot ? flow : flowsById.get(state.workflow.id);
          const run: Run = {
            id: state.runId,
            environmentId: env.id,
            flowId: childFlow?.id ?? state.workflow.id,
            flowName: childFlow?.name ?? state.workflow.id,
            status: state.status,
            startedBy: isRoot ? (o.startedBy ?? 'manual') : 'child',
            invokerId: actor.id,
            startTime: record.startTime,
            ...(record.endTime ? { endTime: record.endTime } : {}),
            ...(record.durationMs !== undefined ? { durationMs: record.durationMs } : {}),
            ...(record.error ? { error: { code: record.error.code, message: record.error.message } } : {}),
            ...(capped.response
              ? {
                  response: {
                    statusCode: capped.response.statusCode,
                    ...(capped.response.headers ? { headers: capped.response.headers } : {}),
                    body: capped.response.body,
                  },
                }
              : {}),
            record: capped,
            ...(isRoot && o.resubmittedFrom ? { resubmittedFrom: o.resubmittedFrom } : {}),
          };
          if (isRoot) {
            await repos.runs.update(run);
            stored = run;
          } else {
            await repos.runs.insert(run);
          }
        },
      },
    }).finally(() => own?.close?.());
    return { run: stored, result };
  }

  /** Runs of an environment, newest first, without their history records. */
  async list(o: { environment: string; flow?: string; status?: string; limit?: number }): Promise<Run[]> {
    const env = await this.environments.get(o.environment);
    const flowId = o.flow ? (await this.flows.get(env.name, o.flow)).id : undefined;
    return this.ctx.store.repos.runs.list({
      environmentId: env.id,
      ...(flowId ? { flowId } : {}),
      ...(o.status ? { status: o.status } : {}),
      ...(o.limit ? { limit: o.limit } : {}),
    });
  }

  /** One run with its history. @throws RUN_NOT_FOUND */
  async get(id: string): Promise<Run> {
    const r = await this.ctx.store.repos.runs.get(id);
    if (!r) throw notFound('RUN_NOT_FOUND', `run ${id} does not exist`, { run: id });
    return r;
  }

  /** Starts a new run of the same flow with the same trigger outputs. */
  async resubmit(o: { id: string; actor?: string }): Promise<{ run: Run; result: RunFlowResult }> {
    const old = await this.get(o.id);
    const env = await this.ctx.store.repos.environments.get(old.environmentId);
    if (!env) throw notFound('ENVIRONMENT_NOT_FOUND', `environment of run ${o.id} no longer exists`, { run: o.id });
    const trig = (old.record as RunRecord | null)?.trigger;
    if (!trig) throw forbidden('RUN_NOT_RESUBMITTABLE', `run ${o.id} has no recorded trigger`, { run: o.id });
    const out = trig.outputs ?? {};
    return this.run({
      environment: env.name,
      flow: old.flowId,
      trigger: {
        ...(out.body !== undefined ? { body: out.body } : {}),
        ...(out.headers ? { headers: out.headers } : {}),
        ...(out.queries ? { queries: out.queries } : {}),
        ...(trig.scheduledTime ? { scheduledTime: trig.scheduledTime } : {}),
      },
      ...(o.actor ? { actor: o.actor } : {}),
      startedBy: 'resubmit',
      resubmittedFrom: old.id,
    });
  }

  /**
   * Deletes runs older than the retention (argument, else the environment's `runRetentionDays`,
   * else 30 days). Returns the number deleted.
   */
  async prune(o: { environment: string; olderThanDays?: number }): Promise<number> {
    const env = await this.environments.get(o.environment);
    const days = o.olderThanDays ?? env.policy.runRetentionDays ?? 30;
    const before = new Date(this.ctx.clock.now() - days * 86_400_000).toISOString();
    return this.ctx.store.repos.runs.prune(env.id, before);
  }
}
