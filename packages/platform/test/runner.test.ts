/**
 * The in-process runner against real HTTP servers on 127.0.0.1: retries (a server that fails
 * twice, with Retry-After), action timeouts, child flows three deep, connector actions without a
 * connector runtime, cancellation, and replay of a stored event log.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpClient } from '@patchbay/connectors';
import { compileDefinition, replay, type RunEvent } from '@patchbay/engine';
import { runFlow, scaledClock, virtualClock, type ChildFlow } from '@patchbay/platform';

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;
let server: Server;
let base = '';
const routes = new Map<string, Handler>();
const hits = new Map<string, number>();
const open = new Set<ServerResponse>();

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      hits.set(path, (hits.get(path) ?? 0) + 1);
      const h = routes.get(path);
      if (!h) {
        res.writeHead(404).end('no route');
        return;
      }
      h(req, res, Buffer.concat(chunks).toString('utf8'));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // fails twice (503 with Retry-After: 1), then answers JSON
  routes.set('/flaky', (_req, res) => {
    const n = hits.get('/flaky')!;
    if (n <= 2) res.writeHead(503, { 'Retry-After': '1', 'Content-Type': 'text/plain' }).end(`busy ${n}`);
    else res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ ok: true, attempt: n }));
  });
  routes.set('/always-500', (_req, res) => res.writeHead(500).end('down'));
  routes.set('/bad-request', (_req, res) =>
    res.writeHead(400, { 'Content-Type': 'application/json' }).end('{"error":"bad"}'),
  );
  routes.set('/echo', (req, res, body) =>
    res.writeHead(201, { 'Content-Type': 'application/json' }).end(
      JSON.stringify({
        method: req.method,
        url: req.url,
        auth: req.headers.authorization ?? null,
        body: body ? JSON.parse(body) : null,
      }),
    ),
  );
  routes.set('/job', (_req, res) => res.writeHead(202, { Location: '/job/status', 'Retry-After': '1' }).end());
  routes.set('/job/status', (_req, res) => {
    if (hits.get('/job/status')! < 2) res.writeHead(202, { Location: '/job/status' }).end();
    else res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"done":true}');
  });
  routes.set('/hang', (_req, res) => {
    open.add(res); // never answers
  });
});

afterAll(async () => {
  for (const r of open) r.destroy();
  await new Promise<void>((r) => server.close(() => r()));
});

const http = () => createHttpClient({ policy: { allowLoopback: true } });
const flow = (actions: Record<string, unknown>) => ({
  properties: {
    definition: { triggers: { manual: { type: 'Request', kind: 'Http', inputs: {} } }, actions },
    connectionReferences: {},
  },
});

describe('Http action with retries against a real server', () => {
  it('a server that fails twice: two retries honouring Retry-After, then success', async () => {
    hits.delete('/flaky');
    const client = http();
    const result = await runFlow({
      flow: flow({
        Call: {
          type: 'Http',
          inputs: { method: 'GET', uri: `${base}/flaky`, retryPolicy: { type: 'fixed', count: 3, interval: 'PT30S' } },
        },
        Use: { type: 'Compose', inputs: "@body('Call')?['attempt']", runAfter: { Call: ['Succeeded'] } },
      }),
      httpClient: client,
      clock: virtualClock(Date.parse('2024-01-01T00:00:00Z')),
    });
    await client.close();
    expect(result.status).toBe('Succeeded');
    expect(hits.get('/flaky')).toBe(3);
    const call = result.record.actions.find((a) => a.name === 'Call')!;
    expect(call.attempts!.map((a) => [a.statusCode, a.retryAfterMs])).toEqual([
      [503, 1000],
      [503, 1000],
      [200, undefined],
    ]);
    expect(call.outputs).toMatchObject({ statusCode: 200, body: { ok: true, attempt: 3 } });
    expect(result.record.actions.find((a) => a.name === 'Use')!.outputs).toBe(3);
    // the retries waited on the (virtual) clock: 1 s each, from Retry-After
    expect(Date.parse(call.endTime!) - Date.parse(call.startTime!)).toBe(2000);
  });
  it.each([
    ['default policy (exponential, 4 retries) on 500', '/always-500', undefined, 5, 'Failed'],
    ['none', '/always-500', { type: 'none' }, 1, 'Failed'],
    ['a 400 is not retried', '/bad-request', undefined, 1, 'Failed'],
  ])('%s', async (_label, path, retryPolicy, calls, status) => {
    hits.delete(path);
    const result = await runFlow({
      flow: flow({
        Call: {
          type: 'Http',
          inputs: { method: 'GET', uri: `${base}${path}`, ...(retryPolicy ? { retryPolicy } : {}) },
        },
      }),
      httpPolicy: { allowLoopback: true },
      clock: virtualClock(),
    });
    expect(result.status).toBe(status);
    expect(hits.get(path)).toBe(calls);
  });
  it('sends method, queries, JSON body and Basic authentication', async () => {
    const result = await runFlow({
      flow: flow({
        Post: {
          type: 'Http',
          inputs: {
            method: 'POST',
            uri: `${base}/echo`,
            queries: { q: 'a b' },
            body: { n: 1 },
            authentication: { type: 'Basic', username: 'u', password: 'p' },
          },
        },
      }),
      httpPolicy: { allowLoopback: true },
    });
    expect(result.status).toBe('Succeeded');
    const out = result.record.actions[0]!.outputs as { statusCode: number; body: Record<string, unknown> };
    expect(out.statusCode).toBe(201);
    expect(out.body).toEqual({
      method: 'POST',
      url: '/echo?q=a+b',
      auth: `Basic ${Buffer.from('u:p').toString('base64')}`,
      body: { n: 1 },
    });
  });
  it('loopback is denied by the default policy', async () => {
    const result = await runFlow({
      flow: flow({ Call: { type: 'Http', inputs: { method: 'GET', uri: `${base}/echo` } } }),
    });
    expect(result.status).toBe('Failed');
    expect(result.summary.actions.Call!.error!.code).toBe('HTTP_HOST_DENIED');
  });
});

describe('Http async pattern against a real server', () => {
  it('a 202 with Location is polled until the job answers 200', async () => {
    hits.delete('/job');
    hits.delete('/job/status');
    const result = await runFlow({
      flow: flow({ Start: { type: 'Http', inputs: { method: 'POST', uri: `${base}/job`, body: { n: 1 } } } }),
      httpPolicy: { allowLoopback: true },
      clock: virtualClock(),
    });
    expect(result.status).toBe('Succeeded');
    expect([hits.get('/job'), hits.get('/job/status')]).toEqual([1, 2]);
    expect(result.record.actions[0]!.outputs).toMatchObject({ statusCode: 200, body: { done: true } });
  });
});

describe('action timeouts against a server that never answers', () => {
  it('limit.timeout ends the call TimedOut and runs the TimedOut handler', async () => {
    const client = http();
    const result = await runFlow({
      flow: flow({
        Call: {
          type: 'Http',
          inputs: { method: 'GET', uri: `${base}/hang`, retryPolicy: { type: 'none' } },
          limit: { timeout: 'PT5S' },
        },
        Handler: { type: 'Compose', inputs: "@actions('Call')['status']", runAfter: { Call: ['TimedOut'] } },
      }),
      httpClient: client,
      clock: scaledClock(100), // PT5S takes 50 ms
    });
    await client.close();
    expect(result.summary.actions.Call).toMatchObject({ status: 'TimedOut', error: { code: 'ActionTimedOut' } });
    expect(result.record.actions.find((a) => a.name === 'Handler')!.outputs).toBe('TimedOut');
    // the timeout was handled by a runAfter TimedOut successor: the run succeeds
    expect(result.status).toBe('Succeeded');
  });
});

describe('child flows', () => {
  const child = (level: number, next?: string): ChildFlow => ({
    flow: {
      properties: {
        definition: {
          triggers: { manual: { type: 'Request', kind: 'Button', inputs: { schema: {} } } },
          actions: {
            ...(next
              ? {
                  Call: {
                    type: 'Workflow',
                    inputs: {
                      host: { workflowReferenceName: next },
                      body: { depth: `@add(triggerBody()['depth'], 1)` },
                    },
                  },
                }
              : {}),
            Respond: {
              type: 'Response',
              kind: 'PowerApp',
              runAfter: next ? { Call: ['Succeeded'] } : {},
              inputs: {
                statusCode: 200,
                body: { level, depth: "@triggerBody()['depth']", ...(next ? { inner: "@body('Call')" } : {}) },
              },
            },
          },
        },
      },
    },
    workflow: { id: `flow-${level}` },
  });
  const flows: Record<string, ChildFlow> = { 'bbbb-2': child(2, 'cccc-3'), 'cccc-3': child(3) };
  it('three deep: each level answers its parent with its Response', async () => {
    const result = await runFlow({
      flow: flow({
        Call: { type: 'Workflow', inputs: { host: { workflowReferenceName: 'bbbb-2' }, body: { depth: 1 } } },
        Reply: {
          type: 'Response',
          inputs: { statusCode: 200, body: "@body('Call')" },
          runAfter: { Call: ['Succeeded'] },
        },
      }),
      resolveChildFlow: (id) => flows[id],
      clock: virtualClock(),
    });
    expect(result.status).toBe('Succeeded');
    expect(result.response!.body).toEqual({ level: 2, depth: 1, inner: { level: 3, depth: 2 } });
    expect(result.children.map((c) => c.status)).toEqual(['Succeeded', 'Succeeded']);
  });
  it.each([
    ['an unknown workflow id', 'nope', 'CHILD_FLOW_NOT_FOUND'],
    ['a child that fails without answering', 'failing', 'ChildFlowFailed'],
    ['a child answering 500', 'answers-500', 'InternalServerError'],
  ])('%s fails the Workflow action (%s)', async (_label, id, code) => {
    const failing: ChildFlow = {
      flow: {
        definition: {
          triggers: { manual: { type: 'Request' } },
          actions: { Bad: { type: 'Compose', inputs: '@div(1, 0)' } },
        },
      },
    };
    const answers500: ChildFlow = {
      flow: {
        definition: {
          triggers: { manual: { type: 'Request' } },
          actions: { R: { type: 'Response', inputs: { statusCode: 500, body: 'no' } } },
        },
      },
    };
    const result = await runFlow({
      flow: flow({ Call: { type: 'Workflow', inputs: { host: { workflowReferenceName: id } } } }),
      resolveChildFlow: (wid) => ({ failing, 'answers-500': answers500 })[wid],
      clock: virtualClock(),
    });
    expect(result.summary.actions.Call!.error!.code).toBe(code);
  });
  it('a self-calling flow stops at the nesting limit', async () => {
    const self: ChildFlow = {
      flow: flow({
        Call: { type: 'Workflow', inputs: { host: { workflowReferenceName: 'self' } } },
        R: { type: 'Response', inputs: { statusCode: 200 }, runAfter: { Call: ['Succeeded', 'Failed'] } },
      }),
    };
    const result = await runFlow({
      flow: self.flow,
      resolveChildFlow: () => self,
      clock: virtualClock(),
      maxChildDepth: 3,
    });
    expect(result.status).toBe('Succeeded');
    const deepest = result.children.find((c) => c.summary.actions.Call?.error?.code === 'CHILD_FLOW_TOO_DEEP');
    expect(deepest).toBeDefined();
  });
});

describe('connector actions without a connector runtime', () => {
  const def = flow({
    Get_items: {
      type: 'OpenApiConnection',
      inputs: {
        host: {
          apiId: '/providers/Microsoft.PowerApps/apis/shared_sharepointonline',
          connectionName: 'shared_sharepointonline_1',
          operationId: 'GetItems',
        },
        parameters: { dataset: 'x' },
      },
    },
  });
  it('fail with CONNECTOR_NOT_AVAILABLE naming the action and the connection key', async () => {
    const result = await runFlow({ flow: def, clock: virtualClock() });
    expect(result.status).toBe('Failed');
    const err = result.summary.actions.Get_items!.error!;
    expect(err.code).toBe('CONNECTOR_NOT_AVAILABLE');
    expect(err.message).toContain("'Get_items'");
    expect(err.message).toContain("'shared_sharepointonline_1'");
  });
  it('run with a static result instead', async () => {
    const result = await runFlow({
      flow: def,
      staticResults: { Get_items: { status: 'Succeeded', outputs: { statusCode: 200, body: { value: [] } } } },
      clock: virtualClock(),
    });
    expect(result.status).toBe('Succeeded');
  });
  it('call a ConnectorInvoker when one is given', async () => {
    const seen: unknown[] = [];
    const result = await runFlow({
      flow: def,
      connectorInvoker: {
        invoke: async (call) => {
          seen.push({
            action: call.action,
            connectionName: call.connectionName,
            operationId: call.host?.operationId,
            inputs: call.inputs,
          });
          return { kind: 'http', statusCode: 200, body: { value: [1] } };
        },
      },
      clock: virtualClock(),
    });
    expect(result.status).toBe('Succeeded');
    expect(seen).toEqual([
      {
        action: 'Get_items',
        connectionName: 'shared_sharepointonline_1',
        operationId: 'GetItems',
        inputs: { parameters: { dataset: 'x' } },
      },
    ]);
  });
});

describe('cancellation', () => {
  it('aborting the signal cancels the run and its in-flight call', async () => {
    const ctl = new AbortController();
    const client = http();
    const running = runFlow({
      flow: flow({ Call: { type: 'Http', inputs: { method: 'GET', uri: `${base}/hang` } } }),
      httpClient: client,
      signal: ctl.signal,
    });
    setTimeout(() => ctl.abort(), 50);
    const result = await running;
    await client.close();
    expect(result.status).toBe('Cancelled');
    expect(result.summary.actions.Call!.status).toBe('Cancelled');
  });
});

describe('replay', () => {
  it('re-running the engine over a stored event log gives the same final state', async () => {
    hits.delete('/flaky');
    const stored: RunEvent[] = [];
    const definition = flow({
      Init: { type: 'InitializeVariable', inputs: { variables: [{ name: 'ids', type: 'array' }] } },
      Loop: {
        type: 'Foreach',
        foreach: '@range(0, 3)',
        runAfter: { Init: ['Succeeded'] },
        runtimeConfiguration: { concurrency: { repetitions: 3 } },
        actions: {
          Id: { type: 'AppendToArrayVariable', inputs: { name: 'ids', value: '@guid()' } },
          Wait: {
            type: 'Wait',
            inputs: { interval: { count: '@add(item(), 1)', unit: 'Minute' } },
            runAfter: { Id: ['Succeeded'] },
          },
        },
      },
      Call: {
        type: 'Http',
        inputs: {
          method: 'GET',
          uri: `${base}/flaky`,
          retryPolicy: { type: 'exponential', count: 3, interval: 'PT10S' },
        },
        runAfter: { Loop: ['Succeeded'] },
      },
      Reply: {
        type: 'Response',
        inputs: { statusCode: 200, body: { ids: "@variables('ids')", now: '@utcNow()', r: '@rand(0, 1000)' } },
        runAfter: { Call: ['Succeeded'] },
      },
    });
    const result = await runFlow({
      flow: definition,
      httpPolicy: { allowLoopback: true },
      clock: virtualClock(Date.parse('2024-05-01T08:00:00Z')),
      history: { event: (_runId, e) => void stored.push(JSON.parse(JSON.stringify(e)) as RunEvent) },
    });
    expect(result.status).toBe('Succeeded');
    expect(stored.map((e) => e.type)).toEqual(result.events.map((e) => e.type));
    expect(stored.filter((e) => e.type === 'timerElapsed').length).toBeGreaterThanOrEqual(5);
    const again = replay(compileDefinition(definition), stored);
    expect(JSON.parse(JSON.stringify(again))).toEqual(JSON.parse(JSON.stringify(result.state)));
    // the serialised state survives a JSON round trip unchanged
    expect(JSON.parse(JSON.stringify(result.state))).toEqual(result.state);
  });
});
