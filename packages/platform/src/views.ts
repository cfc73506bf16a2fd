/**
 * The JSON shapes of the model shared by the CLI (`--json`) and the HTTP API: names instead of
 * ids where people read them, never a secret value (design §2 invariant 5).
 */
import type {
  ApiTokenRecord,
  AuditEvent,
  ClientCredentialRecord,
  Connection,
  ConnectionReference,
  Flow,
  Principal,
  Run,
} from '@patchbay/core';
import { summarizeRecord, type RunRecord } from '@patchbay/engine';
import type { ReferenceUsage } from './services/references.js';

/** A connection: names instead of ids, secret parameter names only (never values). */
export function connectionJson(c: Connection, principals: Map<string, Principal>) {
  return {
    id: c.id,
    connector: c.connectorId,
    displayName: c.displayName,
    owner: principals.get(c.ownerId)?.name ?? c.ownerId,
    ownerKind: principals.get(c.ownerId)?.kind,
    status: c.status,
    ...(c.statusMessage ? { statusMessage: c.statusMessage } : {}),
    ...(c.parameterSet ? { parameterSet: c.parameterSet } : {}),
    parameters: c.parameters,
    secretParameters: c.secretParameterNames,
    shares: c.shares.map((s) => ({ principal: principals.get(s.principalId)?.name ?? s.principalId, role: s.role })),
    createdOn: c.createdOn,
    modifiedOn: c.modifiedOn,
  };
}

/** A connection reference with the flows that use it. */
export function referenceJson(r: ConnectionReference, usages: ReferenceUsage[], ownerName?: string) {
  return {
    logicalName: r.logicalName,
    displayName: r.displayName,
    connector: r.connectorId,
    ...(r.customConnectorId ? { customConnectorId: r.customConnectorId } : {}),
    ...(r.description ? { description: r.description } : {}),
    connectionId: r.connectionId,
    owner: ownerName ?? r.ownerId,
    flows: usages.map((u) => ({ id: u.flowId, name: u.flowName, state: u.state })),
    createdOn: r.createdOn,
    modifiedOn: r.modifiedOn,
  };
}

/** A flow with its state and reasons (no definition). */
export function flowJson(f: Flow, owners: Map<string, string>) {
  return {
    name: f.name,
    id: f.id,
    state: f.state,
    turnedOn: f.turnedOn,
    owner: owners.get(f.ownerId) ?? f.ownerId,
    modifiedOn: f.modifiedOn,
    stateChangedOn: f.stateChangedOn,
    reasons: f.reasons,
    connections: f.connections,
    childFlowIds: f.childFlowIds,
  };
}

/** The list shape of a run. */
export function runListJson(r: Run) {
  return {
    id: r.id,
    flow: r.flowName,
    flowId: r.flowId,
    status: r.status,
    startedBy: r.startedBy,
    startTime: r.startTime,
    ...(r.endTime ? { endTime: r.endTime } : {}),
    ...(r.durationMs !== undefined ? { durationMs: r.durationMs } : {}),
    ...(r.error ? { error: r.error } : {}),
    ...(r.response ? { response: { statusCode: r.response.statusCode } } : {}),
    ...(r.resubmittedFrom ? { resubmittedFrom: r.resubmittedFrom } : {}),
  };
}

/** The show shape of a run: the summary (status, response, outputs, actions) plus the full redacted history. */
export function runShowJson(r: Run) {
  const record = r.record as RunRecord | null;
  const summary = record ? summarizeRecord(record) : { runId: r.id, status: r.status, outputs: {}, actions: {} };
  return {
    ...runListJson(r),
    ...summary,
    id: r.id,
    history: record
      ? {
          trigger: record.trigger,
          actions: record.actions,
          ...(record.terminatedBy ? { terminatedBy: record.terminatedBy } : {}),
        }
      : null,
  };
}

/** An API token without its hash (the token itself is shown once, when created). */
export function tokenJson(t: ApiTokenRecord, principals: Map<string, Principal>) {
  return {
    id: t.id,
    principal: principals.get(t.principalId)?.name ?? t.principalId,
    kind: t.kind,
    description: t.description,
    createdOn: t.createdOn,
    ...(t.expiresOn ? { expiresOn: t.expiresOn } : {}),
    ...(t.revokedOn ? { revokedOn: t.revokedOn } : {}),
    ...(t.createdBy ? { createdBy: principals.get(t.createdBy)?.name ?? t.createdBy } : {}),
  };
}

/** Client credentials without the secret hash. */
export function clientCredentialJson(c: ClientCredentialRecord, principals: Map<string, Principal>) {
  return {
    clientId: c.clientId,
    principal: principals.get(c.principalId)?.name ?? c.principalId,
    description: c.description,
    createdOn: c.createdOn,
    ...(c.expiresOn ? { expiresOn: c.expiresOn } : {}),
    ...(c.revokedOn ? { revokedOn: c.revokedOn } : {}),
  };
}

/** An audit entry with the environment's name. */
export function auditJson(e: AuditEvent, environments: Map<string, string>) {
  return {
    id: e.id,
    at: e.at,
    ...(e.actorName ? { actor: e.actorName } : {}),
    ...(e.environmentId ? { environment: environments.get(e.environmentId) ?? e.environmentId } : {}),
    action: e.action,
    target: e.target,
    ...(e.before !== undefined ? { before: e.before } : {}),
    ...(e.after !== undefined ? { after: e.after } : {}),
    ...(e.details !== undefined ? { details: e.details } : {}),
  };
}
