/**
 * How a connection authenticates its calls, derived from the connector definition (Power Platform
 * custom connector format: swagger `securityDefinitions` + apiProperties `connectionParameters` /
 * `connectionParameterSets`; ../shared/reference/powerplatform-formats.md §6):
 *
 * - an `oauthSetting` parameter (in the connection's parameter set, if any) → OAuth 2.0: the
 *   authorization code grant, or client credentials when `customParameters.grantType` is
 *   `client_credentials` (the service principal variant, with `token:clientId`,
 *   `token:clientSecret`, `token:TenantId` parameters);
 * - swagger `basic` and the parameters `username` + `password` → HTTP Basic;
 * - swagger `apiKey` (header or query) → the key is the `api_key` parameter (the name Power
 *   Platform gives it), else the first secure-string parameter;
 * - otherwise no authentication (policies may still place parameters in headers or the URL).
 */
import type { ConnectionParameter, ConnectorDefinition } from '@patchbay/core';
import type { ConnectorApi, SecurityDefinition } from '../openapi/document.js';
import { setHeader, type PreparedRequest } from '../openapi/request.js';

/** OAuth 2.0 endpoints and client settings of a connector. */
export interface OAuthSettings {
  /** `oauth2`, `oauth2generic`, `aad`, `aadcertificate`, … */
  identityProvider: string;
  grantType: 'authorization_code' | 'client_credentials';
  /** `oAuthSettings.clientId`, overridden by a `token:clientId` connection parameter. */
  clientId?: string;
  scopes: string[];
  authorizationUrl?: string;
  tokenUrl: string;
  /** Where refresh grants go (default `tokenUrl`). */
  refreshUrl?: string;
  /** Azure AD v1 `resource` (from `resourceUri`). */
  resource?: string;
}

/** The authentication scheme of a connection. */
export type AuthScheme =
  | { kind: 'none' }
  | { kind: 'apiKey'; in: 'header' | 'query'; name: string; parameter: string }
  | { kind: 'basic'; usernameParameter: string; passwordParameter: string }
  | { kind: 'oauth2'; parameter: string; settings: OAuthSettings };

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The connection parameters a connection chose: its parameter set's, or the connector's. */
export function declaredParameters(
  def: ConnectorDefinition | undefined,
  parameterSet?: string,
): Record<string, ConnectionParameter> {
  if (!def) return {};
  const sets = def.connectionParameterSets?.values ?? [];
  if (sets.length > 0) {
    const chosen = parameterSet ? sets.find((s) => s.name.toLowerCase() === parameterSet.toLowerCase()) : sets[0];
    return chosen?.parameters ?? {};
  }
  return def.connectionParameters ?? {};
}

function ci(map: Record<string, unknown>, name: string): unknown {
  if (name in map) return map[name];
  const k = Object.keys(map).find((x) => x.toLowerCase() === name.toLowerCase());
  return k === undefined ? undefined : map[k];
}

function customValue(custom: Record<string, unknown>, ...names: string[]): string | undefined {
  for (const n of names) {
    const v = ci(custom, n);
    if (isObject(v) && typeof v['value'] === 'string' && v['value']) return v['value'];
    if (typeof v === 'string' && v) return v;
  }
  return undefined;
}

/**
 * The OAuth settings of an `oauthSetting` parameter. `values` are the connection's parameters
 * (for `token:TenantId` / `token:clientId`). Returns undefined when no token endpoint can be found.
 */
export function oauthSettingsOf(
  p: ConnectionParameter,
  o: { values?: Record<string, unknown>; api?: ConnectorApi; parameter?: string } = {},
): OAuthSettings | undefined {
  const raw = (p.oAuthSettings ?? (p as { oauthSettings?: Record<string, unknown> }).oauthSettings ?? {}) as Record<
    string,
    unknown
  >;
  const custom = isObject(raw['customParameters']) ? raw['customParameters'] : {};
  const idp = String(raw['identityProvider'] ?? 'oauth2').toLowerCase();
  const values = o.values ?? {};
  const prefix = `${o.parameter ?? 'token'}:`;
  const grantType =
    customValue(custom, 'grantType')?.toLowerCase() === 'client_credentials'
      ? 'client_credentials'
      : 'authorization_code';
  const clientId =
    (ci(values, `${prefix}clientId`) as string | undefined) ??
    (typeof raw['clientId'] === 'string' ? raw['clientId'] : undefined);
  const scopes = (Array.isArray(raw['scopes']) ? raw['scopes'] : [])
    .flatMap((s) => String(s).split(/\s+/))
    .filter(Boolean);
  let authorizationUrl: string | undefined;
  let tokenUrl: string | undefined;
  let refreshUrl: string | undefined;
  let resource: string | undefined;
  if (idp === 'aad' || idp === 'aadcertificate') {
    const login = (customValue(custom, 'loginUri', 'loginUriAAD') ?? 'https://login.microsoftonline.com').replace(
      /\/+$/,
      '',
    );
    const tenant =
      (ci(values, `${prefix}TenantId`) as string | undefined) ??
      customValue(custom, 'tenantId', 'TenantId') ??
      'common';
    authorizationUrl = `${login}/${tenant}/oauth2/authorize`;
    tokenUrl = `${login}/${tenant}/oauth2/token`;
    resource = customValue(custom, 'resourceUri', 'ResourceUri');
  } else {
    const secDef = Object.values(o.api?.securityDefinitions ?? {}).find((d: SecurityDefinition) => d.type === 'oauth2');
    authorizationUrl = customValue(custom, 'authorizationUrl', 'authorizationUrlTemplate') ?? secDef?.authorizationUrl;
    tokenUrl = customValue(custom, 'tokenUrl', 'tokenUrlTemplate') ?? secDef?.tokenUrl;
    refreshUrl = customValue(custom, 'refreshUrl', 'refreshUrlTemplate');
  }
  if (!tokenUrl) return undefined;
  return {
    identityProvider: idp,
    grantType,
    ...(clientId ? { clientId } : {}),
    scopes,
    ...(authorizationUrl ? { authorizationUrl } : {}),
    tokenUrl,
    ...(refreshUrl ? { refreshUrl } : {}),
    ...(resource ? { resource } : {}),
  };
}

/**
 * The authentication scheme of a connection of this connector.
 * `values` are the connection's non-secret parameters (for tenant and client id parameters).
 */
export function authSchemeOf(o: {
  definition: ConnectorDefinition | undefined;
  api?: ConnectorApi;
  parameterSet?: string;
  values?: Record<string, unknown>;
}): AuthScheme {
  const declared = declaredParameters(o.definition, o.parameterSet);
  const entries = Object.entries(declared);
  const oauth = entries.find(([, p]) => p.type.toLowerCase() === 'oauthsetting');
  if (oauth) {
    const settings = oauthSettingsOf(oauth[1], {
      values: o.values ?? {},
      ...(o.api ? { api: o.api } : {}),
      parameter: oauth[0],
    });
    if (settings) return { kind: 'oauth2', parameter: oauth[0], settings };
  }
  const defs = Object.values(o.api?.securityDefinitions ?? {});
  const name = (n: string): string | undefined => entries.find(([k]) => k.toLowerCase() === n)?.[0];
  const user = name('username');
  const pass = name('password');
  if (defs.some((d) => d.type === 'basic') && user && pass)
    return { kind: 'basic', usernameParameter: user, passwordParameter: pass };
  const key = defs.find((d) => d.type === 'apiKey');
  if (key && key.name) {
    const param =
      name('api_key') ??
      entries.find(([k, p]) => p.type.toLowerCase() === 'securestring' && k.toLowerCase() !== 'password')?.[0] ??
      'api_key';
    return { kind: 'apiKey', in: key.in === 'query' ? 'query' : 'header', name: key.name, parameter: param };
  }
  return { kind: 'none' };
}

/**
 * Applies a scheme to a prepared request. `value(name)` returns a connection parameter (secret
 * or not); `accessToken` is the current OAuth access token.
 */
export function applyAuth(
  req: PreparedRequest,
  scheme: AuthScheme,
  value: (name: string) => string | undefined,
  accessToken?: string,
): void {
  switch (scheme.kind) {
    case 'apiKey': {
      const key = value(scheme.parameter) ?? '';
      if (scheme.in === 'query') {
        req.query = req.query.filter(([k]) => k !== scheme.name);
        req.query.push([scheme.name, key]);
      } else setHeader(req.headers, scheme.name, key);
      break;
    }
    case 'basic':
      setHeader(
        req.headers,
        'Authorization',
        `Basic ${Buffer.from(`${value(scheme.usernameParameter) ?? ''}:${value(scheme.passwordParameter) ?? ''}`).toString('base64')}`,
      );
      break;
    case 'oauth2':
      if (accessToken !== undefined) setHeader(req.headers, 'Authorization', `Bearer ${accessToken}`);
      break;
    case 'none':
      break;
  }
}
