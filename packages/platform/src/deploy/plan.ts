/**
 * Solution import planning (design §3E, issue 5 item 4): everything an import would do, computed
 * from the package, the deployment settings file and the environment's current state, with nothing
 * written. The same computation drives the import (apply.ts), so plan and import never disagree.
 *
 * Rules (docs/alm.md):
 * - References: a settings entry with a ConnectionId binds (first import) or re-binds (later
 *   imports); without one an existing binding is kept and a new reference is created unbound.
 *   The connection must exist in this environment, be of the reference's connector, and the acting
 *   principal must own it or hold a share (invariants 1–2).
 * - Variables: value from settings, else the environment's existing value (kept), else the value
 *   exported in the package, else the definition's default; none of these → blocking.
 * - Connectors: built-in / already installed / installed from the package / missing (blocking
 *   unless `addMissingConnectors`, which registers them by id only).
 * - Flows: new flows are owned by the importer and turned on when they were On at export; existing
 *   flows keep their owner and their On/Off intent. The outcome is the activation of the
 *   environment as it would be after the import (children evaluated before parents).
 * - The exit code is that of the first blocking problem: 3 (not ready), 4 (permission), 2 (invalid package).
 */
import {
  applyActivation,
  canUseConnection,
  childrenFirst,
  connectorIdFromApiId,
  evaluateFlow,
  exitCodeFor,
  worldFromLists,
  type Connection,
  type ConnectionReference,
  type Connector,
  type Environment,
  type EnvironmentVariableType,
  type ErrorCategory,
  type Flow,
  type FlowReason,
  type FlowState,
  type Principal,
  type Repositories,
} from '@patchbay/core';
import {
  customConnectorDefinition,
  findPlaceholders,
  type DeploymentSettings,
  type SolutionPackage,
} from '@patchbay/solution';
import type { PlatformContext } from '../context.js';
import { builtinConnectors } from '../services/builtins.js';
import { toConnectorDefinition } from '../services/connector-definition.js';
import { childFlowIdsOf, flowConnectionEntries } from './flow-records.js';

/** A problem that blocks the import. */
export interface PlanProblem {
  code: string;
  category: Extract<ErrorCategory, 'not-ready' | 'permission' | 'invalid'>;
  message: string;
  details: Record<string, unknown>;
}

/** What happens to a connector the package needs. */
export interface PlannedConnector {
  id: string;
  displayName: string;
  /** builtin / present (installed already) / install (shipped in the package) / add (registered by id, --add-missing-connectors) / missing. */
  status: 'builtin' | 'present' | 'install' | 'add' | 'missing';
  /** References of the package that use it. */
  references: string[];
}

/** What happens to a connection reference. */
export interface PlannedReference {
  logicalName: string;
  displayName: string;
  connector: string;
  /** create (new in the environment) or update (exists: metadata updated, binding per `binding`). */
  action: 'create' | 'update';
  binding: {
    /** bind (from settings, first binding) / rebind (settings change an existing binding) / keep (existing binding kept) / unbound. */
    action: 'bind' | 'rebind' | 'keep' | 'unbound';
    connectionId: string | null;
    previousConnectionId: string | null;
    source: 'settings' | 'existing' | 'none';
  };
}

/** What happens to an environment variable. */
export interface PlannedVariable {
  schemaName: string;
  type: EnvironmentVariableType | 'Unknown';
  action: 'create' | 'update';
  value: {
    source: 'settings' | 'keep' | 'exported' | 'default' | 'missing';
    /** The value (omitted for Secret variables). */
    value?: string;
  };
}

/** What happens to a flow. */
export interface PlannedFlow {
  id: string;
  name: string;
  action: 'create' | 'update';
  onWhenExported: boolean;
  /** The state before the import (existing flows). */
  currentState?: FlowState;
  /** The state after the import. */
  outcome: FlowState;
  reasons: FlowReason[];
  owner: string;
  childFlowIds: string[];
}

/** Whether a principal can use a connection the import binds. */
export interface PlannedPermission {
  principal: string;
  principalKind: Principal['kind'];
  /** importer: binds the reference (must use the connection); flowOwner: runs flows through it. */
  as: 'importer' | 'flowOwner';
  reference: string;
  connectionId: string;
  canUse: boolean;
  flows?: string[];
}

/** The plan of an import. Nothing is written to compute it. */
export interface ImportPlan {
  environment: string;
  actor: string;
  solution: {
    uniqueName: string;
    displayName: string;
    version: string;
    managed: boolean;
    publisher: { uniqueName: string; prefix: string };
    installedVersion?: string;
    action: 'install' | 'upgrade';
  };
  connectors: PlannedConnector[];
  references: PlannedReference[];
  variables: PlannedVariable[];
  flows: PlannedFlow[];
  permissions: PlannedPermission[];
  problems: PlanProblem[];
  warnings: Array<{ code: string; message: string }>;
  canProceed: boolean;
  /** The first problem, which blocks the import. */
  blockingProblem?: PlanProblem;
  /** 0 when the import can proceed; else the exit code of the first problem (3 not ready, 4 permission, 2 invalid). */
  exitCode: number;
}

/** Everything apply.ts needs to carry out a plan. */
export interface PlanWork {
  plan: ImportPlan;
  env: Environment;
  actor: Principal;
  connectorsToInstall: Connector[];
  connectorsToAdd: Connector[];
  references: ConnectionReference[];
  variables: Array<{
    schemaName: string;
    displayName: string;
    type: EnvironmentVariableType;
    defaultValue?: string;
    isRequired: boolean;
    exists: boolean;
    value?: string;
    valueChanged: boolean;
  }>;
  flows: Flow[];
}

/** Options of {@link computePlan}. */
export interface ComputePlanOptions {
  ctx: PlatformContext;
  repos: Repositories;
  env: Environment;
  actor: Principal;
  pkg: SolutionPackage;
  settings?: DeploymentSettings;
  addMissingConnectors?: boolean;
}

const VALUE_CHECK: Partial<Record<EnvironmentVariableType, (v: string) => boolean>> = {
  Number: (v) => v.trim() !== '' && Number.isFinite(Number(v)),
  Boolean: (v) => /^(true|false|yes|no|0|1)$/i.test(v.trim()),
  JSON: (v) => {
    try {
      JSON.parse(v);
      return true;
    } catch {
      return false;
    }
  },
};

/** Computes the plan of importing `pkg` into `env` as `actor` (reads only). */
export async function computePlan(o: ComputePlanOptions): Promise<PlanWork> {
  const { ctx, repos, env, actor, pkg, settings } = o;
  const now = ctx.nowIso();
  const problems: PlanProblem[] = [];
  const warnings: Array<{ code: string; message: string }> = [];
  const problem = (p: PlanProblem): void => void problems.push(p);

  const [installed, envRefs, envConns, principals, envFlows, solution] = await Promise.all([
    repos.connectors.list(env.id),
    repos.references.list(env.id),
    repos.connections.list(env.id),
    repos.principals.list(),
    repos.flows.list(env.id),
    repos.solutions.get(env.id, pkg.manifest.uniqueName),
  ]);
  const principalById = new Map(principals.map((p) => [p.id, p]));
  const roles = await repos.roles.listForPrincipal(actor.id);
  if (
    !(await ctx.isAdmin(actor, env.id, repos)) &&
    !roles.some((r) => r.environmentId === env.id && r.role === 'Maker')
  ) {
    problem({
      code: 'IMPORT_NOT_PERMITTED',
      category: 'permission',
      message: `principal ${actor.name} needs the Admin or Maker role in environment ${env.name} to import solutions`,
      details: { principal: actor.name, environment: env.name },
    });
  }

  // Connectors.
  const allConnectors: Connector[] = [...builtinConnectors(env.id), ...installed];
  const connectorByKey = new Map(allConnectors.map((c) => [c.id.toLowerCase(), c]));
  const connectorsToInstall: Connector[] = [];
  for (const cc of pkg.customConnectors) {
    try {
      const def = customConnectorDefinition(cc, pkg.name);
      const existing = connectorByKey.get(cc.name.toLowerCase());
      const c: Connector = {
        environmentId: env.id,
        id: existing?.id ?? cc.name,
        displayName: cc.displayName ?? def.displayName ?? cc.name,
        kind: 'custom',
        definition: toConnectorDefinition(def),
        ...(cc.connectorId ? { packageConnectorId: cc.connectorId } : {}),
        createdOn: existing?.createdOn ?? now,
        modifiedOn: now,
      };
      connectorsToInstall.push(c);
      connectorByKey.set(c.id.toLowerCase(), c);
    } catch (e) {
      const err = e as { code?: string; message: string; details?: Record<string, unknown> };
      problem({
        code: err.code ?? 'CONNECTOR_DEFINITION_INVALID',
        category: 'invalid',
        message: `custom connector ${cc.name} in the package is invalid: ${err.message}`,
        details: { connector: cc.name, ...(err.details ?? {}) },
      });
    }
  }
  const connectorOfPackageRef = new Map<string, string>();
  for (const cr of pkg.connectionReferences) {
    let id: string | undefined;
    if (cr.customConnectorId) {
      const want = cr.customConnectorId.toLowerCase();
      id =
        pkg.customConnectors.find((c) => c.connectorId?.toLowerCase() === want)?.name ??
        allConnectors.find((c) => c.packageConnectorId?.toLowerCase() === want)?.id;
    }
    connectorOfPackageRef.set(cr.logicalName.toLowerCase(), id ?? connectorIdFromApiId(cr.connectorId));
  }
  const plannedConnectors = new Map<string, PlannedConnector>();
  const connectorsToAdd: Connector[] = [];
  for (const cr of pkg.connectionReferences) {
    const id = connectorOfPackageRef.get(cr.logicalName.toLowerCase())!;
    const key = id.toLowerCase();
    let pc = plannedConnectors.get(key);
    if (!pc) {
      const inst = connectorsToInstall.find((c) => c.id.toLowerCase() === key);
      const have = connectorByKey.get(key);
      const status: PlannedConnector['status'] = inst
        ? 'install'
        : have
          ? have.kind === 'builtin'
            ? 'builtin'
            : 'present'
          : o.addMissingConnectors
            ? 'add'
            : 'missing';
      pc = { id: have?.id ?? id, displayName: inst?.displayName ?? have?.displayName ?? id, status, references: [] };
      plannedConnectors.set(key, pc);
      if (status === 'add') {
        const c: Connector = {
          environmentId: env.id,
          id,
          displayName: id,
          kind: 'idOnly',
          createdOn: now,
          modifiedOn: now,
        };
        connectorsToAdd.push(c);
        connectorByKey.set(key, c);
      }
    }
    pc.references.push(cr.logicalName);
  }
  for (const pc of plannedConnectors.values()) {
    if (pc.status === 'missing') {
      problem({
        code: 'CONNECTOR_MISSING',
        category: 'not-ready',
        message: `connector ${pc.id} (used by ${pc.references.join(', ')}) is not installed in ${env.name}; import it, register it with \`patchbay connector add --env ${env.name} --id ${pc.id}\`, or import with --add-missing-connectors`,
        details: { connector: pc.id, references: pc.references, environment: env.name },
      });
    }
  }

  // Settings entries.
  const settingsRefs = new Map<
    string,
    { connectionId: string; connectorId?: string; path: string; logicalName: string }
  >();
  for (const e of settings?.connectionReferences ?? []) {
    const first = settingsRefs.get(e.logicalName.toLowerCase());
    if (first) {
      problem({
        code: 'SETTINGS_DUPLICATE_ENTRY',
        category: 'not-ready',
        message: `${settings!.file}: connection reference ${e.logicalName} appears twice (${first.path} and ${e.path}; logical names are compared ignoring case)`,
        details: { file: settings!.file, reference: e.logicalName, paths: [first.path, e.path] },
      });
      continue;
    }
    settingsRefs.set(e.logicalName.toLowerCase(), e);
  }
  const settingsVars = new Map<string, { value: string; path: string; schemaName: string }>();
  for (const e of settings?.environmentVariables ?? []) {
    const first = settingsVars.get(e.schemaName.toLowerCase());
    if (first) {
      problem({
        code: 'SETTINGS_DUPLICATE_ENTRY',
        category: 'not-ready',
        message: `${settings!.file}: environment variable ${e.schemaName} appears twice (${first.path} and ${e.path}; schema names are compared ignoring case)`,
        details: { file: settings!.file, variable: e.schemaName, paths: [first.path, e.path] },
      });
      continue;
    }
    settingsVars.set(e.schemaName.toLowerCase(), e);
  }
  for (const e of settings?.connectionReferences ?? []) {
    if (!pkg.connectionReferences.some((r) => r.logicalName.toLowerCase() === e.logicalName.toLowerCase())) {
      warnings.push({
        code: 'SETTINGS_ENTRY_UNKNOWN',
        message: `${settings!.file} ${e.path}: the package has no connection reference ${e.logicalName}; ignored`,
      });
    }
  }
  for (const e of settings?.environmentVariables ?? []) {
    if (!pkg.environmentVariables.some((v) => v.schemaName.toLowerCase() === e.schemaName.toLowerCase())) {
      warnings.push({
        code: 'SETTINGS_ENTRY_UNKNOWN',
        message: `${settings!.file} ${e.path}: the package has no environment variable ${e.schemaName}; ignored`,
      });
    }
  }

  // References and bindings.
  const envRefByKey = new Map(envRefs.map((r) => [r.logicalName.toLowerCase(), r]));
  const plannedRefs: PlannedReference[] = [];
  const refsAfter = new Map(envRefByKey);
  const permissions: PlannedPermission[] = [];
  const connById = new Map(envConns.map((c) => [c.id, c]));
  for (const cr of pkg.connectionReferences) {
    const key = cr.logicalName.toLowerCase();
    const connectorId =
      connectorByKey.get(connectorOfPackageRef.get(key)!.toLowerCase())?.id ?? connectorOfPackageRef.get(key)!;
    const existing = envRefByKey.get(key);
    const entry = settingsRefs.get(key);
    let binding: PlannedReference['binding'] = existing?.connectionId
      ? {
          action: 'keep',
          connectionId: existing.connectionId,
          previousConnectionId: existing.connectionId,
          source: 'existing',
        }
      : { action: 'unbound', connectionId: null, previousConnectionId: null, source: 'none' };
    if (entry && entry.connectionId.trim() !== '') {
      const where = `${settings!.file} ${entry.path}`;
      const placeholders = findPlaceholders(entry.connectionId);
      if (
        entry.connectorId &&
        connectorIdFromApiId(entry.connectorId).toLowerCase() !== connectorIdFromApiId(cr.connectorId).toLowerCase()
      ) {
        problem({
          code: 'SETTINGS_CONNECTOR_MISMATCH',
          category: 'not-ready',
          message: `${where}: connection reference ${cr.logicalName} is for connector ${connectorIdFromApiId(cr.connectorId)}, but the settings file says ${connectorIdFromApiId(entry.connectorId)}`,
          details: {
            reference: cr.logicalName,
            packageConnector: cr.connectorId,
            settingsConnector: entry.connectorId,
            file: settings!.file,
            path: entry.path,
          },
        });
      } else if (placeholders.length > 0) {
        problem({
          code: 'SETTINGS_PLACEHOLDER_UNRESOLVED',
          category: 'not-ready',
          message: `${where}: the connection for ${cr.logicalName} is an unresolved placeholder ${placeholders.join(', ')}`,
          details: { reference: cr.logicalName, placeholders, file: settings!.file, path: entry.path },
        });
      } else {
        const conn = connById.get(entry.connectionId) ?? (await repos.connections.get(entry.connectionId));
        if (!conn) {
          problem({
            code: 'CONNECTION_NOT_FOUND',
            category: 'not-ready',
            message: `${where}: connection ${entry.connectionId} named for ${cr.logicalName} does not exist`,
            details: {
              reference: cr.logicalName,
              connection: entry.connectionId,
              file: settings!.file,
              path: entry.path,
            },
          });
        } else if (conn.environmentId !== env.id) {
          const other = await repos.environments.get(conn.environmentId);
          problem({
            code: 'CONNECTION_IN_OTHER_ENVIRONMENT',
            category: 'not-ready',
            message: `${where}: connection ${conn.id} named for ${cr.logicalName} belongs to environment ${other?.name ?? conn.environmentId}, not ${env.name}; connections never move between environments — create one in ${env.name}`,
            details: {
              reference: cr.logicalName,
              connection: conn.id,
              connectionEnvironment: other?.name ?? conn.environmentId,
              environment: env.name,
            },
          });
        } else if (conn.connectorId.toLowerCase() !== connectorId.toLowerCase()) {
          problem({
            code: 'BINDING_CONNECTOR_MISMATCH',
            category: 'not-ready',
            message: `${where}: connection ${conn.id} is for connector ${conn.connectorId}, but ${cr.logicalName} needs ${connectorId}`,
            details: {
              reference: cr.logicalName,
              connection: conn.id,
              referenceConnector: connectorId,
              connectionConnector: conn.connectorId,
            },
          });
        } else {
          const canUse = canUseConnection(actor.id, conn);
          permissions.push({
            principal: actor.name,
            principalKind: actor.kind,
            as: 'importer',
            reference: cr.logicalName,
            connectionId: conn.id,
            canUse,
          });
          if (!canUse) {
            problem({
              code: 'BINDING_NOT_PERMITTED',
              category: 'permission',
              message: `principal ${actor.name} cannot bind ${cr.logicalName} to connection ${conn.id}: the connection is neither owned by nor shared with ${actor.name}; share it (patchbay connection share ${conn.id} --with ${actor.name} --role CanUse)`,
              details: { reference: cr.logicalName, connection: conn.id, principal: actor.name },
            });
          }
          binding = {
            action: existing?.connectionId ? (existing.connectionId === conn.id ? 'keep' : 'rebind') : 'bind',
            connectionId: conn.id,
            previousConnectionId: existing?.connectionId ?? null,
            source: 'settings',
          };
        }
      }
    }
    if (existing && existing.connectorId.toLowerCase() !== connectorId.toLowerCase()) {
      if (binding.source === 'existing') {
        problem({
          code: 'REFERENCE_CONNECTOR_CHANGED',
          category: 'not-ready',
          message: `the package changes connection reference ${cr.logicalName} from connector ${existing.connectorId} to ${connectorId}, but it is bound to connection ${existing.connectionId} of ${existing.connectorId}: unbind it first, or name a ${connectorId} connection for it in the settings file`,
          details: {
            reference: cr.logicalName,
            from: existing.connectorId,
            to: connectorId,
            connection: existing.connectionId,
          },
        });
      } else if (binding.action === 'unbound') {
        warnings.push({
          code: 'REFERENCE_CONNECTOR_CHANGED',
          message: `connection reference ${cr.logicalName} changes from connector ${existing.connectorId} to ${connectorId}`,
        });
      }
    }
    plannedRefs.push({
      logicalName: existing?.logicalName ?? cr.logicalName,
      displayName: cr.displayName ?? existing?.displayName ?? cr.logicalName,
      connector: connectorId,
      action: existing ? 'update' : 'create',
      binding,
    });
    const next: ConnectionReference = {
      id: existing?.id ?? ctx.ids.newId(),
      environmentId: env.id,
      logicalName: existing?.logicalName ?? cr.logicalName,
      displayName: cr.displayName ?? existing?.displayName ?? cr.logicalName,
      connectorId,
      ...(cr.customConnectorId ? { customConnectorId: cr.customConnectorId } : {}),
      ...(cr.description !== undefined
        ? { description: cr.description }
        : existing?.description
          ? { description: existing.description }
          : {}),
      ...(cr.promptingBehavior !== undefined ? { promptingBehavior: cr.promptingBehavior } : {}),
      ownerId: existing?.ownerId ?? actor.id,
      connectionId: binding.connectionId,
      createdOn: existing?.createdOn ?? now,
      modifiedOn: now,
    };
    refsAfter.set(key, next);
  }

  // Variables.
  const [envDefs, envValues] = await Promise.all([
    repos.environmentVariables.listDefinitions(env.id),
    repos.environmentVariables.listValues(env.id),
  ]);
  const defByKey = new Map(envDefs.map((d) => [d.schemaName.toLowerCase(), d]));
  const valueByKey = new Map(envValues.map((v) => [v.schemaName.toLowerCase(), v]));
  const plannedVars: PlannedVariable[] = [];
  const variables: PlanWork['variables'] = [];
  for (const v of pkg.environmentVariables) {
    const key = v.schemaName.toLowerCase();
    const type: EnvironmentVariableType = v.type === 'Unknown' ? 'String' : v.type;
    if (v.type === 'Unknown')
      warnings.push({
        code: 'VARIABLE_TYPE_UNKNOWN',
        message: `environment variable ${v.schemaName} has type code ${v.typeCode}; treated as String`,
      });
    const entry = settingsVars.get(key);
    const existingValue = valueByKey.get(key);
    let source: PlannedVariable['value']['source'];
    let value: string | undefined;
    if (entry && entry.value !== '') {
      const placeholders = findPlaceholders(entry.value);
      if (placeholders.length > 0) {
        problem({
          code: 'SETTINGS_PLACEHOLDER_UNRESOLVED',
          category: 'not-ready',
          message: `${settings!.file} ${entry.path}: the value of ${v.schemaName} is an unresolved placeholder ${placeholders.join(', ')}`,
          details: { variable: v.schemaName, placeholders, file: settings!.file, path: entry.path },
        });
      }
      source = 'settings';
      value = entry.value;
    } else if (existingValue) {
      source = 'keep';
      value = existingValue.value;
    } else if (v.currentValue !== undefined && v.currentValue !== '') {
      source = 'exported';
      value = v.currentValue;
    } else if (v.defaultValue !== undefined && v.defaultValue !== '') {
      source = 'default';
    } else {
      source = 'missing';
      problem({
        code: 'VARIABLE_VALUE_MISSING',
        category: 'not-ready',
        message: `environment variable ${v.schemaName} has no default and no value: give one in the settings file (EnvironmentVariables[].SchemaName = ${v.schemaName})`,
        details: { variable: v.schemaName, environment: env.name },
      });
    }
    const check = VALUE_CHECK[type];
    const checked = value ?? (source === 'default' ? v.defaultValue : undefined);
    if (check && checked !== undefined && !check(checked)) {
      problem({
        code: 'VARIABLE_VALUE_INVALID',
        category: 'not-ready',
        message: `the ${source} value of environment variable ${v.schemaName} is not a valid ${type}`,
        details: { variable: v.schemaName, type, source, ...(entry ? { file: settings!.file, path: entry.path } : {}) },
      });
    }
    plannedVars.push({
      schemaName: v.schemaName,
      type: v.type,
      action: defByKey.has(key) ? 'update' : 'create',
      value: { source, ...(value !== undefined && type !== 'Secret' ? { value } : {}) },
    });
    variables.push({
      schemaName: defByKey.get(key)?.schemaName ?? v.schemaName,
      displayName: v.displayName ?? v.schemaName,
      type,
      ...(v.defaultValue !== undefined ? { defaultValue: v.defaultValue } : {}),
      isRequired: v.isRequired,
      exists: defByKey.has(key),
      ...(value !== undefined ? { value } : {}),
      valueChanged: source === 'settings' || source === 'exported',
    });
  }

  // Flows.
  const envFlowById = new Map(envFlows.map((f) => [f.id, f]));
  const flowsAfter = new Map(envFlowById);
  const packageFlows: Flow[] = [];
  const connectorOfRef = (logicalName: string): string | undefined =>
    refsAfter.get(logicalName.toLowerCase())?.connectorId;
  for (const pf of pkg.flows) {
    const id = pf.workflowId.toLowerCase();
    const existing = envFlowById.get(id);
    const definitionChanged = !existing || JSON.stringify(existing.definition) !== JSON.stringify(pf.clientData);
    const f: Flow = {
      id,
      environmentId: env.id,
      name: pf.name,
      definition: pf.clientData,
      connections: flowConnectionEntries(pf, connectorOfRef),
      childFlowIds: childFlowIdsOf(pf.clientData),
      ownerId: existing?.ownerId ?? actor.id,
      coOwnerIds: existing?.coOwnerIds ?? [],
      turnedOn: existing ? existing.turnedOn : pf.onWhenExported,
      suspended: existing?.suspended ?? false,
      state: existing?.state ?? 'Off',
      reasons: existing?.reasons ?? [],
      modifiedOn: definitionChanged || existing?.name !== pf.name ? now : existing.modifiedOn,
      stateChangedOn: existing?.stateChangedOn ?? now,
      createdOn: existing?.createdOn ?? now,
    };
    packageFlows.push(f);
    flowsAfter.set(id, f);
    for (const key of f.connections
      .filter((e) => e.logicalName && !refsAfter.has(e.logicalName.toLowerCase()))
      .map((e) => e.logicalName!)) {
      warnings.push({
        code: 'REFERENCE_NOT_IN_PACKAGE',
        message: `flow ${pf.name} uses connection reference ${key}, which neither the package nor the environment holds`,
      });
    }
  }

  // Activation after the import, and flow owners' permissions.
  const connectorsAfter = [...connectorByKey.values()];
  const world = worldFromLists({
    references: [...refsAfter.values()],
    connections: envConns,
    principals,
    connectors: connectorsAfter,
    flows: [...flowsAfter.values()],
    policy: env.policy,
  });
  const evaluated = new Map<string, Flow>();
  for (const f of childrenFirst([...flowsAfter.values()])) {
    const next = applyActivation(f, evaluateFlow(f, world), now);
    world.setFlow(next);
    evaluated.set(f.id, next);
  }
  const flowsOut = packageFlows.map((f) => evaluated.get(f.id) ?? f);
  const plannedFlows: PlannedFlow[] = childrenFirst(flowsOut).map((f) => {
    const before = envFlowById.get(f.id);
    return {
      id: f.id,
      name: f.name,
      action: before ? 'update' : 'create',
      onWhenExported: pkg.flows.find((p) => p.workflowId.toLowerCase() === f.id)?.onWhenExported ?? false,
      ...(before ? { currentState: before.state } : {}),
      outcome: f.state,
      reasons: f.reasons,
      owner: principalById.get(f.ownerId)?.name ?? f.ownerId,
      childFlowIds: f.childFlowIds,
    };
  });
  for (const r of plannedRefs) {
    if (!r.binding.connectionId) continue;
    const conn: Connection | undefined = connById.get(r.binding.connectionId);
    if (!conn) continue;
    const owners = new Map<string, string[]>();
    for (const f of flowsOut) {
      if (
        f.connections.some(
          (e) => e.runtimeSource === 'embedded' && e.logicalName?.toLowerCase() === r.logicalName.toLowerCase(),
        )
      ) {
        owners.set(f.ownerId, [...(owners.get(f.ownerId) ?? []), f.name]);
      }
    }
    for (const [ownerId, flows] of owners) {
      const owner = principalById.get(ownerId);
      permissions.push({
        principal: owner?.name ?? ownerId,
        principalKind: owner?.kind ?? 'user',
        as: 'flowOwner',
        reference: r.logicalName,
        connectionId: conn.id,
        canUse: canUseConnection(ownerId, conn),
        flows,
      });
    }
  }

  const installedVersion = solution?.version;
  const blocking = problems[0];
  const plan: ImportPlan = {
    environment: env.name,
    actor: actor.name,
    solution: {
      uniqueName: pkg.manifest.uniqueName,
      displayName: pkg.manifest.localizedNames[0]?.description ?? pkg.manifest.uniqueName,
      version: pkg.manifest.version,
      managed: pkg.manifest.managed === 1,
      publisher: { uniqueName: pkg.manifest.publisher.uniqueName, prefix: pkg.manifest.publisher.prefix },
      ...(installedVersion ? { installedVersion } : {}),
      action: solution ? 'upgrade' : 'install',
    },
    connectors: [...plannedConnectors.values()],
    references: plannedRefs,
    variables: plannedVars,
    flows: plannedFlows,
    permissions,
    problems,
    warnings,
    canProceed: problems.length === 0,
    ...(blocking ? { blockingProblem: blocking } : {}),
    exitCode: blocking ? exitCodeFor(blocking.category) : 0,
  };
  if (solution && solution.managed !== (pkg.manifest.managed === 1)) {
    warnings.push({
      code: 'SOLUTION_MANAGED_CHANGED',
      message: `${pkg.manifest.uniqueName} is installed ${solution.managed ? 'managed' : 'unmanaged'}; this package is ${pkg.manifest.managed === 1 ? 'managed' : 'unmanaged'}`,
    });
  }
  if (installedVersion && compareVersions(pkg.manifest.version, installedVersion) < 0) {
    warnings.push({
      code: 'SOLUTION_VERSION_DOWNGRADE',
      message: `version ${pkg.manifest.version} is older than the installed ${installedVersion}`,
    });
  }
  return {
    plan,
    env,
    actor,
    connectorsToInstall,
    connectorsToAdd,
    references: pkg.connectionReferences.map((cr) => refsAfter.get(cr.logicalName.toLowerCase())!),
    variables,
    flows: flowsOut,
  };
}

/** Compares dotted numeric versions (`1.0.0.10` > `1.0.0.9`); missing parts count as 0. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map((x) => Number.parseInt(x, 10) || 0);
  const pb = b.split('.').map((x) => Number.parseInt(x, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i += 1) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}
