/**
 * Authorization over real HTTP (issue 8 item 4, design §2 and §6), on both stores: a Maker reads
 * no secret, binds only to connections owned by or shared with it, sees only those connections;
 * a Viewer changes nothing; a service principal's token works only where it has a role; expired
 * and revoked tokens get 401. Every refusal is a 403 naming what was missing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startTestServer, type Api, type TestServer } from './helpers.js';

let t: TestServer;
let admin: Api;
let maker: Api;
let viewer: Api;
let adminConn = '';
let makerConn = '';
const SECRET_A = 'admin-secret-AAAA-1111';
const SECRET_M = 'maker-secret-MMMM-2222';

beforeAll(async () => {
  t = await startTestServer();
  admin = t.api();
  await admin('POST', '/api/v1/environments', { name: 'dev' });
  await admin('POST', '/api/v1/environments', { name: 'prod' });
  maker = (await t.principal({ name: 'maya', roles: { dev: 'Maker' } })).api;
  viewer = (await t.principal({ name: 'victor', roles: { dev: 'Viewer' } })).api;
  adminConn = (
    await admin('POST', '/api/v1/environments/dev/connections', {
      connector: 'shared_patchbayhttp',
      displayName: 'admin http',
      parameters: { baseUrl: 'http://127.0.0.1:9', authType: 'basic', username: 'a' },
      secretParameters: { password: SECRET_A },
    })
  ).body.id;
  const mc = await maker('POST', '/api/v1/environments/dev/connections', {
    connector: 'shared_patchbayhttp',
    displayName: 'maya http',
    parameters: { baseUrl: 'http://127.0.0.1:9', authType: 'basic', username: 'm' },
    secretParameters: { password: SECRET_M },
  });
  expect(mc.status).toBe(201);
  makerConn = mc.body.id;
  await admin('POST', '/api/v1/environments/dev/references', {
    logicalName: 'pb_Http',
    connector: 'shared_patchbayhttp',
  });
});
afterAll(async () => {
  await t?.close();
});

/** Every answer the Maker gets in this file, to check no secret ever appears. */
const seen: string[] = [];

describe('a Maker', () => {
  it('sees every reference of the environment but only the connections it owns or that are shared with it', async () => {
    const refs = await maker('GET', '/api/v1/environments/dev/references');
    seen.push(refs.text);
    expect(refs.body.map((r: { logicalName: string }) => r.logicalName)).toEqual(['pb_Http']);
    const list = await maker('GET', '/api/v1/environments/dev/connections');
    seen.push(list.text);
    expect(list.body.map((c: { id: string }) => c.id)).toEqual([makerConn]);
    const other = await maker('GET', `/api/v1/environments/dev/connections/${adminConn}`);
    seen.push(other.text);
    expect(other.status).toBe(403);
    expect(other.body).toMatchObject({
      code: 'CONNECTION_NOT_VISIBLE',
      details: { connection: adminConn, principal: 'maya', missing: expect.any(String) },
    });
    await admin('POST', `/api/v1/environments/dev/connections/${adminConn}/share`, { with: 'maya', role: 'CanUse' });
    const after = await maker('GET', '/api/v1/environments/dev/connections');
    seen.push(after.text);
    expect(after.body.map((c: { id: string }) => c.id).sort()).toEqual([adminConn, makerConn].sort());
    await admin('POST', `/api/v1/environments/dev/connections/${adminConn}/unshare`, { with: 'maya' });
  });

  it('cannot bind a reference to a connection not shared with it, and can once it is shared', async () => {
    const refused = await maker('PUT', '/api/v1/environments/dev/references/pb_Http/binding', {
      connectionId: adminConn,
    });
    seen.push(refused.text);
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({
      code: 'BINDING_NOT_PERMITTED',
      details: { reference: 'pb_Http', connection: adminConn, principal: 'maya' },
    });
    const own = await maker('PUT', '/api/v1/environments/dev/references/pb_Http/binding', { connectionId: makerConn });
    expect(own.status).toBe(200);
    await admin('POST', `/api/v1/environments/dev/connections/${adminConn}/share`, { with: 'maya', role: 'CanUse' });
    const shared = await maker('PUT', '/api/v1/environments/dev/references/pb_Http/binding', {
      connectionId: adminConn,
    });
    seen.push(shared.text);
    expect(shared.status).toBe(200);
    expect(shared.body).toMatchObject({ connectionId: adminConn, previousConnectionId: makerConn });
  });

  it('cannot share, transfer or delete a connection it only holds CanUse on, nor read another environment', async () => {
    const share = await maker('POST', `/api/v1/environments/dev/connections/${adminConn}/share`, {
      with: 'victor',
      role: 'CanUse',
    });
    expect(share.status).toBe(403);
    expect(share.body.code).toBe('SHARE_NOT_PERMITTED');
    expect(
      (await maker('POST', `/api/v1/environments/dev/connections/${adminConn}/transfer`, { to: 'maya' })).body.code,
    ).toBe('TRANSFER_NOT_PERMITTED');
    expect((await maker('DELETE', `/api/v1/environments/dev/connections/${adminConn}?force=true`)).body.code).toBe(
      'CONNECTION_DELETE_NOT_PERMITTED',
    );
    const prod = await maker('GET', '/api/v1/environments/prod/connections');
    expect(prod.status).toBe(403);
    expect(prod.body).toMatchObject({
      code: 'ROLE_REQUIRED',
      details: { environment: 'prod', required: 'Viewer', role: null },
    });
    expect((await maker('GET', '/api/v1/environments')).body.map((e: { name: string }) => e.name)).toEqual(['dev']);
  });

  it('manages no principal, token, policy or role', async () => {
    for (const [m, p, b] of [
      ['POST', '/api/v1/principals', { name: 'mallory' }],
      ['POST', '/api/v1/tokens', { for: 'admin' }],
      ['GET', '/api/v1/tokens?for=admin', undefined],
      ['POST', '/api/v1/environments', { name: 'mine' }],
      ['POST', '/api/v1/principals/victor/disable', undefined],
    ] as const) {
      const r = await maker(m, p, b);
      expect(r.status, `${m} ${p}`).toBe(403);
      expect(r.body.code).toBe('PLATFORM_ADMIN_REQUIRED');
    }
    for (const [m, p, b] of [
      ['PATCH', '/api/v1/environments/dev/policy', { allowLoopback: true }],
      ['PUT', '/api/v1/environments/dev/roles/victor', { role: 'Admin' }],
    ] as const) {
      const r = await maker(m, p, b);
      expect(r.status, `${m} ${p}`).toBe(403);
      expect(r.body).toMatchObject({ code: 'ROLE_REQUIRED', details: { required: 'Admin', role: 'Maker' } });
    }
  });

  it('never receives a secret value in any answer', async () => {
    for (const path of [
      '/api/v1/environments/dev/connections',
      `/api/v1/environments/dev/connections/${adminConn}`,
      `/api/v1/environments/dev/connections/${makerConn}`,
    ]) {
      seen.push((await maker('GET', path)).text);
    }
    seen.push((await maker('POST', `/api/v1/environments/dev/connections/${makerConn}/test`)).text);
    const all = seen.join('\n');
    expect(all).not.toContain(SECRET_A);
    expect(all).not.toContain(SECRET_M);
    expect(all).toContain('"secretParameters":["password"]');
  });
});

describe('a Viewer', () => {
  it('reads but changes nothing: every change is a 403 ROLE_REQUIRED naming the missing role', async () => {
    expect((await viewer('GET', '/api/v1/environments/dev/references')).status).toBe(200);
    expect((await viewer('GET', '/api/v1/environments/dev/flows')).status).toBe(200);
    const changes: Array<[string, string, unknown]> = [
      [
        'POST',
        '/api/v1/environments/dev/connections',
        { connector: 'shared_patchbayhttp', displayName: 'v', parameters: { baseUrl: 'http://x' } },
      ],
      ['POST', '/api/v1/environments/dev/references', { logicalName: 'pb_V', connector: 'shared_patchbayhttp' }],
      ['PUT', '/api/v1/environments/dev/references/pb_Http/binding', { connectionId: makerConn }],
      ['DELETE', '/api/v1/environments/dev/references/pb_Http/binding', undefined],
      ['DELETE', '/api/v1/environments/dev/references/pb_Http', undefined],
      ['POST', '/api/v1/environments/dev/connectors', { id: 'shared_x' }],
      ['POST', `/api/v1/environments/dev/connections/${makerConn}/share`, { with: 'victor', role: 'CanUse' }],
      ['POST', '/api/v1/environments/dev/solutions/import', { package: 'UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA==' }],
      ['POST', '/api/v1/environments/dev/flows/anything/on', undefined],
      ['POST', '/api/v1/environments/dev/flows/anything/run', {}],
      ['POST', '/api/v1/environments/dev/flows/anything/triggers/manual/listCallbackUrl', undefined],
    ];
    for (const [m, p, b] of changes) {
      const r = await viewer(m, p, b);
      expect(r.status, `${m} ${p}`).toBe(403);
      expect(r.body, `${m} ${p}`).toMatchObject({
        code: 'ROLE_REQUIRED',
        details: { environment: 'dev', role: 'Viewer', required: expect.stringMatching(/Maker|Admin/) },
      });
    }
    const conns = await viewer('GET', '/api/v1/environments/dev/connections');
    expect(conns.body).toEqual([]);
  });
});

describe('service principals and token lifetimes', () => {
  it('exchanges client credentials for a token that works only where the service principal has a role', async () => {
    await admin('POST', '/api/v1/principals', { name: 'deploy-sp', kind: 'servicePrincipal' });
    await admin('PUT', '/api/v1/environments/prod/roles/deploy-sp', { role: 'Maker' });
    const userCreds = await admin('POST', '/api/v1/principals/maya/client-credentials', {});
    expect(userCreds.body.code).toBe('CLIENT_CREDENTIALS_NOT_SERVICE_PRINCIPAL');
    const cc = await admin('POST', '/api/v1/principals/deploy-sp/client-credentials', { description: 'pipeline' });
    expect(cc.status).toBe(201);
    expect(cc.body).toMatchObject({
      clientId: expect.stringMatching(/^pbc_/),
      clientSecret: expect.any(String),
      principal: 'deploy-sp',
    });
    const listed = await admin('GET', '/api/v1/principals/deploy-sp/client-credentials');
    expect(listed.text).not.toContain(cc.body.clientSecret);
    const wrong = await call(
      t.url,
      'POST',
      '/api/v1/oauth/token',
      null,
      `grant_type=client_credentials&client_id=${cc.body.clientId}&client_secret=nope`,
      { 'content-type': 'application/x-www-form-urlencoded' },
    );
    expect(wrong.status).toBe(401);
    expect(wrong.body.code).toBe('INVALID_CLIENT');
    const tok = await call(
      t.url,
      'POST',
      '/api/v1/oauth/token',
      null,
      `grant_type=client_credentials&client_id=${cc.body.clientId}&client_secret=${encodeURIComponent(cc.body.clientSecret)}`,
      {
        'content-type': 'application/x-www-form-urlencoded',
      },
    );
    expect(tok.status).toBe(200);
    expect(tok.body).toMatchObject({
      token_type: 'Bearer',
      expires_in: 3600,
      access_token: expect.stringMatching(/^pbt_/),
    });
    const basic = await call(
      t.url,
      'POST',
      '/api/v1/oauth/token',
      null,
      { grant_type: 'client_credentials' },
      { authorization: `Basic ${Buffer.from(`${cc.body.clientId}:${cc.body.clientSecret}`).toString('base64')}` },
    );
    expect(basic.status).toBe(200);
    const sp = t.api(tok.body.access_token);
    expect((await sp('GET', '/api/v1/environments/prod/flows')).status).toBe(200);
    const created = await sp('POST', '/api/v1/environments/prod/connections', {
      connector: 'shared_patchbayhttp',
      displayName: 'sp owned',
      parameters: { baseUrl: 'http://x' },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ owner: 'deploy-sp', ownerKind: 'servicePrincipal' });
    const dev = await sp('GET', '/api/v1/environments/dev/flows');
    expect(dev.status).toBe(403);
    expect(dev.body).toMatchObject({
      code: 'ROLE_REQUIRED',
      details: { environment: 'dev', principal: 'deploy-sp', role: null },
    });
    await admin('DELETE', `/api/v1/client-credentials/${cc.body.clientId}`);
    const revoked = await call(t.url, 'POST', '/api/v1/oauth/token', null, {
      grant_type: 'client_credentials',
      client_id: cc.body.clientId,
      client_secret: cc.body.clientSecret,
    });
    expect(revoked.status).toBe(401);
  });

  it('answers 401 to an expired token and to a revoked one', async () => {
    const { token } = await t.platform.auth.createToken({ for: 'maya', expiresInDays: 1 });
    const maya = t.api(token);
    expect((await maya('GET', '/api/v1/me')).status).toBe(200);
    // Let the token expire: move its expiry into the past in the store (the clock is real).
    const id = token.slice(4, 20);
    await expireToken(t, id);
    const expired = await maya('GET', '/api/v1/me');
    expect(expired.status).toBe(401);
    expect(expired.body).toMatchObject({ code: 'TOKEN_EXPIRED', details: { token: id } });
    const other = await t.platform.auth.createToken({ for: 'maya' });
    expect((await t.api(other.token)('GET', '/api/v1/me')).status).toBe(200);
    await admin('DELETE', `/api/v1/tokens/${other.record.id}`);
    const revoked = await t.api(other.token)('GET', '/api/v1/me');
    expect(revoked.status).toBe(401);
    expect(revoked.body.code).toBe('TOKEN_REVOKED');
  });

  it('answers 401 to the token of a disabled principal', async () => {
    const { token } = await t.platform.auth.createToken({ for: 'victor' });
    await admin('POST', '/api/v1/principals/victor/disable');
    const r = await t.api(token)('GET', '/api/v1/me');
    expect(r.status).toBe(401);
    expect(r.body.code).toBe('PRINCIPAL_DISABLED');
    await admin('POST', '/api/v1/principals/victor/enable');
  });
});

/** Sets a token's expiry to one second ago, straight in the store (tests only). */
async function expireToken(server: TestServer, id: string): Promise<void> {
  const store = server.platform.store as unknown as {
    db: {
      updateTable(t: string): {
        set(v: unknown): { where(c: string, op: string, v: string): { execute(): Promise<unknown> } };
      };
    };
  };
  await store.db
    .updateTable('api_tokens')
    .set({ expires_on: new Date(Date.now() - 1000).toISOString() })
    .where('id', '=', id)
    .execute();
  // The token cache trusts a verified token for a few seconds; an audited change clears it.
  await server.platform.environments.setPolicy({ environment: 'dev', policy: {} });
}
