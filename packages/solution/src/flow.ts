/**
 * Cloud flow JSON (the workflow `clientdata`, formats §2): the connection map, which triggers
 * and actions use each connection key, and the environment variables bound to definition
 * parameters. Pure.
 */
import type {
  FlowComponent,
  FlowConnectionEntry,
  FlowConnectionUse,
  FlowEnvironmentVariableParameter,
  FlowTrigger,
  UnmappedConnectionUse,
} from './model.js';
import { isObject, jsonPath } from './json.js';
import { fileError } from './text.js';

/** What {@link analyzeFlowJson} finds in a flow JSON document. */
export interface FlowJsonFacts {
  connectionMap: Record<string, FlowConnectionEntry>;
  unmappedUses: UnmappedConnectionUse[];
  envVarParameters: FlowEnvironmentVariableParameter[];
  triggers: FlowTrigger[];
  actionCount: number;
}

const CONNECTIONS_KEY_RE = /\$connections'\s*\)\s*\[\s*'([^']+)'\s*\]/;

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function shapeError(file: string, path: string, reason: string): Error {
  return fileError('FLOW_SHAPE_INVALID', file, `${reason} at ${path}`, { path, reason });
}

/** Reads one `connectionReferences` entry, modern or legacy (formats §2.1, §2.3). */
function readEntry(key: string, value: unknown, file: string, path: string): FlowConnectionEntry {
  if (!isObject(value)) throw shapeError(file, path, 'a connection map entry must be an object');
  const connection = isObject(value['connection']) ? value['connection'] : undefined;
  const api = isObject(value['api']) ? value['api'] : undefined;
  const logicalName = str(connection?.['connectionReferenceLogicalName']);
  const legacySource = str(value['source']);
  const legacyId = str(value['id']);
  const apiName = str(api?.['name']) ?? str(value['apiName']) ?? (legacyId ? legacyId.split('/').pop() : undefined);
  const entry: FlowConnectionEntry = { key } as FlowConnectionEntry;
  if (logicalName) entry.logicalName = logicalName;
  const runtimeSource = str(value['runtimeSource']) ?? legacySource?.toLowerCase();
  if (runtimeSource) entry.runtimeSource = runtimeSource;
  if (apiName) entry.apiName = apiName;
  const apiLogicalName = str(api?.['logicalName']);
  if (apiLogicalName) entry.apiLogicalName = apiLogicalName;
  const connectionName = str(connection?.['name']) ?? str(value['connectionName']);
  if (connectionName) entry.connectionName = connectionName;
  entry.embedded = !logicalName;
  entry.usedBy = [];
  return entry;
}

/** A connection-naming field of `host`: absent, or a non-empty string; anything else is FLOW_SHAPE_INVALID. */
function nameField(holder: Record<string, unknown>, field: string, file: string, path: string): string | undefined {
  const value = holder[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '')
    throw shapeError(
      file,
      `${path}.${field}`,
      `a connection name must be a non-empty string, found ${value === null ? 'null' : typeof value === 'string' ? 'an empty string' : Array.isArray(value) ? 'an array' : typeof value}`,
    );
  return value;
}

/**
 * The connection key an action or trigger uses, if any: `inputs.host.connectionName`, else the
 * key in the `$connections` expression of `inputs.host.connection.name` / `.referenceName`. Such a
 * field that is present but not a non-empty string (e.g. `5`) is FLOW_SHAPE_INVALID at its path.
 */
function connectionKeyOf(
  node: Record<string, unknown>,
  file: string,
  jp: string,
): { key: string; host: Record<string, unknown> } | undefined {
  const inputs = isObject(node['inputs']) ? node['inputs'] : undefined;
  const host = inputs && isObject(inputs['host']) ? inputs['host'] : undefined;
  if (!host) return undefined;
  const hostPath = `${jp}.inputs.host`;
  const direct = nameField(host, 'connectionName', file, hostPath);
  if (direct) return { key: direct, host };
  const raw = host['connection'];
  if (raw === undefined) return undefined;
  if (!isObject(raw)) throw shapeError(file, `${hostPath}.connection`, 'must be an object');
  const expr =
    nameField(raw, 'name', file, `${hostPath}.connection`) ??
    nameField(raw, 'referenceName', file, `${hostPath}.connection`);
  if (expr) {
    const m = CONNECTIONS_KEY_RE.exec(expr);
    return { key: m?.[1] ?? expr, host };
  }
  return undefined;
}

/**
 * Reads the facts of a parsed flow JSON document. Throws FLOW_SHAPE_INVALID (naming `file` and
 * the JSON path) when `properties`, `definition`, `connectionReferences`, `triggers` or
 * `actions` do not have the documented shape, or when a trigger's or action's
 * `inputs.host.connectionName` / `inputs.host.connection.name` is present but not a non-empty string.
 */
export function analyzeFlowJson(clientData: unknown, file: string): FlowJsonFacts {
  if (!isObject(clientData)) throw shapeError(file, '$', 'the flow JSON must be an object');
  const properties = clientData['properties'];
  if (!isObject(properties)) throw shapeError(file, '$.properties', 'missing or not an object');
  const definition = properties['definition'];
  if (!isObject(definition)) throw shapeError(file, '$.properties.definition', 'missing or not an object');

  const connectionMap: Record<string, FlowConnectionEntry> = Object.create(null) as Record<string, FlowConnectionEntry>;
  const refs = properties['connectionReferences'];
  if (refs !== undefined && refs !== null) {
    if (!isObject(refs)) throw shapeError(file, '$.properties.connectionReferences', 'not an object');
    for (const [key, value] of Object.entries(refs)) {
      connectionMap[key] = readEntry(key, value, file, jsonPath('$.properties.connectionReferences', key));
    }
  }

  const unmappedUses: UnmappedConnectionUse[] = [];
  const triggers: FlowTrigger[] = [];
  let actionCount = 0;
  const record = (
    node: Record<string, unknown>,
    name: string,
    path: string,
    kind: 'trigger' | 'action',
    jp: string,
  ): void => {
    const found = connectionKeyOf(node, file, jp);
    if (!found) return;
    const use: FlowConnectionUse = { path, name, kind, type: str(node['type']) ?? '', jsonPath: `${jp}.inputs.host` };
    const operationId = str(found.host['operationId']);
    if (operationId) use.operationId = operationId;
    const apiId = str(found.host['apiId']);
    if (apiId) use.apiId = apiId;
    const inputs = node['inputs'] as Record<string, unknown>;
    const method = str(inputs['method']);
    if (method) use.method = method;
    const entry = connectionMap[found.key];
    if (entry) entry.usedBy.push(use);
    else unmappedUses.push({ ...use, key: found.key });
  };

  const triggersNode = definition['triggers'];
  if (triggersNode !== undefined) {
    if (!isObject(triggersNode)) throw shapeError(file, '$.properties.definition.triggers', 'not an object');
    for (const [name, t] of Object.entries(triggersNode)) {
      const jp = jsonPath('$.properties.definition.triggers', name);
      if (!isObject(t)) throw shapeError(file, jp, 'a trigger must be an object');
      const trigger: FlowTrigger = { name, type: str(t['type']) ?? '' };
      const kind = str(t['kind']);
      if (kind) trigger.kind = kind;
      triggers.push(trigger);
      record(t, name, name, 'trigger', jp);
    }
  }

  const walk = (actions: unknown, prefix: string, jp: string): void => {
    if (actions === undefined) return;
    if (!isObject(actions)) throw shapeError(file, jp, 'actions must be an object');
    for (const [name, a] of Object.entries(actions)) {
      const ajp = jsonPath(jp, name);
      if (!isObject(a)) throw shapeError(file, ajp, 'an action must be an object');
      actionCount++;
      const path = prefix ? `${prefix}/${name}` : name;
      record(a, name, path, 'action', ajp);
      walk(a['actions'], path, `${ajp}.actions`);
      const elseBranch = a['else'];
      if (isObject(elseBranch)) walk(elseBranch['actions'], path, `${ajp}.else.actions`);
      const cases = a['cases'];
      if (isObject(cases)) {
        for (const [caseName, c] of Object.entries(cases)) {
          if (isObject(c)) walk(c['actions'], path, `${jsonPath(`${ajp}.cases`, caseName)}.actions`);
        }
      }
      const defaultBranch = a['default'];
      if (isObject(defaultBranch)) walk(defaultBranch['actions'], path, `${ajp}.default.actions`);
    }
  };
  walk(definition['actions'], '', '$.properties.definition.actions');

  const envVarParameters: FlowEnvironmentVariableParameter[] = [];
  const params = definition['parameters'];
  if (isObject(params)) {
    for (const [parameterName, p] of Object.entries(params)) {
      if (!isObject(p)) continue;
      const metadata = isObject(p['metadata']) ? p['metadata'] : undefined;
      const schemaName = str(metadata?.['schemaName']);
      if (!schemaName) continue;
      const param: FlowEnvironmentVariableParameter = { parameterName, schemaName };
      const type = str(p['type']);
      if (type) param.type = type;
      if ('defaultValue' in p) param.defaultValue = p['defaultValue'];
      envVarParameters.push(param);
    }
  }
  return { connectionMap, unmappedUses, envVarParameters, triggers, actionCount };
}

/**
 * A copy of `flow` with new flow JSON: the text is re-serialised (2-space indentation, as
 * Power Automate exports) and the connection map and parameters are read again.
 */
export function withFlowClientData(flow: FlowComponent, clientData: unknown): FlowComponent {
  const facts = analyzeFlowJson(clientData, flow.fileName);
  return { ...flow, ...facts, clientData, clientDataText: JSON.stringify(clientData, null, 2) };
}

/** Connection keys of a flow whose entries use no connection reference (legacy embedded connections). */
export function embeddedConnectionKeys(flow: FlowComponent): string[] {
  return Object.values(flow.connectionMap)
    .filter((e) => e.embedded)
    .map((e) => e.key);
}
