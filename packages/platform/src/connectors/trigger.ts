/**
 * Connector triggers (`OpenApiConnection`, `OpenApiConnectionNotification`,
 * `OpenApiConnectionWebhook`, `ApiConnection*`): what issue 7 does for them is resolution only —
 * the trigger's connection key goes through the same path as actions (connection map → reference
 * → binding → connection → connector → operation), so a poller or webhook registrar gets the
 * connection and operation, or the same typed error an action would. Patchbay does not poll or
 * subscribe yet; runs of such flows get their trigger outputs from the caller (`flow run`,
 * resubmit, tests).
 */
import { notFound, type Flow, type Principal } from '@patchbay/core';
import { connectorApi, type ConnectorOperation } from '@patchbay/connectors';
import type { PlatformContext } from '../context.js';
import { resolveConnection, type ResolvedConnection } from '../services/resolution.js';
import { cacheKeyOf } from './invoker.js';

const CONNECTOR_TRIGGER = /^(openapiconnection|apiconnection)(notification|webhook)?$/i;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The connection key of a connector `host` (`connectionName`, or the key inside `$connections`). */
export function connectionKeyOfHost(host: unknown): string | undefined {
  if (!isObject(host)) return undefined;
  if (typeof host['connectionName'] === 'string') return host['connectionName'];
  const conn = host['connection'];
  if (isObject(conn) && typeof conn['name'] === 'string') {
    const m = /\$connections'\)\s*\[\s*'([^']+)'\s*\]/.exec(conn['name']);
    return m ? m[1] : conn['name'];
  }
  if (isObject(conn) && typeof conn['referenceName'] === 'string') return conn['referenceName'];
  return undefined;
}

/** A flow's connector trigger, resolved. */
export interface ResolvedTrigger {
  trigger: string;
  type: string;
  connectionKey: string;
  resolved: ResolvedConnection;
  /** The operation the trigger calls (when the connector has a definition). */
  operation?: ConnectorOperation;
}

/**
 * Resolves the connection (and operation) of a flow's connector trigger; undefined when the
 * trigger is not a connector trigger.
 * @throws the resolution errors of actions (REFERENCE_UNBOUND, …), OPERATION_NOT_FOUND.
 */
export async function resolveTriggerConnection(
  ctx: PlatformContext,
  o: { flow: Flow; invoker?: Principal; invokerConnections?: string[] },
): Promise<ResolvedTrigger | undefined> {
  const def = o.flow.definition as {
    properties?: { definition?: { triggers?: Record<string, unknown> } };
    definition?: { triggers?: Record<string, unknown> };
    triggers?: Record<string, unknown>;
  };
  const triggers = def?.properties?.definition?.triggers ?? def?.definition?.triggers ?? def?.triggers ?? {};
  const [name, t] = Object.entries(triggers)[0] ?? [];
  if (!name || !isObject(t) || typeof t['type'] !== 'string' || !CONNECTOR_TRIGGER.test(t['type'])) return undefined;
  const inputs = isObject(t['inputs']) ? t['inputs'] : {};
  const key = connectionKeyOfHost(inputs['host']);
  if (!key)
    throw notFound('CONNECTION_KEY_MISSING', `trigger '${name}' of flow ${o.flow.name} names no connection`, {
      flow: o.flow.name,
      trigger: name,
    });
  const resolved = await resolveConnection({
    repos: ctx.store.repos,
    flow: o.flow,
    connectionKey: key,
    ...(o.invoker ? { invoker: o.invoker } : {}),
    ...(o.invokerConnections ? { invokerConnectionIds: o.invokerConnections } : {}),
  });
  const host = isObject(inputs['host']) ? inputs['host'] : {};
  let operation: ConnectorOperation | undefined;
  if (resolved.connector.definition && typeof host['operationId'] === 'string') {
    const api = await connectorApi(resolved.connector, cacheKeyOf(resolved.connector));
    operation = api.operation(host['operationId']);
    if (!operation)
      throw notFound(
        'OPERATION_NOT_FOUND',
        `connector ${resolved.connector.id} has no operation ${host['operationId']} (trigger '${name}' of flow ${o.flow.name})`,
        {
          connector: resolved.connector.id,
          operation: host['operationId'],
          trigger: name,
        },
      );
  }
  return { trigger: name, type: t['type'], connectionKey: key, resolved, ...(operation ? { operation } : {}) };
}
