/**
 * Who may use, share and bind connections (design §2 invariants 1–2, §6).
 */
import { conflict, forbidden, notFound } from './errors.js';
import type { Connection, ConnectionReference, Principal, ShareRole } from './model.js';

/** True when the principal owns the connection or holds a share (CanUse or CanUseAndShare) on it. */
export function canUseConnection(principalId: string, connection: Connection): boolean {
  return connection.ownerId === principalId || connection.shares.some((s) => s.principalId === principalId);
}

/** True when the principal owns the connection or holds a CanUseAndShare share on it. */
export function canShareConnection(principalId: string, connection: Connection): boolean {
  return (
    connection.ownerId === principalId ||
    connection.shares.some((s) => s.principalId === principalId && s.role === 'CanUseAndShare')
  );
}

/** Throws PRINCIPAL_DISABLED (permission) when the acting principal is disabled. */
export function assertActive(actor: Principal): void {
  if (actor.status !== 'active') {
    throw forbidden('PRINCIPAL_DISABLED', `principal ${actor.name} is disabled and cannot act`, {
      principal: actor.name,
    });
  }
}

/** Options of {@link bindReference}. */
export interface BindOptions {
  reference: ConnectionReference;
  connection: Connection;
  actor: Principal;
  /** The instant of the change (ISO 8601), from the Clock port. */
  now: string;
}

/**
 * Binds a connection reference to a connection and returns the updated reference.
 * Enforces invariant 1 (same connector, same environment) and invariant 2 (the actor owns the
 * connection or holds a share on it). Flows are not touched (invariant 4).
 *
 * @throws BINDING_ENVIRONMENT_MISMATCH (conflict) — the connection lives in another environment.
 * @throws BINDING_CONNECTOR_MISMATCH (conflict) — the connection is of another connector.
 * @throws BINDING_NOT_PERMITTED (permission) — the actor neither owns nor shares the connection.
 */
export function bindReference(options: BindOptions): ConnectionReference {
  const { reference, connection, actor, now } = options;
  assertActive(actor);
  if (connection.environmentId !== reference.environmentId) {
    throw conflict(
      'BINDING_ENVIRONMENT_MISMATCH',
      `connection ${connection.id} belongs to another environment than connection reference ${reference.logicalName}`,
      {
        reference: reference.logicalName,
        connection: connection.id,
        referenceEnvironment: reference.environmentId,
        connectionEnvironment: connection.environmentId,
      },
    );
  }
  if (connection.connectorId.toLowerCase() !== reference.connectorId.toLowerCase()) {
    throw conflict(
      'BINDING_CONNECTOR_MISMATCH',
      `connection reference ${reference.logicalName} is for connector ${reference.connectorId}, but connection ${connection.id} is for ${connection.connectorId}`,
      {
        reference: reference.logicalName,
        connection: connection.id,
        referenceConnector: reference.connectorId,
        connectionConnector: connection.connectorId,
      },
    );
  }
  if (!canUseConnection(actor.id, connection)) {
    throw forbidden(
      'BINDING_NOT_PERMITTED',
      `principal ${actor.name} cannot bind connection reference ${reference.logicalName} to connection ${connection.id}: the connection is neither owned by nor shared with ${actor.name}`,
      { reference: reference.logicalName, connection: connection.id, principal: actor.name },
    );
  }
  return { ...reference, connectionId: connection.id, modifiedOn: now };
}

/** Options of {@link shareConnection}. */
export interface ShareOptions {
  connection: Connection;
  actor: Principal;
  target: Principal;
  role: ShareRole;
  now: string;
}

/**
 * Shares a connection with a principal (or changes the role of an existing share).
 * The actor must own the connection or hold CanUseAndShare (design §3B). Service principals can
 * receive shares (invariant 6).
 *
 * @throws SHARE_NOT_PERMITTED (permission), SHARE_WITH_OWNER (invalid), SHARE_TARGET_DISABLED (conflict).
 */
export function shareConnection(options: ShareOptions): Connection {
  const { connection, actor, target, role, now } = options;
  assertActive(actor);
  if (!canShareConnection(actor.id, connection)) {
    throw forbidden(
      'SHARE_NOT_PERMITTED',
      `principal ${actor.name} cannot share connection ${connection.id}: only its owner or a principal with CanUseAndShare can`,
      { connection: connection.id, principal: actor.name },
    );
  }
  if (target.id === connection.ownerId) {
    throw conflict('SHARE_WITH_OWNER', `principal ${target.name} owns connection ${connection.id} already`, {
      connection: connection.id,
      principal: target.name,
    });
  }
  if (target.status !== 'active') {
    throw conflict('SHARE_TARGET_DISABLED', `principal ${target.name} is disabled`, {
      connection: connection.id,
      principal: target.name,
    });
  }
  const shares = connection.shares.filter((s) => s.principalId !== target.id);
  shares.push({ principalId: target.id, role });
  return { ...connection, shares, modifiedOn: now };
}

/** Options of {@link unshareConnection}. */
export interface UnshareOptions {
  connection: Connection;
  actor: Principal;
  target: Principal;
  now: string;
}

/**
 * Removes a principal's share. The owner or a CanUseAndShare holder may remove any share; a
 * principal may always remove its own share.
 *
 * @throws SHARE_NOT_PERMITTED (permission), SHARE_NOT_FOUND (not-found).
 */
export function unshareConnection(options: UnshareOptions): Connection {
  const { connection, actor, target, now } = options;
  assertActive(actor);
  if (actor.id !== target.id && !canShareConnection(actor.id, connection)) {
    throw forbidden(
      'SHARE_NOT_PERMITTED',
      `principal ${actor.name} cannot change the shares of connection ${connection.id}`,
      {
        connection: connection.id,
        principal: actor.name,
      },
    );
  }
  if (!connection.shares.some((s) => s.principalId === target.id)) {
    throw notFound('SHARE_NOT_FOUND', `connection ${connection.id} is not shared with ${target.name}`, {
      connection: connection.id,
      principal: target.name,
    });
  }
  return { ...connection, shares: connection.shares.filter((s) => s.principalId !== target.id), modifiedOn: now };
}

/** Options of {@link transferConnection}. */
export interface TransferOptions {
  connection: Connection;
  actor: Principal;
  newOwner: Principal;
  /** Admins may transfer any connection (e.g. away from a disabled owner); others only their own. */
  actorIsAdmin: boolean;
  /** Give the previous owner a CanUseAndShare share. Default false. */
  keepAccessForPreviousOwner?: boolean;
  now: string;
}

/**
 * Transfers ownership of a connection. The previous owner keeps access only when
 * `keepAccessForPreviousOwner` is set (then with CanUseAndShare); otherwise the transfer is clean.
 * A share the new owner held is dropped (owners need none). Service principals can own
 * connections (invariant 6).
 *
 * @throws TRANSFER_NOT_PERMITTED (permission), TRANSFER_TARGET_DISABLED (conflict).
 */
export function transferConnection(options: TransferOptions): Connection {
  const { connection, actor, newOwner, actorIsAdmin, keepAccessForPreviousOwner, now } = options;
  assertActive(actor);
  if (!actorIsAdmin && actor.id !== connection.ownerId) {
    throw forbidden(
      'TRANSFER_NOT_PERMITTED',
      `principal ${actor.name} cannot transfer connection ${connection.id}: only its owner or an environment Admin can`,
      { connection: connection.id, principal: actor.name },
    );
  }
  if (newOwner.status !== 'active') {
    throw conflict(
      'TRANSFER_TARGET_DISABLED',
      `principal ${newOwner.name} is disabled and cannot own connection ${connection.id}`,
      {
        connection: connection.id,
        principal: newOwner.name,
      },
    );
  }
  if (newOwner.id === connection.ownerId) {
    throw conflict('TRANSFER_TO_OWNER', `principal ${newOwner.name} owns connection ${connection.id} already`, {
      connection: connection.id,
      principal: newOwner.name,
    });
  }
  const shares = connection.shares.filter((s) => s.principalId !== newOwner.id && s.principalId !== connection.ownerId);
  if (keepAccessForPreviousOwner) shares.push({ principalId: connection.ownerId, role: 'CanUseAndShare' });
  return { ...connection, ownerId: newOwner.id, shares, modifiedOn: now };
}
