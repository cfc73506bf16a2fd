/**
 * Turning a package's flows into environment flow records: the connection entries (key →
 * reference → connector) and the child flows each flow calls.
 */
import { connectorIdFromApiId, type FlowConnectionEntry } from '@patchbay/core';
import type { FlowComponent } from '@patchbay/solution';

/** Workflow ids (lowercase) of the child flows a flow definition calls (`Workflow` actions). */
export function childFlowIdsOf(clientData: unknown): string[] {
  const ids = new Set<string>();
  const visit = (actions: unknown): void => {
    if (!actions || typeof actions !== 'object') return;
    for (const a of Object.values(actions as Record<string, unknown>)) {
      if (!a || typeof a !== 'object') continue;
      const action = a as Record<string, unknown>;
      if (typeof action['type'] === 'string' && action['type'].toLowerCase() === 'workflow') {
        const host = (action['inputs'] as { host?: { workflowReferenceName?: unknown } } | undefined)?.host;
        if (typeof host?.workflowReferenceName === 'string')
          ids.add(host.workflowReferenceName.replace(/[{}]/g, '').toLowerCase());
      }
      visit(action['actions']);
      const otherwise = action['else'] as { actions?: unknown } | undefined;
      visit(otherwise?.actions);
      const cases = action['cases'] as Record<string, { actions?: unknown }> | undefined;
      if (cases && typeof cases === 'object') for (const c of Object.values(cases)) visit(c?.actions);
      const def = action['default'] as { actions?: unknown } | undefined;
      visit(def?.actions);
    }
  };
  const def = (clientData as { properties?: { definition?: { actions?: unknown } } } | undefined)?.properties
    ?.definition;
  visit(def?.actions);
  return [...ids].sort();
}

/**
 * The connection entries of a package flow. The connector of each key is the connector of the
 * reference it names (resolved by `connectorOfReference`), else the map's `api.logicalName`, else
 * its `api.name`.
 */
export function flowConnectionEntries(
  flow: FlowComponent,
  connectorOfReference: (logicalName: string) => string | undefined,
): FlowConnectionEntry[] {
  return Object.values(flow.connectionMap).map((e) => {
    const viaRef = e.logicalName ? connectorOfReference(e.logicalName) : undefined;
    const connectorId = viaRef ?? e.apiLogicalName ?? (e.apiName ? connectorIdFromApiId(e.apiName) : 'unknown');
    return {
      key: e.key,
      ...(e.logicalName ? { logicalName: e.logicalName } : {}),
      runtimeSource: e.runtimeSource === 'invoker' ? ('invoker' as const) : ('embedded' as const),
      connectorId,
    };
  });
}
