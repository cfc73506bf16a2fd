/**
 * Durable queued runs on both stores (issue 9): the embedded queue (jobs table) drives runs whose
 * state is persisted after every step; Delay parks the run; a process that stops abruptly leaves
 * its runs to another process, which resumes them from their last persisted state; cancel;
 * per-flow concurrency; child flows as separate queued runs; responses; encrypted state.
 * Real HTTP servers on 127.0.0.1; no timing assertions.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { createPlatform, ExecutionService, executionConfig, loadKeyring, type Platform } from '@patchbay/platform';
import type { RunRecord } from '@patchbay/engine';
import { seedFlow, testPlatform } from '../../../test-support/platform.js';

let p: Platform;
let cleanup: () => Promise<void>;
const services: ExecutionService[] = [];
const servers: Server[] = [];

const flowFile = (
  actions: Record<string, unknown>,
  trigger: Record<string, unknown> = { type: 'Request', kind: 'Http', inputs: { schema: {} } },
) => ({
  properties: {
    connectionReferences: {},
    definition: {
      $schema:
        'https://schema.management.azure.com/providers/Microsoft.Logic/schemas/2016-06-01/workflowdefinition.json#',
      contentVersion: '1.0.0.0',
      triggers: { manual: trigger },
      actions,
    },
  },
  schemaVersion: '1.0.0.0',
});

/** A local HTTP service: counts calls per path and per `run` query value; `hold` keeps requests open until released. */
async function counterService(): Promise<{
  url: string;
  calls: Array<{ path: string; run?: string; method: string }>;
  active: () => number;
  maxActive: () => number;
  hold: (on: boolean) => void;
  held: () => number;
}> {
  const calls: Array<{ path: string; run?: string; method: string }> = [];
  let active = 0;
  let maxActive = 0;
  let holding = false;
  const heldRes: ServerResponse[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const u = new URL(req.url ?? '/', 'http://x');
    const run = u.searchParams.get('run') ?? undefined;
    calls.push({ path: u.pathname, method: req.method ?? 'GET', ...(run ? { run } : {}) });
    if (u.pathname === '/begin') maxActive = Math.max(maxActive, ++active);
    if (u.pathname === '/end') active--;
    if (holding && u.pathname === '/call') {
      heldRes.push(res);
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ ok: true, n: calls.length }));
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    active: () => active,
    maxActive: () => maxActive,
    hold: (on) => {
      holding = on;
    },
    held: () => heldRes.length,
  };
}

async function service(o: { workers?: number; env?: Record<string, string> } = {}): Promise<ExecutionService> {
  const config = executionConfig(
    {
      PATCHBAY_HEARTBEAT_MS: '200',
      PATCHBAY_SWEEP_MS: '200',
      PATCHBAY_NODE_TIMEOUT_MS: '1000',
      PATCHBAY_QUEUE_POLL_MS: '50',
      PATCHBAY_INBOX_POLL_MS: '100',
      ...o.env,
    },
    { queue: 'embedded' },
  );
  const svc = await ExecutionService.create({ platform: p, config, kind: 'test' });
  services.push(svc);
  if (o.workers) await svc.startWorkers(o.workers);
  return svc;
}

async function until<T>(fn: () => Promise<T | undefined | false>, what: string, limitMs = 20_000): Promise<T> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function allEnded(ids: string[]) {
  return until(async () => {
    const runs = await Promise.all(ids.map((id) => p.store.repos.runs.get(id)));
    return runs.every((r) => r && r.status !== 'Running') ? runs.map((r) => r!) : undefined;
  }, `${ids.length} runs to end`);
}

beforeEach(async () => {
  ({ platform: p, cleanup } = await testPlatform());
  await p.environments.create({ name: 'dev', policy: { allowLoopback: true } });
});
afterEach(async () => {
  for (const s of services.splice(0)) await s.stop();
  for (const s of servers.splice(0)) s.close();
  await cleanup();
});

describe(`queued durable runs (${process.env['PATCHBAY_TEST_STORE']})`, () => {
  it('runs queued flows with a Delay to their end: one call per run, state persisted encrypted, no job left', async () => {
    const svcA = await service({ workers: 4 });
    const counter = await counterService();
    await seedFlow(p, {
      environment: 'dev',
      id: 'bbbbbbbb-0000-0000-0000-000000000001',
      name: 'DelayThenCall',
      owner: 'admin',
      connections: [],
      definition: flowFile({
        Wait: { type: 'Wait', inputs: { interval: { count: 1, unit: 'Second' } } },
        Call: {
          type: 'Http',
          runAfter: { Wait: ['Succeeded'] },
          inputs: { method: 'GET', uri: `${counter.url}/call?run=@{workflow()['run']['name']}` },
        },
        Keep: {
          type: 'Compose',
          runAfter: { Call: ['Succeeded'] },
          inputs: "@triggerBody()?['secret']",
          runtimeConfiguration: { secureData: { properties: ['inputs', 'outputs'] } },
        },
      }),
    });
    const runs = [];
    for (let i = 0; i < 12; i++)
      runs.push(
        await svcA.enqueue({
          environment: 'dev',
          flow: 'DelayThenCall',
          trigger: { body: { secret: 'hunter2-queued', i } },
        }),
      );
    const ended = await allEnded(runs.map((r) => r.id));
    expect(ended.map((r) => r.status)).toEqual(runs.map(() => 'Succeeded'));
    expect(counter.calls.filter((c) => c.path === '/call')).toHaveLength(12);
    expect(new Set(counter.calls.map((c) => c.run))).toEqual(new Set(runs.map((r) => r.id)));
    const rec = ended[0]!.record as RunRecord;
    expect(rec.actions.map((a) => [a.name, a.status])).toEqual([
      ['Wait', 'Succeeded'],
      ['Call', 'Succeeded'],
      ['Keep', 'Succeeded'],
    ]);
    const row = await p.store.repos.runStates.get(runs[0]!.id);
    expect(row).toMatchObject({ phase: 'done', inbox: 0 });
    expect(row?.owner).toBeUndefined();
    expect(row!.sealed).not.toContain('hunter2');
    expect(Buffer.from(row!.sealed, 'base64').toString('latin1')).not.toContain('hunter2');
    expect(JSON.stringify(rec.actions)).not.toContain('hunter2');
    expect(await p.store.repos.jobs.depth(new Date().toISOString())).toEqual({ ready: 0, scheduled: 0, locked: 0 });
  });

  it('resumes the runs of a process that stopped abruptly: a GET (or explicitly retried) call in flight is repeated, a POST call fails ActionInterrupted', async () => {
    const counter = await counterService();
    const call = (method: string, retry: boolean) => ({
      Call: {
        type: 'Http',
        inputs: {
          method,
          uri: `${counter.url}/call?run=@{workflow()['run']['name']}`,
          ...(retry ? { retryPolicy: { type: 'fixed', count: 2, interval: 'PT1S' } } : {}),
        },
      },
    });
    await seedFlow(p, {
      environment: 'dev',
      id: 'bbbbbbbb-0000-0000-0000-000000000011',
      name: 'GetCall',
      owner: 'admin',
      connections: [],
      definition: flowFile(call('GET', false)),
    });
    await seedFlow(p, {
      environment: 'dev',
      id: 'bbbbbbbb-0000-0000-0000-000000000012',
      name: 'PostCall',
      owner: 'admin',
      connections: [],
      definition: flowFile(call('POST', false)),
    });
    await seedFlow(p, {
      environment: 'dev',
      id: 'bbbbbbbb-0000-0000-0000-000000000013',
      name: 'PostRetried',
      owner: 'admin',
      connections: [],
      definition: flowFile(call('POST', true)),
    });
    counter.hold(true);
    const svcA = await service({ workers: 4 });
    const get = await svcA.enqueue({ environment: 'dev', flow: 'GetCall' });
    const post = await svcA.enqueue({ environment: 'dev', flow: 'PostCall' });
    const retried = await svcA.enqueue({ environment: 'dev', flow: 'PostRetried' });
    await until(async () => counter.held() === 3, 'three calls in flight');
    const heldBy = (await p.store.repos.runStates.get(get.id))?.owner;
    expect(heldBy).toBe(svcA.nodeId);
    await svcA.halt(); // as if the process were killed: nothing saved, nothing released
    counter.hold(false);
    const svcB = await service({ workers: 4 });
    const [g, po, r] = await allEnded([get.id, post.id, retried.id]);
    const callOf = (run: typeof g) => (run!.record as RunRecord).actions.find((a) => a.name === 'Call')!;
    // GET: repeated under the retry policy (the default exponential policy waits 5–7 s).
    expect(g!.status).toBe('Succeeded');
    expect(callOf(g).attempts?.map((a) => [a.status, a.error?.code])).toEqual([
      ['Failed', 'ActionInterrupted'],
      ['Succeeded', undefined],
    ]);
    expect(counter.calls.filter((c) => c.run === get.id)).toHaveLength(2);
    // POST without an explicit retry policy: not safe to repeat.
    expect(po!.status).toBe('Failed');
    expect(callOf(po)).toMatchObject({ status: 'Failed', code: 'ActionInterrupted' });
    expect(counter.calls.filter((c) => c.run === post.id)).toHaveLength(1);
    // POST with an explicit retry policy: repeated.
    expect(r!.status).toBe('Succeeded');
    expect(counter.calls.filter((c) => c.run === retried.id)).toHaveLength(2);
    expect(await p.store.repos.executionNodes.get(svcA.nodeId)).toBeUndefined();
    expect(svcB.metrics.runsRecovered).toBeDefined();
  }, 40_000);

  it('cancels a parked run and a run that has not started', async () => {
    await seedFlow(p, {
      environment: 'dev',
      id: 'bbbbbbbb-0000-0000-0000-000000000021',
      name: 'LongWait',
      owner: 'admin',
      connections: [],
      definition: flowFile({
        Wait: { type: 'Wait', inputs: { interval: { count: 1, unit: 'Hour' } } },
        After: { type: 'Compose', inputs: 'x', runAfter: { Wait: ['Succeeded'] } },
      }),
    });
    const svc = await service();
    const notStarted = await svc.enqueue({ environment: 'dev', flow: 'LongWait' });
    await svc.cancel({ runId: notStarted.id });
    await svc.startWorkers(2);
    const parked = await svc.enqueue({ environment: 'dev', flow: 'LongWait' });
    await until(async () => {
      const row = await p.store.repos.runStates.get(parked.id);
      return row?.phase === 'active' && row.owner === undefined && row.nextDue !== undefined;
    }, 'the run to park on its Delay');
    await svc.cancel({ runId: parked.id });
    const [a, b] = await allEnded([notStarted.id, parked.id]);
    expect(a).toMatchObject({ status: 'Cancelled', error: { code: 'RunCancelled' } });
    expect(b!.status).toBe('Cancelled');
    expect((b!.record as RunRecord).actions.map((x) => [x.name, x.status])).toEqual([['Wait', 'Cancelled']]);
    await expect(svc.cancel({ runId: parked.id })).rejects.toMatchObject({ code: 'RUN_ALREADY_ENDED' });
    const audit = await p.store.repos.audit.list({ action: 'run.cancel' });
    expect(audit.map((e) => e.target.id).sort()).toEqual([notStarted.id, parked.id].sort());
  });

  it('honours runtimeConfiguration.concurrency.runs across two processes', async () => {
    const counter = await counterService();
    await seedFlow(p, {
      environment: 'dev',
      id: 'bbbbbbbb-0000-0000-0000-000000000031',
      name: 'OneAtATime',
      owner: 'admin',
      connections: [],
      definition: flowFile(
        {
          Begin: { type: 'Http', inputs: { method: 'GET', uri: `${counter.url}/begin` } },
          Wait: {
            type: 'Wait',
            runAfter: { Begin: ['Succeeded'] },
            inputs: { interval: { count: 1, unit: 'Second' } },
          },
          End: {
            type: 'Http',
            runAfter: { Wait: ['Succeeded'] },
            inputs: { method: 'GET', uri: `${counter.url}/end` },
          },
        },
        { type: 'Request', kind: 'Http', inputs: { schema: {} }, runtimeConfiguration: { concurrency: { runs: 1 } } },
      ),
    });
    const a = await service({ workers: 3 });
    await service({ workers: 3 });
    const runs = [];
    for (let i = 0; i < 3; i++) runs.push(await a.enqueue({ environment: 'dev', flow: 'OneAtATime' }));
    const ended = await allEnded(runs.map((r) => r.id));
    expect(ended.map((r) => r.status)).toEqual(['Succeeded', 'Succeeded', 'Succeeded']);
    expect(counter.calls.filter((c) => c.path === '/begin')).toHaveLength(3);
    expect(counter.maxActive()).toBe(1);
    expect(
      await p.store.repos.flowConcurrency.get(`${ended[0]!.environmentId}:bbbbbbbb-0000-0000-0000-000000000031`),
    ).toBe(0);
  });

  it("runs a child flow as its own queued run and answers the caller with the parent's Response", async () => {
    await seedFlow(p, {
      environment: 'dev',
      id: 'bbbbbbbb-0000-0000-0000-000000000042',
      name: 'Child',
      owner: 'admin',
      connections: [],
      definition: flowFile({
        Answer: {
          type: 'Response',
          kind: 'Http',
          inputs: { statusCode: 200, body: { hello: "@triggerBody()?['name']" } },
        },
      }),
    });
    await seedFlow(p, {
      environment: 'dev',
      id: 'bbbbbbbb-0000-0000-0000-000000000041',
      name: 'Parent',
      owner: 'admin',
      connections: [],
      definition: flowFile({
        CallChild: {
          type: 'Workflow',
          inputs: {
            host: { workflowReferenceName: 'bbbbbbbb-0000-0000-0000-000000000042' },
            body: { name: "@triggerBody()?['name']" },
          },
        },
        Reply: {
          type: 'Response',
          kind: 'Http',
          runAfter: { CallChild: ['Succeeded'] },
          inputs: { statusCode: 201, body: "@body('CallChild')" },
        },
      }),
    });
    const svc = await service({ workers: 2 });
    const run = await svc.enqueue({ environment: 'dev', flow: 'Parent', trigger: { body: { name: 'Ada' } } });
    const answer = await svc.waitForResponse(run.id, { timeoutMs: 20_000 });
    expect(answer.response).toMatchObject({ statusCode: 201, body: { hello: 'Ada' } });
    const [parent] = await allEnded([run.id]);
    expect(parent!.status).toBe('Succeeded');
    const children = await p.store.repos.runs.list({
      environmentId: parent!.environmentId,
      flowId: 'bbbbbbbb-0000-0000-0000-000000000042',
    });
    expect(children).toMatchObject([{ status: 'Succeeded', startedBy: 'child' }]);
  });

  it('fails a run whose state the worker cannot decrypt (its data key is wrapped by another master key), after its job attempts, with the key error code', async () => {
    await seedFlow(p, {
      environment: 'dev',
      id: 'bbbbbbbb-0000-0000-0000-000000000051',
      name: 'Plain',
      owner: 'admin',
      connections: [],
      definition: flowFile({ Say: { type: 'Compose', inputs: 'hi' } }),
    });
    // A process opened before the store held any data key (opening a store that holds keys with
    // another master key is refused: MASTER_KEY_UNKNOWN at start).
    const other = await createPlatform({
      store: p.store,
      keyring: loadKeyring({
        env: { PATCHBAY_MASTER_KEY: randomBytes(32).toString('base64') },
        dataDir: '/nonexistent',
      }),
    });
    const wrongKey = await ExecutionService.create({
      platform: other,
      config: executionConfig({ PATCHBAY_JOB_ATTEMPTS: '1', PATCHBAY_QUEUE_POLL_MS: '50' }, { queue: 'embedded' }),
      kind: 'test',
    });
    services.push(wrongKey);
    const server = await service({ env: { PATCHBAY_JOB_ATTEMPTS: '1' } }); // attempts are set on the job when it is added
    const run = await server.enqueue({ environment: 'dev', flow: 'Plain' }); // creates the environment's data key
    await wrongKey.startWorkers(1);
    const [ended] = await allEnded([run.id]);
    expect(ended).toMatchObject({ status: 'Failed', error: { code: 'MASTER_KEY_UNKNOWN' } });
    expect((await p.store.repos.runStates.get(run.id))?.phase).toBe('done');
  });

  it('gives queued runs the environment variables their parameters are bound to (by schema name)', async () => {
    const env = await p.environments.get('dev');
    const at = new Date().toISOString();
    await p.store.repos.environmentVariables.upsertDefinition({
      environmentId: env.id,
      schemaName: 'pb_Greeting',
      displayName: 'Greeting',
      type: 'String',
      defaultValue: 'hello',
      isRequired: false,
      createdOn: at,
      modifiedOn: at,
    });
    await p.store.repos.environmentVariables.upsertValue({
      environmentId: env.id,
      schemaName: 'pb_Greeting',
      value: 'bonjour',
      modifiedOn: at,
    });
    const file = flowFile({ Say: { type: 'Compose', inputs: "@parameters('Greeting (pb_Greeting)')" } }) as {
      properties: { definition: Record<string, unknown> };
    };
    file.properties.definition.parameters = {
      'Greeting (pb_Greeting)': { type: 'String', defaultValue: 'default', metadata: { schemaName: 'pb_Greeting' } },
    };
    await seedFlow(p, {
      environment: 'dev',
      id: 'bbbbbbbb-0000-0000-0000-000000000061',
      name: 'Greets',
      owner: 'admin',
      connections: [],
      definition: file,
    });
    const svc = await service({ workers: 1 });
    const run = await svc.enqueue({ environment: 'dev', flow: 'Greets' });
    const [ended] = await allEnded([run.id]);
    expect((ended!.record as RunRecord).actions[0]).toMatchObject({
      name: 'Say',
      status: 'Succeeded',
      outputs: 'bonjour',
    });
  });

  it('parks an Until loop on its Delay (each pass is a new job, no worker waits) and times out a call held in flight', async () => {
    const counter = await counterService();
    counter.hold(true);
    await seedFlow(p, {
      environment: 'dev',
      id: 'bbbbbbbb-0000-0000-0000-000000000071',
      name: 'Loop',
      owner: 'admin',
      connections: [],
      definition: flowFile({
        Init: { type: 'InitializeVariable', inputs: { variables: [{ name: 'n', type: 'integer', value: 0 }] } },
        Loop: {
          type: 'Until',
          runAfter: { Init: ['Succeeded'] },
          expression: "@equals(variables('n'), 3)",
          limit: { count: 10, timeout: 'PT1M' },
          actions: {
            Pause: { type: 'Wait', inputs: { interval: { count: 1, unit: 'Second' } } },
            Add: { type: 'IncrementVariable', runAfter: { Pause: ['Succeeded'] }, inputs: { name: 'n', value: 1 } },
          },
        },
        Slow: {
          type: 'Http',
          runAfter: { Loop: ['Succeeded'] },
          limit: { timeout: 'PT1S' },
          inputs: { method: 'GET', uri: `${counter.url}/call` },
        },
      }),
    });
    const svc = await service({ workers: 2 });
    const run = await svc.enqueue({ environment: 'dev', flow: 'Loop' });
    const [ended] = await allEnded([run.id]);
    const rec = ended!.record as RunRecord;
    expect(rec.actions.find((a) => a.name === 'Loop')).toMatchObject({ status: 'Succeeded' });
    expect(rec.actions.filter((a) => a.name === 'Add')).toHaveLength(3);
    expect(rec.actions.find((a) => a.name === 'Slow')).toMatchObject({ status: 'TimedOut', code: 'ActionTimedOut' });
    expect(ended!.status).toBe('Failed');
    // the first job starts the run, then one job per Delay: the worker was free while each pass waited
    const ok = (await svc.metrics.jobsProcessed.get()).values.find((v) => v.labels.outcome === 'ok')?.value ?? 0;
    expect(ok).toBeGreaterThanOrEqual(4);
  });

  it('cancels a run held by another process while its call is in flight, and hands runs back on a graceful stop', async () => {
    const counter = await counterService();
    counter.hold(true);
    await seedFlow(p, {
      environment: 'dev',
      id: 'bbbbbbbb-0000-0000-0000-000000000081',
      name: 'Held',
      owner: 'admin',
      connections: [],
      definition: flowFile({
        Call: { type: 'Http', inputs: { method: 'GET', uri: `${counter.url}/call?run=@{workflow()['run']['name']}` } },
      }),
    });
    const holder = await service({ workers: 2, env: { PATCHBAY_SHUTDOWN_GRACE_MS: '200' } });
    const other = await service();
    const a = await other.enqueue({ environment: 'dev', flow: 'Held' });
    const b = await other.enqueue({ environment: 'dev', flow: 'Held' });
    await until(async () => counter.held() === 2, 'both calls in flight');
    // cancel from the other process: the holder sees the inbox event within its poll period
    await other.cancel({ runId: a.id });
    const [ca] = await allEnded([a.id]);
    expect(ca).toMatchObject({ status: 'Cancelled' });
    expect((ca!.record as RunRecord).actions[0]).toMatchObject({ name: 'Call', status: 'Cancelled' });
    // graceful stop with the other call still in flight: after the grace time the run is handed back
    await holder.stop();
    const row = await p.store.repos.runStates.get(b.id);
    expect(row).toMatchObject({ phase: 'active' });
    expect(row?.owner).toBeUndefined();
    counter.hold(false);
    await other.startWorkers(2);
    const [cb] = await allEnded([b.id]);
    expect(cb!.status).toBe('Succeeded');
    expect((cb!.record as RunRecord).actions[0]!.attempts?.[0]?.error?.code).toBe('ActionInterrupted');
  }, 40_000);
});
