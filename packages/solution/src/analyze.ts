/**
 * Governance analysis of one solution package (design §3F): reference usage (which flows and
 * actions use each connection reference) and findings with stable codes. Pure.
 *
 * | code | severity | meaning |
 * |---|---|---|
 * | `REFERENCE_UNUSED` | warning | a connection reference no flow of the package uses (apps and bots are not analysed) |
 * | `CONNECTION_KEY_NOT_IN_MAP` | error | a trigger/action uses a connection key the flow's map lacks |
 * | `CONNECTION_KEY_UNUSED` | info | a map entry no trigger/action uses |
 * | `FLOW_EMBEDS_CONNECTION` | warning | a map entry without `connectionReferenceLogicalName` (legacy embedded connection) |
 * | `REFERENCE_NOT_IN_PACKAGE` | warning | a flow uses a reference the package does not contain (cross-solution dependency) |
 * | `REFERENCE_CONNECTOR_MISMATCH` | error | a flow's map entry names a different connector than the reference it uses |
 * | `DUPLICATE_CONNECTOR_REFERENCES` | info | two or more references to the same connector (candidate to consolidate) |
 * | `REFERENCE_NAMING` | warning | a reference display name breaks the naming rule |
 * | `ENV_VAR_UNUSED` | info | an environment variable no flow uses (apps may) |
 * | `ENV_VAR_UNDEFINED` | warning | a flow parameter bound to an environment variable the package does not define |
 */
import type { ConnectionReferenceComponent, FlowComponent, SolutionPackage } from './model.js';

/** How serious a finding is. */
export type FindingSeverity = 'error' | 'warning' | 'info';

/** One analysis result. `code` is stable; `message` is for people. */
export interface Finding {
  code: string;
  severity: FindingSeverity;
  message: string;
  /** The flow concerned. */
  flow?: { workflowId: string; name: string };
  /** The connection reference logical name concerned. */
  reference?: string;
  /** The environment variable schema name concerned. */
  variable?: string;
  /** The connection key concerned. */
  key?: string;
  details?: Record<string, unknown>;
}

/** The naming rule for reference display names. */
export interface NamingRule {
  /** A regular expression (string or RegExp) the whole display name must match. */
  pattern: string | RegExp;
  /** The rule in words, for messages. */
  description: string;
}

/** Default rule `<Area> – <Connector> – <Type>` (en dashes with spaces), from the seed text. */
export const DEFAULT_NAMING_RULE: NamingRule = {
  pattern: /^\S(?:.*\S)? – \S(?:.*\S)? – \S(?:.*\S)?$/u,
  description: '<Area> – <Connector> – <Type>',
};

/** Options of {@link analyzeSolution}. */
export interface AnalyzeOptions {
  /** Naming rule for reference display names; `false` turns the check off. Default {@link DEFAULT_NAMING_RULE}. */
  namingRule?: NamingRule | false;
}

/** Where a reference is used. */
export interface ReferenceUsage {
  logicalName: string;
  displayName?: string;
  connectorId: string;
  /**
   * The connector, by a name that is the same in every environment: the api name of a managed
   * connector (`shared_office365`); for a custom connector its logical name (`ba_api-2dfootball`,
   * from the package's connector, else from a flow's `api.logicalName`), else its
   * `customConnectorId` when neither is known.
   */
  connector: string;
  /** Api name at the end of `connectorId`, as found (for custom connectors an environment-specific hash). */
  apiName: string;
  customConnectorId?: string;
  /** Logical name of the custom connector, when the package or a flow names it. */
  customConnectorName?: string;
  flows: Array<{
    workflowId: string;
    name: string;
    keys: string[];
    uses: Array<{ key: string; path: string; kind: 'trigger' | 'action'; type: string; operationId?: string }>;
  }>;
  /** Number of triggers and actions using the reference, over all flows. */
  useCount: number;
}

/** Where an environment variable is used. */
export interface EnvironmentVariableUsage {
  schemaName: string;
  type: string;
  flows: Array<{ workflowId: string; name: string; parameterName: string }>;
}

/** The result of {@link analyzeSolution}. */
export interface SolutionAnalysis {
  solution: { uniqueName: string; version: string; managed: number; publisherPrefix: string };
  counts: { flows: number; connectionReferences: number; environmentVariables: number; customConnectors: number };
  references: ReferenceUsage[];
  environmentVariables: EnvironmentVariableUsage[];
  findings: Finding[];
  summary: { errors: number; warnings: number; info: number };
}

/** The api name at the end of a connector id (`/providers/Microsoft.PowerApps/apis/shared_x` → `shared_x`). */
export function apiNameOf(connectorId: string): string {
  const parts = connectorId.split('/').filter((p) => p !== '');
  return parts[parts.length - 1] ?? connectorId;
}

function flowRef(f: FlowComponent): { workflowId: string; name: string } {
  return { workflowId: f.workflowId, name: f.name };
}

const SEVERITY_RANK: Record<FindingSeverity, number> = { error: 0, warning: 1, info: 2 };
/** Compares strings with their numbers as numbers (`Flow 2` before `Flow 10`). */
const NATURAL = new Intl.Collator('en', { numeric: true });

/** Analyses a package: reference and variable usage, and findings (see the table above). */
export function analyzeSolution(pkg: SolutionPackage, options: AnalyzeOptions = {}): SolutionAnalysis {
  const findings: Finding[] = [];
  const refsByName = new Map<string, ConnectionReferenceComponent>();
  for (const r of pkg.connectionReferences) refsByName.set(r.logicalName.toLowerCase(), r);
  const connectorsById = new Map(
    pkg.customConnectors.filter((c) => c.connectorId).map((c) => [c.connectorId?.toLowerCase() ?? '', c]),
  );

  // Logical names of custom connectors as flows name them (api.logicalName), by reference.
  const flowLogicalNames = new Map<string, string>();
  for (const flow of pkg.flows)
    for (const e of Object.values(flow.connectionMap))
      if (e.logicalName && e.apiLogicalName && !flowLogicalNames.has(e.logicalName.toLowerCase()))
        flowLogicalNames.set(e.logicalName.toLowerCase(), e.apiLogicalName);
  const customNameOf = (r: ConnectionReferenceComponent): string | undefined => {
    if (!r.customConnectorId) return undefined;
    return (
      connectorsById.get(r.customConnectorId.toLowerCase())?.name ?? flowLogicalNames.get(r.logicalName.toLowerCase())
    );
  };

  const usage = new Map<string, ReferenceUsage>();
  for (const r of pkg.connectionReferences) {
    const apiName = apiNameOf(r.connectorId);
    const customName = customNameOf(r);
    const u: ReferenceUsage = {
      logicalName: r.logicalName,
      connectorId: r.connectorId,
      connector: r.customConnectorId ? (customName ?? r.customConnectorId) : apiName,
      apiName,
      flows: [],
      useCount: 0,
    };
    if (r.displayName !== undefined) u.displayName = r.displayName;
    if (r.customConnectorId !== undefined) {
      u.customConnectorId = r.customConnectorId;
      if (customName) u.customConnectorName = customName;
    }
    usage.set(r.logicalName.toLowerCase(), u);
  }

  for (const flow of pkg.flows) {
    for (const use of flow.unmappedUses) {
      findings.push({
        code: 'CONNECTION_KEY_NOT_IN_MAP',
        severity: 'error',
        message: `flow "${flow.name}": ${use.kind} ${use.path} uses connection key "${use.key}", which is not in the flow's connectionReferences map`,
        flow: flowRef(flow),
        key: use.key,
        details: { path: use.path, jsonPath: use.jsonPath, file: flow.fileName },
      });
    }
    for (const entry of Object.values(flow.connectionMap)) {
      if (entry.usedBy.length === 0) {
        findings.push({
          code: 'CONNECTION_KEY_UNUSED',
          severity: 'info',
          message: `flow "${flow.name}": connection key "${entry.key}" is in the map but no trigger or action uses it`,
          flow: flowRef(flow),
          key: entry.key,
        });
      }
      if (entry.embedded) {
        findings.push({
          code: 'FLOW_EMBEDS_CONNECTION',
          severity: 'warning',
          message: `flow "${flow.name}": connection key "${entry.key}" embeds a connection${entry.connectionName ? ` (${entry.connectionName})` : ''} instead of using a connection reference`,
          flow: flowRef(flow),
          key: entry.key,
          details: { apiName: entry.apiName ?? null, connectionName: entry.connectionName ?? null },
        });
        continue;
      }
      const logicalName = entry.logicalName as string;
      const ref = refsByName.get(logicalName.toLowerCase());
      if (!ref) {
        findings.push({
          code: 'REFERENCE_NOT_IN_PACKAGE',
          severity: 'warning',
          message: `flow "${flow.name}" uses connection reference ${logicalName}, which this package does not contain (cross-solution dependency)`,
          flow: flowRef(flow),
          reference: logicalName,
          key: entry.key,
        });
        continue;
      }
      const u = usage.get(logicalName.toLowerCase()) as ReferenceUsage;
      let fu = u.flows.find((x) => x.workflowId === flow.workflowId);
      if (!fu) {
        fu = { workflowId: flow.workflowId, name: flow.name, keys: [], uses: [] };
        u.flows.push(fu);
      }
      fu.keys.push(entry.key);
      for (const use of entry.usedBy) {
        const item: ReferenceUsage['flows'][number]['uses'][number] = {
          key: entry.key,
          path: use.path,
          kind: use.kind,
          type: use.type,
        };
        if (use.operationId) item.operationId = use.operationId;
        fu.uses.push(item);
        u.useCount++;
      }
      // Connector identity: custom connectors by logical name / connector id, never by the api-name hash.
      const mismatch = ((): string | undefined => {
        if (entry.apiLogicalName) {
          if (!ref.customConnectorId)
            return `the flow names custom connector ${entry.apiLogicalName} but the reference is to ${apiNameOf(ref.connectorId)}`;
          const c = connectorsById.get(ref.customConnectorId.toLowerCase());
          if (c && c.name.toLowerCase() !== entry.apiLogicalName.toLowerCase())
            return `the flow names custom connector ${entry.apiLogicalName} but the reference's custom connector is ${c.name}`;
          return undefined;
        }
        if (ref.customConnectorId || !entry.apiName) return undefined;
        const refApi = apiNameOf(ref.connectorId).toLowerCase();
        return entry.apiName.toLowerCase() === refApi
          ? undefined
          : `the flow's map entry is for ${entry.apiName} but the reference is to ${apiNameOf(ref.connectorId)}`;
      })();
      if (mismatch) {
        findings.push({
          code: 'REFERENCE_CONNECTOR_MISMATCH',
          severity: 'error',
          message: `flow "${flow.name}", key "${entry.key}": ${mismatch}`,
          flow: flowRef(flow),
          reference: ref.logicalName,
          key: entry.key,
        });
      }
    }
  }

  for (const u of usage.values()) {
    if (u.flows.length === 0) {
      findings.push({
        code: 'REFERENCE_UNUSED',
        severity: 'warning',
        message: `connection reference ${u.logicalName}${u.displayName ? ` ("${u.displayName}")` : ''} is used by no flow in this package (canvas apps and bots are not analysed)`,
        reference: u.logicalName,
      });
    }
  }

  // Two references to the same connector: candidates to consolidate.
  // Custom connectors are grouped by their id (the same connector even where only some
  // references' names are known) and named by their logical name.
  const byConnector = new Map<string, ConnectionReferenceComponent[]>();
  for (const r of pkg.connectionReferences) {
    const key = r.customConnectorId
      ? `custom:${r.customConnectorId.toLowerCase()}`
      : apiNameOf(r.connectorId).toLowerCase();
    const list = byConnector.get(key) ?? [];
    list.push(r);
    byConnector.set(key, list);
  }
  for (const list of byConnector.values()) {
    if (list.length < 2) continue;
    const names = list.map((r) => r.logicalName);
    const first = usage.get((list[0] as ConnectionReferenceComponent).logicalName.toLowerCase()) as ReferenceUsage;
    const connector =
      list.map((r) => usage.get(r.logicalName.toLowerCase())?.customConnectorName).find((n) => n) ?? first.connector;
    const custom = first.customConnectorId !== undefined;
    findings.push({
      code: 'DUPLICATE_CONNECTOR_REFERENCES',
      severity: 'info',
      message: `${list.length} connection references use the same connector (${custom ? `custom connector ${connector}` : connector}): ${names.join(', ')}; candidates to consolidate`,
      details: {
        connector,
        references: names,
        ...(custom
          ? {
              customConnectorId: first.customConnectorId,
              apiNames: [...new Set(list.map((r) => apiNameOf(r.connectorId)))],
            }
          : {}),
      },
    });
  }

  if (options.namingRule !== false) {
    const rule = options.namingRule ?? DEFAULT_NAMING_RULE;
    const re = typeof rule.pattern === 'string' ? new RegExp(rule.pattern, 'u') : rule.pattern;
    for (const r of pkg.connectionReferences) {
      const name = r.displayName ?? '';
      if (!re.test(name)) {
        findings.push({
          code: 'REFERENCE_NAMING',
          severity: 'warning',
          message: `connection reference ${r.logicalName}: display name ${JSON.stringify(name)} does not follow ${rule.description}`,
          reference: r.logicalName,
          details: { displayName: name, rule: rule.description },
        });
      }
    }
  }

  // Environment variables.
  const varUsage = new Map<string, EnvironmentVariableUsage>();
  for (const v of pkg.environmentVariables)
    varUsage.set(v.schemaName.toLowerCase(), { schemaName: v.schemaName, type: v.type, flows: [] });
  for (const flow of pkg.flows) {
    for (const p of flow.envVarParameters) {
      const u = varUsage.get(p.schemaName.toLowerCase());
      if (u) u.flows.push({ workflowId: flow.workflowId, name: flow.name, parameterName: p.parameterName });
      else {
        findings.push({
          code: 'ENV_VAR_UNDEFINED',
          severity: 'warning',
          message: `flow "${flow.name}" uses environment variable ${p.schemaName} (parameter "${p.parameterName}"), which this package does not define`,
          flow: flowRef(flow),
          variable: p.schemaName,
        });
      }
    }
  }
  for (const u of varUsage.values()) {
    if (u.flows.length === 0) {
      findings.push({
        code: 'ENV_VAR_UNUSED',
        severity: 'info',
        message: `environment variable ${u.schemaName} is used by no flow in this package (canvas apps and bots are not analysed)`,
        variable: u.schemaName,
      });
    }
  }

  findings.sort(
    (a, b) =>
      SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] ||
      a.code.localeCompare(b.code) ||
      NATURAL.compare(a.message, b.message),
  );
  const summary = { errors: 0, warnings: 0, info: 0 };
  for (const f of findings) {
    if (f.severity === 'error') summary.errors++;
    else if (f.severity === 'warning') summary.warnings++;
    else summary.info++;
  }
  return {
    solution: {
      uniqueName: pkg.manifest.uniqueName,
      version: pkg.manifest.version,
      managed: pkg.manifest.managed,
      publisherPrefix: pkg.manifest.publisher.prefix,
    },
    counts: {
      flows: pkg.flows.length,
      connectionReferences: pkg.connectionReferences.length,
      environmentVariables: pkg.environmentVariables.length,
      customConnectors: pkg.customConnectors.length,
    },
    references: [...usage.values()],
    environmentVariables: [...varUsage.values()],
    findings,
    summary,
  };
}
