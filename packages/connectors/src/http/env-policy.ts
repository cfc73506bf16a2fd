/**
 * An environment's policy (design §3F, §6; core `EnvironmentPolicy`) as the outbound HTTP client
 * sees it, and the connector rules of the same policy.
 *
 * Field mapping: `allowedHosts` → `HttpPolicy.allowHosts` (empty list = no allow list),
 * `deniedHosts` → `denyHosts`, `allowLoopback` → `allowLoopback`. Link-local and cloud metadata
 * addresses stay denied (there is no environment switch for them). `blockedConnectors` is not a
 * host rule: connector calls check it with {@link isConnectorBlocked}, and the built-in Http action
 * counts as the connector `http` (also accepted: `shared_http`, `Http`).
 */
import { connectorIdFromApiId, forbidden, type EnvironmentPolicy, type PatchbayError } from '@patchbay/core';
import type { HttpPolicy } from './policy.js';

/** The host policy of the outbound client for an environment. */
export function httpPolicyFromEnvironment(policy: Partial<EnvironmentPolicy> | undefined): HttpPolicy {
  const out: HttpPolicy = { allowLoopback: policy?.allowLoopback === true };
  if (policy?.allowedHosts && policy.allowedHosts.length > 0) out.allowHosts = [...policy.allowedHosts];
  if (policy?.deniedHosts && policy.deniedHosts.length > 0) out.denyHosts = [...policy.deniedHosts];
  return out;
}

/** Connector ids that stand for the built-in Http action in `blockedConnectors`. */
export const HTTP_ACTION_CONNECTOR_IDS = ['http', 'shared_http'] as const;

/**
 * True when the environment blocks the connector. Ids are compared case-insensitively, and
 * `/providers/Microsoft.PowerApps/apis/<id>` forms are accepted on both sides.
 */
export function isConnectorBlocked(policy: Partial<EnvironmentPolicy> | undefined, connectorId: string): boolean {
  const id = connectorIdFromApiId(connectorId).toLowerCase();
  return (policy?.blockedConnectors ?? []).some((b) => connectorIdFromApiId(b).toLowerCase() === id);
}

/** True when the environment blocks the built-in Http action. */
export function isHttpActionBlocked(policy: Partial<EnvironmentPolicy> | undefined): boolean {
  return HTTP_ACTION_CONNECTOR_IDS.some((id) => isConnectorBlocked(policy, id));
}

/** The error of a call to a blocked connector (permission, exit 4). */
export function connectorBlockedError(o: {
  connectorId: string;
  environment?: string;
  action?: string;
  reference?: string;
}): PatchbayError {
  return forbidden(
    'CONNECTOR_BLOCKED',
    `connector ${o.connectorId} is blocked by the policy of environment ${o.environment ?? '(this environment)'}${o.action ? `; action '${o.action}' cannot call it` : ''}${o.reference ? ` (connection reference ${o.reference})` : ''}`,
    {
      connector: o.connectorId,
      ...(o.environment ? { environment: o.environment } : {}),
      ...(o.action ? { action: o.action } : {}),
      ...(o.reference ? { reference: o.reference } : {}),
    },
  );
}
