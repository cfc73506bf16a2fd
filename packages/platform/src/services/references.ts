/**
 * Connection references (design §3C, issue 5 item 3): create, list (visible to every maker of
 * the environment), bind, unbind, usages, delete. Binding enforces invariants 1–2 and changes no
 * flow (invariant 4): flows resolve the binding at call time.
 */
import {
  bindReference,
  conflict,
  connectorIdFromApiId,
  invalid,
  notFound,
  type ConnectionReference,
  type Flow,
  type FlowStateChange,
  type Repositories,
} from '@patchbay/core';
import { analyzeFlowJson } from '@patchbay/solution';
import type { PlatformContext } from '../context.js';
import { reevaluateEnvironment } from './activation.js';
import { findConnector } from './connectors.js';
import type { EnvironmentService } from './environments.js';

const LOGICAL_NAME = /^[A-Za-z0-9]+_[^\s]{1,255}$/;

/** Options of {@link ReferenceService.create}. */
export interface CreateReferenceOptions {
  environment: string;
  /** `<publisher prefix>_<name>`, unique per environment ignoring case. */
  logicalName: string;
  displayName?: string;
  connector: string;
  description?: string;
  actor?: string;
}

/** One use of a reference by a flow. */
export interface ReferenceUsage {
  flowId: string;
  flowName: string;
  state: Flow['state'];
  /** Connection keys of the flow's map that point at the reference. */
  connectionKeys: string[];
  /** Triggers and actions using those keys (path from the top, type, operation). */
  actions: Array<{ path: string; name: string; kind: 'trigger' | 'action'; type: string; operationId?: string }>;
}

/** The result of binding: the reference, the previous binding, and what now uses the new connection. */
export interface BindResult {
  reference: ConnectionReference;
  previousConnectionId: string | null;
  /** Flows (and their actions) that now call through the new connection. No flow was modified. */
  usages: ReferenceUsage[];
  flows: FlowStateChange[];
}

/** Connection reference operations. */
export class ReferenceService {
  constructor(
    private readonly ctx: PlatformContext,
    private readonly environments: EnvironmentService,
  ) {}

  /**
   * Creates an unbound reference owned by the actor.
   * @throws REFERENCE_NAME_INVALID (invalid), REFERENCE_EXISTS (conflict), CONNECTOR_NOT_FOUND.
   */
  async create(options: CreateReferenceOptions): Promise<ConnectionReference> {
    if (!LOGICAL_NAME.test(options.logicalName)) {
      throw invalid(
        'REFERENCE_NAME_INVALID',
        `logical name ${JSON.stringify(options.logicalName)} is invalid: use <publisher prefix>_<name> without spaces`,
        { field: 'logicalName', value: options.logicalName },
      );
    }
    const env = await this.environments.get(options.environment);
    return this.ctx.store.transaction(async (tx) => {
      const actor = await this.ctx.actor(options.actor, tx);
      const existing = await tx.references.getByLogicalName(env.id, options.logicalName);
      if (existing) {
        throw conflict(
          'REFERENCE_EXISTS',
          `connection reference ${existing.logicalName} already exists in ${env.name}`,
          {
            reference: existing.logicalName,
            environment: env.name,
          },
        );
      }
      const connector = await findConnector(tx, env.id, options.connector);
      if (!connector) {
        throw notFound(
          'CONNECTOR_NOT_FOUND',
          `connector ${connectorIdFromApiId(options.connector)} is not installed in environment ${env.name}`,
          {
            connector: options.connector,
            environment: env.name,
          },
        );
      }
      const now = this.ctx.nowIso();
      const ref: ConnectionReference = {
        id: this.ctx.ids.newId(),
        environmentId: env.id,
        logicalName: options.logicalName,
        displayName: options.displayName ?? options.logicalName,
        connectorId: connector.id,
        ...(options.description ? { description: options.description } : {}),
        ownerId: actor.id,
        connectionId: null,
        createdOn: now,
        modifiedOn: now,
      };
      await tx.references.insert(ref);
      await reevaluateEnvironment(this.ctx, tx, env.id);
      await this.ctx.audit(tx, {
        actor,
        environmentId: env.id,
        action: 'reference.create',
        target: { type: 'connectionReference', id: ref.id, name: ref.logicalName },
        after: ref,
      });
      return ref;
    });
  }

  /** Every reference of the environment — visible to every maker, whoever created it (design §3C). */
  async list(environment: string): Promise<ConnectionReference[]> {
    const env = await this.environments.get(environment);
    return this.ctx.store.repos.references.list(env.id);
  }

  /** A reference by logical name (case-insensitive). @throws REFERENCE_NOT_FOUND */
  async get(
    environment: string,
    logicalName: string,
    repos: Repositories = this.ctx.store.repos,
  ): Promise<ConnectionReference> {
    const env = await this.environments.get(environment);
    const ref = await repos.references.getByLogicalName(env.id, logicalName);
    if (!ref) {
      throw notFound(
        'REFERENCE_NOT_FOUND',
        `connection reference ${logicalName} does not exist in environment ${env.name}`,
        {
          reference: logicalName,
          environment: env.name,
        },
      );
    }
    return ref;
  }

  /**
   * Binds a reference to a connection (invariants 1–2). Re-binding changes what every flow using
   * the reference calls at its next action and modifies no flow (invariant 4).
   * @throws REFERENCE_NOT_FOUND, CONNECTION_NOT_FOUND, BINDING_ENVIRONMENT_MISMATCH, BINDING_CONNECTOR_MISMATCH (exit 3), BINDING_NOT_PERMITTED (exit 4).
   */
  async bind(options: {
    environment: string;
    logicalName: string;
    connectionId: string;
    actor?: string;
  }): Promise<BindResult> {
    return this.ctx.store.transaction(async (tx) => {
      const actor = await this.ctx.actor(options.actor, tx);
      const ref = await this.get(options.environment, options.logicalName, tx);
      const conn = await tx.connections.get(options.connectionId);
      if (!conn) {
        throw notFound('CONNECTION_NOT_FOUND', `connection ${options.connectionId} does not exist`, {
          connection: options.connectionId,
        });
      }
      if (conn.environmentId !== ref.environmentId) {
        const [refEnv, connEnv] = await Promise.all([
          tx.environments.get(ref.environmentId),
          tx.environments.get(conn.environmentId),
        ]);
        throw conflict(
          'BINDING_ENVIRONMENT_MISMATCH',
          `connection ${conn.id} belongs to environment ${connEnv?.name ?? conn.environmentId}; connection reference ${ref.logicalName} is in ${refEnv?.name ?? ref.environmentId}: a reference binds only to a connection of its own environment`,
          {
            reference: ref.logicalName,
            connection: conn.id,
            referenceEnvironment: refEnv?.name,
            connectionEnvironment: connEnv?.name,
          },
        );
      }
      const next = bindReference({ reference: ref, connection: conn, actor, now: this.ctx.nowIso() });
      await tx.references.update(next);
      const flows = await reevaluateEnvironment(this.ctx, tx, ref.environmentId);
      await this.ctx.audit(tx, {
        actor,
        environmentId: ref.environmentId,
        action: 'reference.bind',
        target: { type: 'connectionReference', id: ref.id, name: ref.logicalName },
        before: { connectionId: ref.connectionId },
        after: { connectionId: next.connectionId },
      });
      return { reference: next, previousConnectionId: ref.connectionId, usages: await usagesOf(tx, next), flows };
    });
  }

  /** Removes a binding; flows using the reference turn Off (`unbound`), listed in the result. */
  async unbind(options: { environment: string; logicalName: string; actor?: string }): Promise<BindResult> {
    return this.ctx.store.transaction(async (tx) => {
      const actor = await this.ctx.actor(options.actor, tx);
      const ref = await this.get(options.environment, options.logicalName, tx);
      const next = { ...ref, connectionId: null, modifiedOn: this.ctx.nowIso() };
      await tx.references.update(next);
      const flows = await reevaluateEnvironment(this.ctx, tx, ref.environmentId);
      await this.ctx.audit(tx, {
        actor,
        environmentId: ref.environmentId,
        action: 'reference.unbind',
        target: { type: 'connectionReference', id: ref.id, name: ref.logicalName },
        before: { connectionId: ref.connectionId },
        after: { connectionId: null },
      });
      return { reference: next, previousConnectionId: ref.connectionId, usages: await usagesOf(tx, next), flows };
    });
  }

  /** Which flows, connection keys and actions use a reference. */
  async usages(options: { environment: string; logicalName: string }): Promise<ReferenceUsage[]> {
    const ref = await this.get(options.environment, options.logicalName);
    return usagesOf(this.ctx.store.repos, ref);
  }

  /** Usages of every reference of the environment, by logical name (lowercase key). */
  async allUsages(environment: string): Promise<Map<string, ReferenceUsage[]>> {
    const env = await this.environments.get(environment);
    const flows = await this.ctx.store.repos.flows.list(env.id);
    const out = new Map<string, ReferenceUsage[]>();
    for (const flow of flows) {
      const byRef = new Map<string, string[]>();
      for (const e of flow.connections) {
        if (!e.logicalName) continue;
        const k = e.logicalName.toLowerCase();
        byRef.set(k, [...(byRef.get(k) ?? []), e.key]);
      }
      for (const [k, keys] of byRef) out.set(k, [...(out.get(k) ?? []), usageOfFlow(flow, keys)]);
    }
    return out;
  }

  /**
   * Deletes a reference. Refused while a flow uses it (invariant 7) unless `force`, which lists
   * the flows that turn off.
   * @throws REFERENCE_IN_USE (conflict, exit 3).
   */
  async delete(options: {
    environment: string;
    logicalName: string;
    force?: boolean;
    actor?: string;
  }): Promise<{ reference: ConnectionReference; flows: FlowStateChange[] }> {
    return this.ctx.store.transaction(async (tx) => {
      const actor = await this.ctx.actor(options.actor, tx);
      const ref = await this.get(options.environment, options.logicalName, tx);
      const usages = await usagesOf(tx, ref);
      if (usages.length > 0 && !options.force) {
        throw conflict(
          'REFERENCE_IN_USE',
          `connection reference ${ref.logicalName} is used by ${usages.map((u) => u.flowName).join(', ')}; use --force to delete it anyway (those flows turn off)`,
          { reference: ref.logicalName, flows: usages.map((u) => ({ id: u.flowId, name: u.flowName })) },
        );
      }
      await tx.references.delete(ref.id);
      const flows = await reevaluateEnvironment(this.ctx, tx, ref.environmentId);
      await this.ctx.audit(tx, {
        actor,
        environmentId: ref.environmentId,
        action: 'reference.delete',
        target: { type: 'connectionReference', id: ref.id, name: ref.logicalName },
        before: ref,
      });
      return { reference: ref, flows };
    });
  }
}

function usageOfFlow(flow: Flow, keys: string[]): ReferenceUsage {
  const actions: ReferenceUsage['actions'] = [];
  try {
    const facts = analyzeFlowJson(flow.definition, `flow ${flow.name}`);
    for (const key of keys) {
      for (const u of facts.connectionMap[key]?.usedBy ?? []) {
        actions.push({
          path: u.path,
          name: u.name,
          kind: u.kind,
          type: u.type,
          ...(u.operationId ? { operationId: u.operationId } : {}),
        });
      }
    }
  } catch {
    // A stored definition always parsed on import; if it no longer does, report no action-level detail.
  }
  return { flowId: flow.id, flowName: flow.name, state: flow.state, connectionKeys: keys, actions };
}

/** The usages of one reference across the flows of its environment. */
export async function usagesOf(repos: Repositories, ref: ConnectionReference): Promise<ReferenceUsage[]> {
  const flows = await repos.flows.list(ref.environmentId);
  const out: ReferenceUsage[] = [];
  for (const flow of flows) {
    const keys = flow.connections
      .filter((e) => e.logicalName?.toLowerCase() === ref.logicalName.toLowerCase())
      .map((e) => e.key);
    if (keys.length > 0) out.push(usageOfFlow(flow, keys));
  }
  return out;
}
