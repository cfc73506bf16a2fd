/**
 * Re-evaluates flow states after a change (design §3E/§2 invariant 3, issue 5 item 7): whenever a
 * binding, a connection's status, a share or a principal changes, the flows of the environments
 * concerned are evaluated again; flows that can no longer run turn Off with a reason and turn back
 * On when the cause is fixed, only if they were turned on before.
 */
import {
  applyActivation,
  childrenFirst,
  evaluateFlow,
  worldFromLists,
  type Connector,
  type Flow,
  type FlowStateChange,
  type Repositories,
} from '@patchbay/core';
import type { PlatformContext } from '../context.js';
import { builtinConnectors } from './builtins.js';

/** Loads what activation needs for one environment. */
export async function loadWorld(tx: Repositories, environmentId: string) {
  const env = await tx.environments.get(environmentId);
  const [references, connections, principals, installed, flows] = await Promise.all([
    tx.references.list(environmentId),
    tx.connections.list(environmentId),
    tx.principals.list(),
    tx.connectors.list(environmentId),
    tx.flows.list(environmentId),
  ]);
  const connectors: Connector[] = [...builtinConnectors(environmentId), ...installed];
  return worldFromLists({
    references,
    connections,
    principals,
    connectors,
    flows,
    policy: env?.policy ?? { blockedConnectors: [], allowedHosts: [], deniedHosts: [], allowLoopback: false },
  });
}

/**
 * Evaluates every flow of an environment and stores those whose state or reasons changed.
 * Returns the state changes. Never changes a flow's definition or modifiedOn (invariant 4).
 */
export async function reevaluateEnvironment(
  ctx: PlatformContext,
  tx: Repositories,
  environmentId: string,
): Promise<FlowStateChange[]> {
  const world = await loadWorld(tx, environmentId);
  const flows = childrenFirst(await tx.flows.list(environmentId));
  const now = ctx.nowIso();
  const changes: FlowStateChange[] = [];
  for (const flow of flows) {
    const next: Flow = applyActivation(flow, evaluateFlow(flow, world), now);
    world.setFlow(next);
    if (next.state !== flow.state || JSON.stringify(next.reasons) !== JSON.stringify(flow.reasons)) {
      await tx.flows.update(next);
      if (next.state !== flow.state) {
        changes.push({ flowId: flow.id, name: flow.name, from: flow.state, to: next.state, reasons: next.reasons });
      }
    }
  }
  return changes;
}

/** Re-evaluates every environment (used after principal changes, which cross environments). */
export async function reevaluateAll(
  ctx: PlatformContext,
  tx: Repositories,
): Promise<Array<FlowStateChange & { environment: string }>> {
  const out: Array<FlowStateChange & { environment: string }> = [];
  for (const env of await tx.environments.list()) {
    for (const c of await reevaluateEnvironment(ctx, tx, env.id)) out.push({ ...c, environment: env.name });
  }
  return out;
}
