/**
 * The platform: application services composed from the packages (design §5). Open one with
 * {@link openPlatform} (store + keyring from a data dir / database URL) or build one from parts
 * with {@link createPlatform} (tests, embedding).
 */
import { join } from 'node:path';
import {
  isPatchbayError,
  secretError,
  type Clock,
  type DataKeyRecord,
  type IdGenerator,
  type Repositories,
  type Store,
} from '@patchbay/core';
import { openStore } from '@patchbay/storage';
import { LOCAL_ADMIN, PlatformContext, systemClock, uuidIds } from './context.js';
import { loadKeyring, type Keyring } from './secrets/keyring.js';
import { SecretVault } from './secrets/vault.js';
import { EnvironmentService } from './services/environments.js';
import { PrincipalService } from './services/principals.js';
import { ConnectorService } from './services/connectors.js';
import { ConnectionService } from './services/connections.js';
import { ReferenceService } from './services/references.js';
import { FlowService } from './services/flows.js';
import { SolutionService } from './services/solutions.js';
import { RunService } from './services/runs.js';
import { connectorRuntime } from './connectors/runtime.js';
import { AuthService } from './services/auth.js';
import { HttpTriggerService } from './services/http-triggers.js';

/** Options of {@link createPlatform}. */
export interface CreatePlatformOptions {
  store: Store;
  keyring: Keyring;
  clock?: Clock;
  ids?: IdGenerator;
  /** Environment variables (PATCHBAY_HISTORY_VALUE_CAP, …). */
  env?: Record<string, string | undefined>;
}

/** Options of {@link openPlatform}. */
export interface OpenPlatformOptions {
  /** Data directory: SQLite file `patchbay.db` (unless databaseUrl) and `master.key`. */
  dataDir: string;
  /** PostgreSQL URL; when set, the store is PostgreSQL. */
  databaseUrl?: string;
  /** Environment variables (PATCHBAY_MASTER_KEY). */
  env?: Record<string, string | undefined>;
  clock?: Clock;
  ids?: IdGenerator;
}

/** The application services. Close it to release the store. */
export class Platform {
  readonly environments: EnvironmentService;
  readonly principals: PrincipalService;
  readonly connectors: ConnectorService;
  readonly connections: ConnectionService;
  readonly references: ReferenceService;
  readonly flows: FlowService;
  readonly solutions: SolutionService;
  readonly runs: RunService;
  readonly auth: AuthService;
  readonly triggers: HttpTriggerService;

  constructor(
    readonly ctx: PlatformContext,
    env: Record<string, string | undefined> = {},
  ) {
    this.environments = new EnvironmentService(ctx);
    this.principals = new PrincipalService(ctx);
    this.connectors = new ConnectorService(ctx, this.environments);
    this.connections = new ConnectionService(ctx, this.environments);
    this.references = new ReferenceService(ctx, this.environments);
    this.flows = new FlowService(ctx, this.environments);
    this.solutions = new SolutionService(ctx, this.environments);
    this.runs = new RunService(ctx, this.environments, this.flows, env);
    connectorRuntime(ctx, this.connections, env).install(this.runs);
    this.auth = new AuthService(ctx);
    this.triggers = new HttpTriggerService(ctx, this.environments, this.flows, this.runs, env);
  }

  get store(): Store {
    return this.ctx.store;
  }

  get vault(): SecretVault {
    return this.ctx.vault;
  }

  /** Waits for HTTP-triggered runs and their history writes, then closes the store. */
  async close(): Promise<void> {
    await this.triggers.close();
    await this.ctx.store.close();
  }
}

/** Builds a platform over an open store and keyring, and makes sure the local admin exists. */
export async function createPlatform(options: CreatePlatformOptions): Promise<Platform> {
  const clock = options.clock ?? systemClock;
  const ids = options.ids ?? uuidIds;
  // Caches hear of every audited change again once its transaction committed (context.ts).
  const holder: { ctx?: PlatformContext } = {};
  const inner = options.store;
  const store = new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop === 'transaction') {
        return <T>(fn: (tx: Repositories) => Promise<T>): Promise<T> =>
          holder.ctx ? holder.ctx.withCommitNotice(() => target.transaction(fn)) : target.transaction(fn);
      }
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  const keyring = checkKeyring(options.keyring, await inner.repos.dataKeys.list());
  const vault = new SecretVault({ store, keyring, clock, ids });
  const ctx = new PlatformContext(store, vault, clock, ids);
  holder.ctx = ctx;
  await ensureLocalAdmin(ctx);
  return new Platform(ctx, options.env ?? {});
}

/** Opens the store and keyring named by the options and returns the platform. */
export async function openPlatform(options: OpenPlatformOptions): Promise<Platform> {
  const store = await openStore(
    options.databaseUrl ? { databaseUrl: options.databaseUrl } : { sqliteFile: join(options.dataDir, 'patchbay.db') },
  );
  try {
    // A key file is created only for a store that holds no encrypted data yet: a store whose data
    // keys are wrapped by a master key must be opened with that key (never a fresh one).
    const dataKeys = await store.repos.dataKeys.list();
    let keyring: Keyring;
    try {
      keyring = loadKeyring({ env: options.env ?? {}, dataDir: options.dataDir, create: dataKeys.length === 0 });
    } catch (e) {
      if (isPatchbayError(e) && e.code === 'MASTER_KEY_MISSING') {
        const ids = [...new Set(dataKeys.map((k) => k.masterKeyId))];
        throw secretError(
          'MASTER_KEY_MISSING',
          `the store holds secrets encrypted under master key ${ids.join(', ')}, and no master key was given: set PATCHBAY_MASTER_KEY or put the key file at ${join(options.dataDir, 'master.key')} (every machine using this store needs the same key)`,
          { masterKeyIds: ids, file: join(options.dataDir, 'master.key') },
        );
      }
      throw e;
    }
    return await createPlatform({
      store,
      keyring,
      env: options.env ?? {},
      ...(options.clock ? { clock: options.clock } : {}),
      ...(options.ids ? { ids: options.ids } : {}),
    });
  } catch (e) {
    await store.close();
    throw e;
  }
}

/**
 * Refuses a keyring that cannot unwrap the store's data keys (after re-reading its source once),
 * so a wrong or regenerated master key is reported at start (exit 6), not at the first secret.
 */
function checkKeyring(keyring: Keyring, dataKeys: readonly DataKeyRecord[]): Keyring {
  const missing = (k: Keyring): string[] =>
    [...new Set(dataKeys.map((d) => d.masterKeyId))].filter((id) => !k.keys.some((m) => m.id === id));
  let ring = keyring;
  if (missing(ring).length > 0) ring = ring.reload();
  const unknown = missing(ring);
  if (unknown.length > 0) {
    throw secretError(
      'MASTER_KEY_UNKNOWN',
      `the store's data keys are wrapped by master key ${unknown.join(', ')}, which ${ring.source} does not hold (it holds ${ring.keys.map((k) => k.id).join(', ')}): use the store's master key`,
      { masterKeyIds: unknown, source: ring.source },
    );
  }
  return ring;
}

async function ensureLocalAdmin(ctx: PlatformContext): Promise<void> {
  if (await ctx.store.repos.principals.getByName(LOCAL_ADMIN)) return;
  try {
    await ctx.store.transaction(async (tx) => {
      if (await tx.principals.getByName(LOCAL_ADMIN)) return;
      await tx.principals.insert({
        id: ctx.ids.newId(),
        name: LOCAL_ADMIN,
        kind: 'user',
        displayName: 'Local administrator',
        status: 'active',
        createdOn: ctx.nowIso(),
      });
    });
  } catch (e) {
    // Another process created it at the same time.
    if (!(isPatchbayError(e) && e.code === 'STORE_CONFLICT')) throw e;
  }
}
