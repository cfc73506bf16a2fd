/**
 * Table types of the Patchbay store (one schema for SQLite and PostgreSQL).
 * JSON columns are TEXT holding JSON; booleans are INTEGER 0/1; timestamps are ISO 8601 TEXT (UTC).
 * Name columns ending in `_key` hold the lowercase comparison key of a case-insensitive name.
 */
import type { ExecutionTables } from './execution-schema.js';

export interface EnvironmentsTable {
  id: string;
  name: string;
  name_key: string;
  display_name: string;
  policy: string;
  created_on: string;
}

export interface PrincipalsTable {
  id: string;
  name: string;
  name_key: string;
  kind: string;
  display_name: string;
  status: string;
  created_on: string;
}

export interface RoleAssignmentsTable {
  environment_id: string;
  principal_id: string;
  role: string;
}

export interface ConnectorsTable {
  environment_id: string;
  id: string;
  id_key: string;
  display_name: string;
  kind: string;
  definition: string | null;
  package_connector_id: string | null;
  created_on: string;
  modified_on: string;
}

export interface ConnectionsTable {
  id: string;
  environment_id: string;
  connector_id: string;
  display_name: string;
  owner_id: string;
  status: string;
  status_message: string | null;
  parameter_set: string | null;
  parameters: string;
  secret_parameter_names: string;
  shares: string;
  created_on: string;
  modified_on: string;
}

export interface ConnectionReferencesTable {
  id: string;
  environment_id: string;
  logical_name: string;
  logical_name_key: string;
  display_name: string;
  connector_id: string;
  custom_connector_id: string | null;
  description: string | null;
  prompting_behavior: number | null;
  owner_id: string;
  connection_id: string | null;
  created_on: string;
  modified_on: string;
}

export interface FlowsTable {
  environment_id: string;
  id: string;
  name: string;
  definition: string;
  connections: string;
  child_flow_ids: string;
  owner_id: string;
  co_owner_ids: string;
  turned_on: number;
  suspended: number;
  state: string;
  reasons: string;
  modified_on: string;
  state_changed_on: string;
  created_on: string;
}

export interface EnvVarDefinitionsTable {
  environment_id: string;
  schema_name: string;
  schema_key: string;
  display_name: string;
  type: string;
  default_value: string | null;
  is_required: number;
  created_on: string;
  modified_on: string;
}

export interface EnvVarValuesTable {
  environment_id: string;
  schema_name: string;
  schema_key: string;
  value: string;
  modified_on: string;
}

export interface SolutionsTable {
  environment_id: string;
  unique_name: string;
  unique_name_key: string;
  display_name: string;
  version: string;
  managed: number;
  publisher: string;
  components: string;
  installed_on: string;
  modified_on: string;
}

export interface SecretsTable {
  owner_id: string;
  name: string;
  environment_id: string;
  key_id: string;
  ciphertext: string;
  modified_on: string;
}

export interface DataKeysTable {
  id: string;
  environment_id: string;
  wrapped_key: string;
  master_key_id: string;
  status: string;
  created_on: string;
}

export interface RunsTable {
  id: string;
  environment_id: string;
  flow_id: string;
  flow_name: string;
  status: string;
  started_by: string;
  invoker_id: string | null;
  start_time: string;
  end_time: string | null;
  duration_ms: number | null;
  error: string | null;
  response: string | null;
  record: string;
  resubmitted_from: string | null;
}

export interface AuditLogTable {
  id: string;
  at: string;
  actor_id: string | null;
  actor_name: string | null;
  environment_id: string | null;
  action: string;
  target_type: string;
  target_id: string;
  target_name: string | null;
  before: string | null;
  after: string | null;
  details: string | null;
}

export interface ApiTokensTable {
  id: string;
  principal_id: string;
  kind: string;
  description: string;
  hash: string;
  created_on: string;
  expires_on: string | null;
  revoked_on: string | null;
  created_by: string | null;
}

export interface ClientCredentialsTable {
  client_id: string;
  principal_id: string;
  description: string;
  secret_hash: string;
  created_on: string;
  expires_on: string | null;
  revoked_on: string | null;
}

export interface CallbackKeysTable {
  id: string;
  environment_id: string;
  flow_id: string;
  trigger_name: string;
  created_on: string;
  revoked_on: string | null;
}

/** The whole database, as Kysely sees it. */
export interface Database extends ExecutionTables {
  environments: EnvironmentsTable;
  principals: PrincipalsTable;
  role_assignments: RoleAssignmentsTable;
  connectors: ConnectorsTable;
  connections: ConnectionsTable;
  connection_references: ConnectionReferencesTable;
  flows: FlowsTable;
  env_var_definitions: EnvVarDefinitionsTable;
  env_var_values: EnvVarValuesTable;
  solutions: SolutionsTable;
  secrets: SecretsTable;
  data_keys: DataKeysTable;
  runs: RunsTable;
  audit_log: AuditLogTable;
  api_tokens: ApiTokensTable;
  client_credentials: ClientCredentialsTable;
  callback_keys: CallbackKeysTable;
}
