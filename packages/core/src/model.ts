/**
 * The entity model of the Power Platform connection model (design §1–§2).
 *
 * All records are plain JSON-serialisable objects. Timestamps are ISO 8601 strings (UTC).
 * Ids are opaque strings made by the IdGenerator port, except flows, whose id is the
 * workflow id from the package (a lowercase GUID), stable across environments.
 */

/** An isolated space (dev, test, prod) with its own connections, bindings, variable values, flows and runs. */
export interface Environment {
  id: string;
  /** Unique, case-insensitive; the name used on the CLI (`--env dev`). */
  name: string;
  displayName: string;
  policy: EnvironmentPolicy;
  createdOn: string;
}

/** Per-environment policy (design §3F, §6): connector and outbound HTTP rules. */
export interface EnvironmentPolicy {
  /** Days run history is kept; older runs are pruned (default 30). */
  runRetentionDays?: number;
  /** Connector ids that may not be used in this environment (flows using them are Suspended). */
  blockedConnectors: string[];
  /** When non-empty, outbound HTTP may reach only these hosts (exact or `*.suffix`). */
  allowedHosts: string[];
  /** Hosts outbound HTTP may never reach (exact or `*.suffix`). */
  deniedHosts: string[];
  /** Whether outbound HTTP may reach loopback addresses (tests and the demo turn this on). */
  allowLoopback: boolean;
}

/** The policy of a new environment. */
export function defaultPolicy(): EnvironmentPolicy {
  return { blockedConnectors: [], allowedHosts: [], deniedHosts: [], allowLoopback: false };
}

/** Who acts: a user or a service principal (an application identity, no human behind it). */
export type PrincipalKind = 'user' | 'servicePrincipal';

/** A user or service principal. Disabled principals cannot act, and connections they own stop being usable. */
export interface Principal {
  id: string;
  /** Unique, case-insensitive (`--as alice`, `--with build-sp`). */
  name: string;
  kind: PrincipalKind;
  displayName: string;
  status: 'active' | 'disabled';
  createdOn: string;
}

/** Per-environment role (design §6). */
export type Role = 'Admin' | 'Maker' | 'Viewer';

/** A principal's role in one environment. */
export interface RoleAssignment {
  environmentId: string;
  principalId: string;
  role: Role;
}

/** Where a connector comes from. `idOnly`: known by id only (first-party connectors without a public definition). */
export type ConnectorKind = 'builtin' | 'custom' | 'idOnly';

/**
 * A connector installed in an environment. `id` is the connector name used in flows and
 * references: the api name of a first-party connector (`shared_office365`) or the logical name of
 * a custom connector (`cat_5Fcustomazuredevops`), never an environment-specific hash.
 */
export interface Connector {
  environmentId: string;
  id: string;
  displayName: string;
  kind: ConnectorKind;
  /** The custom connector definition; absent for `idOnly` connectors. */
  definition?: ConnectorDefinition;
  /**
   * The connector's row id in the package it came from (`<connectorid>` of Connectors/x.xml, the
   * `customconnectorid` of references to it): how references shipped in other solutions find it.
   */
  packageConnectorId?: string;
  createdOn: string;
  modifiedOn: string;
}

/**
 * A connector definition in the Power Platform custom connector format: OpenAPI 2.0
 * (`apiDefinition.swagger.json`) plus `apiProperties.json` properties.
 */
export interface ConnectorDefinition {
  /** The OpenAPI 2.0 document, kept as is. */
  openApi: Record<string, unknown>;
  /** `properties.connectionParameters` of apiProperties.json: name → parameter. */
  connectionParameters: Record<string, ConnectionParameter>;
  /** `properties.connectionParameterSets` when the connector offers several ways to authenticate. */
  connectionParameterSets?: ConnectionParameterSets;
  /** `properties.policyTemplateInstances`. */
  policyTemplateInstances: PolicyTemplateInstance[];
  /** Other apiProperties fields kept as is (iconBrandColor, capabilities, publisher, …). */
  otherProperties?: Record<string, unknown>;
  /** script.csx, when the connector has custom code (kept, never executed). */
  script?: string;
}

/** One connection parameter (apiProperties.json `connectionParameters[name]`). */
export interface ConnectionParameter {
  /** `string`, `securestring`, `int`, `bool`, `oauthSetting`, `gatewaySetting`, `clientCertificate`. */
  type: string;
  /** Value used when the connection does not give one. */
  defaultValue?: unknown;
  uiDefinition?: {
    displayName?: string;
    description?: string;
    tooltip?: string;
    constraints?: {
      required?: string | boolean;
      clearText?: boolean;
      hidden?: string | boolean;
      allowedValues?: Array<{ text?: string; value: string }>;
      tabIndex?: number;
    };
  };
  oAuthSettings?: Record<string, unknown>;
  metadata?: Record<string, unknown>;
}

/** `connectionParameterSets`: alternative parameter groups, one chosen per connection. */
export interface ConnectionParameterSets {
  uiDefinition?: Record<string, unknown>;
  values: Array<{
    name: string;
    uiDefinition?: Record<string, unknown>;
    metadata?: Record<string, unknown>;
    parameters: Record<string, ConnectionParameter>;
  }>;
}

/** A policy template instance from apiProperties.json (setheader, setqueryparameter, dynamichosturl, routerequesttoendpoint, …). */
export interface PolicyTemplateInstance {
  templateId: string;
  title?: string;
  parameters: Record<string, unknown>;
}

/** Usability status of a connection. Only `Connected` connections can be used. */
export type ConnectionStatus = 'Connected' | 'Error' | 'NeedsReconnect';

/** Sharing level on a connection. */
export type ShareRole = 'CanUse' | 'CanUseAndShare';

/** A share of a connection with a principal. */
export interface ConnectionShare {
  principalId: string;
  role: ShareRole;
}

/**
 * The credentials for one connector in one environment, owned by a principal. Never solution
 * aware, never exported. Secret parameter values are not part of this record: the secret store
 * keeps them encrypted; `secretParameterNames` only names them (design §2 invariant 5).
 */
export interface Connection {
  id: string;
  environmentId: string;
  connectorId: string;
  displayName: string;
  ownerId: string;
  status: ConnectionStatus;
  /** Why the status is not Connected (no secret content). */
  statusMessage?: string;
  /** The chosen `connectionParameterSets` value, when the connector has sets. */
  parameterSet?: string;
  /** Non-secret connection parameters (server name, region, …). */
  parameters: Record<string, string | number | boolean>;
  /** Names of the secret parameters stored encrypted for this connection. */
  secretParameterNames: string[];
  shares: ConnectionShare[];
  createdOn: string;
  modifiedOn: string;
}

/**
 * Solution-aware metadata naming a connector; holds no credentials. Bound, per environment, to
 * at most one connection of the same connector (`connectionId`, the binding).
 */
export interface ConnectionReference {
  id: string;
  environmentId: string;
  /** Unique per environment, compared case-insensitively, original casing kept. */
  logicalName: string;
  displayName: string;
  connectorId: string;
  /** The custom connector's id in the package (`customconnectorid`), when the connector is custom. */
  customConnectorId?: string;
  description?: string;
  /** `promptingbehavior` from the package: 0 prompt on import, 1 skip. */
  promptingBehavior?: number;
  ownerId: string;
  /** The binding in this environment: the connection id, or null when unbound. */
  connectionId: string | null;
  createdOn: string;
  modifiedOn: string;
}

/** How a flow uses one connection key (`properties.connectionReferences[key]` of the flow JSON). */
export interface FlowConnectionEntry {
  key: string;
  /** The reference's logical name; absent when the flow embeds a connection (legacy form). */
  logicalName?: string;
  /** `embedded`: the bound connection is used with the flow owner's rights; `invoker`: the caller's own connection. */
  runtimeSource: 'embedded' | 'invoker';
  /** The connector id (api name or custom connector logical name). */
  connectorId: string;
}

/** Flow state (design §2 invariant 3). */
export type FlowState = 'On' | 'Off' | 'Suspended';

/** Stable codes of the reasons a flow is not On. */
export type FlowReasonCode =
  | 'turned_off'
  | 'unbound'
  | 'reference_missing'
  | 'wrong_connector'
  | 'connection_missing'
  | 'not_shared_with_owner'
  | 'owner_disabled'
  | 'connection_error'
  | 'flow_owner_disabled'
  | 'connector_missing'
  | 'connector_blocked'
  | 'embeds_connection'
  | 'child_flow_off'
  | 'child_flow_missing';

/** A machine-readable reason why a flow is Off or Suspended, one per reference (or per flow). */
export interface FlowReason {
  code: FlowReasonCode;
  /** The connection key in the flow's map. */
  connectionKey?: string;
  /** The reference logical name concerned. */
  reference?: string;
  /** The connection concerned. */
  connectionId?: string;
  /** The principal concerned (owner disabled, not shared with). */
  principalId?: string;
  connectorId?: string;
  /** The child flow concerned (child_flow_off, child_flow_missing). */
  flowId?: string;
  message: string;
}

/**
 * A cloud flow in an environment. `definition` is the flow JSON (Dataverse `clientdata`:
 * `{properties: {definition, connectionReferences, …}, schemaVersion}`) kept exactly as imported.
 */
export interface Flow {
  /** The workflow id (lowercase GUID), stable across environments. */
  id: string;
  environmentId: string;
  /** Display name. */
  name: string;
  definition: unknown;
  connections: FlowConnectionEntry[];
  /** Workflow ids of the child flows it calls (`Workflow` actions, `host.workflowReferenceName`). */
  childFlowIds: string[];
  ownerId: string;
  coOwnerIds: string[];
  /** Whether the flow should run: set by turning it on/off and by import; the state also needs every reference usable. */
  turnedOn: boolean;
  /** Set by policy (blocked connector) or an admin: the flow may not run even when turned on. */
  suspended: boolean;
  /** The computed state (see activation.ts); stored so lists are cheap, re-evaluated on every relevant change. */
  state: FlowState;
  reasons: FlowReason[];
  /** Changes only when the definition, name or owners change — never on re-binding (invariant 4). */
  modifiedOn: string;
  /** When `state` last changed. */
  stateChangedOn: string;
  createdOn: string;
}

/** Environment variable type names (environmentvariabledefinition `type` 100000000…100000005). */
export type EnvironmentVariableType = 'String' | 'Number' | 'Boolean' | 'JSON' | 'DataSource' | 'Secret';

/** An environment variable definition (solution-aware). */
export interface EnvironmentVariableDefinition {
  environmentId: string;
  schemaName: string;
  displayName: string;
  type: EnvironmentVariableType;
  defaultValue?: string;
  isRequired: boolean;
  createdOn: string;
  modifiedOn: string;
}

/** The value of an environment variable in one environment (not solution-aware when set by settings). */
export interface EnvironmentVariableValue {
  environmentId: string;
  schemaName: string;
  value: string;
  modifiedOn: string;
}

/** What kind of component a solution holds. */
export type SolutionComponentType = 'flow' | 'connectionReference' | 'environmentVariable' | 'connector';

/** A component of an installed solution, by its id (flow id, reference logical name, schema name, connector id). */
export interface SolutionComponent {
  type: SolutionComponentType;
  id: string;
}

/** A solution installed in an environment. */
export interface Solution {
  environmentId: string;
  /** Unique per environment, case-insensitive. */
  uniqueName: string;
  displayName: string;
  version: string;
  managed: boolean;
  publisher: { uniqueName: string; prefix: string };
  components: SolutionComponent[];
  installedOn: string;
  modifiedOn: string;
}

/** Final or current status of a run (Logic Apps run statuses). */
export type RunStatusName = 'Running' | 'Succeeded' | 'Failed' | 'Cancelled' | 'Skipped';

/**
 * A flow run as stored (design §3G). `record` is the redacted run history produced by the engine
 * (trigger, every action execution with inputs, outputs, status, timing, retries, iterations;
 * secure data already redacted, large values cut with a marker). Times are ISO 8601.
 */
export interface Run {
  id: string;
  environmentId: string;
  flowId: string;
  flowName: string;
  status: RunStatusName;
  /** What started it: `manual`, `http`, `recurrence`, `child`, `resubmit`, `test`. */
  startedBy: string;
  /** The principal that started it, when known. */
  invokerId?: string;
  startTime: string;
  endTime?: string;
  durationMs?: number;
  error?: { code: string; message: string };
  /** The flow's answer (Response action), redacted like the history. */
  response?: { statusCode: number; headers?: Record<string, string>; body?: unknown };
  /** The redacted history record (engine RunRecord). */
  record: unknown;
  /** The run this one resubmits, when it is a resubmission. */
  resubmittedFrom?: string;
}

/**
 * One audit log entry (design §6): every change (who, when, what, before/after without secrets)
 * and every secret decryption (which run, which action, which connection).
 */
export interface AuditEvent {
  id: string;
  /** ISO 8601. */
  at: string;
  /** The acting principal (absent for the system itself, e.g. a scheduled run). */
  actorId?: string;
  actorName?: string;
  environmentId?: string;
  /** Dotted verb, e.g. `connection.create`, `reference.bind`, `solution.import`, `secret.decrypt`. */
  action: string;
  target: { type: string; id: string; name?: string };
  /** State before and after the change, without secret values. */
  before?: unknown;
  after?: unknown;
  /** More context: for `secret.decrypt` `{runId, actionName, connectionId, secretNames}`. */
  details?: Record<string, unknown>;
}
