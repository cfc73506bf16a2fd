/**
 * Connectors in an environment (design §3A, issue 5 item 1): built-ins (always present), custom
 * connectors imported from the Power Platform custom connector format, and connectors known by id
 * only (first-party connectors without a public definition).
 */
import {
  conflict,
  connectorIdFromApiId,
  invalid,
  notFound,
  type Connector,
  type ConnectorDefinition,
  type Repositories,
} from '@patchbay/core';
import type { PlatformContext } from '../context.js';
import { builtinConnectors, isBuiltinConnector } from './builtins.js';
import { reevaluateEnvironment } from './activation.js';
import type { EnvironmentService } from './environments.js';

const ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,255}$/;

/** Options of {@link ConnectorService.install}. */
export interface InstallConnectorOptions {
  environment: string;
  /** The connector id: a custom connector's logical name (e.g. `cat_approvals-20kit`). */
  id: string;
  displayName: string;
  definition: ConnectorDefinition;
  /** The acting principal (default the local admin), recorded in the audit log. */
  actor?: string;
}

/** Connector operations. */
export class ConnectorService {
  constructor(
    private readonly ctx: PlatformContext,
    private readonly environments: EnvironmentService,
  ) {}

  /** Built-in and installed connectors of an environment. */
  async list(environment: string): Promise<Connector[]> {
    const env = await this.environments.get(environment);
    return [...builtinConnectors(env.id), ...(await this.ctx.store.repos.connectors.list(env.id))];
  }

  /** A connector by id (case-insensitive; `/providers/…/apis/<id>` accepted). @throws CONNECTOR_NOT_FOUND */
  async get(environment: string, id: string, repos: Repositories = this.ctx.store.repos): Promise<Connector> {
    const env = await this.environments.get(environment);
    const found = await findConnector(repos, env.id, id);
    if (!found) {
      throw notFound(
        'CONNECTOR_NOT_FOUND',
        `connector ${connectorIdFromApiId(id)} is not installed in environment ${env.name}`,
        {
          connector: connectorIdFromApiId(id),
          environment: env.name,
        },
      );
    }
    return found;
  }

  /**
   * Registers a connector known by id only (no definition), so connections and bindings for it
   * can exist. Re-adding an id-only connector updates its display name.
   * @throws CONNECTOR_ID_INVALID (invalid), CONNECTOR_EXISTS (conflict) when a built-in or custom connector has that id.
   */
  async add(options: { environment: string; id: string; displayName?: string; actor?: string }): Promise<Connector> {
    const id = connectorIdFromApiId(options.id);
    if (!ID.test(id)) {
      throw invalid('CONNECTOR_ID_INVALID', `connector id ${JSON.stringify(options.id)} is invalid`, {
        field: 'id',
        value: options.id,
      });
    }
    return this.ctx.store.transaction(async (tx) => {
      const env = await this.environments.get(options.environment);
      const actor = await this.ctx.actor(options.actor, tx);
      const existing = await findConnector(tx, env.id, id);
      if (existing && existing.kind !== 'idOnly') {
        throw conflict(
          'CONNECTOR_EXISTS',
          `connector ${existing.id} is already installed in ${env.name} (${existing.kind})`,
          {
            connector: existing.id,
            environment: env.name,
          },
        );
      }
      const now = this.ctx.nowIso();
      const c: Connector = {
        environmentId: env.id,
        id: existing?.id ?? id,
        displayName: options.displayName ?? existing?.displayName ?? id,
        kind: 'idOnly',
        createdOn: existing?.createdOn ?? now,
        modifiedOn: now,
      };
      await tx.connectors.upsert(c);
      await reevaluateEnvironment(this.ctx, tx, env.id);
      await this.ctx.audit(tx, {
        actor,
        environmentId: env.id,
        action: 'connector.add',
        target: { type: 'connector', id: c.id, name: c.displayName },
      });
      return c;
    });
  }

  /**
   * Installs (or updates) a custom connector with its definition. Replaces an id-only
   * registration of the same id. Flows of the environment are re-evaluated.
   * @throws CONNECTOR_ID_INVALID, CONNECTOR_EXISTS (a built-in has that id).
   */
  async install(options: InstallConnectorOptions, repos?: Repositories): Promise<Connector> {
    const run = async (tx: Repositories): Promise<Connector> => {
      const id = connectorIdFromApiId(options.id);
      if (!ID.test(id)) {
        throw invalid('CONNECTOR_ID_INVALID', `connector id ${JSON.stringify(options.id)} is invalid`, {
          field: 'id',
          value: options.id,
        });
      }
      const env = await this.environments.get(options.environment);
      if (isBuiltinConnector(id)) {
        throw conflict('CONNECTOR_EXISTS', `connector id ${id} is reserved for a built-in connector`, {
          connector: id,
        });
      }
      const existing = await tx.connectors.get(env.id, id);
      const now = this.ctx.nowIso();
      const c: Connector = {
        environmentId: env.id,
        id: existing?.id ?? id,
        displayName: options.displayName,
        kind: 'custom',
        definition: options.definition,
        createdOn: existing?.createdOn ?? now,
        modifiedOn: now,
      };
      await tx.connectors.upsert(c);
      await reevaluateEnvironment(this.ctx, tx, env.id);
      await this.ctx.audit(tx, {
        ...(options.actor ? { actor: await this.ctx.actor(options.actor, tx) } : {}),
        environmentId: env.id,
        action: 'connector.install',
        target: { type: 'connector', id: c.id, name: c.displayName },
        details: { replaced: Boolean(existing) },
      });
      return c;
    };
    return repos ? run(repos) : this.ctx.store.transaction(run);
  }
}

/** Finds a built-in or installed connector of an environment by id (case-insensitive). */
export async function findConnector(
  repos: Repositories,
  environmentId: string,
  id: string,
): Promise<Connector | undefined> {
  const key = connectorIdFromApiId(id).toLowerCase();
  return (
    builtinConnectors(environmentId).find((b) => b.id.toLowerCase() === key) ??
    (await repos.connectors.get(environmentId, key))
  );
}
