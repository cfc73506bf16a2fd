/**
 * Maps a custom connector as read by @patchbay/solution (source folder or solution part) to the
 * core's ConnectorDefinition.
 */
import type {
  ConnectionParameter,
  ConnectionParameterSets,
  ConnectorDefinition,
  PolicyTemplateInstance,
} from '@patchbay/core';
import type { CustomConnectorDefinition } from '@patchbay/solution';

/** The core ConnectorDefinition of a custom connector definition. */
export function toConnectorDefinition(def: CustomConnectorDefinition): ConnectorDefinition {
  const out: ConnectorDefinition = {
    openApi: def.openApiDefinition,
    connectionParameters: def.connectionParameters as Record<string, ConnectionParameter>,
    policyTemplateInstances: def.policyTemplateInstances.map((p) => ({
      templateId: String(p['templateId']),
      ...(typeof p['title'] === 'string' ? { title: p['title'] } : {}),
      parameters: (p['parameters'] as Record<string, unknown> | undefined) ?? {},
    })) as PolicyTemplateInstance[],
  };
  if (def.connectionParameterSets)
    out.connectionParameterSets = def.connectionParameterSets as unknown as ConnectionParameterSets;
  if (def.script !== undefined) out.script = def.script;
  const other: Record<string, unknown> = {};
  if (def.iconBrandColor) other['iconBrandColor'] = def.iconBrandColor;
  if (def.capabilities) other['capabilities'] = def.capabilities;
  if (Object.keys(other).length > 0) out.otherProperties = other;
  return out;
}

/** A connector id derived from a name: spaces and characters outside `[A-Za-z0-9_.-]` become `-`. */
export function connectorIdFromName(name: string): string {
  return name
    .trim()
    .replace(/[^A-Za-z0-9_.-]+/g, '-')
    .replace(/^-+|-+$/g, '');
}
