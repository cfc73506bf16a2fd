/**
 * The connector invoker of one run (issue 7 item 1): for every connector action,
 *
 *   `host.connectionName` → the flow's connection map → reference → the environment's binding
 *   (or, for `invoker` references, the caller's own connection supplied with the run)
 *   → the connection → its connector → the operation,
 *
 * resolved again at every call (services/resolution.ts), so re-binding a reference changes what
 * the very next action calls — including the next iteration of a running Foreach — with no change
 * to any flow. Then: the environment's blocked connectors, the connection's secrets (decrypted once
 * per run, audited), its OAuth token (kept fresh by the TokenManager), and the call itself through
 * the run's outbound client (@patchbay/connectors `callConnector`).
 *
 * Every failure becomes an action error `{code, message}` whose message names the reference and
 * the connection, with every secret value of the run redacted; resolution failures keep their
 * codes (REFERENCE_UNBOUND, CONNECTION_NOT_SHARED_WITH_OWNER, CONNECTION_OWNER_DISABLED,
 * CONNECTION_NOT_USABLE, INVOKER_CONNECTION_MISSING, …). Connect failures and timeouts are
 * retryable; the engine applies the action's retry policy.
 */
import { isPatchbayError, notReady, type Connector, type Environment, type Flow, type Principal } from '@patchbay/core';
import {
  callConnector,
  connectionAuthScheme,
  connectorBlockedError,
  httpPolicyFromEnvironment,
  isConnectorBlocked,
  isRetryableHttpError,
  type ConnectionValues,
  type OutboundHttpClient,
} from '@patchbay/connectors';
import type { ActionResult } from '@patchbay/engine';
import type { PlatformContext } from '../context.js';
import type { ConnectorCall, ConnectorInvoker } from '../runner/index.js';
import { resolveConnection, type ResolvedConnection } from '../services/resolution.js';
import { redactSecrets, RunSecrets } from './secrets.js';
import type { TokenManager } from './tokens.js';

/** What one run's invoker needs. */
export interface RunInvokerOptions {
  ctx: PlatformContext;
  tokens: TokenManager;
  environmentId: string;
  /** The flow the run started (child flows are looked up by workflow id). */
  flow: Flow;
  /** The principal running the flow (the invoker of `invoker` references). */
  actor: Principal;
  runId: string;
  /** The run's outbound client (connector calls and token requests go through it). */
  http: OutboundHttpClient;
  /** Connection ids the caller supplies for `invoker` references (one per connector). */
  invokerConnections?: string[];
}

/** A connector invoker that also drops the run's decrypted secrets when closed. */
export interface RunConnectorInvoker extends ConnectorInvoker {
  close(): void;
}

const RETRYABLE = new Set(['SQL_CONNECTION_FAILED']);

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Creates the invoker of one run. */
export function createRunInvoker(o: RunInvokerOptions): RunConnectorInvoker {
  const { ctx } = o;
  const secrets = new RunSecrets(ctx, o.actor);
  const flows = new Map<string, Promise<Flow | undefined>>([[o.flow.id, Promise.resolve(o.flow)]]);
  let environment: Promise<Environment | undefined> | undefined;
  const env = (): Promise<Environment | undefined> =>
    (environment ??= ctx.store.repos.environments.get(o.environmentId));
  const flowOf = (id: string): Promise<Flow | undefined> => {
    const key = id.replace(/[{}]/g, '').toLowerCase();
    let f = flows.get(key);
    if (!f) {
      f = ctx.store.repos.flows.get(o.environmentId, key);
      flows.set(key, f);
    }
    return f;
  };

  const fail = async (call: ConnectorCall, e: unknown, resolved?: ResolvedConnection): Promise<ActionResult> => {
    const code = isPatchbayError(e) ? e.code : 'CONNECTOR_INVOCATION_FAILED';
    let message = e instanceof Error ? e.message : String(e);
    if (resolved) {
      const prefix = `connection reference ${resolved.reference.logicalName} (connection ${resolved.connection.id})`;
      if (!message.includes(resolved.reference.logicalName)) message = `${prefix}: ${message}`;
    }
    message = redactSecrets(`Action '${call.action}': ${message}`, await secrets.values());
    return { kind: 'error', code, message, retryable: isRetryableHttpError(e) || RETRYABLE.has(code) };
  };

  return {
    close: () => secrets.clear(),
    async invoke(call: ConnectorCall): Promise<ActionResult> {
      let resolved: ResolvedConnection | undefined;
      try {
        const flow = (await flowOf(call.workflowId)) ?? o.flow;
        if (!call.connectionName) {
          throw notReady(
            'CONNECTION_KEY_MISSING',
            `action '${call.action}' names no connection (host.connectionName)`,
            { action: call.action, flow: flow.name },
          );
        }
        resolved = await resolveConnection({
          repos: ctx.store.repos,
          flow,
          connectionKey: call.connectionName,
          invoker: o.actor,
          ...(o.invokerConnections && o.invokerConnections.length > 0
            ? { invokerConnectionIds: o.invokerConnections }
            : {}),
        });
        const { connection, connector, reference } = resolved;
        const environmentRecord = await env();
        if (isConnectorBlocked(environmentRecord?.policy, connector.id)) {
          throw connectorBlockedError({
            connectorId: connector.id,
            ...(environmentRecord ? { environment: environmentRecord.name } : {}),
            action: call.action,
            reference: reference.logicalName,
          });
        }
        const why = { runId: call.runId, actionName: call.action, reference: reference.logicalName };
        const decrypted = await secrets.get(connection, why);
        const values: ConnectionValues = {
          parameters: connection.parameters,
          secrets: Object.fromEntries(Object.entries(decrypted).filter(([k]) => !k.startsWith('$'))),
          ...(connection.parameterSet ? { parameterSet: connection.parameterSet } : {}),
        };
        const cacheKey = cacheKeyOf(connector);
        const scheme = await connectionAuthScheme(connector, values, cacheKey);
        const res = await callConnector({
          connector,
          connection: values,
          actionType: call.actionType,
          action: call.action,
          ...(isObject(call.host) ? { host: call.host } : {}),
          inputs: call.inputs,
          http: o.http,
          policy: httpPolicyFromEnvironment(environmentRecord?.policy),
          signal: call.signal,
          cacheKey,
          ...(scheme.kind === 'oauth2'
            ? {
                accessToken: async (t?: { forceRefresh?: boolean }) =>
                  o.tokens.accessToken({
                    connection,
                    settings: scheme.settings,
                    secrets: await secrets.get(connection, why),
                    http: o.http,
                    ...(t?.forceRefresh ? { forceRefresh: true } : {}),
                    why,
                    onRenewed: (raw) => secrets.update(connection, '$oauth', raw),
                  }),
              }
            : {}),
        });
        // A service that echoes a credential back (in a header or the body) must not carry it into
        // run history: every secret value decrypted for this run is redacted from the outputs.
        const known = await secrets.values();
        return {
          kind: 'http',
          statusCode: res.statusCode,
          headers: redactDeep(res.headers, known) as typeof res.headers,
          body: redactDeep(res.body, known),
        };
      } catch (e) {
        return fail(call, e, resolved);
      }
    },
  };
}

/** Replaces every secret value found in the strings of a JSON value with `***` (see redactSecrets). */
export function redactDeep(value: unknown, secrets: readonly string[]): unknown {
  if (secrets.length === 0) return value;
  if (typeof value === 'string') return redactSecrets(value, secrets);
  if (Array.isArray(value)) return value.map((v) => redactDeep(v, secrets));
  if (isObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[redactSecrets(k, secrets)] = redactDeep(v, secrets);
    return out;
  }
  return value;
}

/** The parsed-document cache key of a connector version. */
export function cacheKeyOf(connector: Connector): string {
  return `${connector.environmentId}:${connector.id.toLowerCase()}:${connector.modifiedOn}`;
}
