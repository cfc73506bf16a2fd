/**
 * Signing connections in and testing them (design §3B; CLI `patchbay connection create --oauth`,
 * `connection reconnect`, `connection test`).
 *
 * OAuth sign-in:
 * - authorization code (`oauthSetting` without a client-credentials grant type): Patchbay listens
 *   on `http://127.0.0.1:<port>/oauth/callback` (RFC 8252 loopback redirect; register it with the
 *   identity provider — for providers that ignore the port of loopback redirects any port works,
 *   otherwise pass a fixed port), hands the authorization URL to the caller (the CLI prints it),
 *   waits for the browser to come back, checks state and PKCE, and exchanges the code;
 * - client credentials (a service principal): the token is requested at once with the client id
 *   (`token:clientId` parameter, or `clientId`) and secret (`token:clientSecret` secret parameter,
 *   or `clientSecret`).
 * The client id defaults to the connector's `oAuthSettings.clientId`; the client secret of an
 * authorization-code connector is given with the sign-in (connector definitions hold no secrets).
 * Tokens and the client secret are stored encrypted as the connection's `$oauth` secret; the
 * connection becomes Connected and flows re-evaluate. Nothing is written when the sign-in fails.
 */
import { forbidden, invalid, notFound, type Connection } from '@patchbay/core';
import {
  callConnector,
  clientCredentialsTokens,
  connectionAuthScheme,
  connectorApi,
  finishAuthorization,
  httpPolicyFromEnvironment,
  startAuthorization,
  startLoopbackCallback,
  type AuthScheme,
  type OAuthSettings,
  type OutboundHttpClient,
  type TokenSet,
} from '@patchbay/connectors';
import type { Platform } from '../platform.js';
import { findConnector } from '../services/connectors.js';
import { cacheKeyOf } from './invoker.js';
import { connectorRuntime } from './runtime.js';
import { decryptConnectionSecrets, redactSecrets } from './secrets.js';
import { mergeTokens, OAUTH_SECRET, parseOAuthState, type OAuthState } from './tokens.js';

/** How the sign-in reaches the user and how long it waits. */
export interface OAuthSignInOptions {
  /** Client id (default: the connector's `oAuthSettings.clientId`, or the `token:clientId` parameter). */
  clientId?: string;
  /** Client secret (default: the `token:clientSecret` secret parameter). */
  clientSecret?: string;
  /** Port of the loopback callback (default: any free port). */
  port?: number;
  /** Receives the authorization URL to open in a browser (authorization code grant). */
  onAuthorizationUrl?: (url: string) => void | Promise<void>;
  /** How long to wait for the browser, in ms (default 300,000). */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** Options of {@link createOAuthConnection}. */
export interface CreateOAuthConnectionOptions extends OAuthSignInOptions {
  environment: string;
  connector: string;
  displayName: string;
  parameterSet?: string;
  parameters?: Record<string, string>;
  secretParameters?: Record<string, string>;
  actor?: string;
}

type OAuthScheme = Extract<AuthScheme, { kind: 'oauth2' }>;

async function signIn(
  p: Platform,
  o: {
    scheme: OAuthScheme;
    secrets: Record<string, string>;
    http: OutboundHttpClient;
    previous?: OAuthState;
  } & OAuthSignInOptions,
): Promise<OAuthState> {
  const settings: OAuthSettings = o.scheme.settings;
  const clientId = o.clientId ?? o.previous?.clientId ?? settings.clientId;
  if (!clientId)
    throw invalid(
      'OAUTH_CLIENT_ID_REQUIRED',
      'the connector names no OAuth client id; give one with --oauth-client-id',
      { field: 'clientId' },
    );
  const clientSecret = o.clientSecret ?? o.secrets['token:clientSecret'] ?? o.previous?.clientSecret;
  const common = {
    settings,
    clientId,
    ...(clientSecret ? { clientSecret } : {}),
    http: o.http,
    now: () => p.ctx.clock.now(),
  };
  let tokens: TokenSet;
  if (settings.grantType === 'client_credentials') tokens = await clientCredentialsTokens(common);
  else {
    const cb = await startLoopbackCallback(o.port !== undefined ? { port: o.port } : {});
    try {
      const request = await startAuthorization({ ...common, redirectUri: cb.redirectUri });
      const arrived = cb.wait({
        ...(o.signal ? { signal: o.signal } : {}),
        ...(o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {}),
      });
      arrived.catch(() => undefined);
      await o.onAuthorizationUrl?.(request.url);
      tokens = await finishAuthorization({ ...common, request, callbackUrl: await arrived });
    } finally {
      await cb.close();
    }
  }
  const state: OAuthState = {
    ...(o.previous ?? {}),
    clientId,
    ...(o.clientSecret ? { clientSecret: o.clientSecret } : {}),
  };
  return mergeTokens(state, tokens);
}

/**
 * Creates a connection and signs it in with OAuth 2.0 (see the module comment). The connection is
 * written only after the sign-in succeeded, Connected, with its tokens encrypted.
 * @throws OAUTH_NOT_SUPPORTED when the connector does not use OAuth; OAUTH_* sign-in errors.
 */
export async function createOAuthConnection(p: Platform, o: CreateOAuthConnectionOptions): Promise<Connection> {
  const env = await p.environments.get(o.environment);
  const connector = await p.connectors.get(env.name, o.connector);
  const parameters = o.parameters ?? {};
  const scheme = await connectionAuthScheme(
    connector,
    { parameters, ...(o.parameterSet ? { parameterSet: o.parameterSet } : {}) },
    cacheKeyOf(connector),
  );
  if (scheme.kind !== 'oauth2')
    throw invalid(
      'OAUTH_NOT_SUPPORTED',
      `connector ${connector.id} does not use OAuth 2.0${o.parameterSet ? ` in parameter set ${o.parameterSet}` : ''}; create the connection without --oauth`,
      {
        connector: connector.id,
      },
    );
  const runtime = connectorRuntime(p.ctx, p.connections);
  const http = runtime.connectorClient(env);
  try {
    const state = await signIn(p, { ...o, scheme, secrets: o.secretParameters ?? {}, http });
    return await p.store.transaction(async (tx) => {
      const created = await p.connections.create({
        environment: env.name,
        connector: connector.id,
        displayName: o.displayName,
        ...(o.parameterSet ? { parameterSet: o.parameterSet } : {}),
        parameters,
        ...(o.secretParameters ? { secretParameters: o.secretParameters } : {}),
        ...(o.actor ? { actor: o.actor } : {}),
      });
      await p.vault.put(tx, {
        environmentId: env.id,
        ownerId: created.id,
        name: OAUTH_SECRET,
        value: JSON.stringify(state),
      });
      await p.ctx.audit(tx, {
        environmentId: env.id,
        action: 'connection.signin',
        target: { type: 'connection', id: created.id, name: created.displayName },
        details: { grant: scheme.settings.grantType },
      });
      return (await p.connections.setStatus({ id: created.id, status: 'Connected' })).connection;
    });
  } finally {
    await http.close();
  }
}

/**
 * Signs an existing OAuth connection in again (after NeedsReconnect): new tokens, status
 * Connected, flows re-evaluated. Only the owner or an environment Admin may.
 */
export async function reconnectOAuthConnection(
  p: Platform,
  o: OAuthSignInOptions & { id: string; actor?: string },
): Promise<Connection> {
  const conn = await p.connections.get(o.id);
  const actor = await p.ctx.actor(o.actor);
  if (conn.ownerId !== actor.id && !(await p.ctx.isAdmin(actor, conn.environmentId))) {
    throw forbidden(
      'CONNECTION_RECONNECT_NOT_PERMITTED',
      `principal ${actor.name} cannot sign connection ${conn.id} in: only its owner or an Admin can`,
      { connection: conn.id },
    );
  }
  const connector = await findConnector(p.store.repos, conn.environmentId, conn.connectorId);
  if (!connector)
    throw notFound('CONNECTOR_NOT_FOUND', `connector ${conn.connectorId} of connection ${conn.id} is not installed`, {
      connector: conn.connectorId,
    });
  const scheme = await connectionAuthScheme(connector, conn, cacheKeyOf(connector));
  if (scheme.kind !== 'oauth2')
    throw invalid('OAUTH_NOT_SUPPORTED', `connection ${conn.id} does not use OAuth 2.0`, { connection: conn.id });
  const env = await p.store.repos.environments.get(conn.environmentId);
  const secrets = await decryptConnectionSecrets(p.ctx, conn, { purpose: 'oauth-connect', actor });
  const runtime = connectorRuntime(p.ctx, p.connections);
  const http = runtime.connectorClient({ policy: env!.policy });
  try {
    const state = await signIn(p, { ...o, scheme, secrets, http, previous: parseOAuthState(secrets[OAUTH_SECRET]) });
    return await p.store.transaction(async (tx) => {
      await p.vault.put(tx, {
        environmentId: conn.environmentId,
        ownerId: conn.id,
        name: OAUTH_SECRET,
        value: JSON.stringify(state),
      });
      await p.ctx.audit(tx, {
        actor,
        environmentId: conn.environmentId,
        action: 'connection.signin',
        target: { type: 'connection', id: conn.id, name: conn.displayName },
        details: { grant: scheme.settings.grantType, reconnect: true },
      });
      return (await p.connections.setStatus({ id: conn.id, status: 'Connected' })).connection;
    });
  } finally {
    await http.close();
  }
}

/** The outcome of {@link testConnection}. */
export interface ConnectionTestResult {
  connection: string;
  connector: string;
  /** `passed`, `failed`, or `untested` (nothing to call: no test operation and no OAuth token). */
  result: 'passed' | 'failed' | 'untested';
  /** What was tried: `operation` (the connector's `x-ms-capabilities.testConnection`), `sql`, `oauth-token`, `none`. */
  method: 'operation' | 'sql' | 'oauth-token' | 'none';
  operationId?: string;
  statusCode?: number;
  message: string;
}

/**
 * Tests a connection: calls the connector's `x-ms-capabilities.testConnection` operation when it
 * has one (with `parameters` for its required parameters), runs `SELECT 1` for the SQL connector,
 * or gets an OAuth access token. Decryption is audited (purpose `connection-test`). The connection's
 * status is not changed, except that an OAuth connection whose token cannot be renewed becomes
 * NeedsReconnect, as at run time.
 */
export async function testConnection(
  p: Platform,
  o: { id: string; actor?: string; parameters?: Record<string, unknown> },
): Promise<ConnectionTestResult> {
  const conn = await p.connections.get(o.id);
  const actor = await p.ctx.actor(o.actor);
  const connector = await findConnector(p.store.repos, conn.environmentId, conn.connectorId);
  if (!connector)
    throw notFound('CONNECTOR_NOT_FOUND', `connector ${conn.connectorId} of connection ${conn.id} is not installed`, {
      connector: conn.connectorId,
    });
  const env = await p.store.repos.environments.get(conn.environmentId);
  const runtime = connectorRuntime(p.ctx, p.connections);
  const http = runtime.connectorClient({ policy: env!.policy });
  const base = { connection: conn.id, connector: connector.id };
  let secrets: Record<string, string> = {};
  let method: ConnectionTestResult['method'] = 'none';
  let operationId: string | undefined;
  try {
    secrets = await decryptConnectionSecrets(p.ctx, conn, { purpose: 'connection-test', actor });
    const values = {
      parameters: conn.parameters,
      secrets: Object.fromEntries(Object.entries(secrets).filter(([k]) => !k.startsWith('$'))),
      ...(conn.parameterSet ? { parameterSet: conn.parameterSet } : {}),
    };
    const cacheKey = cacheKeyOf(connector);
    const scheme = await connectionAuthScheme(connector, values, cacheKey);
    const accessToken =
      scheme.kind === 'oauth2'
        ? (t?: { forceRefresh?: boolean }) =>
            runtime.tokens.accessToken({
              connection: conn,
              settings: scheme.settings,
              secrets,
              http,
              ...(t?.forceRefresh ? { forceRefresh: true } : {}),
              why: { purpose: 'connection-test', actor },
            })
        : undefined;
    const common = {
      connector,
      connection: values,
      http,
      policy: httpPolicyFromEnvironment(env?.policy),
      cacheKey,
      ...(accessToken ? { accessToken } : {}),
    };
    if (connector.id.toLowerCase() === 'shared_sql') {
      method = 'sql';
      const r = await callConnector({
        ...common,
        actionType: 'OpenApiConnection',
        host: { operationId: 'ExecutePassThroughNativeQuery_V2' },
        inputs: { parameters: { 'query/query': 'SELECT 1 AS ok' } },
      });
      return {
        ...base,
        result: 'passed',
        method: 'sql',
        statusCode: r.statusCode,
        message: 'the database answered SELECT 1',
      };
    }
    const testOp = connector.definition
      ? (await connectorApi(connector, cacheKey)).testConnectionOperationId
      : undefined;
    if (testOp) {
      method = 'operation';
      operationId = testOp;
      const r = await callConnector({
        ...common,
        actionType: 'OpenApiConnection',
        host: { operationId: testOp },
        inputs: { parameters: o.parameters ?? {} },
      });
      const ok = r.statusCode >= 200 && r.statusCode < 300;
      return {
        ...base,
        result: ok ? 'passed' : 'failed',
        method: 'operation',
        operationId: testOp,
        statusCode: r.statusCode,
        message: `${testOp} answered HTTP ${r.statusCode}`,
      };
    }
    if (accessToken) {
      method = 'oauth-token';
      await accessToken();
      return { ...base, result: 'passed', method: 'oauth-token', message: 'an access token is available' };
    }
    return {
      ...base,
      result: 'untested',
      method: 'none',
      message: `connector ${connector.id} has no test operation (x-ms-capabilities.testConnection); its secrets decrypt`,
    };
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code && /^(OPERATION_PARAMETER_MISSING|OPERATION_NOT_FOUND)$/.test(code)) throw e;
    return {
      ...base,
      result: 'failed',
      method,
      ...(operationId ? { operationId } : {}),
      message: redactSecrets(`${code ? `${code}: ` : ''}${(e as Error).message}`, Object.values(secrets)),
    };
  } finally {
    await http.close();
  }
}
