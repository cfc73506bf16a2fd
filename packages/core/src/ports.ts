/**
 * Ports: what the core needs from the outside world, implemented by other packages
 * (storage implements {@link Store}; the platform supplies the clock and id generator).
 */
import type {
  AuditEvent,
  Connection,
  ConnectionReference,
  Connector,
  Environment,
  EnvironmentVariableDefinition,
  EnvironmentVariableValue,
  Flow,
  Principal,
  RoleAssignment,
  Run,
  Solution,
} from './model.js';
import type { ExecutionRepositories } from './execution.js';

/** The current instant. */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
}

/** Makes new unique ids. */
export interface IdGenerator {
  /** A new id (a UUID v4 string by default). */
  newId(): string;
}

/** An encrypted secret value at rest (design §3B): AES-256-GCM under a per-environment data key. */
export interface SecretRecord {
  /** What the secret belongs to: a connection id (or `principal:<id>` for service principal credentials). */
  ownerId: string;
  environmentId: string;
  /** Parameter name (e.g. `api_key`, `password`, `oauth:refreshToken`). */
  name: string;
  /** The data key that encrypted it (see {@link DataKeyRecord}). */
  keyId: string;
  /** base64 of IV (12 bytes) ‖ ciphertext ‖ GCM tag (16 bytes). */
  ciphertext: string;
  modifiedOn: string;
}

/** A per-environment data key, wrapped (AES-256-GCM) by the master key identified by `masterKeyId`. */
export interface DataKeyRecord {
  id: string;
  environmentId: string;
  /** base64 of IV ‖ wrapped key ‖ tag. */
  wrappedKey: string;
  /** Fingerprint of the master key that wrapped it. */
  masterKeyId: string;
  /** Only one active key per environment encrypts new secrets; retired keys still decrypt until no secret uses them. */
  status: 'active' | 'retired';
  createdOn: string;
}

/**
 * An API token (design §6, issue 8): a bearer secret of a principal. Only the SHA-256 of its
 * secret part is stored; the whole token (`pbt_<id>_<secret>`) is shown once, when created.
 */
export interface ApiTokenRecord {
  /** Public id: the token's prefix part (`pbt_<id>_…`), shown in lists, used to revoke. */
  id: string;
  principalId: string;
  /** `user`: created with `patchbay token create`; `access`: a short-lived token from the client-credentials exchange. */
  kind: 'user' | 'access';
  description: string;
  /** Hex SHA-256 of the secret part (256 random bits, so no slow KDF is needed). */
  hash: string;
  createdOn: string;
  /** ISO 8601; absent = never expires. */
  expiresOn?: string;
  revokedOn?: string;
  /** Principal id of the creator. */
  createdBy?: string;
}

/** A service principal's client credentials (client id + hashed secret) for `POST /api/v1/oauth/token`. */
export interface ClientCredentialRecord {
  clientId: string;
  principalId: string;
  description: string;
  /** Hex SHA-256 of the client secret (256 random bits). */
  secretHash: string;
  createdOn: string;
  expiresOn?: string;
  revokedOn?: string;
}

/**
 * The signing key of one Request trigger's callback URL (`listCallbackUrl()`). The key material
 * lives in the secret vault (owner `callback:<id>`); revoking a key invalidates every URL signed with it.
 */
export interface CallbackKeyRecord {
  id: string;
  environmentId: string;
  flowId: string;
  triggerName: string;
  createdOn: string;
  revokedOn?: string;
}

/** Repositories of every entity. All methods are async; lookups return undefined when absent. */
export interface Repositories extends ExecutionRepositories {
  environments: {
    insert(e: Environment): Promise<void>;
    update(e: Environment): Promise<void>;
    get(id: string): Promise<Environment | undefined>;
    /** Case-insensitive. */
    getByName(name: string): Promise<Environment | undefined>;
    list(): Promise<Environment[]>;
  };
  principals: {
    insert(p: Principal): Promise<void>;
    update(p: Principal): Promise<void>;
    get(id: string): Promise<Principal | undefined>;
    /** Case-insensitive. */
    getByName(name: string): Promise<Principal | undefined>;
    list(): Promise<Principal[]>;
  };
  roles: {
    /** Inserts or replaces the role of a principal in an environment. */
    set(a: RoleAssignment): Promise<void>;
    remove(environmentId: string, principalId: string): Promise<void>;
    listForEnvironment(environmentId: string): Promise<RoleAssignment[]>;
    listForPrincipal(principalId: string): Promise<RoleAssignment[]>;
  };
  connectors: {
    /** Inserts or replaces by (environmentId, id); the id is compared case-insensitively. */
    upsert(c: Connector): Promise<void>;
    get(environmentId: string, id: string): Promise<Connector | undefined>;
    list(environmentId: string): Promise<Connector[]>;
    delete(environmentId: string, id: string): Promise<void>;
  };
  connections: {
    insert(c: Connection): Promise<void>;
    update(c: Connection): Promise<void>;
    get(id: string): Promise<Connection | undefined>;
    list(environmentId: string): Promise<Connection[]>;
    /** Connections owned by a principal, in every environment. */
    listByOwner(principalId: string): Promise<Connection[]>;
    delete(id: string): Promise<void>;
  };
  references: {
    insert(r: ConnectionReference): Promise<void>;
    update(r: ConnectionReference): Promise<void>;
    get(id: string): Promise<ConnectionReference | undefined>;
    /** Case-insensitive. */
    getByLogicalName(environmentId: string, logicalName: string): Promise<ConnectionReference | undefined>;
    list(environmentId: string): Promise<ConnectionReference[]>;
    /** References bound to a connection. */
    listByConnection(connectionId: string): Promise<ConnectionReference[]>;
    delete(id: string): Promise<void>;
  };
  flows: {
    insert(f: Flow): Promise<void>;
    update(f: Flow): Promise<void>;
    /** The flow id is unique per environment (the same workflow id exists in dev and test). */
    get(environmentId: string, id: string): Promise<Flow | undefined>;
    list(environmentId: string): Promise<Flow[]>;
    /** Flows owned by a principal, in every environment. */
    listByOwner(principalId: string): Promise<Flow[]>;
    delete(environmentId: string, id: string): Promise<void>;
  };
  environmentVariables: {
    upsertDefinition(d: EnvironmentVariableDefinition): Promise<void>;
    getDefinition(environmentId: string, schemaName: string): Promise<EnvironmentVariableDefinition | undefined>;
    listDefinitions(environmentId: string): Promise<EnvironmentVariableDefinition[]>;
    deleteDefinition(environmentId: string, schemaName: string): Promise<void>;
    upsertValue(v: EnvironmentVariableValue): Promise<void>;
    getValue(environmentId: string, schemaName: string): Promise<EnvironmentVariableValue | undefined>;
    listValues(environmentId: string): Promise<EnvironmentVariableValue[]>;
    deleteValue(environmentId: string, schemaName: string): Promise<void>;
  };
  solutions: {
    upsert(s: Solution): Promise<void>;
    /** Case-insensitive. */
    get(environmentId: string, uniqueName: string): Promise<Solution | undefined>;
    list(environmentId: string): Promise<Solution[]>;
    delete(environmentId: string, uniqueName: string): Promise<void>;
  };
  secrets: {
    /** Inserts or replaces by (ownerId, name). */
    put(s: SecretRecord): Promise<void>;
    get(ownerId: string, name: string): Promise<SecretRecord | undefined>;
    listByOwner(ownerId: string): Promise<SecretRecord[]>;
    listByEnvironment(environmentId: string): Promise<SecretRecord[]>;
    deleteByOwner(ownerId: string): Promise<void>;
    delete(ownerId: string, name: string): Promise<void>;
  };
  runs: {
    insert(r: Run): Promise<void>;
    /** Inserts many runs with as few statements as the database allows (group commit of run history). */
    insertMany(runs: Run[]): Promise<void>;
    update(r: Run): Promise<void>;
    get(id: string): Promise<Run | undefined>;
    /** Newest first. `limit` default 50. Listing omits `record` (undefined) unless `withRecord`. */
    list(q: {
      environmentId: string;
      flowId?: string;
      status?: string;
      limit?: number;
      before?: string;
      withRecord?: boolean;
    }): Promise<Run[]>;
    /** Deletes runs of the environment that started before `before` (ISO); returns how many. */
    prune(environmentId: string, before: string): Promise<number>;
  };
  audit: {
    append(e: AuditEvent): Promise<void>;
    /** Newest first; `limit` default 100. */
    list(q: {
      environmentId?: string;
      action?: string;
      actorId?: string;
      targetId?: string;
      since?: string;
      until?: string;
      limit?: number;
    }): Promise<AuditEvent[]>;
  };
  dataKeys: {
    insert(k: DataKeyRecord): Promise<void>;
    update(k: DataKeyRecord): Promise<void>;
    get(id: string): Promise<DataKeyRecord | undefined>;
    list(): Promise<DataKeyRecord[]>;
  };
  apiTokens: {
    insert(t: ApiTokenRecord): Promise<void>;
    /** Sets `revokedOn` (and nothing else). */
    revoke(id: string, at: string): Promise<void>;
    get(id: string): Promise<ApiTokenRecord | undefined>;
    /** Every token (or one principal's), newest first. */
    list(q?: { principalId?: string; kind?: ApiTokenRecord['kind'] }): Promise<ApiTokenRecord[]>;
    /** Deletes expired `access` tokens that expired before `before`; returns how many. */
    pruneExpired(before: string): Promise<number>;
  };
  clientCredentials: {
    insert(c: ClientCredentialRecord): Promise<void>;
    revoke(clientId: string, at: string): Promise<void>;
    get(clientId: string): Promise<ClientCredentialRecord | undefined>;
    list(q?: { principalId?: string }): Promise<ClientCredentialRecord[]>;
  };
  callbackKeys: {
    insert(k: CallbackKeyRecord): Promise<void>;
    revoke(id: string, at: string): Promise<void>;
    get(id: string): Promise<CallbackKeyRecord | undefined>;
    /** Keys of one flow (or of every flow of an environment), newest first. */
    list(q: { environmentId?: string; flowId?: string; activeOnly?: boolean }): Promise<CallbackKeyRecord[]>;
  };
}

/** A transactional store (SQLite or PostgreSQL). */
export interface Store {
  readonly kind: 'sqlite' | 'postgres';
  /**
   * The repositories. Inside `transaction(fn)` (in the same async context) they are the
   * transaction's; outside, each call is its own statement.
   */
  readonly repos: Repositories;
  /**
   * Runs `fn` in one transaction: every write commits together or none does (an exception rolls
   * back and is re-thrown). Nested calls join the outer transaction.
   */
  transaction<T>(fn: (tx: Repositories) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
