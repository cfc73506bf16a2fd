/**
 * Invariant 5 at run time: a service that echoes the credential it received (a header or the
 * body) does not get it into run history — every secret value of the run is redacted from the
 * connector action's outputs.
 */
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { testConnection, type Platform } from '@patchbay/platform';
import { readSolution } from '@patchbay/solution';
import { connectorPlatform, testServer, type TestServer } from './support/connector-platform.js';

const demoPath = join(__dirname, '../../../samples/solutions/DemoGreetings');
let p: Platform;
let cleanup: () => Promise<void>;
let server: TestServer;

beforeEach(async () => {
  ({ platform: p, cleanup } = await connectorPlatform());
  await p.environments.create({ name: 'test', policy: { allowLoopback: true } });
  server = await testServer((r, res) => {
    const key = String(r.headers['x-api-key']);
    res.writeHead(200, { 'content-type': 'application/json', 'x-echo-key': key }).end(
      JSON.stringify({
        message: `Hello ${r.query.get('name')}, your key is ${key}`,
        keyName: key,
        nested: { again: [key] },
      }),
    );
  });
});
afterEach(async () => {
  await server.close();
  await cleanup();
});

describe(`secrets echoed by a service (${process.env['PATCHBAY_TEST_STORE']})`, () => {
  it('never reach the run history, the response or the stored run', async () => {
    const secret = 'ECHOED-SECRET-' + Math.random().toString(36).slice(2);
    await p.solutions.import({ environment: 'test', package: await readSolution(demoPath) });
    const c = await p.connections.create({
      environment: 'test',
      connector: 'pbdemo_greetingapi',
      displayName: 'echo',
      parameters: { host: server.host },
      secretParameters: { api_key: secret },
    });
    await p.references.bind({ environment: 'test', logicalName: 'pbdemo_GreetingApi', connectionId: c.id });
    const { run, result } = await p.runs.run({
      environment: 'test',
      flow: 'Greet caller',
      trigger: { body: { name: 'Ada' } },
    });
    expect(result.status).toBe('Succeeded');
    expect(server.received[0]?.headers['x-api-key']).toBe(secret);
    expect(result.response?.body).toMatchObject({ greeting: 'Hello Ada, your key is ***', keyName: '***' });
    const stored = JSON.stringify(await p.runs.get(run.id));
    expect(stored).not.toContain(secret);
    expect(JSON.stringify(result.record)).not.toContain(secret);
  });

  it('the sample connector tests a connection with its status operation, no parameters needed', async () => {
    await p.solutions.import({ environment: 'test', package: await readSolution(demoPath) });
    const c = await p.connections.create({
      environment: 'test',
      connector: 'pbdemo_greetingapi',
      displayName: 'status',
      parameters: { host: server.host },
      secretParameters: { api_key: 'k-status' },
    });
    expect((await testConnection(p, { id: c.id })).result).toBe('passed');
    expect(server.received.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /api/status']);
  });
});
