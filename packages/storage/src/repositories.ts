/**
 * Repositories of the core's `Repositories` port over a Kysely handle (a database or a
 * transaction). Mapping between records and rows lives here; no business rule does.
 */
import { CompiledQuery, SqliteAdapter, type Kysely } from 'kysely';
import type {
  ApiTokenRecord,
  AuditEvent,
  CallbackKeyRecord,
  ClientCredentialRecord,
  Connection,
  ConnectionReference,
  Connector,
  DataKeyRecord,
  Environment,
  EnvironmentVariableDefinition,
  EnvironmentVariableValue,
  Flow,
  Principal,
  Repositories,
  RoleAssignment,
  Run,
  SecretRecord,
  Solution,
} from '@patchbay/core';
import type {
  ConnectionReferencesTable,
  ConnectionsTable,
  ConnectorsTable,
  Database,
  EnvVarDefinitionsTable,
  FlowsTable,
  SolutionsTable,
} from './schema.js';
import { createExecutionRepositories } from './execution-repositories.js';

const j = (v: unknown): string => JSON.stringify(v);
const p = <T>(s: string): T => JSON.parse(s) as T;
const opt = <T>(v: T | null | undefined): T | undefined => (v === null ? undefined : v);

function connectorFromRow(r: ConnectorsTable): Connector {
  const c: Connector = {
    environmentId: r.environment_id,
    id: r.id,
    displayName: r.display_name,
    kind: r.kind as Connector['kind'],
    createdOn: r.created_on,
    modifiedOn: r.modified_on,
  };
  if (r.definition !== null) c.definition = p(r.definition);
  if (r.package_connector_id !== null) c.packageConnectorId = r.package_connector_id;
  return c;
}

function connectionFromRow(r: ConnectionsTable): Connection {
  const c: Connection = {
    id: r.id,
    environmentId: r.environment_id,
    connectorId: r.connector_id,
    displayName: r.display_name,
    ownerId: r.owner_id,
    status: r.status as Connection['status'],
    parameters: p(r.parameters),
    secretParameterNames: p(r.secret_parameter_names),
    shares: p(r.shares),
    createdOn: r.created_on,
    modifiedOn: r.modified_on,
  };
  if (r.status_message !== null) c.statusMessage = r.status_message;
  if (r.parameter_set !== null) c.parameterSet = r.parameter_set;
  return c;
}

function connectionRow(c: Connection): ConnectionsTable {
  return {
    id: c.id,
    environment_id: c.environmentId,
    connector_id: c.connectorId,
    display_name: c.displayName,
    owner_id: c.ownerId,
    status: c.status,
    status_message: c.statusMessage ?? null,
    parameter_set: c.parameterSet ?? null,
    parameters: j(c.parameters),
    secret_parameter_names: j(c.secretParameterNames),
    shares: j(c.shares),
    created_on: c.createdOn,
    modified_on: c.modifiedOn,
  };
}

function referenceFromRow(r: ConnectionReferencesTable): ConnectionReference {
  const ref: ConnectionReference = {
    id: r.id,
    environmentId: r.environment_id,
    logicalName: r.logical_name,
    displayName: r.display_name,
    connectorId: r.connector_id,
    ownerId: r.owner_id,
    connectionId: r.connection_id,
    createdOn: r.created_on,
    modifiedOn: r.modified_on,
  };
  const cc = opt(r.custom_connector_id);
  if (cc !== undefined) ref.customConnectorId = cc;
  const d = opt(r.description);
  if (d !== undefined) ref.description = d;
  const pb = opt(r.prompting_behavior);
  if (pb !== undefined) ref.promptingBehavior = Number(pb);
  return ref;
}

function referenceRow(r: ConnectionReference): ConnectionReferencesTable {
  return {
    id: r.id,
    environment_id: r.environmentId,
    logical_name: r.logicalName,
    logical_name_key: r.logicalName.toLowerCase(),
    display_name: r.displayName,
    connector_id: r.connectorId,
    custom_connector_id: r.customConnectorId ?? null,
    description: r.description ?? null,
    prompting_behavior: r.promptingBehavior ?? null,
    owner_id: r.ownerId,
    connection_id: r.connectionId,
    created_on: r.createdOn,
    modified_on: r.modifiedOn,
  };
}

function flowFromRow(r: FlowsTable): Flow {
  return {
    id: r.id,
    environmentId: r.environment_id,
    name: r.name,
    definition: p(r.definition),
    connections: p(r.connections),
    childFlowIds: p(r.child_flow_ids),
    ownerId: r.owner_id,
    coOwnerIds: p(r.co_owner_ids),
    turnedOn: Number(r.turned_on) === 1,
    suspended: Number(r.suspended) === 1,
    state: r.state as Flow['state'],
    reasons: p(r.reasons),
    modifiedOn: r.modified_on,
    stateChangedOn: r.state_changed_on,
    createdOn: r.created_on,
  };
}

function flowRow(f: Flow): FlowsTable {
  return {
    environment_id: f.environmentId,
    id: f.id,
    name: f.name,
    definition: j(f.definition),
    connections: j(f.connections),
    child_flow_ids: j(f.childFlowIds),
    owner_id: f.ownerId,
    co_owner_ids: j(f.coOwnerIds),
    turned_on: f.turnedOn ? 1 : 0,
    suspended: f.suspended ? 1 : 0,
    state: f.state,
    reasons: j(f.reasons),
    modified_on: f.modifiedOn,
    state_changed_on: f.stateChangedOn,
    created_on: f.createdOn,
  };
}

function envVarDefFromRow(r: EnvVarDefinitionsTable): EnvironmentVariableDefinition {
  const d: EnvironmentVariableDefinition = {
    environmentId: r.environment_id,
    schemaName: r.schema_name,
    displayName: r.display_name,
    type: r.type as EnvironmentVariableDefinition['type'],
    isRequired: Number(r.is_required) === 1,
    createdOn: r.created_on,
    modifiedOn: r.modified_on,
  };
  if (r.default_value !== null) d.defaultValue = r.default_value;
  return d;
}

function solutionFromRow(r: SolutionsTable): Solution {
  return {
    environmentId: r.environment_id,
    uniqueName: r.unique_name,
    displayName: r.display_name,
    version: r.version,
    managed: Number(r.managed) === 1,
    publisher: p(r.publisher),
    components: p(r.components),
    installedOn: r.installed_on,
    modifiedOn: r.modified_on,
  };
}

/** Builds the repositories over a Kysely database or transaction handle. */
export function createRepositories(db: Kysely<Database>): Repositories {
  return {
    ...createExecutionRepositories(db),
    environments: {
      async insert(e: Environment) {
        await db
          .insertInto('environments')
          .values({
            id: e.id,
            name: e.name,
            name_key: e.name.toLowerCase(),
            display_name: e.displayName,
            policy: j(e.policy),
            created_on: e.createdOn,
          })
          .execute();
      },
      async update(e: Environment) {
        await db
          .updateTable('environments')
          .set({ name: e.name, name_key: e.name.toLowerCase(), display_name: e.displayName, policy: j(e.policy) })
          .where('id', '=', e.id)
          .execute();
      },
      async get(id) {
        const r = await db.selectFrom('environments').selectAll().where('id', '=', id).executeTakeFirst();
        return (
          r && { id: r.id, name: r.name, displayName: r.display_name, policy: p(r.policy), createdOn: r.created_on }
        );
      },
      async getByName(name) {
        const r = await db
          .selectFrom('environments')
          .selectAll()
          .where('name_key', '=', name.toLowerCase())
          .executeTakeFirst();
        return (
          r && { id: r.id, name: r.name, displayName: r.display_name, policy: p(r.policy), createdOn: r.created_on }
        );
      },
      async list() {
        const rows = await db.selectFrom('environments').selectAll().orderBy('name_key').execute();
        return rows.map((r) => ({
          id: r.id,
          name: r.name,
          displayName: r.display_name,
          policy: p(r.policy),
          createdOn: r.created_on,
        }));
      },
    },
    principals: {
      async insert(x: Principal) {
        await db
          .insertInto('principals')
          .values({
            id: x.id,
            name: x.name,
            name_key: x.name.toLowerCase(),
            kind: x.kind,
            display_name: x.displayName,
            status: x.status,
            created_on: x.createdOn,
          })
          .execute();
      },
      async update(x: Principal) {
        await db
          .updateTable('principals')
          .set({
            name: x.name,
            name_key: x.name.toLowerCase(),
            kind: x.kind,
            display_name: x.displayName,
            status: x.status,
          })
          .where('id', '=', x.id)
          .execute();
      },
      async get(id) {
        const r = await db.selectFrom('principals').selectAll().where('id', '=', id).executeTakeFirst();
        return r && principalFromRow(r);
      },
      async getByName(name) {
        const r = await db
          .selectFrom('principals')
          .selectAll()
          .where('name_key', '=', name.toLowerCase())
          .executeTakeFirst();
        return r && principalFromRow(r);
      },
      async list() {
        return (await db.selectFrom('principals').selectAll().orderBy('name_key').execute()).map(principalFromRow);
      },
    },
    roles: {
      async set(a: RoleAssignment) {
        await db
          .deleteFrom('role_assignments')
          .where('environment_id', '=', a.environmentId)
          .where('principal_id', '=', a.principalId)
          .execute();
        await db
          .insertInto('role_assignments')
          .values({ environment_id: a.environmentId, principal_id: a.principalId, role: a.role })
          .execute();
      },
      async remove(environmentId, principalId) {
        await db
          .deleteFrom('role_assignments')
          .where('environment_id', '=', environmentId)
          .where('principal_id', '=', principalId)
          .execute();
      },
      async listForEnvironment(environmentId) {
        const rows = await db
          .selectFrom('role_assignments')
          .selectAll()
          .where('environment_id', '=', environmentId)
          .execute();
        return rows.map((r) => ({
          environmentId: r.environment_id,
          principalId: r.principal_id,
          role: r.role as RoleAssignment['role'],
        }));
      },
      async listForPrincipal(principalId) {
        const rows = await db
          .selectFrom('role_assignments')
          .selectAll()
          .where('principal_id', '=', principalId)
          .execute();
        return rows.map((r) => ({
          environmentId: r.environment_id,
          principalId: r.principal_id,
          role: r.role as RoleAssignment['role'],
        }));
      },
    },
    connectors: {
      async upsert(c: Connector) {
        const row: ConnectorsTable = {
          environment_id: c.environmentId,
          id: c.id,
          id_key: c.id.toLowerCase(),
          display_name: c.displayName,
          kind: c.kind,
          definition: c.definition === undefined ? null : j(c.definition),
          package_connector_id: c.packageConnectorId ?? null,
          created_on: c.createdOn,
          modified_on: c.modifiedOn,
        };
        await db
          .deleteFrom('connectors')
          .where('environment_id', '=', c.environmentId)
          .where('id_key', '=', row.id_key)
          .execute();
        await db.insertInto('connectors').values(row).execute();
      },
      async get(environmentId, id) {
        const r = await db
          .selectFrom('connectors')
          .selectAll()
          .where('environment_id', '=', environmentId)
          .where('id_key', '=', id.toLowerCase())
          .executeTakeFirst();
        return r && connectorFromRow(r);
      },
      async list(environmentId) {
        const rows = await db
          .selectFrom('connectors')
          .selectAll()
          .where('environment_id', '=', environmentId)
          .orderBy('id_key')
          .execute();
        return rows.map(connectorFromRow);
      },
      async delete(environmentId, id) {
        await db
          .deleteFrom('connectors')
          .where('environment_id', '=', environmentId)
          .where('id_key', '=', id.toLowerCase())
          .execute();
      },
    },
    connections: {
      async insert(c) {
        await db.insertInto('connections').values(connectionRow(c)).execute();
      },
      async update(c) {
        const { id: _id, ...rest } = connectionRow(c);
        await db.updateTable('connections').set(rest).where('id', '=', c.id).execute();
      },
      async get(id) {
        const r = await db.selectFrom('connections').selectAll().where('id', '=', id).executeTakeFirst();
        return r && connectionFromRow(r);
      },
      async list(environmentId) {
        const rows = await db
          .selectFrom('connections')
          .selectAll()
          .where('environment_id', '=', environmentId)
          .orderBy('created_on')
          .orderBy('id')
          .execute();
        return rows.map(connectionFromRow);
      },
      async listByOwner(principalId) {
        const rows = await db
          .selectFrom('connections')
          .selectAll()
          .where('owner_id', '=', principalId)
          .orderBy('id')
          .execute();
        return rows.map(connectionFromRow);
      },
      async delete(id) {
        await db.deleteFrom('connections').where('id', '=', id).execute();
      },
    },
    references: {
      async insert(r) {
        await db.insertInto('connection_references').values(referenceRow(r)).execute();
      },
      async update(r) {
        const { id: _id, ...rest } = referenceRow(r);
        await db.updateTable('connection_references').set(rest).where('id', '=', r.id).execute();
      },
      async get(id) {
        const r = await db.selectFrom('connection_references').selectAll().where('id', '=', id).executeTakeFirst();
        return r && referenceFromRow(r);
      },
      async getByLogicalName(environmentId, logicalName) {
        const r = await db
          .selectFrom('connection_references')
          .selectAll()
          .where('environment_id', '=', environmentId)
          .where('logical_name_key', '=', logicalName.toLowerCase())
          .executeTakeFirst();
        return r && referenceFromRow(r);
      },
      async list(environmentId) {
        const rows = await db
          .selectFrom('connection_references')
          .selectAll()
          .where('environment_id', '=', environmentId)
          .orderBy('logical_name_key')
          .execute();
        return rows.map(referenceFromRow);
      },
      async listByConnection(connectionId) {
        const rows = await db
          .selectFrom('connection_references')
          .selectAll()
          .where('connection_id', '=', connectionId)
          .orderBy('logical_name_key')
          .execute();
        return rows.map(referenceFromRow);
      },
      async delete(id) {
        await db.deleteFrom('connection_references').where('id', '=', id).execute();
      },
    },
    flows: {
      async insert(f) {
        await db.insertInto('flows').values(flowRow(f)).execute();
      },
      async update(f) {
        const { environment_id: _e, id: _id, ...rest } = flowRow(f);
        await db
          .updateTable('flows')
          .set(rest)
          .where('environment_id', '=', f.environmentId)
          .where('id', '=', f.id)
          .execute();
      },
      async get(environmentId, id) {
        const r = await db
          .selectFrom('flows')
          .selectAll()
          .where('environment_id', '=', environmentId)
          .where('id', '=', id.toLowerCase())
          .executeTakeFirst();
        return r && flowFromRow(r);
      },
      async list(environmentId) {
        const rows = await db
          .selectFrom('flows')
          .selectAll()
          .where('environment_id', '=', environmentId)
          .orderBy('name')
          .orderBy('id')
          .execute();
        return rows.map(flowFromRow);
      },
      async listByOwner(principalId) {
        const rows = await db
          .selectFrom('flows')
          .selectAll()
          .where('owner_id', '=', principalId)
          .orderBy('id')
          .execute();
        return rows.map(flowFromRow);
      },
      async delete(environmentId, id) {
        await db.deleteFrom('flows').where('environment_id', '=', environmentId).where('id', '=', id).execute();
      },
    },
    environmentVariables: {
      async upsertDefinition(d) {
        const key = d.schemaName.toLowerCase();
        await db
          .deleteFrom('env_var_definitions')
          .where('environment_id', '=', d.environmentId)
          .where('schema_key', '=', key)
          .execute();
        await db
          .insertInto('env_var_definitions')
          .values({
            environment_id: d.environmentId,
            schema_name: d.schemaName,
            schema_key: key,
            display_name: d.displayName,
            type: d.type,
            default_value: d.defaultValue ?? null,
            is_required: d.isRequired ? 1 : 0,
            created_on: d.createdOn,
            modified_on: d.modifiedOn,
          })
          .execute();
      },
      async getDefinition(environmentId, schemaName) {
        const r = await db
          .selectFrom('env_var_definitions')
          .selectAll()
          .where('environment_id', '=', environmentId)
          .where('schema_key', '=', schemaName.toLowerCase())
          .executeTakeFirst();
        return r && envVarDefFromRow(r);
      },
      async listDefinitions(environmentId) {
        const rows = await db
          .selectFrom('env_var_definitions')
          .selectAll()
          .where('environment_id', '=', environmentId)
          .orderBy('schema_key')
          .execute();
        return rows.map(envVarDefFromRow);
      },
      async deleteDefinition(environmentId, schemaName) {
        await db
          .deleteFrom('env_var_definitions')
          .where('environment_id', '=', environmentId)
          .where('schema_key', '=', schemaName.toLowerCase())
          .execute();
      },
      async upsertValue(v: EnvironmentVariableValue) {
        const key = v.schemaName.toLowerCase();
        await db
          .deleteFrom('env_var_values')
          .where('environment_id', '=', v.environmentId)
          .where('schema_key', '=', key)
          .execute();
        await db
          .insertInto('env_var_values')
          .values({
            environment_id: v.environmentId,
            schema_name: v.schemaName,
            schema_key: key,
            value: v.value,
            modified_on: v.modifiedOn,
          })
          .execute();
      },
      async getValue(environmentId, schemaName) {
        const r = await db
          .selectFrom('env_var_values')
          .selectAll()
          .where('environment_id', '=', environmentId)
          .where('schema_key', '=', schemaName.toLowerCase())
          .executeTakeFirst();
        return (
          r && { environmentId: r.environment_id, schemaName: r.schema_name, value: r.value, modifiedOn: r.modified_on }
        );
      },
      async listValues(environmentId) {
        const rows = await db
          .selectFrom('env_var_values')
          .selectAll()
          .where('environment_id', '=', environmentId)
          .orderBy('schema_key')
          .execute();
        return rows.map((r) => ({
          environmentId: r.environment_id,
          schemaName: r.schema_name,
          value: r.value,
          modifiedOn: r.modified_on,
        }));
      },
      async deleteValue(environmentId, schemaName) {
        await db
          .deleteFrom('env_var_values')
          .where('environment_id', '=', environmentId)
          .where('schema_key', '=', schemaName.toLowerCase())
          .execute();
      },
    },
    solutions: {
      async upsert(s: Solution) {
        const key = s.uniqueName.toLowerCase();
        await db
          .deleteFrom('solutions')
          .where('environment_id', '=', s.environmentId)
          .where('unique_name_key', '=', key)
          .execute();
        await db
          .insertInto('solutions')
          .values({
            environment_id: s.environmentId,
            unique_name: s.uniqueName,
            unique_name_key: key,
            display_name: s.displayName,
            version: s.version,
            managed: s.managed ? 1 : 0,
            publisher: j(s.publisher),
            components: j(s.components),
            installed_on: s.installedOn,
            modified_on: s.modifiedOn,
          })
          .execute();
      },
      async get(environmentId, uniqueName) {
        const r = await db
          .selectFrom('solutions')
          .selectAll()
          .where('environment_id', '=', environmentId)
          .where('unique_name_key', '=', uniqueName.toLowerCase())
          .executeTakeFirst();
        return r && solutionFromRow(r);
      },
      async list(environmentId) {
        const rows = await db
          .selectFrom('solutions')
          .selectAll()
          .where('environment_id', '=', environmentId)
          .orderBy('unique_name_key')
          .execute();
        return rows.map(solutionFromRow);
      },
      async delete(environmentId, uniqueName) {
        await db
          .deleteFrom('solutions')
          .where('environment_id', '=', environmentId)
          .where('unique_name_key', '=', uniqueName.toLowerCase())
          .execute();
      },
    },
    secrets: {
      async put(s: SecretRecord) {
        await db.deleteFrom('secrets').where('owner_id', '=', s.ownerId).where('name', '=', s.name).execute();
        await db
          .insertInto('secrets')
          .values({
            owner_id: s.ownerId,
            name: s.name,
            environment_id: s.environmentId,
            key_id: s.keyId,
            ciphertext: s.ciphertext,
            modified_on: s.modifiedOn,
          })
          .execute();
      },
      async get(ownerId, name) {
        const r = await db
          .selectFrom('secrets')
          .selectAll()
          .where('owner_id', '=', ownerId)
          .where('name', '=', name)
          .executeTakeFirst();
        return r && secretFromRow(r);
      },
      async listByOwner(ownerId) {
        return (
          await db.selectFrom('secrets').selectAll().where('owner_id', '=', ownerId).orderBy('name').execute()
        ).map(secretFromRow);
      },
      async listByEnvironment(environmentId) {
        return (
          await db
            .selectFrom('secrets')
            .selectAll()
            .where('environment_id', '=', environmentId)
            .orderBy('owner_id')
            .orderBy('name')
            .execute()
        ).map(secretFromRow);
      },
      async deleteByOwner(ownerId) {
        await db.deleteFrom('secrets').where('owner_id', '=', ownerId).execute();
      },
      async delete(ownerId, name) {
        await db.deleteFrom('secrets').where('owner_id', '=', ownerId).where('name', '=', name).execute();
      },
    },
    runs: {
      async insert(r: Run) {
        await db.insertInto('runs').values(runRow(r)).execute();
      },
      async insertMany(runs: Run[]) {
        // Multi-row VALUES compiled by hand (no query building per value): for group commit of
        // run history. At most 500 rows (7,000 parameters) per statement.
        const dialect = isSqlite(db) ? 'sqlite' : 'postgres';
        for (let i = 0; i < runs.length; i += 500) {
          const chunk = runs.slice(i, i + 500);
          const params: unknown[] = [];
          for (const r of chunk) {
            const row = runRow(r);
            for (const c of RUN_COLUMNS) params.push(row[c]);
          }
          await db.executeQuery(CompiledQuery.raw(insertRunsSql(dialect, chunk.length), params));
        }
      },
      async update(r: Run) {
        const { id: _id, ...rest } = runRow(r);
        await db.updateTable('runs').set(rest).where('id', '=', r.id).execute();
      },
      async get(id) {
        const r = await db.selectFrom('runs').selectAll().where('id', '=', id).executeTakeFirst();
        return r && runFromRow(r, true);
      },
      async list(q) {
        let query = db.selectFrom('runs').where('environment_id', '=', q.environmentId);
        if (q.flowId) query = query.where('flow_id', '=', q.flowId);
        if (q.status) query = query.where('status', '=', q.status);
        if (q.before) query = query.where('start_time', '<', q.before);
        const rows = await (
          q.withRecord
            ? query.selectAll()
            : query.select([
                'id',
                'environment_id',
                'flow_id',
                'flow_name',
                'status',
                'started_by',
                'invoker_id',
                'start_time',
                'end_time',
                'duration_ms',
                'error',
                'response',
                'resubmitted_from',
              ])
        )
          .orderBy('start_time', 'desc')
          .orderBy('id', 'desc')
          .limit(q.limit ?? 50)
          .execute();
        return rows.map((r) => runFromRow({ record: 'null', ...r }, Boolean(q.withRecord)));
      },
      async prune(environmentId, before) {
        const res = await db
          .deleteFrom('runs')
          .where('environment_id', '=', environmentId)
          .where('start_time', '<', before)
          .executeTakeFirst();
        return Number(res.numDeletedRows);
      },
    },
    audit: {
      async append(e: AuditEvent) {
        await db
          .insertInto('audit_log')
          .values({
            id: e.id,
            at: e.at,
            actor_id: e.actorId ?? null,
            actor_name: e.actorName ?? null,
            environment_id: e.environmentId ?? null,
            action: e.action,
            target_type: e.target.type,
            target_id: e.target.id,
            target_name: e.target.name ?? null,
            before: e.before === undefined ? null : j(e.before),
            after: e.after === undefined ? null : j(e.after),
            details: e.details === undefined ? null : j(e.details),
          })
          .execute();
      },
      async list(q) {
        let query = db.selectFrom('audit_log').selectAll();
        if (q.environmentId) query = query.where('environment_id', '=', q.environmentId);
        if (q.action)
          query = q.action.endsWith('.*')
            ? query.where('action', 'like', `${q.action.slice(0, -1)}%`)
            : query.where('action', '=', q.action);
        if (q.actorId) query = query.where('actor_id', '=', q.actorId);
        if (q.targetId) query = query.where('target_id', '=', q.targetId);
        if (q.since) query = query.where('at', '>=', q.since);
        if (q.until) query = query.where('at', '<', q.until);
        const rows = await query
          .orderBy('at', 'desc')
          .orderBy('id', 'desc')
          .limit(q.limit ?? 100)
          .execute();
        return rows.map((r) => {
          const e: AuditEvent = {
            id: r.id,
            at: r.at,
            action: r.action,
            target: { type: r.target_type, id: r.target_id },
          };
          if (r.target_name !== null) e.target.name = r.target_name;
          if (r.actor_id !== null) e.actorId = r.actor_id;
          if (r.actor_name !== null) e.actorName = r.actor_name;
          if (r.environment_id !== null) e.environmentId = r.environment_id;
          if (r.before !== null) e.before = p(r.before);
          if (r.after !== null) e.after = p(r.after);
          if (r.details !== null) e.details = p(r.details);
          return e;
        });
      },
    },
    apiTokens: {
      async insert(t: ApiTokenRecord) {
        await db
          .insertInto('api_tokens')
          .values({
            id: t.id,
            principal_id: t.principalId,
            kind: t.kind,
            description: t.description,
            hash: t.hash,
            created_on: t.createdOn,
            expires_on: t.expiresOn ?? null,
            revoked_on: t.revokedOn ?? null,
            created_by: t.createdBy ?? null,
          })
          .execute();
      },
      async revoke(id, at) {
        await db
          .updateTable('api_tokens')
          .set({ revoked_on: at })
          .where('id', '=', id)
          .where('revoked_on', 'is', null)
          .execute();
      },
      async get(id) {
        const r = await db.selectFrom('api_tokens').selectAll().where('id', '=', id).executeTakeFirst();
        return r && apiTokenFromRow(r);
      },
      async list(q = {}) {
        let query = db.selectFrom('api_tokens').selectAll();
        if (q.principalId) query = query.where('principal_id', '=', q.principalId);
        if (q.kind) query = query.where('kind', '=', q.kind);
        return (await query.orderBy('created_on', 'desc').orderBy('id').execute()).map(apiTokenFromRow);
      },
      async pruneExpired(before) {
        const res = await db
          .deleteFrom('api_tokens')
          .where('kind', '=', 'access')
          .where('expires_on', '<', before)
          .executeTakeFirst();
        return Number(res.numDeletedRows);
      },
    },
    clientCredentials: {
      async insert(c: ClientCredentialRecord) {
        await db
          .insertInto('client_credentials')
          .values({
            client_id: c.clientId,
            principal_id: c.principalId,
            description: c.description,
            secret_hash: c.secretHash,
            created_on: c.createdOn,
            expires_on: c.expiresOn ?? null,
            revoked_on: c.revokedOn ?? null,
          })
          .execute();
      },
      async revoke(clientId, at) {
        await db
          .updateTable('client_credentials')
          .set({ revoked_on: at })
          .where('client_id', '=', clientId)
          .where('revoked_on', 'is', null)
          .execute();
      },
      async get(clientId) {
        const r = await db
          .selectFrom('client_credentials')
          .selectAll()
          .where('client_id', '=', clientId)
          .executeTakeFirst();
        return r && clientCredentialFromRow(r);
      },
      async list(q = {}) {
        let query = db.selectFrom('client_credentials').selectAll();
        if (q.principalId) query = query.where('principal_id', '=', q.principalId);
        return (await query.orderBy('created_on', 'desc').orderBy('client_id').execute()).map(clientCredentialFromRow);
      },
    },
    callbackKeys: {
      async insert(k: CallbackKeyRecord) {
        await db
          .insertInto('callback_keys')
          .values({
            id: k.id,
            environment_id: k.environmentId,
            flow_id: k.flowId,
            trigger_name: k.triggerName,
            created_on: k.createdOn,
            revoked_on: k.revokedOn ?? null,
          })
          .execute();
      },
      async revoke(id, at) {
        await db
          .updateTable('callback_keys')
          .set({ revoked_on: at })
          .where('id', '=', id)
          .where('revoked_on', 'is', null)
          .execute();
      },
      async get(id) {
        const r = await db.selectFrom('callback_keys').selectAll().where('id', '=', id).executeTakeFirst();
        return r && callbackKeyFromRow(r);
      },
      async list(q) {
        let query = db.selectFrom('callback_keys').selectAll();
        if (q.environmentId) query = query.where('environment_id', '=', q.environmentId);
        if (q.flowId) query = query.where('flow_id', '=', q.flowId);
        if (q.activeOnly) query = query.where('revoked_on', 'is', null);
        return (await query.orderBy('created_on', 'desc').orderBy('id').execute()).map(callbackKeyFromRow);
      },
    },
    dataKeys: {
      async insert(k: DataKeyRecord) {
        await db
          .insertInto('data_keys')
          .values({
            id: k.id,
            environment_id: k.environmentId,
            wrapped_key: k.wrappedKey,
            master_key_id: k.masterKeyId,
            status: k.status,
            created_on: k.createdOn,
          })
          .execute();
      },
      async update(k: DataKeyRecord) {
        await db
          .updateTable('data_keys')
          .set({ wrapped_key: k.wrappedKey, master_key_id: k.masterKeyId, status: k.status })
          .where('id', '=', k.id)
          .execute();
      },
      async get(id) {
        const r = await db.selectFrom('data_keys').selectAll().where('id', '=', id).executeTakeFirst();
        return r && dataKeyFromRow(r);
      },
      async list() {
        return (await db.selectFrom('data_keys').selectAll().orderBy('created_on').orderBy('id').execute()).map(
          dataKeyFromRow,
        );
      },
    },
  };
}

/** The columns of the runs table, in the order of {@link runRow}. */
const RUN_COLUMNS = [
  'id',
  'environment_id',
  'flow_id',
  'flow_name',
  'status',
  'started_by',
  'invoker_id',
  'start_time',
  'end_time',
  'duration_ms',
  'error',
  'response',
  'record',
  'resubmitted_from',
] as const;

function isSqlite(db: Kysely<Database>): boolean {
  return db.getExecutor().adapter instanceof SqliteAdapter;
}

const insertRunsCache = new Map<string, string>();

/** `INSERT INTO runs (…) VALUES (…), …` for `rows` rows, with the dialect's placeholders (cached per size). */
function insertRunsSql(dialect: 'sqlite' | 'postgres', rows: number): string {
  const key = `${dialect}:${rows}`;
  let text = insertRunsCache.get(key);
  if (!text) {
    const n = RUN_COLUMNS.length;
    const tuples: string[] = [];
    for (let r = 0; r < rows; r++) {
      tuples.push(`(${RUN_COLUMNS.map((_, c) => (dialect === 'sqlite' ? '?' : `$${r * n + c + 1}`)).join(', ')})`);
    }
    text = `INSERT INTO runs (${RUN_COLUMNS.map((c) => `"${c}"`).join(', ')}) VALUES ${tuples.join(', ')}`;
    if (insertRunsCache.size > 1000) insertRunsCache.clear();
    insertRunsCache.set(key, text);
  }
  return text;
}

function runRow(r: Run): Database['runs'] {
  return {
    id: r.id,
    environment_id: r.environmentId,
    flow_id: r.flowId,
    flow_name: r.flowName,
    status: r.status,
    started_by: r.startedBy,
    invoker_id: r.invokerId ?? null,
    start_time: r.startTime,
    end_time: r.endTime ?? null,
    duration_ms: r.durationMs ?? null,
    error: r.error ? j(r.error) : null,
    response: r.response ? j(r.response) : null,
    record: j(r.record ?? null),
    resubmitted_from: r.resubmittedFrom ?? null,
  };
}

function runFromRow(r: Database['runs'], withRecord: boolean): Run {
  const run: Run = {
    id: r.id,
    environmentId: r.environment_id,
    flowId: r.flow_id,
    flowName: r.flow_name,
    status: r.status as Run['status'],
    startedBy: r.started_by,
    startTime: r.start_time,
    record: withRecord ? p(r.record) : undefined,
  };
  if (r.invoker_id !== null) run.invokerId = r.invoker_id;
  if (r.end_time !== null) run.endTime = r.end_time;
  if (r.duration_ms !== null) run.durationMs = Number(r.duration_ms);
  if (r.error !== null) run.error = p(r.error);
  if (r.response !== null) run.response = p(r.response);
  if (r.resubmitted_from !== null) run.resubmittedFrom = r.resubmitted_from;
  return run;
}

function principalFromRow(r: Database['principals']): Principal {
  return {
    id: r.id,
    name: r.name,
    kind: r.kind as Principal['kind'],
    displayName: r.display_name,
    status: r.status as Principal['status'],
    createdOn: r.created_on,
  };
}

function secretFromRow(r: Database['secrets']): SecretRecord {
  return {
    ownerId: r.owner_id,
    name: r.name,
    environmentId: r.environment_id,
    keyId: r.key_id,
    ciphertext: r.ciphertext,
    modifiedOn: r.modified_on,
  };
}

function dataKeyFromRow(r: Database['data_keys']): DataKeyRecord {
  return {
    id: r.id,
    environmentId: r.environment_id,
    wrappedKey: r.wrapped_key,
    masterKeyId: r.master_key_id,
    status: r.status as DataKeyRecord['status'],
    createdOn: r.created_on,
  };
}

function apiTokenFromRow(r: Database['api_tokens']): ApiTokenRecord {
  const t: ApiTokenRecord = {
    id: r.id,
    principalId: r.principal_id,
    kind: r.kind as ApiTokenRecord['kind'],
    description: r.description,
    hash: r.hash,
    createdOn: r.created_on,
  };
  if (r.expires_on !== null) t.expiresOn = r.expires_on;
  if (r.revoked_on !== null) t.revokedOn = r.revoked_on;
  if (r.created_by !== null) t.createdBy = r.created_by;
  return t;
}

function clientCredentialFromRow(r: Database['client_credentials']): ClientCredentialRecord {
  const c: ClientCredentialRecord = {
    clientId: r.client_id,
    principalId: r.principal_id,
    description: r.description,
    secretHash: r.secret_hash,
    createdOn: r.created_on,
  };
  if (r.expires_on !== null) c.expiresOn = r.expires_on;
  if (r.revoked_on !== null) c.revokedOn = r.revoked_on;
  return c;
}

function callbackKeyFromRow(r: Database['callback_keys']): CallbackKeyRecord {
  const k: CallbackKeyRecord = {
    id: r.id,
    environmentId: r.environment_id,
    flowId: r.flow_id,
    triggerName: r.trigger_name,
    createdOn: r.created_on,
  };
  if (r.revoked_on !== null) k.revokedOn = r.revoked_on;
  return k;
}
