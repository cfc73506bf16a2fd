/**
 * Issue 8 audit must-show, on both stores: a run that calls a connector writes exactly one
 * `secret.decrypt` record naming the run, the action and the connection (one per connection and
 * run, also when a loop calls it many times); the record holds no secret value; the CLI lists it
 * with `patchbay audit list --json` and filters.
 */
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../cli/src/main.js';
import { memoryIO } from '../../cli/src/io.js';
import { call, demoSolutionBase64, startTestServer, type Api, type TestServer } from './helpers.js';

const API_KEY = 'audit-test-key-5b9d';
let t: TestServer;
let admin: Api;
let upstream: Server;
let host = '';
let connectionId = '';

beforeAll(async () => {
  upstream = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    res.writeHead(req.headers['x-api-key'] === API_KEY ? 200 : 401, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        message: `${url.searchParams.get('salutation')}, ${url.searchParams.get('name')}!`,
        keyName: 'audit',
        served: 1,
      }),
    );
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  const addr = upstream.address();
  host = `127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  t = await startTestServer();
  admin = t.api();
  await admin('POST', '/api/v1/environments', { name: 'test', policy: { allowLoopback: true } });
  const pkg = await demoSolutionBase64();
  expect((await admin('POST', '/api/v1/environments/test/solutions/import', { package: pkg })).status).toBe(200);
  const c = await admin('POST', '/api/v1/environments/test/connections', {
    connector: 'pbdemo_greetingapi',
    displayName: 'audited',
    parameters: { host },
    secretParameters: { api_key: API_KEY },
  });
  connectionId = c.body.id;
  expect(
    (await admin('PUT', '/api/v1/environments/test/references/pbdemo_GreetingApi/binding', { connectionId })).status,
  ).toBe(200);
});
afterAll(async () => {
  await t?.close();
  await new Promise<void>((r) => upstream?.close(() => r()));
});

async function callbackUrl(flow: string): Promise<string> {
  return (
    await admin('POST', `/api/v1/environments/test/flows/${encodeURIComponent(flow)}/triggers/manual/listCallbackUrl`)
  ).body.value as string;
}

describe('secret decryption audit', () => {
  it('writes one record naming the run, the action and the connection', async () => {
    const r = await call(await callbackUrl('Greet caller'), 'POST', '', null, { name: 'Ada' });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ greeting: 'Hello, Ada!', keyName: 'audit' });
    const runId = r.headers.get('x-ms-workflow-run-id')!;
    const records = (await admin('GET', '/api/v1/audit?environment=test&action=secret.decrypt')).body.filter(
      (a: { details: { runId?: string } }) => a.details.runId === runId,
    );
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      action: 'secret.decrypt',
      environment: 'test',
      target: { type: 'connection', id: connectionId },
      details: { runId, actionName: 'Get_greeting', connectionId, secretNames: ['api_key'] },
    });
    const all = await admin('GET', '/api/v1/audit?limit=1000');
    expect(all.text).not.toContain(API_KEY);
    const run = await admin('GET', `/api/v1/runs/${runId}`);
    expect(run.text).not.toContain(API_KEY);
  });

  it('decrypts once per run and connection even when a loop calls the connector three times', async () => {
    const r = await call(await callbackUrl('Greet many'), 'POST', '', null, { names: ['a', 'b', 'c'] });
    expect(r.status).toBe(200);
    expect(r.body.greetings).toHaveLength(3);
    const runId = r.headers.get('x-ms-workflow-run-id')!;
    const records = (
      await admin('GET', `/api/v1/audit?environment=test&action=secret.*&target=${connectionId}`)
    ).body.filter((a: { details: { runId?: string } }) => a.details.runId === runId);
    expect(records).toHaveLength(1);
    expect(records[0].details).toMatchObject({ runId, actionName: 'Get_greeting_for_name', connectionId });
  });

  it('is listed by `patchbay audit list --json` with filters', async () => {
    // The CLI opens its own platform on the same store as the server.
    const cliArgs = t.cliArgs;
    const cliEnv = t.cliEnv;
    const io = memoryIO({ env: cliEnv });
    const code = await main(
      [...cliArgs, 'audit', 'list', '--env', 'test', '--action', 'secret.decrypt', '--target', connectionId, '--json'],
      io,
    );
    expect(io.stderr).toBe('');
    expect(code).toBe(0);
    const rows = JSON.parse(io.stdout) as Array<{ action: string; details: { connectionId: string; runId: string } }>;
    expect(rows.length).toBe(2);
    expect(rows.every((a) => a.action === 'secret.decrypt' && a.details.connectionId === connectionId)).toBe(true);
    const text = memoryIO({ env: cliEnv });
    expect(await main([...cliArgs, 'audit', 'list', '--env', 'test', '--action', 'reference.*'], text)).toBe(0);
    expect(text.stdout).toContain('reference.bind');
    const bad = memoryIO({ env: cliEnv });
    expect(await main([...cliArgs, 'audit', 'list', '--since', 'yesterday'], bad)).toBe(1);
  });
});
