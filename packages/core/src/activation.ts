/**
 * Flow activation (design §2 invariant 3): a flow is On only if it is turned on, not suspended,
 * every reference it uses is bound, every bound connection is usable (status Connected, owner
 * active) and the flow's owner may use it. Otherwise it is Off (or Suspended, when a policy blocks
 * one of its connectors) with a machine-readable reason per reference.
 *
 * Rules chosen where the docs are silent (docs/alm.md):
 * - `invoker` references must still be bound to a usable connection, but the flow owner need not
 *   hold a share on it: at run time the caller's own connection is used and checked.
 * - A flow that embeds a connection (legacy form, no reference logical name) cannot be turned on;
 *   reason `embeds_connection` until it is migrated to references.
 * - A flow whose owner is disabled is Off (`flow_owner_disabled`).
 * - A flow that calls child flows (`Workflow` actions) is On only when each child flow exists in
 *   the environment and is On (`child_flow_missing`, `child_flow_off`), so children are turned on
 *   before their parents.
 */
import { canUseConnection } from './access.js';
import type {
  Connection,
  ConnectionReference,
  Connector,
  EnvironmentPolicy,
  Flow,
  FlowReason,
  FlowState,
  Principal,
} from './model.js';

/** Read access to the parts of an environment that decide activation. */
export interface ActivationWorld {
  /** The reference with this logical name (case-insensitive), if any. */
  reference(logicalName: string): ConnectionReference | undefined;
  connection(id: string): Connection | undefined;
  principal(id: string): Principal | undefined;
  /** The connector installed (or built in) with this id (case-insensitive), if any. */
  connector(id: string): Connector | undefined;
  /** The flow with this workflow id in the environment (its current state), if any. */
  flow(id: string): Flow | undefined;
  policy: EnvironmentPolicy;
}

/** The outcome of {@link evaluateFlow}. */
export interface Activation {
  state: FlowState;
  reasons: FlowReason[];
}

/** Computes a flow's state and the reasons it is not On (see the module comment for the rules). */
export function evaluateFlow(flow: Flow, world: ActivationWorld): Activation {
  const reasons: FlowReason[] = [];
  let blocked = false;
  const owner = world.principal(flow.ownerId);
  if (!owner || owner.status !== 'active') {
    reasons.push({
      code: 'flow_owner_disabled',
      principalId: flow.ownerId,
      message: `the flow's owner ${owner?.name ?? flow.ownerId} is disabled`,
    });
  }
  for (const entry of flow.connections) {
    const base = { connectionKey: entry.key, connectorId: entry.connectorId };
    if (!entry.logicalName) {
      reasons.push({
        ...base,
        code: 'embeds_connection',
        message: `connection key ${entry.key} embeds a connection instead of using a connection reference`,
      });
      continue;
    }
    const ref = world.reference(entry.logicalName);
    if (!ref) {
      reasons.push({
        ...base,
        code: 'reference_missing',
        reference: entry.logicalName,
        message: `connection reference ${entry.logicalName} does not exist in this environment`,
      });
      continue;
    }
    const r = { ...base, reference: ref.logicalName, connectorId: ref.connectorId };
    if (world.policy.blockedConnectors.some((c) => c.toLowerCase() === ref.connectorId.toLowerCase())) {
      blocked = true;
      reasons.push({
        ...r,
        code: 'connector_blocked',
        message: `connector ${ref.connectorId} is blocked by the environment policy`,
      });
      continue;
    }
    if (!world.connector(ref.connectorId)) {
      reasons.push({
        ...r,
        code: 'connector_missing',
        message: `connector ${ref.connectorId} is not installed in this environment`,
      });
      continue;
    }
    if (ref.connectionId === null) {
      reasons.push({
        ...r,
        code: 'unbound',
        message: `connection reference ${ref.logicalName} is not bound to a connection`,
      });
      continue;
    }
    const conn = world.connection(ref.connectionId);
    if (!conn) {
      reasons.push({
        ...r,
        code: 'connection_missing',
        connectionId: ref.connectionId,
        message: `connection ${ref.connectionId} bound to ${ref.logicalName} does not exist`,
      });
      continue;
    }
    const c = { ...r, connectionId: conn.id };
    if (
      conn.connectorId.toLowerCase() !== ref.connectorId.toLowerCase() ||
      entry.connectorId.toLowerCase() !== ref.connectorId.toLowerCase()
    ) {
      reasons.push({
        ...c,
        code: 'wrong_connector',
        message: `connection key ${entry.key} expects connector ${entry.connectorId}; reference ${ref.logicalName} is for ${ref.connectorId} and connection ${conn.id} for ${conn.connectorId}`,
      });
      continue;
    }
    const connOwner = world.principal(conn.ownerId);
    if (!connOwner || connOwner.status !== 'active') {
      reasons.push({
        ...c,
        code: 'owner_disabled',
        principalId: conn.ownerId,
        message: `connection ${conn.id} is owned by ${connOwner?.name ?? conn.ownerId}, who is disabled`,
      });
      continue;
    }
    if (conn.status !== 'Connected') {
      reasons.push({
        ...c,
        code: 'connection_error',
        message: `connection ${conn.id} is ${conn.status}${conn.statusMessage ? `: ${conn.statusMessage}` : ''}`,
      });
      continue;
    }
    if (entry.runtimeSource === 'embedded' && !canUseConnection(flow.ownerId, conn)) {
      reasons.push({
        ...c,
        code: 'not_shared_with_owner',
        principalId: flow.ownerId,
        message: `connection ${conn.id} is not shared with the flow's owner ${owner?.name ?? flow.ownerId}`,
      });
    }
  }
  for (const childId of flow.childFlowIds) {
    const child = world.flow(childId);
    if (!child) {
      reasons.push({
        code: 'child_flow_missing',
        flowId: childId,
        message: `child flow ${childId} does not exist in this environment`,
      });
    } else if (child.state !== 'On') {
      reasons.push({
        code: 'child_flow_off',
        flowId: childId,
        message: `child flow ${child.name} (${childId}) is ${child.state}`,
      });
    }
  }
  if (!flow.turnedOn) reasons.unshift({ code: 'turned_off', message: 'the flow is turned off' });
  const state: FlowState =
    flow.suspended || blocked ? 'Suspended' : flow.turnedOn && reasons.length === 0 ? 'On' : 'Off';
  return { state, reasons };
}

/**
 * Applies an evaluation to a flow: `state` and `reasons` change, `stateChangedOn` moves only when
 * the state changes, and `modifiedOn` and the definition never change (invariant 4).
 */
export function applyActivation(flow: Flow, activation: Activation, now: string): Flow {
  const changed = flow.state !== activation.state;
  return {
    ...flow,
    state: activation.state,
    reasons: activation.reasons,
    stateChangedOn: changed ? now : flow.stateChangedOn,
  };
}

/** A flow whose state a change alters. */
export interface FlowStateChange {
  flowId: string;
  name: string;
  from: FlowState;
  to: FlowState;
  reasons: FlowReason[];
}

/** The flows whose state differs between two evaluations of the same flows (matched by id). */
export function diffFlowStates(before: readonly Flow[], after: readonly Flow[]): FlowStateChange[] {
  const prev = new Map(before.map((f) => [f.id, f]));
  const out: FlowStateChange[] = [];
  for (const f of after) {
    const p = prev.get(f.id);
    if (p && p.state !== f.state)
      out.push({ flowId: f.id, name: f.name, from: p.state, to: f.state, reasons: f.reasons });
  }
  return out;
}

/**
 * Orders flows so that every child flow comes before the flows that call it (cycles are broken
 * arbitrarily). Evaluate in this order so a parent sees its children's new state.
 */
export function childrenFirst(flows: readonly Flow[]): Flow[] {
  const byId = new Map(flows.map((f) => [f.id, f]));
  const out: Flow[] = [];
  const seen = new Set<string>();
  const visit = (f: Flow): void => {
    if (seen.has(f.id)) return;
    seen.add(f.id);
    for (const c of f.childFlowIds) {
      const child = byId.get(c.toLowerCase());
      if (child) visit(child);
    }
    out.push(f);
  };
  flows.forEach(visit);
  return out;
}

/** Builds an {@link ActivationWorld} from lists (case-insensitive lookups by logical name and connector id). */
export function worldFromLists(options: {
  references: readonly ConnectionReference[];
  connections: readonly Connection[];
  principals: readonly Principal[];
  connectors: readonly Connector[];
  flows?: readonly Flow[];
  policy: EnvironmentPolicy;
}): ActivationWorld & { setFlow(f: Flow): void } {
  const refs = new Map(options.references.map((r) => [r.logicalName.toLowerCase(), r]));
  const conns = new Map(options.connections.map((c) => [c.id, c]));
  const princ = new Map(options.principals.map((p) => [p.id, p]));
  const ctors = new Map(options.connectors.map((c) => [c.id.toLowerCase(), c]));
  const flows = new Map((options.flows ?? []).map((f) => [f.id.toLowerCase(), f]));
  return {
    reference: (n) => refs.get(n.toLowerCase()),
    connection: (id) => conns.get(id),
    principal: (id) => princ.get(id),
    connector: (id) => ctors.get(id.toLowerCase()),
    flow: (id) => flows.get(id.toLowerCase()),
    setFlow: (f) => void flows.set(f.id.toLowerCase(), f),
    policy: options.policy,
  };
}
