/**
 * The API over real HTTP on 127.0.0.1, one block per route group, on the tier's store (SQLite and
 * PostgreSQL): health and OpenAPI, environments and roles, principals and tokens, connectors,
 * connections (secrets write-only), references, solutions (plan, import, export, settings,
 * analyse), flows, runs, audit; errors as {code, message, details}.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSolutionZip } from '@patchbay/solution';
import { seedFlow } from '../../../test-support/platform.js';
import { call, demoSolutionBase64, echoFlow, startTestServer, type Api, type TestServer } from './helpers.js';

let t: TestServer;
let api: Api;

beforeAll(async () => {
  t = await startTestServer();
  api = t.api();
});
afterAll(async () => {
  await t?.close();
});

describe('health and OpenAPI', () => {
  it('answers health without a token and everything else only with one', async () => {
    const h = await api('GET', '/api/v1/health');
    expect(h.status).toBe(200);
    expect(h.body).toEqual({ status: 'ok', store: t.platform.store.kind });
    const anon = t.api(null);
    const r = await anon('GET', '/api/v1/environments');
    expect(r.status).toBe(401);
    expect(r.body).toMatchObject({ code: 'TOKEN_MISSING', message: expect.any(String), details: {} });
    expect(r.headers.get('www-authenticate')).toBe('Bearer');
    expect((await anon('GET', '/api/v1/environments', undefined, { authorization: 'Bearer nonsense' })).body.code).toBe(
      'TOKEN_INVALID',
    );
  });

  it('serves an OpenAPI 3 document generated from the route schemas', async () => {
    expect((await call(t.url, 'GET', '/api/v1/openapi.json', null)).status).toBe(401);
    const r = await api('GET', '/api/v1/openapi.json');
    expect(r.status).toBe(200);
    expect(r.body.openapi).toMatch(/^3\./);
    for (const p of [
      '/api/v1/environments',
      '/api/v1/environments/{env}/connections',
      '/api/v1/environments/{env}/references/{name}/binding',
      '/api/v1/runs/{id}/cancel',
      '/api/v1/oauth/token',
      '/api/v1/audit',
    ]) {
      expect(Object.keys(r.body.paths)).toContain(p);
    }
    expect(
      r.body.paths['/api/v1/environments/{env}/connections'].post.requestBody.content['application/json'].schema
        .required,
    ).toEqual(['connector', 'displayName']);
    expect(r.body.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
  });

  it('reports unknown routes and invalid bodies with the error shape', async () => {
    const nf = await api('GET', '/api/v1/nothing-here');
    expect(nf.status).toBe(404);
    expect(nf.body.code).toBe('ROUTE_NOT_FOUND');
    const bad = await api('POST', '/api/v1/environments', { displayName: 'no name' });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ code: 'REQUEST_INVALID', details: { in: 'body' } });
  });
});

describe('environments and roles', () => {
  it('creates, lists, reads, sets policy and roles; duplicates are 409 with the CLI code', async () => {
    const c = await api('POST', '/api/v1/environments', { name: 'dev', policy: { allowLoopback: true } });
    expect(c.status).toBe(201);
    expect(c.body).toMatchObject({ name: 'dev', policy: { allowLoopback: true } });
    expect((await api('POST', '/api/v1/environments', { name: 'test' })).status).toBe(201);
    const dup = await api('POST', '/api/v1/environments', { name: 'DEV' });
    expect(dup.status).toBe(409);
    expect(dup.body).toMatchObject({ code: 'ENVIRONMENT_EXISTS', details: { environment: 'dev' } });
    expect((await api('GET', '/api/v1/environments')).body.map((e: { name: string }) => e.name)).toEqual([
      'dev',
      'test',
    ]);
    expect((await api('GET', '/api/v1/environments/dev')).body.name).toBe('dev');
    expect((await api('GET', '/api/v1/environments/nope')).body.code).toBe('ENVIRONMENT_NOT_FOUND');
    const pol = await api('PATCH', '/api/v1/environments/test/policy', { runRetentionDays: 7 });
    expect(pol.body.policy.runRetentionDays).toBe(7);
    await api('POST', '/api/v1/principals', { name: 'erin' });
    expect((await api('PUT', '/api/v1/environments/dev/roles/erin', { role: 'Maker' })).body).toEqual({
      environment: 'dev',
      principal: 'erin',
      role: 'Maker',
    });
    expect((await api('GET', '/api/v1/environments/dev/roles')).body).toContainEqual({
      principal: 'erin',
      role: 'Maker',
    });
    expect((await api('DELETE', '/api/v1/environments/dev/roles/erin')).status).toBe(200);
    expect((await api('GET', '/api/v1/environments/dev/roles')).body).not.toContainEqual({
      principal: 'erin',
      role: 'Maker',
    });
    const me = await api('GET', '/api/v1/me');
    expect(me.body).toMatchObject({ principal: { name: 'admin' }, platformAdmin: true });
  });
});

describe('principals and tokens', () => {
  it('creates principals, tokens (shown once, listed without secret) and revokes them', async () => {
    const p = await api('POST', '/api/v1/principals', { name: 'frank', displayName: 'Frank' });
    expect(p.status).toBe(201);
    const tok = await api('POST', '/api/v1/tokens', { for: 'frank', description: 'laptop', expiresInDays: 30 });
    expect(tok.status).toBe(201);
    expect(tok.body.token).toMatch(/^pbt_[0-9a-f]{16}_/);
    expect(tok.body).toMatchObject({
      principal: 'frank',
      kind: 'user',
      description: 'laptop',
      expiresOn: expect.any(String),
    });
    const frank = t.api(tok.body.token);
    expect((await frank('GET', '/api/v1/me')).body.principal.name).toBe('frank');
    const list = await api('GET', '/api/v1/tokens?for=frank');
    expect(list.body).toHaveLength(1);
    expect(JSON.stringify(list.body)).not.toContain(tok.body.token.split('_')[2]);
    expect(list.body[0]).not.toHaveProperty('hash');
    expect((await frank('GET', '/api/v1/tokens')).body.map((x: { id: string }) => x.id)).toEqual([tok.body.id]);
    expect((await frank('DELETE', `/api/v1/tokens/${tok.body.id}`)).status).toBe(200);
    const after = await frank('GET', '/api/v1/me');
    expect(after.status).toBe(401);
    expect(after.body.code).toBe('TOKEN_REVOKED');
    const dis = await api('POST', '/api/v1/principals/frank/disable');
    expect(dis.body.principal.status).toBe('disabled');
    expect((await api('POST', '/api/v1/principals/frank/enable')).body.principal.status).toBe('active');
  });
});

describe('connectors, connections and references', () => {
  let connId = '';
  it('installs a custom connector from its source form and registers one by id', async () => {
    const demo = await readSolutionZip(Buffer.from(await demoSolutionBase64(), 'base64'), { name: 'demo.zip' });
    const cc = demo.customConnectors[0]!;
    const put = await api('PUT', '/api/v1/environments/dev/connectors/pbdemo_greetingapi', {
      displayName: 'Greeting API',
      apiDefinition: cc.openApiDefinition,
      apiProperties: {
        properties: {
          connectionParameters: cc.connectionParameters,
          policyTemplateInstances: cc.policyTemplateInstances,
        },
      },
    });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ id: 'pbdemo_greetingapi', kind: 'custom' });
    expect((await api('POST', '/api/v1/environments/dev/connectors', { id: 'shared_office365' })).body.kind).toBe(
      'idOnly',
    );
    const list = await api('GET', '/api/v1/environments/dev/connectors');
    expect(list.body.map((c: { id: string }) => c.id)).toEqual(
      expect.arrayContaining(['shared_patchbayhttp', 'pbdemo_greetingapi', 'shared_office365']),
    );
    const one = await api('GET', '/api/v1/environments/dev/connectors/pbdemo_greetingapi');
    expect(Object.keys(one.body.definition.connectionParameters)).toEqual(['api_key', 'host']);
  });

  it('creates a connection whose secrets are write-only, tests, shares, unshares, transfers', async () => {
    const c = await api('POST', '/api/v1/environments/dev/connections', {
      connector: 'pbdemo_greetingapi',
      displayName: 'Greeting (team key)',
      parameters: { host: '127.0.0.1:1' },
      secretParameters: { api_key: 'team-key-value-123' },
    });
    expect(c.status).toBe(201);
    expect(c.body).toMatchObject({
      connector: 'pbdemo_greetingapi',
      owner: 'admin',
      status: 'Connected',
      secretParameters: ['api_key'],
      parameters: { host: '127.0.0.1:1' },
    });
    connId = c.body.id;
    expect(c.text).not.toContain('team-key-value-123');
    const one = await api('GET', `/api/v1/environments/dev/connections/${connId}`);
    expect(one.text).not.toContain('team-key-value-123');
    const test = await api('POST', `/api/v1/environments/dev/connections/${connId}/test`);
    expect(test.status).toBe(200);
    expect(test.text).not.toContain('team-key-value-123');
    const bad = await api('POST', '/api/v1/environments/dev/connections', {
      connector: 'pbdemo_greetingapi',
      displayName: 'x',
      parameters: {},
    });
    expect(bad.status).toBe(400);
    expect(bad.body.code).toMatch(/^CONNECTION_PARAMETER_/);
    await api('POST', '/api/v1/principals', { name: 'gina' });
    const sh = await api('POST', `/api/v1/environments/dev/connections/${connId}/share`, {
      with: 'gina',
      role: 'CanUse',
    });
    expect(sh.body.connection.shares).toEqual([{ principal: 'gina', role: 'CanUse' }]);
    const un = await api('POST', `/api/v1/environments/dev/connections/${connId}/unshare`, { with: 'gina' });
    expect(un.body.connection.shares).toEqual([]);
    const tr = await api('POST', `/api/v1/environments/dev/connections/${connId}/transfer`, {
      to: 'gina',
      keepAccess: true,
    });
    expect(tr.body.connection).toMatchObject({
      owner: 'gina',
      shares: [{ principal: 'admin', role: 'CanUseAndShare' }],
    });
    expect((await api('GET', '/api/v1/environments/dev/connections')).body.map((x: { id: string }) => x.id)).toContain(
      connId,
    );
    expect((await api('GET', `/api/v1/environments/test/connections/${connId}`)).body.code).toBe(
      'CONNECTION_NOT_FOUND',
    );
  });

  it('creates a reference, binds it (no flow changes), lists usages, unbinds, deletes', async () => {
    const r = await api('POST', '/api/v1/environments/dev/references', {
      logicalName: 'pbdemo_Other',
      connector: 'pbdemo_greetingapi',
      displayName: 'Other',
    });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ logicalName: 'pbdemo_Other', connectionId: null });
    const b = await api('PUT', '/api/v1/environments/dev/references/pbdemo_Other/binding', { connectionId: connId });
    expect(b.status).toBe(200);
    expect(b.body).toMatchObject({ reference: 'pbdemo_Other', connectionId: connId, previousConnectionId: null });
    expect((await api('GET', '/api/v1/environments/dev/references/pbdemo_other')).body.connectionId).toBe(connId);
    expect((await api('GET', '/api/v1/environments/dev/references/pbdemo_Other/usages')).body).toEqual([]);
    const mismatch = await api('POST', '/api/v1/environments/dev/references', {
      logicalName: 'pbdemo_Http',
      connector: 'shared_patchbayhttp',
    });
    expect(mismatch.status).toBe(201);
    const wrong = await api('PUT', '/api/v1/environments/dev/references/pbdemo_Http/binding', { connectionId: connId });
    expect(wrong.status).toBe(409);
    expect(wrong.body.code).toBe('BINDING_CONNECTOR_MISMATCH');
    expect(
      (await api('DELETE', '/api/v1/environments/dev/references/pbdemo_Other/binding')).body.previousConnectionId,
    ).toBe(connId);
    expect((await api('DELETE', '/api/v1/environments/dev/references/pbdemo_Other')).body.deleted).toBe('pbdemo_Other');
    const inUse = await api('POST', '/api/v1/environments/dev/references', {
      logicalName: 'pbdemo_Keep',
      connector: 'pbdemo_greetingapi',
    });
    expect(inUse.status).toBe(201);
    await api('PUT', '/api/v1/environments/dev/references/pbdemo_Keep/binding', { connectionId: connId });
    const del = await api('DELETE', `/api/v1/environments/dev/connections/${connId}`);
    expect(del.status).toBe(409);
    expect(del.body).toMatchObject({ code: 'CONNECTION_IN_USE', details: { references: ['pbdemo_Keep'] } });
    const forced = await api('DELETE', `/api/v1/environments/dev/connections/${connId}?force=true`);
    expect(forced.body).toMatchObject({ deleted: connId, unboundReferences: ['pbdemo_Keep'] });
  });
});

describe('solutions', () => {
  it('plans, imports, exports, creates settings and analyses the sample solution', async () => {
    const pkg = await demoSolutionBase64();
    const plan = await api('POST', '/api/v1/environments/test/solutions/plan', { package: pkg });
    expect(plan.status).toBe(200);
    expect(plan.body.solution).toMatchObject({ uniqueName: 'DemoGreetings', action: 'install' });
    expect(plan.body.references.map((r: { logicalName: string }) => r.logicalName)).toEqual(['pbdemo_GreetingApi']);
    expect((await api('GET', '/api/v1/environments/test/solutions')).body).toEqual([]);
    const conn = await api('POST', '/api/v1/environments/test/connections', {
      connector: 'shared_patchbayhttp',
      displayName: 'http',
      parameters: { baseUrl: 'http://127.0.0.1:1' },
    });
    const blocked = await api('POST', '/api/v1/environments/test/solutions/import', {
      package: pkg,
      settings: {
        ConnectionReferences: [{ LogicalName: 'pbdemo_GreetingApi', ConnectionId: conn.body.id, ConnectorId: 'x' }],
      },
    });
    expect(blocked.status).toBe(409);
    expect(blocked.body.code).toBe('SETTINGS_CONNECTOR_MISMATCH');
    expect((await api('GET', '/api/v1/environments/test/solutions')).body).toEqual([]);
    const imp = await api('POST', '/api/v1/environments/test/solutions/import', { package: pkg });
    expect(imp.status).toBe(200);
    expect(imp.body.flows.map((f: { name: string; state: string }) => [f.name, f.state])).toEqual(
      expect.arrayContaining([['Greet caller', 'Off']]),
    );
    const settings = await api('GET', '/api/v1/environments/test/solutions/DemoGreetings/settings');
    expect(settings.body).toEqual({
      EnvironmentVariables: [{ SchemaName: 'pbdemo_Salutation', Value: '' }],
      ConnectionReferences: [
        {
          LogicalName: 'pbdemo_GreetingApi',
          ConnectionId: '',
          ConnectorId: '/providers/Microsoft.PowerApps/apis/pbdemo_greetingapi',
        },
      ],
    });
    const exp = await fetch(`${t.url}/api/v1/environments/test/solutions/DemoGreetings/export?managed=true`, {
      headers: { authorization: `Bearer ${t.adminToken}` },
    });
    expect(exp.status).toBe(200);
    expect(exp.headers.get('content-type')).toBe('application/zip');
    const zip = Buffer.from(await exp.arrayBuffer());
    const again = await readSolutionZip(zip, { name: 'export.zip' });
    expect(again.manifest).toMatchObject({ uniqueName: 'DemoGreetings', managed: 1 });
    expect(again.flows.map((f) => f.name).sort()).toEqual(['Greet caller', 'Greet many']);
    const cs = await api('POST', '/api/v1/solutions/create-settings', { package: pkg });
    expect(cs.body.ConnectionReferences[0].LogicalName).toBe('pbdemo_GreetingApi');
    const an = await api('POST', '/api/v1/solutions/analyze', { package: pkg });
    expect(an.status).toBe(200);
    expect(JSON.stringify(an.body)).toContain('pbdemo_GreetingApi');
    const garbage = await api('POST', '/api/v1/solutions/analyze', {
      package: Buffer.from('not a zip').toString('base64'),
    });
    expect(garbage.status).toBe(400);
  });
});

describe('flows and runs', () => {
  it('lists flows, turns them on and off, runs, lists and shows runs, resubmits, cancels', async () => {
    await seedFlow(t.platform, {
      environment: 'dev',
      id: '11111111-1111-1111-1111-111111111111',
      name: 'Echo',
      owner: 'admin',
      connections: [],
      definition: echoFlow(),
    });
    const flows = await api('GET', '/api/v1/environments/dev/flows');
    expect(flows.body.find((f: { name: string }) => f.name === 'Echo')).toMatchObject({ state: 'On', turnedOn: true });
    const off = await api('POST', '/api/v1/environments/dev/flows/Echo/off');
    expect(off.body).toMatchObject({ state: 'Off', reasons: [{ code: 'turned_off' }] });
    const notOn = await api('POST', '/api/v1/environments/dev/flows/Echo/run', { body: { name: 'x' } });
    expect(notOn.status).toBe(409);
    expect(notOn.body.code).toBe('FLOW_NOT_ON');
    expect((await api('POST', '/api/v1/environments/dev/flows/Echo/on')).body.state).toBe('On');
    const one = await api('GET', '/api/v1/environments/dev/flows/11111111-1111-1111-1111-111111111111');
    expect(one.body.definition.properties.definition.triggers.manual.type).toBe('Request');
    const run = await api('POST', '/api/v1/environments/dev/flows/Echo/run', { body: { name: 'Ada' } });
    expect(run.status).toBe(200);
    expect(run.body).toMatchObject({
      status: 'Succeeded',
      response: { statusCode: 201, body: { greeting: 'Hello Ada' } },
    });
    const runs = await api('GET', '/api/v1/environments/dev/runs?flow=Echo');
    expect(runs.body[0]).toMatchObject({ id: run.body.id, status: 'Succeeded', startedBy: 'manual' });
    const show = await api('GET', `/api/v1/runs/${run.body.id}`);
    expect(show.body.history.actions.map((a: { name: string }) => a.name)).toEqual(['Init', 'Compose', 'Respond']);
    const re = await api('POST', `/api/v1/runs/${run.body.id}/resubmit`);
    expect(re.body).toMatchObject({ status: 'Succeeded', resubmittedFrom: run.body.id });
    const cancel = await api('POST', `/api/v1/runs/${run.body.id}/cancel`);
    expect(cancel.status).toBe(409);
    expect(cancel.body.code).toBe('RUN_ALREADY_ENDED');
    expect((await api('GET', '/api/v1/runs/nope')).body.code).toBe('RUN_NOT_FOUND');
  });

  it('cancels a run that waits on a Delay', async () => {
    const def = echoFlow() as { properties: { definition: { actions: Record<string, unknown> } } };
    def.properties.definition.actions['Wait'] = {
      type: 'Wait',
      runAfter: { Compose: ['Succeeded'] },
      inputs: { interval: { count: 1, unit: 'Hour' } },
    };
    (def.properties.definition.actions['Respond'] as { runAfter: unknown }).runAfter = { Wait: ['Succeeded'] };
    await seedFlow(t.platform, {
      environment: 'dev',
      id: '22222222-2222-2222-2222-222222222222',
      name: 'Slow',
      owner: 'admin',
      connections: [],
      definition: def,
    });
    const running = api('POST', '/api/v1/environments/dev/flows/Slow/run', { body: { name: 'x' } });
    let id: string | undefined;
    for (let i = 0; i < 200 && !id; i++) {
      const list = await api('GET', '/api/v1/environments/dev/runs?flow=Slow&status=Running');
      id = list.body[0]?.id;
      if (!id) await new Promise((r) => setTimeout(r, 25));
    }
    expect(id).toBeDefined();
    const c = await api('POST', `/api/v1/runs/${id}/cancel`);
    expect(c.status).toBe(202);
    const done = await running;
    expect(done.body).toMatchObject({ id, status: 'Cancelled' });
  });
});

describe('audit', () => {
  it('lists changes with filters; an environment Admin reads its own environment only', async () => {
    const all = await api('GET', '/api/v1/audit?limit=500');
    expect(all.status).toBe(200);
    const actions = new Set(all.body.map((a: { action: string }) => a.action));
    for (const a of [
      'environment.create',
      'connection.create',
      'connection.share',
      'reference.bind',
      'solution.import',
      'solution.export',
      'token.create',
      'token.revoke',
      'flow.off',
    ])
      expect(actions).toContain(a);
    const roles = await api('GET', '/api/v1/audit?environment=dev&action=role.*');
    expect(roles.body.find((a: { action: string }) => a.action === 'role.assign')).toMatchObject({
      actor: 'admin',
      target: { type: 'principal', name: 'erin' },
      before: { role: null },
      after: { role: 'Maker' },
    });
    const created = all.body.find(
      (a: { action: string; target: { name?: string } }) =>
        a.action === 'principal.create' && a.target.name === 'frank',
    );
    expect(created).toMatchObject({ actor: 'admin', after: { name: 'frank', kind: 'user' } });
    const conn = await api('GET', '/api/v1/audit?environment=dev&action=connection.*');
    expect(conn.body.length).toBeGreaterThan(0);
    expect(
      conn.body.every(
        (a: { action: string; environment: string }) => a.action.startsWith('connection.') && a.environment === 'dev',
      ),
    ).toBe(true);
    expect(JSON.stringify(all.body)).not.toContain('team-key-value-123');
    const helen = await t.principal({ name: 'helen', roles: { dev: 'Admin', test: 'Viewer' } });
    expect((await helen.api('GET', '/api/v1/audit?environment=dev')).status).toBe(200);
    const refused = await helen.api('GET', '/api/v1/audit?environment=test');
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({
      code: 'ROLE_REQUIRED',
      details: { required: 'Admin', role: 'Viewer', environment: 'test' },
    });
    expect((await helen.api('GET', '/api/v1/audit')).body.code).toBe('PLATFORM_ADMIN_REQUIRED');
  });
});
