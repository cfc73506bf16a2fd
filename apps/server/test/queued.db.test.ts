/**
 * The API with queued durable execution (issue 9) on both stores: /healthz, /readyz and /metrics;
 * a callback URL of a flow that does I/O answers through the queue (the Response, or 202 with the
 * run id); a manual run through the queue; cancelling a queued run; the in-process fast path
 * stays for flows of built-in actions only. Real HTTP on 127.0.0.1.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExecutionService, executionConfig, type Platform } from '@patchbay/platform';
import { startServer, type PatchbayServer } from '@patchbay/server';
import { seedFlow, testPlatform } from '../../../test-support/platform.js';
import { call } from './helpers.js';

let platform: Platform;
let execution: ExecutionService;
let server: PatchbayServer;
let token: string;
let cleanup: () => Promise<void>;

const flow = (actions: Record<string, unknown>) => ({
  properties: {
    connectionReferences: {},
    definition: { triggers: { manual: { type: 'Request', kind: 'Http', inputs: { schema: {} } } }, actions },
  },
});

beforeAll(async () => {
  ({ platform, cleanup } = await testPlatform());
  execution = await ExecutionService.create({
    platform,
    config: executionConfig({ PATCHBAY_QUEUE_POLL_MS: '50', PATCHBAY_INBOX_POLL_MS: '100' }, { queue: 'embedded' }),
    kind: 'embedded',
  });
  await execution.startWorkers(4);
  server = await startServer({ platform, port: 0, host: '127.0.0.1', execution });
  token = (await platform.auth.createToken({ for: 'admin', description: 'tests' })).token;
  await platform.environments.create({ name: 'dev' });
  await seedFlow(platform, {
    environment: 'dev',
    id: 'aaaaaaaa-0000-0000-0000-00000000a001',
    name: 'WaitThenAnswer',
    owner: 'admin',
    connections: [],
    definition: flow({
      Wait: { type: 'Wait', inputs: { interval: { count: 1, unit: 'Second' } } },
      Answer: {
        type: 'Response',
        kind: 'Http',
        runAfter: { Wait: ['Succeeded'] },
        inputs: { statusCode: 200, body: { hello: "@triggerBody()?['name']" } },
      },
    }),
  });
  await seedFlow(platform, {
    environment: 'dev',
    id: 'aaaaaaaa-0000-0000-0000-00000000a002',
    name: 'WaitLong',
    owner: 'admin',
    connections: [],
    definition: flow({ Wait: { type: 'Wait', inputs: { interval: { count: 1, unit: 'Hour' } } } }),
  });
  await seedFlow(platform, {
    environment: 'dev',
    id: 'aaaaaaaa-0000-0000-0000-00000000a003',
    name: 'BuiltIn',
    owner: 'admin',
    connections: [],
    definition: flow({ Answer: { type: 'Response', kind: 'Http', inputs: { statusCode: 200, body: 'fast' } } }),
  });
});
afterAll(async () => {
  await server?.close();
  await execution?.stop();
  await cleanup?.();
});

const api = (method: string, path: string, body?: unknown) => call(server.url, method, path, token, body);
const hook = async (name: string) =>
  (await api('POST', `/api/v1/environments/dev/flows/${name}/triggers/manual/listCallbackUrl`)).body.value as string;

describe(`API with queued execution (${process.env['PATCHBAY_TEST_STORE']})`, () => {
  it('serves /healthz, /readyz and /metrics without a token', async () => {
    expect((await call(server.url, 'GET', '/healthz', null)).body).toMatchObject({
      status: 'ok',
      node: execution.nodeId,
      queue: 'embedded',
    });
    expect(await call(server.url, 'GET', '/readyz', null)).toMatchObject({
      status: 200,
      body: { status: 'ready', checks: { database: 'ok', node: 'registered' } },
    });
    const metrics = await call(server.url, 'GET', '/metrics', null);
    expect(metrics.status).toBe(200);
    expect(metrics.text).toContain('# TYPE patchbay_runs_started_total counter');
    expect(metrics.text).toContain('patchbay_queue_depth{state="ready",queue="embedded"}');
    expect(metrics.text).toMatch(/^patchbay_process_process_cpu_user_seconds_total /m);
  });

  it('answers a callback URL through the queue with the Response; flows of built-in actions stay in-process', async () => {
    const res = await fetch(await hook('WaitThenAnswer'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Ada' }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ hello: 'Ada' });
    const runId = res.headers.get('x-ms-workflow-run-id')!;
    expect(await platform.store.repos.runStates.get(runId)).toMatchObject({ runId });
    const fast = await fetch(await hook('BuiltIn'), {
      method: 'POST',
      body: '{}',
      headers: { 'content-type': 'application/json' },
    });
    expect(await fast.text()).toBe('fast');
    expect(await platform.store.repos.runStates.get(fast.headers.get('x-ms-workflow-run-id')!)).toBeUndefined();
    const metrics = (await call(server.url, 'GET', '/metrics', null)).text;
    expect(metrics).toMatch(/^patchbay_runs_enqueued_total\{trigger="http"\} 1$/m);
  });

  it('runs a flow manually through the queue and cancels a queued run from the API', async () => {
    const manual = await api('POST', '/api/v1/environments/dev/flows/WaitThenAnswer/run', { body: { name: 'Grace' } });
    expect(manual.status).toBe(200);
    expect(manual.body).toMatchObject({ status: 'Succeeded', response: { statusCode: 200, body: { hello: 'Grace' } } });
    const res = await fetch(await hook('WaitLong'), {
      method: 'POST',
      body: '{}',
      headers: { 'content-type': 'application/json' },
    });
    expect(res.status).toBe(202);
    const { runId } = (await res.json()) as { runId: string };
    const cancel = await api('POST', `/api/v1/runs/${runId}/cancel`);
    expect(cancel).toMatchObject({ status: 202, body: { run: runId, cancelRequested: true } });
    const deadline = Date.now() + 20_000;
    let status = 'Running';
    while (status === 'Running' && Date.now() < deadline) {
      status = (await api('GET', `/api/v1/runs/${runId}`)).body.status as string;
      if (status === 'Running') await new Promise((r) => setTimeout(r, 50));
    }
    expect(status).toBe('Cancelled');
    expect((await api('POST', `/api/v1/runs/${runId}/cancel`)).body).toMatchObject({ code: 'RUN_ALREADY_ENDED' });
  });
});
