/**
 * Call-time resolution (design §3D, issue 7 item 1): `host.connectionName` → the flow's
 * connection map → reference logical name → the environment's binding → the connection → its
 * connector. Read at every connector action, so re-binding a reference changes what the very next
 * action calls with no change to any flow (invariant 4).
 */
import {
  canUseConnection,
  conflict,
  forbidden,
  notReady,
  type Connection,
  type ConnectionReference,
  type Connector,
  type Flow,
  type Principal,
  type Repositories,
} from '@patchbay/core';
import { findConnector } from './connectors.js';

/** Options of {@link resolveConnection}. */
export interface ResolveConnectionOptions {
  repos: Repositories;
  flow: Flow;
  /** The action's `host.connectionName` (or the key of an ApiConnection `$connections` expression). */
  connectionKey: string;
  /** For `invoker` references: the principal running the flow, whose own connection is used. */
  invoker?: Principal;
  /** For `invoker` references: the connection the caller supplied with the run (id). */
  invokerConnectionId?: string;
  /**
   * For `invoker` references: the connections the caller supplied with the run (ids, any
   * connectors); the one of the reference's connector is used.
   */
  invokerConnectionIds?: string[];
}

/** What a connector action calls through. */
export interface ResolvedConnection {
  reference: ConnectionReference;
  connection: Connection;
  connector: Connector;
  runtimeSource: 'embedded' | 'invoker';
}

/**
 * Resolves the connection an action uses now. Every failure is a typed error naming the
 * connection key, the reference and the connection.
 *
 * @throws CONNECTION_KEY_NOT_IN_MAP, REFERENCE_NOT_FOUND, REFERENCE_UNBOUND, CONNECTION_NOT_FOUND,
 *   CONNECTION_CONNECTOR_MISMATCH, CONNECTION_OWNER_DISABLED, CONNECTION_NOT_USABLE (not-ready),
 *   CONNECTION_NOT_SHARED_WITH_OWNER, INVOKER_CONNECTION_MISSING, INVOKER_CONNECTION_NOT_PERMITTED (permission).
 */
export async function resolveConnection(options: ResolveConnectionOptions): Promise<ResolvedConnection> {
  const { repos, flow, connectionKey } = options;
  const entry = flow.connections.find((e) => e.key === connectionKey);
  if (!entry) {
    throw conflict(
      'CONNECTION_KEY_NOT_IN_MAP',
      `flow ${flow.name} has no connection key ${connectionKey} in its connection map`,
      {
        flow: flow.name,
        connectionKey,
      },
    );
  }
  if (!entry.logicalName) {
    throw notReady(
      'FLOW_EMBEDS_CONNECTION',
      `connection key ${connectionKey} of flow ${flow.name} embeds a connection instead of a connection reference; migrate the flow to references`,
      { flow: flow.name, connectionKey },
    );
  }
  const reference = await repos.references.getByLogicalName(flow.environmentId, entry.logicalName);
  if (!reference) {
    throw notReady(
      'REFERENCE_NOT_FOUND',
      `connection reference ${entry.logicalName} (key ${connectionKey}) does not exist in this environment`,
      {
        flow: flow.name,
        connectionKey,
        reference: entry.logicalName,
      },
    );
  }
  const connector = await findConnector(repos, flow.environmentId, reference.connectorId);
  if (!connector) {
    throw notReady(
      'CONNECTOR_NOT_FOUND',
      `connector ${reference.connectorId} of reference ${reference.logicalName} is not installed`,
      {
        reference: reference.logicalName,
        connector: reference.connectorId,
      },
    );
  }
  const runtimeSource = entry.runtimeSource;
  let connection: Connection | undefined;
  if (runtimeSource === 'invoker') {
    let invokerConnectionId = options.invokerConnectionId;
    for (const id of invokerConnectionId ? [] : (options.invokerConnectionIds ?? [])) {
      const c = await repos.connections.get(id);
      if (c && c.connectorId.toLowerCase() === reference.connectorId.toLowerCase()) {
        invokerConnectionId = id;
        break;
      }
    }
    if (!options.invoker || !invokerConnectionId) {
      throw notReady(
        'INVOKER_CONNECTION_MISSING',
        `connection reference ${reference.logicalName} runs with the invoker's connection; the run must supply the caller's own ${reference.connectorId} connection`,
        { reference: reference.logicalName, connector: reference.connectorId },
      );
    }
    connection = await repos.connections.get(invokerConnectionId);
    if (!connection) {
      throw notReady(
        'CONNECTION_NOT_FOUND',
        `connection ${invokerConnectionId} supplied by the invoker does not exist`,
        {
          reference: reference.logicalName,
          connection: invokerConnectionId,
        },
      );
    }
    if (!canUseConnection(options.invoker.id, connection)) {
      throw forbidden(
        'INVOKER_CONNECTION_NOT_PERMITTED',
        `principal ${options.invoker.name} may not use connection ${connection.id} (reference ${reference.logicalName})`,
        { reference: reference.logicalName, connection: connection.id, principal: options.invoker.name },
      );
    }
  } else {
    if (reference.connectionId === null) {
      throw notReady(
        'REFERENCE_UNBOUND',
        `connection reference ${reference.logicalName} is not bound to a connection`,
        {
          flow: flow.name,
          connectionKey,
          reference: reference.logicalName,
        },
      );
    }
    connection = await repos.connections.get(reference.connectionId);
    if (!connection) {
      throw notReady(
        'CONNECTION_NOT_FOUND',
        `connection ${reference.connectionId} bound to ${reference.logicalName} does not exist`,
        {
          reference: reference.logicalName,
          connection: reference.connectionId,
        },
      );
    }
  }
  const named = { flow: flow.name, connectionKey, reference: reference.logicalName, connection: connection.id };
  if (
    connection.environmentId !== flow.environmentId ||
    connection.connectorId.toLowerCase() !== reference.connectorId.toLowerCase()
  ) {
    throw conflict(
      'CONNECTION_CONNECTOR_MISMATCH',
      `connection ${connection.id} (${connection.connectorId}) cannot serve reference ${reference.logicalName} (${reference.connectorId})`,
      named,
    );
  }
  const owner = await repos.principals.get(connection.ownerId);
  if (!owner || owner.status !== 'active') {
    throw notReady(
      'CONNECTION_OWNER_DISABLED',
      `connection ${connection.id} bound to ${reference.logicalName} is owned by ${owner?.name ?? connection.ownerId}, who is disabled`,
      { ...named, owner: owner?.name ?? connection.ownerId },
    );
  }
  if (connection.status !== 'Connected') {
    throw notReady(
      'CONNECTION_NOT_USABLE',
      `connection ${connection.id} bound to ${reference.logicalName} is ${connection.status}`,
      {
        ...named,
        status: connection.status,
      },
    );
  }
  if (runtimeSource !== 'invoker' && !canUseConnection(flow.ownerId, connection)) {
    const flowOwner = await repos.principals.get(flow.ownerId);
    throw forbidden(
      'CONNECTION_NOT_SHARED_WITH_OWNER',
      `connection ${connection.id} bound to ${reference.logicalName} is not shared with the flow's owner ${flowOwner?.name ?? flow.ownerId}`,
      { ...named, owner: flowOwner?.name ?? flow.ownerId },
    );
  }
  return { reference, connection, connector, runtimeSource };
}
