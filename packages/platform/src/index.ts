/**
 * @patchbay/platform — application services (import/plan/apply, bind, share, run, analyse)
 * composed from the other packages; the queue and scheduler interfaces.
 */
export {
  Platform,
  createPlatform,
  openPlatform,
  type CreatePlatformOptions,
  type OpenPlatformOptions,
} from './platform.js';
export { PlatformContext, LOCAL_ADMIN, systemClock, uuidIds } from './context.js';
export {
  loadKeyring,
  masterKeyId,
  writeKeyFile,
  type Keyring,
  type MasterKey,
  type LoadKeyringOptions,
} from './secrets/keyring.js';
export { SecretVault, type RotationReport, type SecretVaultOptions } from './secrets/vault.js';
export { EnvironmentService, type CreateEnvironmentOptions } from './services/environments.js';
export { PrincipalService, type CreatePrincipalOptions, type PrincipalChange } from './services/principals.js';
export { BUILTIN_CONNECTOR_IDS, builtinConnectors, isBuiltinConnector } from './services/builtins.js';
export { ConnectorService, findConnector, type InstallConnectorOptions } from './services/connectors.js';
export { ConnectionService, type ConnectionChange, type CreateConnectionOptions } from './services/connections.js';
export {
  ReferenceService,
  usagesOf,
  type BindResult,
  type CreateReferenceOptions,
  type ReferenceUsage,
} from './services/references.js';
export { FlowService } from './services/flows.js';
export { loadWorld, reevaluateEnvironment, reevaluateAll } from './services/activation.js';
export { resolveConnection, type ResolveConnectionOptions, type ResolvedConnection } from './services/resolution.js';
export * from './runner/index.js';
export { toConnectorDefinition, connectorIdFromName } from './services/connector-definition.js';
export { SolutionService, type PlanOptions } from './services/solutions.js';
export type {
  ImportPlan,
  PlanProblem,
  PlannedConnector,
  PlannedReference,
  PlannedVariable,
  PlannedFlow,
  PlannedPermission,
} from './deploy/plan.js';
export type { ImportOptions, ImportResult, ImportStep, FlowOutcome } from './deploy/apply.js';
export { effectiveVariableValues, setVariableValue, variableSecretOwner } from './deploy/variables.js';
export { childFlowIdsOf } from './deploy/flow-records.js';
export {
  RunService,
  capHistory,
  DEFAULT_HISTORY_VALUE_CAP,
  type RunOptions,
  type ConnectorInvokerFactory,
} from './services/runs.js';
export {
  AuthService,
  unauthenticated,
  TOKEN_CACHE_MS,
  ACCESS_TOKEN_SECONDS,
  type CreatedToken,
  type CreatedClientCredentials,
} from './services/auth.js';
export {
  HttpTriggerService,
  requestTriggerOf,
  FLOW_CACHE_MS,
  KEY_RECHECK_MS,
  type CallbackUrl,
  type TriggerRequest,
  type TriggerAnswer,
  type QueuedTriggerRun,
} from './services/http-triggers.js';
export { RunBatcher, type RunBatcherStats } from './services/run-batcher.js';
export { buildExportPackage, type ExportOptions } from './deploy/export.js';
export type { ChangeEvent } from './context.js';
export * from './views.js';
export * from './connectors/index.js';
export * from './execution/index.js';
