/**
 * OAuth 2.0 connections end to end against a real authorization server (oidc-provider on
 * 127.0.0.1) and an API that checks tokens by introspection: sign-in through the loopback
 * callback, flow runs with the bound connection's token, renewal ahead of expiry, one renewal
 * for 20 concurrent runs, NeedsReconnect (flows Off) when the refresh token is revoked, reconnect,
 * client credentials for a service principal, connection test — and no token in history or audit.
 * The platform clock is a test clock, so "ahead of expiry" needs no waiting.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ConnectorDefinition } from '@patchbay/core';
import { createOAuthConnection, reconnectOAuthConnection, testConnection, type Platform } from '@patchbay/platform';
import {
  startOidcServer,
  startResourceServer,
  type TestOidcServer,
} from '../../connectors/test/support/oidc-server.js';
import { seedFlow } from '../../../test-support/platform.js';
import { connectorPlatform, testClock, type TestClock } from './support/connector-platform.js';

let oidc: TestOidcServer;
let api: Awaited<ReturnType<typeof startResourceServer>>;
beforeAll(async () => {
  oidc = await startOidcServer({ accessTokenTtl: 3600 });
  api = await startResourceServer(oidc);
});
afterAll(async () => {
  await api.close();
  await oidc.close();
});

let p: Platform;
let clock: TestClock;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  clock = testClock();
  ({ platform: p, cleanup } = await connectorPlatform({ clock }));
  await p.environments.create({ name: 'test', policy: { allowLoopback: true } });
  api.hits.length = 0;
});
afterEach(async () => cleanup());

const openApi = (): Record<string, unknown> => ({
  swagger: '2.0',
  info: { title: 'Who am I', version: '1.0' },
  host: api.host,
  basePath: '/api',
  schemes: ['http'],
  paths: {
    '/me': {
      get: {
        operationId: 'GetMe',
        responses: {
          '200': {
            description: 'who',
            schema: { type: 'object', properties: { subject: { type: 'string' }, client: { type: 'string' } } },
          },
        },
      },
    },
  },
  securityDefinitions: {
    oauth2_auth: {
      type: 'oauth2',
      flow: 'accessCode',
      authorizationUrl: oidc.authorizationUrl,
      tokenUrl: oidc.tokenUrl,
      scopes: {},
    },
  },
  security: [{ oauth2_auth: [] }],
  'x-ms-capabilities': { testConnection: { operationId: 'GetMe' } },
});

/** A custom connector with authorization code (like TRIGGERcmd's `oauth2` settings) and a client-credentials parameter set (like ACS SMS Events). */
function definition(): ConnectorDefinition {
  const custom = {
    authorizationUrl: { value: oidc.authorizationUrl },
    tokenUrl: { value: oidc.tokenUrl },
    refreshUrl: { value: oidc.tokenUrl },
  };
  return {
    openApi: openApi(),
    connectionParameters: {},
    connectionParameterSets: {
      values: [
        {
          name: 'signIn',
          parameters: {
            token: {
              type: 'oauthSetting',
              oAuthSettings: {
                identityProvider: 'oauth2',
                clientId: oidc.clients.app.id,
                scopes: ['openid', 'api'],
                redirectMode: 'Global',
                customParameters: custom,
              },
            },
          },
        },
        {
          name: 'servicePrincipal',
          parameters: {
            token: {
              type: 'oauthSetting',
              oAuthSettings: {
                identityProvider: 'oauth2',
                scopes: ['api'],
                customParameters: { ...custom, grantType: { value: 'client_credentials' } },
              },
            },
            'token:clientId': {
              type: 'string',
              uiDefinition: { displayName: 'Client ID', constraints: { required: 'true' } },
            },
            'token:clientSecret': {
              type: 'securestring',
              uiDefinition: { displayName: 'Client secret', constraints: { required: 'true' } },
            },
          },
        },
      ],
    },
    policyTemplateInstances: [],
  };
}

const FLOW_ID = '5e1f0000-0000-4000-8000-0000000000a1';
async function setup() {
  await p.connectors.install({
    environment: 'test',
    id: 'pb_whoami',
    displayName: 'Who am I',
    definition: definition(),
  });
  await p.references.create({ environment: 'test', logicalName: 'pb_WhoAmI', connector: 'pb_whoami' });
  await seedFlow(p, {
    environment: 'test',
    id: FLOW_ID,
    name: 'Who is calling',
    owner: 'admin',
    connections: [
      { key: 'shared_pb-5fwhoami', logicalName: 'pb_WhoAmI', runtimeSource: 'embedded', connectorId: 'pb_whoami' },
    ],
    definition: {
      properties: {
        connectionReferences: {
          'shared_pb-5fwhoami': {
            runtimeSource: 'embedded',
            connection: { connectionReferenceLogicalName: 'pb_WhoAmI' },
            api: { name: 'pb_whoami' },
          },
        },
        definition: {
          triggers: { manual: { type: 'Request', kind: 'Button', inputs: {} } },
          actions: {
            Who: {
              type: 'OpenApiConnection',
              inputs: {
                host: {
                  connectionName: 'shared_pb-5fwhoami',
                  operationId: 'GetMe',
                  apiId: '/providers/Microsoft.PowerApps/apis/pb_whoami',
                },
                parameters: {},
              },
            },
            Answer: {
              type: 'Response',
              kind: 'Http',
              runAfter: { Who: ['Succeeded'] },
              inputs: { statusCode: 200, body: "@body('Who')" },
            },
          },
        },
      },
      schemaVersion: '1.0.0.0',
    },
  });
}

const signInBrowser = async (url: string): Promise<void> => {
  const back = await oidc.browse(url);
  const page = await fetch(back);
  expect(page.status).toBe(200);
};

async function stored(
  id: string,
): Promise<{ accessToken: string; refreshToken?: string; expiresAt: number; clientSecret?: string }> {
  return JSON.parse((await p.vault.get(id, '$oauth'))!) as {
    accessToken: string;
    refreshToken?: string;
    expiresAt: number;
  };
}

const runOnce = () => p.runs.run({ environment: 'test', flow: FLOW_ID });

describe(`OAuth 2.0 connections (${process.env['PATCHBAY_TEST_STORE']})`, () => {
  it('signs in with the authorization code grant, runs with the token, renews ahead of expiry once for 20 concurrent runs, and reports NeedsReconnect when the refresh token is revoked', async () => {
    await setup();
    const conn = await createOAuthConnection(p, {
      environment: 'test',
      connector: 'pb_whoami',
      displayName: 'alice via OAuth',
      parameterSet: 'signIn',
      clientSecret: oidc.clients.app.secret,
      onAuthorizationUrl: signInBrowser,
    });
    expect(conn.status).toBe('Connected');
    await p.references.bind({ environment: 'test', logicalName: 'pb_WhoAmI', connectionId: conn.id });
    expect((await p.flows.get('test', FLOW_ID)).state).toBe('On');
    const t0 = await stored(conn.id);
    expect(t0.expiresAt).toBe(clock.now() + 3600_000);

    const first = await runOnce();
    expect(first.result.status).toBe('Succeeded');
    expect(first.result.response?.body).toEqual({ subject: 'alice', client: 'patchbay' });
    expect(api.hits.map((h) => h.token)).toEqual([t0.accessToken]);
    expect((await testConnection(p, { id: conn.id })).result).toBe('passed');
    const refreshesAtStart = oidc.grants['refresh_token'] ?? 0;

    // 4 minutes before expiry (inside the 5-minute skew): the next run renews first
    clock.set(t0.expiresAt - 240_000);
    api.hits.length = 0;
    const renewed = await runOnce();
    expect(renewed.result.status).toBe('Succeeded');
    const t1 = await stored(conn.id);
    expect(t1.accessToken).not.toBe(t0.accessToken);
    expect(t1.refreshToken).not.toBe(t0.refreshToken);
    expect(api.hits.map((h) => [h.token, h.active])).toEqual([[t1.accessToken, true]]);
    expect(oidc.grants['refresh_token']).toBe(refreshesAtStart + 1);
    expect((await runOnce()).result.status).toBe('Succeeded');
    expect(oidc.grants['refresh_token']).toBe(refreshesAtStart + 1);

    // 20 runs at once, near expiry: one renewal, every run uses the new token
    clock.set(t1.expiresAt - 60_000);
    api.hits.length = 0;
    const many = await Promise.all(Array.from({ length: 20 }, () => runOnce()));
    expect(many.map((r) => r.result.status)).toEqual(Array(20).fill('Succeeded'));
    const t2 = await stored(conn.id);
    expect(oidc.grants['refresh_token']).toBe(refreshesAtStart + 2);
    expect(new Set(api.hits.map((h) => h.token))).toEqual(new Set([t2.accessToken]));
    expect(api.hits).toHaveLength(20);

    // The refresh token is revoked: the next renewal is rejected
    await oidc.revoke(t2.refreshToken!);
    clock.set(t2.expiresAt - 60_000);
    api.hits.length = 0;
    const failed = await runOnce();
    expect(failed.result.status).toBe('Failed');
    const err = failed.result.record.actions.find((a) => a.name === 'Who')!.error!;
    expect(err.code).toBe('CONNECTION_NEEDS_RECONNECT');
    expect(err.message).toContain('pb_WhoAmI');
    expect(err.message).toContain(conn.id);
    expect(api.hits).toHaveLength(0);
    const after = await p.connections.get(conn.id);
    expect(after.status).toBe('NeedsReconnect');
    const flow = await p.flows.get('test', FLOW_ID);
    expect(flow.state).toBe('Off');
    expect(flow.reasons.map((r) => r.code)).toEqual(['connection_error']);
    await expect(runOnce()).rejects.toMatchObject({ code: 'FLOW_NOT_ON' });

    // Sign in again: Connected, the flow is On by itself
    const back = await reconnectOAuthConnection(p, { id: conn.id, onAuthorizationUrl: signInBrowser });
    expect(back.status).toBe('Connected');
    expect((await p.flows.get('test', FLOW_ID)).state).toBe('On');
    expect((await runOnce()).result.status).toBe('Succeeded');

    // No token or client secret in run history or the audit log
    const tokens = [t0, t1, t2, await stored(conn.id)]
      .flatMap((t) => [t.accessToken, t.refreshToken!])
      .concat(oidc.clients.app.secret);
    const runs = await p.store.repos.runs.list({
      environmentId: (await p.environments.get('test')).id,
      withRecord: true,
      limit: 100,
    });
    const text = JSON.stringify([runs, await p.store.repos.audit.list({ limit: 2000 })]);
    for (const t of tokens) expect(text).not.toContain(t);
    const audit = await p.store.repos.audit.list({ limit: 2000 });
    expect(audit.filter((a) => a.action === 'connection.token.refresh')).toHaveLength(2);
    expect(audit.filter((a) => a.action === 'connection.signin')).toHaveLength(2);
  }, 60_000);

  it('a service principal connection uses client credentials and asks for a new token ahead of expiry', async () => {
    await setup();
    await p.principals.create({ name: 'build-sp', kind: 'servicePrincipal' });
    const conn = await createOAuthConnection(p, {
      environment: 'test',
      connector: 'pb_whoami',
      displayName: 'service principal',
      parameterSet: 'servicePrincipal',
      parameters: { 'token:clientId': oidc.clients.service.id },
      secretParameters: { 'token:clientSecret': oidc.clients.service.secret },
      actor: 'build-sp',
    });
    expect(conn.status).toBe('Connected');
    await p.connections.share({ id: conn.id, with: 'admin', role: 'CanUse', actor: 'build-sp' });
    await p.references.bind({ environment: 'test', logicalName: 'pb_WhoAmI', connectionId: conn.id });
    const r = await runOnce();
    expect(r.result.status).toBe('Succeeded');
    expect(r.result.response?.body).toEqual({ subject: null, client: 'svc' });
    const before = oidc.grants['client_credentials'] ?? 0;
    clock.set((await stored(conn.id)).expiresAt - 10_000);
    expect((await runOnce()).result.status).toBe('Succeeded');
    expect(oidc.grants['client_credentials']).toBe(before + 1);
    expect(api.hits.at(-1)).toMatchObject({ active: true, clientId: 'svc' });
  });

  it('a failed sign-in writes nothing; a non-OAuth connector is refused', async () => {
    await setup();
    await expect(
      createOAuthConnection(p, {
        environment: 'test',
        connector: 'pb_whoami',
        displayName: 'wrong secret',
        parameterSet: 'servicePrincipal',
        parameters: { 'token:clientId': oidc.clients.service.id },
        secretParameters: { 'token:clientSecret': 'not-the-secret' },
      }),
    ).rejects.toMatchObject({ code: 'OAUTH_GRANT_REJECTED' });
    expect(await p.connections.list({ environment: 'test' })).toHaveLength(0);
    await expect(
      createOAuthConnection(p, { environment: 'test', connector: 'shared_sql', displayName: 'x' }),
    ).rejects.toMatchObject({ code: 'OAUTH_NOT_SUPPORTED' });
  });
});
