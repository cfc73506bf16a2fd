/**
 * Connections (design §3B, issue 5 item 2): create (validated against the connector's
 * connection parameters, secrets encrypted at rest), list, share, unshare, transfer, delete,
 * status changes. Every change that can alter flow activation re-evaluates the environment's
 * flows and reports the flows whose state changed.
 */
import {
  conflict,
  forbidden,
  invalid,
  notFound,
  shareConnection,
  transferConnection,
  unshareConnection,
  validateConnectionParameters,
  type Connection,
  type ConnectionStatus,
  type FlowStateChange,
  type Principal,
  type Repositories,
  type ShareRole,
} from '@patchbay/core';
import type { PlatformContext } from '../context.js';
import { reevaluateEnvironment } from './activation.js';
import { findConnector } from './connectors.js';
import type { EnvironmentService } from './environments.js';

/** Options of {@link ConnectionService.create}. */
export interface CreateConnectionOptions {
  environment: string;
  /** Connector id (api name or custom connector logical name). */
  connector: string;
  displayName: string;
  parameterSet?: string;
  /** Non-secret parameters (`--param k=v`). */
  parameters?: Record<string, string>;
  /** Secret parameters (`--secret-param k=@FILE|-`); encrypted at rest, never returned. */
  secretParameters?: Record<string, string>;
  /** Owner and actor (default the local admin); may be a service principal. */
  actor?: string;
}

/** A change and the flows whose state it changed. */
export interface ConnectionChange {
  connection: Connection;
  flows: FlowStateChange[];
}

/** Connection operations. */
export class ConnectionService {
  constructor(
    private readonly ctx: PlatformContext,
    private readonly environments: EnvironmentService,
  ) {}

  /**
   * Creates a connection owned by the actor.
   * @throws CONNECTOR_NOT_FOUND, CONNECTION_PARAMETER_* (invalid), CONNECTION_NAME_REQUIRED.
   */
  async create(options: CreateConnectionOptions): Promise<Connection> {
    const env = await this.environments.get(options.environment);
    return this.ctx.store.transaction(async (tx) => {
      const actor = await this.ctx.actor(options.actor, tx);
      const connector = await findConnector(tx, env.id, options.connector);
      if (!connector) {
        throw notFound(
          'CONNECTOR_NOT_FOUND',
          `connector ${options.connector} is not installed in environment ${env.name}; import it (patchbay connector import) or register it by id (patchbay connector add)`,
          { connector: options.connector, environment: env.name },
        );
      }
      if (options.displayName.length > 256) {
        throw invalid('CONNECTION_NAME_TOO_LONG', 'a connection display name has at most 256 characters', {
          field: 'displayName',
        });
      }
      if (!options.displayName.trim()) {
        throw invalid('CONNECTION_NAME_REQUIRED', 'a connection needs a display name', { field: 'displayName' });
      }
      const secrets = options.secretParameters ?? {};
      const v = validateConnectionParameters({
        connector,
        ...(options.parameterSet ? { parameterSet: options.parameterSet } : {}),
        parameters: options.parameters ?? {},
        secretParameters: secrets,
      });
      const now = this.ctx.nowIso();
      const conn: Connection = {
        id: this.ctx.ids.newId(),
        environmentId: env.id,
        connectorId: connector.id,
        displayName: options.displayName,
        ownerId: actor.id,
        status: v.needsOAuth ? 'NeedsReconnect' : 'Connected',
        ...(v.needsOAuth ? { statusMessage: 'OAuth sign-in required: create the connection with --oauth' } : {}),
        ...(v.parameterSet ? { parameterSet: v.parameterSet } : {}),
        parameters: v.parameters,
        secretParameterNames: v.secretParameterNames,
        shares: [],
        createdOn: now,
        modifiedOn: now,
      };
      await tx.connections.insert(conn);
      for (const name of v.secretParameterNames) {
        const key = Object.keys(secrets).find((k) => k.toLowerCase() === name.toLowerCase()) ?? name;
        await this.ctx.vault.put(tx, { environmentId: env.id, ownerId: conn.id, name, value: secrets[key] ?? '' });
      }
      await this.ctx.audit(tx, {
        actor,
        environmentId: env.id,
        action: 'connection.create',
        target: { type: 'connection', id: conn.id, name: conn.displayName },
        after: conn,
      });
      return conn;
    });
  }

  /**
   * Connections of an environment. With `visibleTo`, only those the principal owns or that are
   * shared with it (what a Maker sees, design §6).
   */
  async list(options: { environment: string; visibleTo?: string }): Promise<Connection[]> {
    const env = await this.environments.get(options.environment);
    const all = await this.ctx.store.repos.connections.list(env.id);
    if (!options.visibleTo) return all;
    const p = await this.ctx.principal(options.visibleTo);
    return all.filter((c) => c.ownerId === p.id || c.shares.some((s) => s.principalId === p.id));
  }

  /** A connection by id. @throws CONNECTION_NOT_FOUND */
  async get(id: string, repos: Repositories = this.ctx.store.repos): Promise<Connection> {
    const c = await repos.connections.get(id);
    if (!c) throw notFound('CONNECTION_NOT_FOUND', `connection ${id} does not exist`, { connection: id });
    return c;
  }

  /** Shares a connection (CanUse / CanUseAndShare). Flows of the environment are re-evaluated. */
  async share(options: { id: string; with: string; role: ShareRole; actor?: string }): Promise<ConnectionChange> {
    return this.change('connection.share', options.id, options.actor, async (tx, conn, actor) =>
      shareConnection({
        connection: conn,
        actor,
        target: await this.ctx.principal(options.with, tx),
        role: options.role,
        now: this.ctx.nowIso(),
      }),
    );
  }

  /** Removes a share. Flows that relied on it turn Off, listed in the result. */
  async unshare(options: { id: string; with: string; actor?: string }): Promise<ConnectionChange> {
    return this.change('connection.unshare', options.id, options.actor, async (tx, conn, actor) =>
      unshareConnection({
        connection: conn,
        actor,
        target: await this.ctx.principal(options.with, tx),
        now: this.ctx.nowIso(),
      }),
    );
  }

  /** Transfers ownership (to a user or a service principal). Environment Admins may transfer any connection. */
  async transfer(options: { id: string; to: string; actor?: string; keepAccess?: boolean }): Promise<ConnectionChange> {
    return this.change('connection.transfer', options.id, options.actor, async (tx, conn, actor) => {
      const isAdmin = await this.ctx.isAdmin(actor, conn.environmentId, tx);
      return transferConnection({
        connection: conn,
        actor,
        newOwner: await this.ctx.principal(options.to, tx),
        actorIsAdmin: isAdmin,
        keepAccessForPreviousOwner: options.keepAccess ?? false,
        now: this.ctx.nowIso(),
      });
    });
  }

  /** Sets a connection's status (e.g. NeedsReconnect after a failed token refresh); flows are re-evaluated. */
  async setStatus(options: { id: string; status: ConnectionStatus; message?: string }): Promise<ConnectionChange> {
    return this.ctx.store.transaction(async (tx) => {
      const conn = await this.get(options.id, tx);
      const next: Connection = { ...conn, status: options.status, modifiedOn: this.ctx.nowIso() };
      if (options.message) next.statusMessage = options.message;
      else delete next.statusMessage;
      await tx.connections.update(next);
      const flows = await reevaluateEnvironment(this.ctx, tx, conn.environmentId);
      await this.ctx.audit(tx, {
        environmentId: conn.environmentId,
        action: 'connection.status',
        target: { type: 'connection', id: conn.id, name: conn.displayName },
        before: { status: conn.status },
        after: { status: next.status, ...(next.statusMessage ? { statusMessage: next.statusMessage } : {}) },
      });
      return { connection: next, flows };
    });
  }

  /**
   * Deletes a connection and its secrets. Refused while a reference is bound to it unless
   * `force`: then the references are unbound and the flows that turn off are listed (invariant 7).
   * @throws CONNECTION_IN_USE (conflict, exit 3) naming the references.
   */
  async delete(options: {
    id: string;
    force?: boolean;
    actor?: string;
  }): Promise<ConnectionChange & { unboundReferences: string[] }> {
    return this.ctx.store.transaction(async (tx) => {
      const actor = await this.ctx.actor(options.actor, tx);
      const conn = await this.get(options.id, tx);
      const isAdmin = await this.ctx.isAdmin(actor, conn.environmentId, tx);
      if (conn.ownerId !== actor.id && !isAdmin) {
        throw forbidden(
          'CONNECTION_DELETE_NOT_PERMITTED',
          `principal ${actor.name} cannot delete connection ${conn.id}: only its owner or an Admin can`,
          {
            connection: conn.id,
            principal: actor.name,
          },
        );
      }
      const bound = await tx.references.listByConnection(conn.id);
      if (bound.length > 0 && !options.force) {
        const flows = (await tx.flows.list(conn.environmentId)).filter((f) =>
          f.connections.some(
            (e) => e.logicalName && bound.some((r) => r.logicalName.toLowerCase() === e.logicalName!.toLowerCase()),
          ),
        );
        throw conflict(
          'CONNECTION_IN_USE',
          `connection ${conn.id} is bound to ${bound.map((r) => r.logicalName).join(', ')}; unbind them first or use --force (flows that would turn off: ${flows.map((f) => f.name).join(', ') || 'none'})`,
          {
            connection: conn.id,
            references: bound.map((r) => r.logicalName),
            flows: flows.map((f) => ({ id: f.id, name: f.name })),
          },
        );
      }
      const now = this.ctx.nowIso();
      for (const r of bound) await tx.references.update({ ...r, connectionId: null, modifiedOn: now });
      await tx.secrets.deleteByOwner(conn.id);
      await tx.connections.delete(conn.id);
      const flows = await reevaluateEnvironment(this.ctx, tx, conn.environmentId);
      await this.ctx.audit(tx, {
        actor,
        environmentId: conn.environmentId,
        action: 'connection.delete',
        target: { type: 'connection', id: conn.id, name: conn.displayName },
        before: conn,
        details: { unboundReferences: bound.map((r) => r.logicalName), flowsTurnedOff: flows.map((f) => f.name) },
      });
      return { connection: conn, flows, unboundReferences: bound.map((r) => r.logicalName) };
    });
  }

  private async change(
    action: string,
    id: string,
    actorName: string | undefined,
    fn: (tx: Repositories, conn: Connection, actor: Principal) => Promise<Connection>,
  ): Promise<ConnectionChange> {
    return this.ctx.store.transaction(async (tx) => {
      const actor = await this.ctx.actor(actorName, tx);
      const conn = await this.get(id, tx);
      const next = await fn(tx, conn, actor);
      await tx.connections.update(next);
      const flows = await reevaluateEnvironment(this.ctx, tx, conn.environmentId);
      await this.ctx.audit(tx, {
        actor,
        environmentId: conn.environmentId,
        action,
        target: { type: 'connection', id: conn.id, name: conn.displayName },
        before: conn,
        after: next,
      });
      return { connection: next, flows };
    });
  }
}
