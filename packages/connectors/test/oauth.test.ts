/**
 * OAuth 2.0 grants against a real authorization server (oidc-provider on 127.0.0.1): the
 * authorization code grant through the loopback callback, refresh (with rotation), revocation
 * turning a refresh into OAUTH_GRANT_REJECTED, client credentials, and the endpoint rules.
 * Token requests go through Patchbay's outbound client.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  clientCredentialsTokens,
  createHttpClient,
  finishAuthorization,
  refreshTokens,
  startAuthorization,
  startLoopbackCallback,
  type OAuthSettings,
  type OutboundHttpClient,
} from '@patchbay/connectors';
import { startOidcServer, type TestOidcServer } from './support/oidc-server.js';

let oidc: TestOidcServer;
let http: OutboundHttpClient;
let now = Date.parse('2030-01-01T00:00:00Z');

beforeAll(async () => {
  oidc = await startOidcServer({ accessTokenTtl: 600 });
  http = createHttpClient({ policy: { allowLoopback: true } });
});
afterAll(async () => {
  await http.close();
  await oidc.close();
});

const codeSettings = (): OAuthSettings => ({
  identityProvider: 'oauth2',
  grantType: 'authorization_code',
  scopes: ['openid', 'api'],
  authorizationUrl: oidc.authorizationUrl,
  tokenUrl: oidc.tokenUrl,
});

describe('OAuth 2.0 grants against oidc-provider', () => {
  it('authorization code through the loopback callback, then refresh with rotation, then rejection after revocation', async () => {
    const cb = await startLoopbackCallback();
    try {
      const opts = {
        settings: codeSettings(),
        clientId: oidc.clients.app.id,
        clientSecret: oidc.clients.app.secret,
        http,
        now: () => now,
      };
      const request = await startAuthorization({ ...opts, redirectUri: cb.redirectUri });
      const u = new URL(request.url);
      expect(u.searchParams.get('code_challenge_method')).toBe('S256');
      expect(u.searchParams.get('state')).toBe(request.state);
      const redirect = await oidc.browse(request.url);
      expect(redirect.startsWith(cb.redirectUri)).toBe(true);
      const arrived = cb.wait();
      const page = await fetch(redirect);
      expect(page.status).toBe(200);
      const callbackUrl = await arrived;
      const tokens = await finishAuthorization({ ...opts, request, callbackUrl });
      expect(tokens.accessToken).toBeTruthy();
      expect(tokens.refreshToken).toBeTruthy();
      expect(tokens.expiresAt).toBe(now + 600_000);
      expect((await oidc.introspect(tokens.accessToken)).active).toBe(true);

      // a callback whose state does not match is refused
      await expect(
        finishAuthorization({ ...opts, request: { ...request, state: 'other' }, callbackUrl }),
      ).rejects.toMatchObject({ code: 'OAUTH_TOKEN_REQUEST_FAILED' });

      now += 590_000;
      const refreshed = await refreshTokens({ ...opts, refreshToken: tokens.refreshToken! });
      expect(refreshed.accessToken).not.toBe(tokens.accessToken);
      expect(refreshed.refreshToken).toBeTruthy();
      expect(refreshed.refreshToken).not.toBe(tokens.refreshToken);
      expect(refreshed.expiresAt).toBe(now + 600_000);
      expect((await oidc.introspect(refreshed.accessToken)).sub).toBe('alice');
      expect(oidc.grants['refresh_token']).toBe(1);

      await oidc.revoke(refreshed.refreshToken!);
      const err = await refreshTokens({ ...opts, refreshToken: refreshed.refreshToken! }).catch((e: unknown) => e);
      expect(err).toMatchObject({
        code: 'OAUTH_GRANT_REJECTED',
        category: 'not-ready',
        details: { grant: 'refresh_token', error: 'invalid_grant' },
      });
      expect(JSON.stringify([(err as Error).message, (err as { details: unknown }).details])).not.toContain(
        refreshed.refreshToken!,
      );
    } finally {
      await cb.close();
    }
  });

  it('client credentials for a service principal; a wrong secret is rejected without echoing it', async () => {
    const settings: OAuthSettings = {
      identityProvider: 'oauth2',
      grantType: 'client_credentials',
      scopes: ['api'],
      tokenUrl: oidc.tokenUrl,
    };
    const t = await clientCredentialsTokens({
      settings,
      clientId: oidc.clients.service.id,
      clientSecret: oidc.clients.service.secret,
      http,
      now: () => now,
    });
    expect(t.refreshToken).toBeUndefined();
    expect(await oidc.introspect(t.accessToken)).toMatchObject({ active: true, client_id: 'svc' });
    const wrong = 'definitely-not-the-secret-42';
    const err = await clientCredentialsTokens({
      settings,
      clientId: 'svc',
      clientSecret: wrong,
      http,
      now: () => now,
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'OAUTH_GRANT_REJECTED', details: { error: 'invalid_client' } });
    expect((err as Error).message).not.toContain(wrong);
  });

  it('refuses plain-HTTP endpoints off loopback, and token endpoints the host policy denies', async () => {
    const opts = { clientId: 'x', http, now: () => now };
    await expect(
      clientCredentialsTokens({
        ...opts,
        settings: {
          identityProvider: 'oauth2',
          grantType: 'client_credentials',
          scopes: [],
          tokenUrl: 'http://login.example.com/token',
        },
      }),
    ).rejects.toMatchObject({ code: 'OAUTH_INSECURE_ENDPOINT' });
    const strict = createHttpClient({ policy: { allowLoopback: false } });
    try {
      await expect(
        clientCredentialsTokens({
          ...opts,
          http: strict,
          settings: {
            identityProvider: 'oauth2',
            grantType: 'client_credentials',
            scopes: [],
            tokenUrl: oidc.tokenUrl,
          },
        }),
      ).rejects.toMatchObject({ code: 'HTTP_HOST_DENIED' });
    } finally {
      await strict.close();
    }
  });

  it('reports a denied sign-in from the callback', async () => {
    const cb = await startLoopbackCallback();
    try {
      const waiting = cb.wait().catch((e: unknown) => e);
      const page = await fetch(`${cb.redirectUri}?error=access_denied&error_description=user+said+no`);
      expect(page.status).toBe(400);
      expect(await waiting).toMatchObject({ code: 'OAUTH_AUTHORIZATION_DENIED', details: { error: 'access_denied' } });
    } finally {
      await cb.close();
    }
  });
});
