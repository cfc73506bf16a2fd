/**
 * HTTP-triggered flows (design §3D, issue 8 item 6): a flow with a Request trigger gets a signed,
 * revocable callback URL (`listCallbackUrl()`); a request on it starts a run and, when the flow
 * has a Response action, is answered with it; otherwise `202 Accepted` with the run id.
 *
 * Built for throughput (the hot path does no database read):
 * - the URL carries a key id and `sig` = base64url(HMAC-SHA256(signing key, key id)); signing keys
 *   live encrypted in the secret vault, and the expected signature of each key is cached in
 *   memory after the first use (re-checked for revocation in the background every
 *   {@link KEY_RECHECK_MS});
 * - the flow, its owner, its environment's variables and child flows are cached per flow and
 *   dropped on every audited change (`PlatformContext.onChange`, once when recorded and once after
 *   commit) and after {@link FLOW_CACHE_MS} (other processes' changes); the cached definition
 *   object stays the same, so the engine's compiled plan (cached per definition object) is reused;
 * - one outbound HTTP client per environment is shared by all runs;
 * - run history is written by the group-commit {@link RunBatcher}: a request is answered only
 *   after the transaction holding its run committed.
 */
import { createHmac, randomBytes, randomInt, randomUUID, timingSafeEqual } from 'node:crypto';
import { createHttpClient, httpPolicyFromEnvironment, type OutboundHttpClient } from '@patchbay/connectors';
import {
  conflict,
  invalid,
  notReady,
  type CallbackKeyRecord,
  type Environment,
  type Flow,
  type Principal,
  type Run,
} from '@patchbay/core';
import {
  compileDefinition,
  runRecord,
  startRun,
  type RunRecord,
  type RunResponse,
  type RunState,
} from '@patchbay/engine';
import type { PlatformContext } from '../context.js';
import { effectiveVariableValues } from '../deploy/variables.js';
import { runFlow, type ChildFlowResolver } from '../runner/index.js';
import { unauthenticated } from './auth.js';
import type { EnvironmentService } from './environments.js';
import type { FlowService } from './flows.js';
import { RunBatcher } from './run-batcher.js';
import { capHistory, type RunService } from './runs.js';

/** How long a cached flow is trusted when nothing changed in this process (ms). */
export const FLOW_CACHE_MS = 2000;
/** How often a cached signing key is re-checked for revocation by another process (ms). */
export const KEY_RECHECK_MS = 10_000;

/** A callback URL of a Request trigger. */
export interface CallbackUrl {
  /** The URL to call (holds the signature: treat it as a secret). */
  url: string;
  keyId: string;
  trigger: string;
  /** The trigger's `inputs.method`, when it restricts the method. */
  method?: string;
}

/** An incoming request on a callback URL. */
export interface TriggerRequest {
  keyId: string;
  sig: string | undefined;
  method: string;
  body?: unknown;
  headers?: Record<string, string>;
  queries?: Record<string, string>;
}

/**
 * A run of a Request trigger handed to the durable queue (issue 9): set `HttpTriggerService.queue`
 * (servers with queued execution do) and runs of flows that do I/O are queued instead of run in
 * this process; flows of built-in actions only keep the in-process fast path.
 */
export interface QueuedTriggerRun {
  environment: string;
  flowId: string;
  /** The flow owner's name (the run acts as the owner, as in-process runs do). */
  actor: string;
  trigger: { body?: unknown; headers?: Record<string, string>; queries?: Record<string, string>; method: string };
  callbackUrl: string;
  hasResponse: boolean;
}

/** The answer to a callback request. */
export interface TriggerAnswer {
  statusCode: number;
  headers: Record<string, string>;
  body: unknown;
  runId: string;
}

interface KeyEntry {
  record: CallbackKeyRecord;
  sig: Buffer;
  sigText: string;
  checkedAt: number;
}

interface FlowEntry {
  generation: number;
  loadedAt: number;
  env: Environment;
  flow: Flow;
  owner: Principal;
  variables: Record<string, string>;
  childFlows: Map<string, Flow>;
  trigger: string;
  method: string | undefined;
  hasResponse: boolean;
  /** False when every action is built in (no HTTP, connector, child flow or timer): the run ends within one engine step. */
  hasIO: boolean;
  /** The flow or its child flows use connection references: runs need the connector invoker. */
  usesConnectors: boolean;
  http: OutboundHttpClient;
  workflow: { id: string; displayName: string; environmentName: string };
  resolveChildFlow: ChildFlowResolver;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `definition` of a flow file (`{properties: {definition}}`, `{definition}` or a bare definition). */
function definitionOf(flowFile: unknown): Record<string, unknown> {
  if (isObject(flowFile) && isObject(flowFile.properties) && isObject(flowFile.properties.definition))
    return flowFile.properties.definition;
  if (isObject(flowFile) && isObject(flowFile.definition)) return flowFile.definition;
  return isObject(flowFile) ? flowFile : {};
}

/** The Request trigger of a flow (by name, or the first one). @throws FLOW_NO_REQUEST_TRIGGER (conflict) */
export function requestTriggerOf(flow: Flow, name?: string): { name: string; method: string | undefined } {
  const triggers = definitionOf(flow.definition).triggers;
  const entries = isObject(triggers) ? Object.entries(triggers) : [];
  for (const [n, t] of entries) {
    if (!isObject(t) || String(t.type).toLowerCase() !== 'request') continue;
    if (name && n.toLowerCase() !== name.toLowerCase()) continue;
    const inputs = isObject(t.inputs) ? t.inputs : {};
    const method = typeof inputs.method === 'string' && inputs.method ? inputs.method.toUpperCase() : undefined;
    return { name: n, method };
  }
  throw conflict(
    'FLOW_NO_REQUEST_TRIGGER',
    `flow ${flow.name} has no Request trigger${name ? ` named ${name}` : ''}: only Request triggers have a callback URL`,
    {
      flow: flow.name,
      ...(name ? { trigger: name } : {}),
      triggers: entries.map(([n, t]) => ({ name: n, type: isObject(t) ? t.type : undefined })),
    },
  );
}

function hasResponseAction(actions: unknown): boolean {
  if (!isObject(actions)) return false;
  for (const a of Object.values(actions)) {
    if (!isObject(a)) continue;
    if (String(a.type).toLowerCase() === 'response') return true;
    if (hasResponseAction(a.actions)) return true;
    if (isObject(a.else) && hasResponseAction(a.else.actions)) return true;
    if (isObject(a.default) && hasResponseAction(a.default.actions)) return true;
    if (isObject(a.cases))
      for (const c of Object.values(a.cases)) if (isObject(c) && hasResponseAction(c.actions)) return true;
  }
  return false;
}

/** Action types the engine runs inside a step, without a command to the runner (docs/engine.md §1). */
const BUILT_IN = new Set(
  [
    'Compose',
    'InitializeVariable',
    'SetVariable',
    'IncrementVariable',
    'DecrementVariable',
    'AppendToArrayVariable',
    'AppendToStringVariable',
    'If',
    'Switch',
    'Foreach',
    'Until',
    'Scope',
    'Terminate',
    'Response',
    'Query',
    'Select',
    'Join',
    'Table',
    'ParseJson',
  ].map((t) => t.toLowerCase()),
);

/** True when some action (at any depth) is not built in: HTTP, connector, child flow, Wait, or a type Patchbay does not know. */
function hasIOAction(actions: unknown): boolean {
  if (!isObject(actions)) return false;
  for (const a of Object.values(actions)) {
    if (!isObject(a)) continue;
    if (!BUILT_IN.has(String(a.type).toLowerCase())) return true;
    if (isObject(a.runtimeConfiguration) && isObject(a.runtimeConfiguration.staticResult)) return true;
    if (hasIOAction(a.actions)) return true;
    if (isObject(a.else) && hasIOAction(a.else.actions)) return true;
    if (isObject(a.default) && hasIOAction(a.default.actions)) return true;
    if (isObject(a.cases))
      for (const c of Object.values(a.cases)) if (isObject(c) && hasIOAction(c.actions)) return true;
  }
  return false;
}

const SIGNING_KEY = 'signingKey';
const keyOwner = (id: string): string => `callback:${id}`;

/** Callback URLs and the runs they start. */
export class HttpTriggerService {
  /** Public base URL of the API (the server sets it when it listens), e.g. `http://127.0.0.1:8080`. */
  baseUrl = 'http://127.0.0.1:8080';
  readonly batcher: RunBatcher;
  /** Runs started here that are still running, by run id (cancel). */
  readonly active = new Map<string, AbortController>();
  /** Queues runs of flows that do I/O durably (see {@link QueuedTriggerRun}); unset: they run in this process. */
  queue: ((run: QueuedTriggerRun) => Promise<TriggerAnswer>) | undefined;
  private readonly keys = new Map<string, KeyEntry>();
  private readonly flowCache = new Map<string, FlowEntry>();
  private readonly loading = new Map<string, Promise<FlowEntry>>();
  private readonly clients = new Map<string, { client: OutboundHttpClient; policy: string }>();
  private readonly pending = new Set<Promise<unknown>>();
  private readonly cap: number;

  constructor(
    private readonly ctx: PlatformContext,
    private readonly environments: EnvironmentService,
    private readonly flows: FlowService,
    private readonly runs: RunService,
    env: Record<string, string | undefined> = {},
  ) {
    this.batcher = new RunBatcher(ctx.store);
    const c = Number(env['PATCHBAY_HISTORY_VALUE_CAP']);
    this.cap = Number.isFinite(c) && c > 0 ? c : 128 * 1024;
  }

  /**
   * The callback URL of a flow's Request trigger; creates its signing key on first use.
   * @throws FLOW_NOT_FOUND, FLOW_NO_REQUEST_TRIGGER.
   */
  async listCallbackUrl(o: {
    environment: string;
    flow: string;
    trigger?: string;
    actor?: string;
  }): Promise<CallbackUrl> {
    const env = await this.environments.get(o.environment);
    const flow = await this.flows.get(env.name, o.flow);
    const trig = requestTriggerOf(flow, o.trigger);
    const active = await this.ctx.store.repos.callbackKeys.list({
      environmentId: env.id,
      flowId: flow.id,
      activeOnly: true,
    });
    let record = active.find((k) => k.triggerName.toLowerCase() === trig.name.toLowerCase());
    if (!record) {
      record = await this.ctx.store.transaction(async (tx) => {
        const actor = await this.ctx.actor(o.actor, tx);
        const k: CallbackKeyRecord = {
          id: randomBytes(12).toString('hex'),
          environmentId: env.id,
          flowId: flow.id,
          triggerName: trig.name,
          createdOn: this.ctx.nowIso(),
        };
        await tx.callbackKeys.insert(k);
        await this.ctx.vault.put(tx, {
          environmentId: env.id,
          ownerId: keyOwner(k.id),
          name: SIGNING_KEY,
          value: randomBytes(32).toString('base64'),
        });
        await this.ctx.audit(tx, {
          actor,
          environmentId: env.id,
          action: 'flow.callbackUrl.create',
          target: { type: 'flow', id: flow.id, name: flow.name },
          after: { trigger: trig.name, keyId: k.id },
        });
        return k;
      });
    }
    const entry = await this.loadKey(record.id);
    if (!entry)
      throw notReady('CALLBACK_KEY_UNAVAILABLE', `the signing key of ${flow.name}'s callback URL cannot be read`, {
        flow: flow.name,
      });
    return {
      url: this.urlOf(entry),
      keyId: record.id,
      trigger: trig.name,
      ...(trig.method ? { method: trig.method } : {}),
    };
  }

  /** Revokes every callback URL of a flow (or of one trigger): they answer 401 from now on. Returns the revoked key ids. */
  async revokeCallbackUrls(o: {
    environment: string;
    flow: string;
    trigger?: string;
    actor?: string;
  }): Promise<string[]> {
    const env = await this.environments.get(o.environment);
    const flow = await this.flows.get(env.name, o.flow);
    return this.ctx.store.transaction(async (tx) => {
      const actor = await this.ctx.actor(o.actor, tx);
      const keys = (await tx.callbackKeys.list({ environmentId: env.id, flowId: flow.id, activeOnly: true })).filter(
        (k) => !o.trigger || k.triggerName.toLowerCase() === o.trigger.toLowerCase(),
      );
      const at = this.ctx.nowIso();
      for (const k of keys) {
        await tx.callbackKeys.revoke(k.id, at);
        await tx.secrets.deleteByOwner(keyOwner(k.id));
        this.keys.delete(k.id);
      }
      await this.ctx.audit(tx, {
        actor,
        environmentId: env.id,
        action: 'flow.callbackUrl.revoke',
        target: { type: 'flow', id: flow.id, name: flow.name },
        details: { keyIds: keys.map((k) => k.id) },
      });
      return keys.map((k) => k.id);
    });
  }

  /**
   * Handles a request on a callback URL: checks the signature, starts a run of the flow and
   * answers with its Response (or 202 with the run id), after its history committed.
   * @throws CALLBACK_SIGNATURE_INVALID (401), FLOW_NOT_ON (409), TRIGGER_METHOD_NOT_ALLOWED (400).
   */
  async invoke(req: TriggerRequest): Promise<TriggerAnswer> {
    const key = this.keys.get(req.keyId) ?? (await this.loadKey(req.keyId));
    if (
      !key ||
      req.sig === undefined ||
      req.sig.length !== key.sigText.length ||
      !timingSafeEqual(Buffer.from(req.sig), key.sig)
    ) {
      throw unauthenticated(
        'CALLBACK_SIGNATURE_INVALID',
        'the callback URL is not valid: unknown or revoked key, or wrong signature',
        { keyId: req.keyId },
      );
    }
    const now = this.ctx.clock.now();
    if (now - key.checkedAt > KEY_RECHECK_MS) this.recheckKey(key, now);
    const entry = await this.flowEntry(key.record, now);
    const { flow } = entry;
    if (flow.state !== 'On') {
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
    if (entry.method && entry.method !== req.method.toUpperCase()) {
      throw invalid(
        'TRIGGER_METHOD_NOT_ALLOWED',
        `trigger ${entry.trigger} of flow ${flow.name} accepts ${entry.method} requests only (got ${req.method})`,
        {
          flow: flow.name,
          trigger: entry.trigger,
          method: entry.method,
        },
      );
    }
    return this.start(entry, key, req);
  }

  /** Cancels a run started here; false when it is not running in this process. */
  cancel(runId: string): boolean {
    const ctl = this.active.get(runId);
    if (!ctl) return false;
    ctl.abort();
    return true;
  }

  /** Waits for running runs and pending history writes, then closes the outbound clients. */
  async close(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
    await this.batcher.drain();
    for (const { client } of this.clients.values()) await client.close();
    this.clients.clear();
  }

  private urlOf(k: KeyEntry): string {
    return `${this.baseUrl.replace(/\/+$/, '')}/api/v1/hooks/${k.record.id}/invoke?sig=${k.sigText}`;
  }

  private async loadKey(id: string): Promise<KeyEntry | undefined> {
    if (!/^[0-9a-f]{24}$/.test(id)) return undefined;
    const record = await this.ctx.store.repos.callbackKeys.get(id);
    if (!record || record.revokedOn) return undefined;
    const material = await this.ctx.vault.get(keyOwner(id), SIGNING_KEY);
    if (!material) return undefined;
    const sigText = createHmac('sha256', Buffer.from(material, 'base64')).update(`v1:${id}`).digest('base64url');
    const entry: KeyEntry = { record, sig: Buffer.from(sigText), sigText, checkedAt: this.ctx.clock.now() };
    this.keys.set(id, entry);
    return entry;
  }

  private recheckKey(key: KeyEntry, now: number): void {
    key.checkedAt = now;
    void this.ctx.store.repos.callbackKeys
      .get(key.record.id)
      .then((r) => {
        if (!r || r.revokedOn) this.keys.delete(key.record.id);
      })
      .catch(() => undefined);
  }

  private async flowEntry(key: CallbackKeyRecord, now: number): Promise<FlowEntry> {
    const cacheKey = `${key.environmentId}/${key.flowId}`;
    const hit = this.flowCache.get(cacheKey);
    if (hit && hit.generation === this.ctx.generation) {
      if (now - hit.loadedAt > FLOW_CACHE_MS && !this.loading.has(cacheKey)) {
        // Stale by age only (another process may have changed it): refresh in the background.
        hit.loadedAt = now;
        const p = this.loadFlow(key).finally(() => this.loading.delete(cacheKey));
        this.loading.set(cacheKey, p);
        p.catch(() => this.flowCache.delete(cacheKey));
      }
      return hit;
    }
    let p = this.loading.get(cacheKey);
    if (!p) {
      p = this.loadFlow(key).finally(() => this.loading.delete(cacheKey));
      this.loading.set(cacheKey, p);
    }
    return p;
  }

  private async loadFlow(key: CallbackKeyRecord): Promise<FlowEntry> {
    const generation = this.ctx.generation;
    const repos = this.ctx.store.repos;
    const env = await repos.environments.get(key.environmentId);
    const flow = env ? await repos.flows.get(env.id, key.flowId) : undefined;
    if (!env || !flow)
      throw unauthenticated('CALLBACK_SIGNATURE_INVALID', 'the callback URL is not valid: its flow no longer exists', {
        keyId: key.id,
      });
    const owner = await repos.principals.get(flow.ownerId);
    if (!owner)
      throw notReady('FLOW_OWNER_MISSING', `the owner of flow ${flow.name} no longer exists`, { flow: flow.name });
    // The engine matches parameters' `metadata.schemaName` exactly: key values by the definitions' own spelling.
    const effective = await effectiveVariableValues(this.ctx, env.id);
    const variables: Record<string, string> = {};
    for (const d of await repos.environmentVariables.listDefinitions(env.id)) {
      const v = effective.get(d.schemaName.toLowerCase());
      if (v !== undefined) variables[d.schemaName] = v;
    }
    const childFlows = new Map<string, Flow>();
    for (const id of flow.childFlowIds) {
      const c = await repos.flows.get(env.id, id);
      if (c) childFlows.set(c.id, c);
    }
    const trig = requestTriggerOf(flow, key.triggerName);
    const previous = this.flowCache.get(`${env.id}/${flow.id}`);
    // Keep the same definition object while the definition is unchanged: the engine's compiled
    // plan is cached per definition object.
    if (
      previous &&
      previous.flow.modifiedOn === flow.modifiedOn &&
      JSON.stringify(previous.flow.definition) === JSON.stringify(flow.definition)
    ) {
      flow.definition = previous.flow.definition;
    }
    const entry: FlowEntry = {
      generation,
      loadedAt: this.ctx.clock.now(),
      env,
      flow,
      owner,
      variables,
      childFlows,
      trigger: trig.name,
      method: trig.method,
      hasResponse: hasResponseAction(definitionOf(flow.definition).actions),
      hasIO: hasIOAction(definitionOf(flow.definition).actions),
      usesConnectors:
        flow.connections.length > 0 ||
        [...childFlows.values()].some((c) => c.connections.length > 0 || c.childFlowIds.length > 0),
      http: this.httpClient(env),
      workflow: { id: flow.id, displayName: flow.name, environmentName: env.name },
      resolveChildFlow: async (workflowId) => {
        const id = workflowId.replace(/[{}]/g, '').toLowerCase();
        const child = childFlows.get(id) ?? (await repos.flows.get(env.id, id));
        return child
          ? { flow: child.definition, workflow: { id: child.id, displayName: child.name, environmentName: env.name } }
          : undefined;
      },
    };
    this.flowCache.set(`${env.id}/${flow.id}`, entry);
    return entry;
  }

  private httpClient(env: Environment): OutboundHttpClient {
    const shared = this.runs.httpClientFactory?.({ environment: env });
    if (shared) return shared;
    const policy = JSON.stringify(env.policy);
    const have = this.clients.get(env.id);
    if (have && have.policy === policy) return have.client;
    if (have) void have.client.close();
    const client = createHttpClient({ policy: httpPolicyFromEnvironment(env.policy) });
    this.clients.set(env.id, { client, policy });
    return client;
  }

  private runRow(entry: FlowEntry, record: RunRecord, state: RunState, rootId: string): Run {
    const text = JSON.stringify(record);
    // No value can exceed the cap when the whole record is smaller (UTF-8 ≤ 3 bytes per UTF-16 unit).
    const capped = text.length * 3 <= this.cap ? record : capHistory(record, this.cap);
    const isRoot = state.runId === rootId;
    const child = isRoot ? entry.flow : entry.childFlows.get(state.workflow.id);
    return {
      id: state.runId,
      environmentId: entry.env.id,
      flowId: child?.id ?? state.workflow.id,
      flowName: child?.name ?? state.workflow.id,
      status: state.status,
      startedBy: isRoot ? 'http' : 'child',
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
    };
  }

  /**
   * A run of a flow whose actions are all built in ends within its first engine step: it is run
   * with `startRun` directly (the engine is pure, so nothing happened if it did not end — then the
   * run goes through the runner like any other). Returns undefined in that case.
   */
  private async startBuiltIn(entry: FlowEntry, key: KeyEntry, req: TriggerRequest): Promise<TriggerAnswer | undefined> {
    const runId = randomUUID();
    const at = new Date(this.ctx.clock.now()).toISOString();
    const trigger: {
      body?: unknown;
      headers?: Record<string, string>;
      queries?: Record<string, string>;
      method: string;
    } = { method: req.method };
    if (req.body !== undefined) trigger.body = req.body;
    if (req.headers) trigger.headers = req.headers;
    if (req.queries) trigger.queries = req.queries;
    const { state, commands } = startRun(compileDefinition(entry.flow.definition), {
      type: 'runStarted',
      at,
      runId,
      seed: randomInt(0, 2 ** 32),
      trigger,
      workflow: entry.workflow,
      environmentVariables: entry.variables,
      callbackUrl: this.urlOf(key),
    });
    if (state.status === 'Running') {
      entry.hasIO = true;
      return undefined;
    }
    let response: RunResponse | undefined;
    for (const c of commands)
      if (c.type === 'respond')
        response = { action: c.action, statusCode: c.statusCode, headers: c.headers, body: c.body };
    await this.batcher.insert(this.runRow(entry, runRecord(state), state, runId));
    const headers: Record<string, string> = response
      ? { ...response.headers, 'x-ms-workflow-run-id': runId }
      : { 'x-ms-workflow-run-id': runId };
    if (response) return { statusCode: response.statusCode, headers, body: response.body, runId };
    return { statusCode: 202, headers, body: { runId, status: state.status }, runId };
  }

  private async start(entry: FlowEntry, key: KeyEntry, req: TriggerRequest): Promise<TriggerAnswer> {
    if (!entry.hasIO) {
      const answer = await this.startBuiltIn(entry, key, req);
      if (answer) return answer;
    }
    if (this.queue) {
      return this.queue({
        environment: entry.env.name,
        flowId: entry.flow.id,
        actor: entry.owner.name,
        trigger: {
          ...(req.body !== undefined ? { body: req.body } : {}),
          ...(req.headers ? { headers: req.headers } : {}),
          ...(req.queries ? { queries: req.queries } : {}),
          method: req.method,
        },
        callbackUrl: this.urlOf(key),
        hasResponse: entry.hasResponse,
      });
    }
    const runId = randomUUID();
    const ctl = new AbortController();
    this.active.set(runId, ctl);
    let response: RunResponse | undefined;
    let onResponded: (() => void) | undefined;
    const rows: Run[] = [];
    let ended = false;
    const http = entry.http;
    const invoker = entry.usesConnectors
      ? this.runs.invokerFactory?.({ environmentId: entry.env.id, flow: entry.flow, actor: entry.owner, runId, http })
      : undefined;
    const done = runFlow({
      flow: entry.flow.definition,
      runId,
      workflow: entry.workflow,
      environmentVariables: entry.variables,
      trigger: {
        ...(req.body !== undefined ? { body: req.body } : {}),
        ...(req.headers ? { headers: req.headers } : {}),
        ...(req.queries ? { queries: req.queries } : {}),
        method: req.method,
      },
      ...(invoker ? { connectorInvoker: invoker } : {}),
      httpClient: http,
      resolveChildFlow: entry.resolveChildFlow,
      callbackUrl: this.urlOf(key),
      signal: ctl.signal,
      onResponse: (r) => {
        response = r;
        onResponded?.();
      },
      history: {
        finished: (record, state) => {
          rows.push(this.runRow(entry, record, state, runId));
        },
      },
    }).finally(() => {
      ended = true;
      this.active.delete(runId);
      if (invoker?.close) void Promise.resolve(invoker.close()).catch(() => undefined);
    });
    // A run of built-in actions only ends within the microtasks of this turn; one that waits on
    // I/O (connector, HTTP, timers) is still running at the next turn of the event loop.
    await Promise.race([done, new Promise<void>((r) => setImmediate(r))]);
    if (!ended && !response && entry.hasResponse) {
      await Promise.race([done, new Promise<void>((r) => (onResponded = r))]);
    }
    if (ended) {
      await done;
      await (rows.length === 1 ? this.batcher.insert(rows[0]!) : Promise.all(rows.map((r) => this.batcher.insert(r))));
    } else {
      // Answer before the run ends: persist it as Running first, complete its row when it ends.
      const running: Run = {
        id: runId,
        environmentId: entry.env.id,
        flowId: entry.flow.id,
        flowName: entry.flow.name,
        status: 'Running',
        startedBy: 'http',
        startTime: new Date(this.ctx.clock.now()).toISOString(),
        record: null,
      };
      await this.batcher.insert(running);
      const finish = done
        .then(async () => {
          for (const r of rows) await (r.id === runId ? this.batcher.update(r) : this.batcher.insert(r));
        })
        .catch(() => undefined)
        .finally(() => this.pending.delete(finish));
      this.pending.add(finish);
    }
    const headers: Record<string, string> = { ...(response?.headers ?? {}), 'x-ms-workflow-run-id': runId };
    if (response) return { statusCode: response.statusCode, headers, body: response.body, runId };
    return {
      statusCode: 202,
      headers,
      body: { runId, status: ended ? (rows.find((r) => r.id === runId)?.status ?? 'Succeeded') : 'Running' },
      runId,
    };
  }
}
