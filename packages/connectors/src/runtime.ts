/**
 * One connector call (design §3A/§3D): a connector, the values of the connection it goes through,
 * and an action's evaluated inputs → the HTTP answer `{statusCode, headers, body}`.
 *
 * - Custom connectors: the OpenAPI operation (`host.operationId` for `OpenApiConnection*`, the
 *   `method` + `path` of `ApiConnection*`) → request (openapi/request.ts) → authentication from
 *   the connection (auth/scheme.ts) → policy templates (policies.ts) → the outbound client →
 *   response policies → body parsed by the operation's schema. With OAuth, a 401 answer gets one
 *   retry with a freshly refreshed token.
 * - Built-ins: `shared_sql` (sql/connector.ts) and `shared_patchbayhttp` (`InvokeHttp`: a request
 *   relative to the connection's base URL, with its credentials).
 *
 * Resolving which connection a call uses, decrypting its secrets and keeping OAuth tokens fresh is
 * the platform's job; this module receives the values and an `accessToken` callback.
 * Webhook actions (`*Webhook`: subscribe, then wait for a callback) are not carried out:
 * WEBHOOK_ACTION_NOT_SUPPORTED.
 */
import { invalid, notFound, notReady, type Connector } from '@patchbay/core';
import type { OutboundHttpClient } from './http/client.js';
import type { HttpPolicy } from './http/policy.js';
import { applyAuth, authSchemeOf, type AuthScheme } from './auth/scheme.js';
import { loadConnectorApi, type ConnectorApi } from './openapi/document.js';
import {
  buildApiConnectionRequest,
  buildOperationRequest,
  encodeBody,
  requestUrl,
  type PreparedRequest,
} from './openapi/request.js';
import { parseResponseBody } from './openapi/response.js';
import { applyRequestPolicies, applyResponsePolicies } from './policies.js';
import { invokeSqlOperation, type SqlConnectionSettings } from './sql/connector.js';

/** A connection's values at call time (decrypted secrets included; never log them). */
export interface ConnectionValues {
  parameters: Record<string, string | number | boolean>;
  /** Secret parameters by name (decrypted). */
  secrets: Record<string, string>;
  parameterSet?: string;
}

/** Options of {@link callConnector}. */
export interface ConnectorCallOptions {
  connector: Connector;
  connection: ConnectionValues;
  /** `OpenApiConnection`, `ApiConnection`, their `Webhook`/`Notification` forms. */
  actionType: string;
  /** Action name, for error messages. */
  action?: string;
  /** The action's raw `host` (`operationId`, `apiId`, …). */
  host?: Record<string, unknown>;
  /** Evaluated inputs without `host`: `parameters` (OpenApiConnection) or `method`/`path`/`queries`/`headers`/`body` (ApiConnection). */
  inputs: Record<string, unknown>;
  http: OutboundHttpClient;
  /** Host policy (SQL servers are checked with it; HTTP calls are checked by `http`). */
  policy: HttpPolicy;
  /** The current OAuth access token; `forceRefresh` after a 401. Required for OAuth connectors. */
  accessToken?: (o?: { forceRefresh?: boolean }) => Promise<string>;
  signal?: AbortSignal;
  /** Cache key of the parsed OpenAPI document (e.g. environment + connector + modified time). */
  cacheKey?: string;
}

/** The answer of a connector call. */
export interface ConnectorResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: unknown;
  /** The operation called, when known. */
  operationId?: string;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** All connection values by name (secrets included), for auth and policy templates. */
export function connectionValueMap(c: ConnectionValues): Record<string, unknown> {
  return { ...c.parameters, ...c.secrets };
}

function valueOf(c: ConnectionValues): (name: string) => string | undefined {
  const all = connectionValueMap(c);
  return (name) => {
    const k = name in all ? name : Object.keys(all).find((x) => x.toLowerCase() === name.toLowerCase());
    const v = k === undefined ? undefined : all[k];
    return v === undefined || v === null ? undefined : String(v);
  };
}

/** The API of a connector (parsed OpenAPI document, cached by `cacheKey`). */
export function connectorApi(connector: Connector, cacheKey?: string): Promise<ConnectorApi> {
  return loadConnectorApi(connector.definition?.openApi ?? {}, {
    connector: connector.id,
    ...(cacheKey ? { cacheKey } : {}),
  });
}

/** The authentication scheme of a connection of a connector. */
export async function connectionAuthScheme(
  connector: Connector,
  connection: Pick<ConnectionValues, 'parameters' | 'parameterSet'>,
  cacheKey?: string,
): Promise<AuthScheme> {
  if (connector.id.toLowerCase() === 'shared_sql' || connector.id.toLowerCase() === 'shared_patchbayhttp')
    return { kind: 'none' };
  const api = await connectorApi(connector, cacheKey);
  return authSchemeOf({
    definition: connector.definition,
    api,
    ...(connection.parameterSet ? { parameterSet: connection.parameterSet } : {}),
    values: connection.parameters,
  });
}

/** Prepares the request of a custom connector call (operation, parameters, policies; no auth). Exported for tests and benchmarks. */
export async function prepareConnectorRequest(
  o: Omit<ConnectorCallOptions, 'http' | 'policy' | 'accessToken'>,
): Promise<{ request: PreparedRequest; api: ConnectorApi }> {
  const api = await connectorApi(o.connector, o.cacheKey);
  const kind = o.actionType.toLowerCase();
  let request: PreparedRequest;
  if (kind.startsWith('openapiconnection')) {
    const id = o.host?.['operationId'];
    if (typeof id !== 'string' || !id)
      throw invalid('OPERATION_ID_MISSING', `action${o.action ? ` '${o.action}'` : ''} names no host.operationId`, {
        ...(o.action ? { action: o.action } : {}),
      });
    const operation = api.operation(id);
    if (!operation)
      throw notFound('OPERATION_NOT_FOUND', `connector ${o.connector.id} has no operation ${id}`, {
        connector: o.connector.id,
        operation: id,
        ...(o.action ? { action: o.action } : {}),
      });
    request = buildOperationRequest({
      api,
      operation,
      parameters: isObject(o.inputs['parameters']) ? o.inputs['parameters'] : {},
      ...(o.action ? { action: o.action } : {}),
    });
  } else {
    request = buildApiConnectionRequest({ api, inputs: o.inputs, ...(o.action ? { action: o.action } : {}) });
  }
  return { request, api };
}

/**
 * The request a custom connector call sends (operation, parameters, authentication, policies),
 * without sending it. For tests, benchmarks and `connection test --dry-run`-style tools; the
 * result holds credentials, so never log it.
 */
export async function buildConnectorRequest(
  o: Omit<ConnectorCallOptions, 'http' | 'policy' | 'accessToken'> & { accessToken?: string },
): Promise<{ method: string; url: string; headers: Record<string, string>; body?: string | Uint8Array }> {
  const { request, api } = await prepareConnectorRequest(o);
  const def = o.connector.definition;
  const scheme = authSchemeOf({
    definition: def,
    api,
    ...(o.connection.parameterSet ? { parameterSet: o.connection.parameterSet } : {}),
    values: o.connection.parameters,
  });
  const req: PreparedRequest = { ...request, headers: { ...request.headers }, query: [...request.query] };
  applyAuth(req, scheme, valueOf(o.connection), o.accessToken);
  applyRequestPolicies(
    def?.policyTemplateInstances ?? [],
    {
      connectionParameters: connectionValueMap(o.connection),
      ...(request.operation ? { operationId: request.operation.operationId } : {}),
    },
    req,
  );
  return {
    method: req.method,
    url: requestUrl(req, o.connector.id),
    headers: req.headers,
    ...(req.body !== undefined ? { body: req.body } : {}),
  };
}

async function send(
  o: ConnectorCallOptions,
  req: PreparedRequest,
): Promise<{ statusCode: number; headers: Record<string, string>; body: Uint8Array }> {
  const res = await o.http.request({
    method: req.method,
    url: requestUrl(req, o.connector.id),
    headers: req.headers,
    ...(req.body !== undefined && req.method !== 'GET' && req.method !== 'HEAD' ? { body: req.body } : {}),
    ...(o.signal ? { signal: o.signal } : {}),
  });
  return res;
}

/** InvokeHttp of the built-in `shared_patchbayhttp` connector. */
async function callHttpWithCredentials(o: ConnectorCallOptions): Promise<ConnectorResponse> {
  const op = String(o.host?.['operationId'] ?? 'InvokeHttp');
  if (op.toLowerCase() !== 'invokehttp')
    throw notFound('OPERATION_NOT_FOUND', `connector shared_patchbayhttp has no operation ${op}; it has InvokeHttp`, {
      connector: 'shared_patchbayhttp',
      operation: op,
    });
  const p = isObject(o.inputs['parameters']) ? o.inputs['parameters'] : o.inputs;
  const get = (n: string): unknown =>
    p[`request/${n}`] ?? (isObject(p['request']) ? p['request'][n] : undefined) ?? p[n];
  const v = valueOf(o.connection);
  const base = new URL(v('baseUrl') ?? '');
  const rawUrl = String(get('url') ?? get('uri') ?? '');
  const target = new URL(rawUrl, base.href.endsWith('/') ? base.href : `${base.href}/`);
  const basePath = base.pathname.replace(/\/+$/, '');
  const inside =
    target.origin === base.origin &&
    (basePath === '' || target.pathname === basePath || target.pathname.startsWith(`${basePath}/`));
  if (!inside)
    throw invalid(
      'HTTP_URL_OUTSIDE_BASE',
      `request URL must stay under the connection's base URL ${base.origin}${base.pathname}`,
      { base: `${base.origin}${base.pathname}` },
    );
  const headers: Record<string, string> = {};
  const h = get('headers');
  if (isObject(h)) for (const [k, x] of Object.entries(h)) headers[k] = String(x);
  const body = encodeBody(get('body'), headers, []);
  const auth = (v('authType') ?? 'none').toLowerCase();
  if (auth === 'basic')
    headers['Authorization'] =
      `Basic ${Buffer.from(`${v('username') ?? ''}:${v('password') ?? ''}`).toString('base64')}`;
  else if (auth === 'bearer') headers['Authorization'] = `Bearer ${v('apiKey') ?? ''}`;
  else if (auth === 'apikey') headers[v('apiKeyHeader') ?? 'X-API-Key'] = v('apiKey') ?? '';
  const method = String(get('method') ?? 'GET').toUpperCase();
  const res = await o.http.request({
    method,
    url: target.href,
    headers,
    ...(body !== undefined && method !== 'GET' ? { body } : {}),
    ...(o.signal ? { signal: o.signal } : {}),
  });
  return {
    statusCode: res.statusCode,
    headers: res.headers,
    body: parseResponseBody(undefined, res.statusCode, res.headers, res.body),
    operationId: 'InvokeHttp',
  };
}

/**
 * Calls a connector operation through a connection. Resolves with any HTTP status (the engine
 * decides success by status); rejects with a PatchbayError when the call cannot be made
 * (OPERATION_*, CONNECTOR_*, HTTP_*, SQL_*, OAUTH_*, WEBHOOK_ACTION_NOT_SUPPORTED).
 */
export async function callConnector(o: ConnectorCallOptions): Promise<ConnectorResponse> {
  const kind = o.actionType.toLowerCase();
  if (kind.endsWith('webhook'))
    throw notReady(
      'WEBHOOK_ACTION_NOT_SUPPORTED',
      `action${o.action ? ` '${o.action}'` : ''} is a ${o.actionType}: subscribe-and-wait webhook actions are not carried out by Patchbay yet`,
      { actionType: o.actionType, ...(o.action ? { action: o.action } : {}) },
    );
  const id = o.connector.id.toLowerCase();
  if (id === 'shared_sql') {
    const v = valueOf(o.connection);
    const settings: SqlConnectionSettings = {
      dialect: v('dialect') === 'mysql' ? 'mysql' : 'postgres',
      server: v('server') ?? '',
      ...(v('port') ? { port: Number(v('port')) } : {}),
      database: v('database') ?? '',
      username: v('username') ?? '',
      ...(v('password') !== undefined ? { password: v('password')! } : {}),
    };
    const operationId = String(o.host?.['operationId'] ?? '');
    const r = await invokeSqlOperation({
      settings,
      operationId,
      parameters: isObject(o.inputs['parameters']) ? o.inputs['parameters'] : {},
      policy: o.policy,
      ...(o.action ? { action: o.action } : {}),
      ...(o.signal ? { signal: o.signal } : {}),
    });
    return { ...r, operationId };
  }
  if (id === 'shared_patchbayhttp') return callHttpWithCredentials(o);
  if (id === 'shared_patchbay')
    throw notReady(
      'OPERATION_NOT_SUPPORTED',
      'the Patchbay platform connector has no operations that flows can call yet',
      { connector: o.connector.id },
    );
  if (!o.connector.definition)
    throw notReady(
      'CONNECTOR_DEFINITION_MISSING',
      `connector ${o.connector.id} is known by id only: without its definition Patchbay cannot call it; import the custom connector`,
      {
        connector: o.connector.id,
      },
    );
  const { request, api } = await prepareConnectorRequest(o);
  const scheme = authSchemeOf({
    definition: o.connector.definition,
    api,
    ...(o.connection.parameterSet ? { parameterSet: o.connection.parameterSet } : {}),
    values: o.connection.parameters,
  });
  const values = {
    connectionParameters: connectionValueMap(o.connection),
    ...(request.operation ? { operationId: request.operation.operationId } : {}),
  };
  const policies = o.connector.definition.policyTemplateInstances ?? [];
  const prepare = async (forceRefresh: boolean): Promise<PreparedRequest> => {
    const req: PreparedRequest = { ...request, headers: { ...request.headers }, query: [...request.query] };
    let token: string | undefined;
    if (scheme.kind === 'oauth2') {
      if (!o.accessToken)
        throw notReady(
          'OAUTH_TOKEN_UNAVAILABLE',
          `connector ${o.connector.id} uses OAuth 2.0, but no token source was given`,
          { connector: o.connector.id },
        );
      token = await o.accessToken({ forceRefresh });
    }
    applyAuth(req, scheme, valueOf(o.connection), token);
    applyRequestPolicies(policies, values, req);
    return req;
  };
  let res = await send(o, await prepare(false));
  if (res.statusCode === 401 && scheme.kind === 'oauth2') res = await send(o, await prepare(true));
  const headers = { ...res.headers };
  applyResponsePolicies(policies, values, headers);
  return {
    statusCode: res.statusCode,
    headers,
    body: parseResponseBody(request.operation, res.statusCode, headers, res.body),
    ...(request.operation ? { operationId: request.operation.operationId } : {}),
  };
}
