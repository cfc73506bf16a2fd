/**
 * OAuth 2.0 grants for connections, on `openid-client` (v6): authorization code with PKCE and
 * state, refresh token, client credentials. Every request to the authorization server goes
 * through Patchbay's outbound HTTP client (`customFetch`), so the environment's host policy and
 * timeouts apply to token endpoints too.
 *
 * The authorization server is described by the connector (no discovery): its issuer is taken to
 * be the origin of the authorization (or token) URL, which is what an RFC 9207 `iss` in the
 * callback is checked against. Plain-HTTP endpoints are accepted only on loopback hosts (tests,
 * local identity providers); elsewhere they fail with OAUTH_INSECURE_ENDPOINT.
 *
 * Errors never carry a token. A grant the server rejects (`invalid_grant`, `invalid_client`,
 * `unauthorized_client`, `unsupported_grant_type`) fails with OAUTH_GRANT_REJECTED (not-ready):
 * the connection needs a new sign-in or new client credentials. Other failures are
 * OAUTH_TOKEN_REQUEST_FAILED, or the outbound client's HTTP_* error (retryable ones stay retryable).
 */
import * as client from 'openid-client';
import { invalid, isPatchbayError, notReady, type PatchbayError } from '@patchbay/core';
import type { OutboundHttpClient } from '../http/client.js';
import { classifyAddress, normaliseHost } from '../http/policy.js';
import type { OAuthSettings } from './scheme.js';

/** Tokens as Patchbay stores them (encrypted, in the vault). `expiresAt` is epoch ms on the platform clock. */
export interface TokenSet {
  accessToken: string;
  tokenType: string;
  refreshToken?: string;
  expiresAt?: number;
  scope?: string;
}

/** What every grant needs. */
export interface OAuthClientOptions {
  settings: OAuthSettings;
  clientId: string;
  clientSecret?: string;
  http: OutboundHttpClient;
  /** The platform clock (epoch ms). */
  now: () => number;
}

/** Codes of grant rejections that need a human (new sign-in or new credentials). */
const REJECTED = new Set([
  'invalid_grant',
  'invalid_client',
  'unauthorized_client',
  'unsupported_grant_type',
  'invalid_scope',
]);

function isLoopback(url: URL): boolean {
  const h = normaliseHost(url.hostname);
  return h === 'localhost' || h.endsWith('.localhost') || classifyAddress(h) === 'loopback';
}

function checkEndpoint(raw: string, what: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw invalid('OAUTH_ENDPOINT_INVALID', `the OAuth ${what} URL of the connector is not an absolute URL`, {
      endpoint: what,
    });
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopback(url))) {
    throw invalid(
      'OAUTH_INSECURE_ENDPOINT',
      `the OAuth ${what} URL ${url.origin} is not HTTPS; plain HTTP is accepted only on loopback`,
      {
        endpoint: what,
        origin: url.origin,
      },
    );
  }
  return url;
}

/** A fetch implementation over the outbound client (no redirects: token endpoints do not redirect). */
export function fetchVia(http: OutboundHttpClient): client.CustomFetch {
  return async (url, options) => {
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(options.headers ?? {})) headers[k] = String(v);
    const b = options.body as unknown;
    const body =
      b === undefined || b === null
        ? undefined
        : typeof b === 'string'
          ? b
          : b instanceof URLSearchParams
            ? b.toString()
            : b instanceof Uint8Array
              ? b
              : b instanceof ArrayBuffer
                ? new Uint8Array(b)
                : String(b);
    const res = await http.request({
      method: options.method,
      url,
      headers,
      ...(body !== undefined ? { body } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      maxRedirects: 0,
    });
    const nullBody = res.statusCode === 204 || res.statusCode === 304 || res.body.length === 0;
    return new Response(nullBody ? null : res.body, { status: res.statusCode, headers: res.headers });
  };
}

/** The openid-client configuration for a connector's authorization server. */
export function oauthConfiguration(
  o: OAuthClientOptions,
  purpose: 'authorize' | 'token' | 'refresh' = 'token',
): client.Configuration {
  const token = checkEndpoint(
    purpose === 'refresh' && o.settings.refreshUrl ? o.settings.refreshUrl : o.settings.tokenUrl,
    'token',
  );
  const authorization = o.settings.authorizationUrl
    ? checkEndpoint(o.settings.authorizationUrl, 'authorization')
    : undefined;
  const issuer = (authorization ?? token).origin;
  const meta: client.ServerMetadata = {
    issuer,
    token_endpoint: token.href,
    ...(authorization ? { authorization_endpoint: authorization.href } : {}),
  };
  const config = new client.Configuration(
    meta,
    o.clientId,
    undefined,
    o.clientSecret ? client.ClientSecretPost(o.clientSecret) : client.None(),
  );
  config[client.customFetch] = fetchVia(o.http);
  if (token.protocol === 'http:' || authorization?.protocol === 'http:') client.allowInsecureRequests(config);
  return config;
}

function extra(settings: OAuthSettings): Record<string, string> {
  return settings.resource ? { resource: settings.resource } : {};
}

function tokenSetOf(r: client.TokenEndpointResponse, now: number, previousRefreshToken?: string): TokenSet {
  const refresh = typeof r.refresh_token === 'string' ? r.refresh_token : previousRefreshToken;
  return {
    accessToken: r.access_token,
    tokenType: typeof r.token_type === 'string' ? r.token_type : 'Bearer',
    ...(refresh ? { refreshToken: refresh } : {}),
    ...(typeof r.expires_in === 'number' ? { expiresAt: now + r.expires_in * 1000 } : {}),
    ...(typeof r.scope === 'string' ? { scope: r.scope } : {}),
  };
}

/** Maps an openid-client failure to a PatchbayError with no token in it. */
export function oauthError(e: unknown, grant: string): PatchbayError {
  if (isPatchbayError(e)) return e;
  const err = e as {
    error?: unknown;
    error_description?: unknown;
    status?: unknown;
    code?: unknown;
    message?: unknown;
    cause?: unknown;
  };
  if (typeof err.error === 'string') {
    const description = typeof err.error_description === 'string' ? `: ${err.error_description}` : '';
    if (REJECTED.has(err.error))
      return notReady(
        'OAUTH_GRANT_REJECTED',
        `the authorization server rejected the ${grant} grant (${err.error}${description})`,
        {
          grant,
          error: err.error,
          ...(typeof err.status === 'number' ? { status: err.status } : {}),
        },
      );
    return notReady('OAUTH_TOKEN_REQUEST_FAILED', `the ${grant} grant failed (${err.error}${description})`, {
      grant,
      error: err.error,
    });
  }
  // The outbound client's errors are wrapped by openid-client's fetch handling: unwrap them.
  let cur: unknown = err.cause;
  for (let i = 0; i < 4 && cur; i++) {
    if (isPatchbayError(cur)) return cur;
    cur = (cur as { cause?: unknown }).cause;
  }
  return notReady(
    'OAUTH_TOKEN_REQUEST_FAILED',
    `the ${grant} grant failed: ${typeof err.message === 'string' ? err.message : String(e)}`,
    {
      grant,
      ...(typeof err.code === 'string' ? { cause: err.code } : {}),
    },
  );
}

/** True when a grant failed because the server rejected the credentials or refresh token. */
export function isGrantRejected(e: unknown): boolean {
  return isPatchbayError(e) && e.code === 'OAUTH_GRANT_REJECTED';
}

/** A new authorization request: where to send the user, and what to keep until the callback. */
export interface AuthorizationRequest {
  url: string;
  state: string;
  codeVerifier: string;
  redirectUri: string;
}

/** Builds the authorization URL (authorization code grant with PKCE S256 and state). */
export async function startAuthorization(
  o: OAuthClientOptions & { redirectUri: string },
): Promise<AuthorizationRequest> {
  if (!o.settings.authorizationUrl)
    throw invalid('OAUTH_ENDPOINT_INVALID', 'the connector names no OAuth authorization URL', {
      endpoint: 'authorization',
    });
  const config = oauthConfiguration(o, 'authorize');
  const codeVerifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const params: Record<string, string> = {
    redirect_uri: o.redirectUri,
    response_type: 'code',
    state,
    code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    ...extra(o.settings),
  };
  if (o.settings.scopes.length > 0) params['scope'] = o.settings.scopes.join(' ');
  return { url: client.buildAuthorizationUrl(config, params).href, state, codeVerifier, redirectUri: o.redirectUri };
}

/**
 * Exchanges the code of a callback (`callbackUrl`: the full URL the browser was sent to) for
 * tokens, checking state and PKCE.
 */
export async function finishAuthorization(
  o: OAuthClientOptions & { request: AuthorizationRequest; callbackUrl: string },
): Promise<TokenSet> {
  const config = oauthConfiguration(o, 'token');
  try {
    const r = await client.authorizationCodeGrant(
      config,
      new URL(o.callbackUrl),
      { pkceCodeVerifier: o.request.codeVerifier, expectedState: o.request.state },
      extra(o.settings),
    );
    return tokenSetOf(r, o.now());
  } catch (e) {
    throw oauthError(e, 'authorization_code');
  }
}

/** Refreshes an access token. A server that returns no new refresh token keeps the old one valid. */
export async function refreshTokens(o: OAuthClientOptions & { refreshToken: string }): Promise<TokenSet> {
  const config = oauthConfiguration(o, 'refresh');
  try {
    const r = await client.refreshTokenGrant(config, o.refreshToken, extra(o.settings));
    return tokenSetOf(r, o.now(), o.refreshToken);
  } catch (e) {
    throw oauthError(e, 'refresh_token');
  }
}

/** Gets a token with the client credentials grant (service principal). */
export async function clientCredentialsTokens(o: OAuthClientOptions): Promise<TokenSet> {
  const config = oauthConfiguration(o, 'token');
  const params: Record<string, string> = { ...extra(o.settings) };
  if (o.settings.scopes.length > 0) params['scope'] = o.settings.scopes.join(' ');
  try {
    const r = await client.clientCredentialsGrant(config, params);
    return tokenSetOf(r, o.now());
  } catch (e) {
    throw oauthError(e, 'client_credentials');
  }
}
