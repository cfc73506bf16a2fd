/**
 * HTTP-triggered flows over real HTTP (issue 8 item 6), on both stores: a Request trigger's signed
 * callback URL starts a run and answers with the flow's Response (or 202 and the run id); each
 * answered run is in the run history; a wrong signature, a revoked URL, a flow that is Off and a
 * wrong method are refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedFlow } from '../../../test-support/platform.js';
import { call, echoFlow, startTestServer, type Api, type TestServer } from './helpers.js';

let t: TestServer;
let admin: Api;

beforeAll(async () => {
  t = await startTestServer();
  admin = t.api();
  await admin('POST', '/api/v1/environments', { name: 'dev' });
  await seedFlow(t.platform, {
    environment: 'dev',
    id: 'aaaaaaaa-0000-0000-0000-000000000001',
    name: 'Echo',
    owner: 'admin',
    connections: [],
    definition: echoFlow({ callbackUrl: true }),
  });
  await seedFlow(t.platform, {
    environment: 'dev',
    id: 'aaaaaaaa-0000-0000-0000-000000000002',
    name: 'Fire and forget',
    owner: 'admin',
    connections: [],
    definition: echoFlow({ response: false }),
  });
});
afterAll(async () => {
  await t?.close();
});

async function callbackUrl(flow: string): Promise<string> {
  const r = await admin(
    'POST',
    `/api/v1/environments/dev/flows/${encodeURIComponent(flow)}/triggers/manual/listCallbackUrl`,
  );
  expect(r.status).toBe(200);
  expect(r.body).toMatchObject({
    method: 'POST',
    trigger: 'manual',
    value: expect.stringContaining(`${t.url}/api/v1/hooks/`),
  });
  return r.body.value as string;
}

describe('callback URLs', () => {
  it('answers synchronously with the Response action, and the run is in the history', async () => {
    const url = await callbackUrl('Echo');
    expect(await callbackUrl('Echo')).toBe(url);
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Grace' }),
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('x-flow')).toBe('echo');
    const runId = res.headers.get('x-ms-workflow-run-id');
    const body = (await res.json()) as { greeting: string; run: string };
    expect(body).toEqual({ greeting: 'Hello Grace', run: runId });
    const run = await admin('GET', `/api/v1/runs/${runId}`);
    expect(run.body).toMatchObject({ status: 'Succeeded', startedBy: 'http', response: { statusCode: 201 } });
    const compose = run.body.history.actions.find((a: { name: string }) => a.name === 'Compose');
    expect(compose.outputs).toEqual({ hello: 'Grace', url });
  });

  it('answers 202 with the run id when the flow has no Response action', async () => {
    const url = await callbackUrl('Fire and forget');
    const r = await call(url, 'POST', '', null, { name: 'Linus' });
    expect(r.status).toBe(202);
    expect(r.body).toEqual({ runId: expect.any(String), status: 'Succeeded' });
    expect((await admin('GET', `/api/v1/runs/${r.body.runId}`)).body).toMatchObject({
      status: 'Succeeded',
      startedBy: 'http',
      flow: 'Fire and forget',
    });
  });

  it('persists every answered run under concurrent requests (group commit)', async () => {
    const url = await callbackUrl('Echo');
    const answers = await Promise.all(
      Array.from({ length: 60 }, (_, i) => call(url, 'POST', '', null, { name: `n${i}` })),
    );
    expect(answers.every((a) => a.status === 201)).toBe(true);
    const ids = new Set(answers.map((a) => a.body.run as string));
    expect(ids.size).toBe(60);
    const runs = await admin('GET', '/api/v1/environments/dev/runs?flow=Echo&limit=1000');
    const stored = new Set(runs.body.map((r: { id: string }) => r.id));
    for (const id of ids) expect(stored.has(id)).toBe(true);
    // Rows written in one batch (one multi-row INSERT) read back whole.
    for (const id of [...ids].slice(0, 5)) {
      const run = await admin('GET', `/api/v1/runs/${id}`);
      expect(run.body).toMatchObject({
        status: 'Succeeded',
        startedBy: 'http',
        flow: 'Echo',
        durationMs: expect.any(Number),
        response: { statusCode: 201 },
      });
      expect(run.body.history.actions.map((a: { name: string }) => a.name)).toEqual(['Init', 'Compose', 'Respond']);
      expect(run.body.history.trigger.outputs.body).toEqual({ name: expect.stringMatching(/^n\d+$/) });
    }
  });

  it('refuses a wrong signature, a wrong method, a flow that is Off, and a revoked URL', async () => {
    const url = await callbackUrl('Echo');
    const bad = await call(url.replace(/sig=[^&]+/, 'sig=AAAA'), 'POST', '', null, { name: 'x' });
    expect(bad.status).toBe(401);
    expect(bad.body.code).toBe('CALLBACK_SIGNATURE_INVALID');
    expect((await call(url.replace(/sig=[^&]+/, ''), 'POST', '', null, {})).status).toBe(401);
    const get = await call(url, 'GET', '', null);
    expect(get.status).toBe(400);
    expect(get.body.code).toBe('TRIGGER_METHOD_NOT_ALLOWED');
    await admin('POST', '/api/v1/environments/dev/flows/Echo/off');
    const off = await call(url, 'POST', '', null, { name: 'x' });
    expect(off.status).toBe(409);
    expect(off.body).toMatchObject({ code: 'FLOW_NOT_ON', details: { state: 'Off' } });
    await admin('POST', '/api/v1/environments/dev/flows/Echo/on');
    expect((await call(url, 'POST', '', null, { name: 'x' })).status).toBe(201);
    const rev = await admin('POST', '/api/v1/environments/dev/flows/Echo/triggers/manual/revokeCallbackUrl');
    expect(rev.body.revoked).toHaveLength(1);
    const revoked = await call(url, 'POST', '', null, { name: 'x' });
    expect(revoked.status).toBe(401);
    const fresh = await callbackUrl('Echo');
    expect(fresh).not.toBe(url);
    expect((await call(fresh, 'POST', '', null, { name: 'x' })).status).toBe(201);
  });

  it("passes the environment's variable values by schema name, whatever its case (callback and manual runs)", async () => {
    const env = await t.platform.environments.get('dev');
    const now = new Date().toISOString();
    await t.platform.store.transaction(async (tx) => {
      await tx.environmentVariables.upsertDefinition({
        environmentId: env.id,
        schemaName: 'pb_Salutation',
        displayName: 'Salutation',
        type: 'String',
        defaultValue: 'Hello',
        isRequired: false,
        createdOn: now,
        modifiedOn: now,
      });
      await tx.environmentVariables.upsertValue({
        environmentId: env.id,
        schemaName: 'pb_Salutation',
        value: 'Good evening',
        modifiedOn: now,
      });
    });
    const def = echoFlow() as {
      properties: { definition: { parameters: unknown; actions: Record<string, { inputs: { body: unknown } }> } };
    };
    def.properties.definition.parameters = {
      'Salutation (pb_Salutation)': {
        type: 'String',
        defaultValue: 'Hello',
        metadata: { schemaName: 'pb_Salutation' },
      },
    };
    def.properties.definition.actions['Respond']!.inputs.body = {
      greeting: "@{parameters('Salutation (pb_Salutation)')}, @{triggerBody()?['name']}",
    };
    await seedFlow(t.platform, {
      environment: 'dev',
      id: 'aaaaaaaa-0000-0000-0000-000000000004',
      name: 'Salute',
      owner: 'admin',
      connections: [],
      definition: def,
    });
    const viaUrl = await call(await callbackUrl('Salute'), 'POST', '', null, { name: 'Ada' });
    expect(viaUrl.body).toEqual({ greeting: 'Good evening, Ada' });
    const manual = await admin('POST', '/api/v1/environments/dev/flows/Salute/run', { body: { name: 'Bo' } });
    expect(manual.body.response.body).toEqual({ greeting: 'Good evening, Bo' });
  });

  it('refuses callback URLs for flows without a Request trigger', async () => {
    const def = echoFlow() as { properties: { definition: { triggers: unknown } } };
    def.properties.definition.triggers = {
      Recurrence: { type: 'Recurrence', recurrence: { frequency: 'Hour', interval: 1 } },
    };
    await seedFlow(t.platform, {
      environment: 'dev',
      id: 'aaaaaaaa-0000-0000-0000-000000000003',
      name: 'Hourly',
      owner: 'admin',
      connections: [],
      definition: def,
    });
    const r = await admin('POST', '/api/v1/environments/dev/flows/Hourly/triggers/manual/listCallbackUrl');
    expect(r.status).toBe(409);
    expect(r.body.code).toBe('FLOW_NO_REQUEST_TRIGGER');
  });
});
