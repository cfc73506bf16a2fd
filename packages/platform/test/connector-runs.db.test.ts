/**
 * Issue 7 must-show: connector actions resolve through connection references at run time.
 *
 * Corpus pairing (no flow in ../shared/corpus calls a connector of ../shared/corpus/connectors):
 * the real flow `VARify_SetFavouriteTeam` of the corpus solution varify-bot, whose one connector
 * action ("Add a new row", Dataverse CreateRecord) is re-targeted at the corpus custom connector
 * `cioplenu` (CreateTask) — host and parameters of that action and the flow's connection map
 * entry change; trigger, scope, Compose and Response stay as in the corpus. cioplenu brings a
 * dynamic host URL from a connection parameter, an API key (secure string) and a `setheader`
 * policy, and insists on https, so its servers are HTTPS on 127.0.0.1 with a throwaway
 * certificate trusted through PATCHBAY_EXTRA_CA_CERTS.
 *
 * The running-Foreach case uses the project's sample DemoGreetings ("Greet many": a Foreach of
 * GetGreeting calls), deployed with solution import, against plain HTTP servers on 127.0.0.1.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Connection } from '@patchbay/core';
import { resolveTriggerConnection, toConnectorDefinition, virtualClock, type Platform } from '@patchbay/platform';
import { readCustomConnectorFolder, readSolution } from '@patchbay/solution';
import { testCertificate, type TestCertificate } from '../../connectors/test/support/tls.js';
import { seedFlow } from '../../../test-support/platform.js';
import { captureOutput, connectorPlatform, testServer, type TestServer } from './support/connector-platform.js';
import { CORPUS_DIR } from '../../../test-support/shared.js';

const root = join(__dirname, '../../..');
const corpus = CORPUS_DIR;
const corpusFlowFile = join(
  corpus,
  'solutions/unpacked/varify-bot/Workflows/VARify_SetFavouriteTeam-B320508C-D212-F011-998A-6045BD0E2FC6.json',
);
const demoPath = join(root, 'samples/solutions/DemoGreetings');
const FLOW_ID = 'b320508c-d212-f011-998a-6045bd0e2fc6';
const REF = 'ba_cioplenu';
const KEY = 'shared_cioplenu';

/** The corpus flow with its connector action re-targeted at cioplenu (see the file comment). */
function retargetedCorpusFlow(): { flow: Record<string, unknown>; original: Record<string, unknown> } {
  const original = JSON.parse(readFileSync(corpusFlowFile, 'utf8')) as Record<string, unknown>;
  const flow = structuredClone(original) as {
    properties: {
      connectionReferences: Record<string, unknown>;
      definition: { actions: { Try: { actions: Record<string, { inputs: Record<string, unknown> }> } } };
    };
  };
  flow.properties.connectionReferences = {
    [KEY]: {
      runtimeSource: 'embedded',
      connection: { connectionReferenceLogicalName: REF },
      api: { name: 'cioplenu' },
    },
  };
  const action = flow.properties.definition.actions.Try.actions['Add_a_new_row']!;
  action.inputs['host'] = {
    connectionName: KEY,
    operationId: 'CreateTask',
    apiId: '/providers/Microsoft.PowerApps/apis/cioplenu',
  };
  action.inputs['parameters'] = {
    'task data/title': "@triggerBody()['text']",
    'task data/description': "@triggerBody()['text_1']",
  };
  return { flow: flow as unknown as Record<string, unknown>, original };
}

let tls: TestCertificate;
beforeAll(() => {
  tls = testCertificate();
});
afterAll(() => tls.cleanup());

let p: Platform;
let cleanup: () => Promise<void>;
const servers: TestServer[] = [];
beforeEach(async () => {
  ({ platform: p, cleanup } = await connectorPlatform({ env: { PATCHBAY_EXTRA_CA_CERTS: tls.certFile } }));
  await p.environments.create({ name: 'test', policy: { allowLoopback: true } });
  await p.principals.create({ name: 'alice' });
  await p.principals.create({ name: 'bob' });
});
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
  await cleanup();
});

/** A cioplenu instance: answers CreateTask with an id, records who called. */
async function cioplenuServer(): Promise<TestServer> {
  const s = await testServer((r, res) => {
    if (r.method === 'POST' && r.path === '/api/task')
      res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ id: s.received.length }));
    else res.writeHead(404).end();
  }, tls);
  servers.push(s);
  return s;
}

async function installCioplenu(): Promise<void> {
  const def = await readCustomConnectorFolder(join(corpus, 'connectors/cioplenu'));
  await p.connectors.install({
    environment: 'test',
    id: 'cioplenu',
    displayName: def.displayName ?? 'cioplenu',
    definition: toConnectorDefinition(def),
  });
  await p.references.create({ environment: 'test', logicalName: REF, connector: 'cioplenu', displayName: 'cioplenu' });
}

async function cioplenuConnection(host: string, key: string, owner = 'admin'): Promise<Connection> {
  return p.connections.create({
    environment: 'test',
    connector: 'cioplenu',
    displayName: `cioplenu ${host}`,
    parameters: { cioplenu_instance: host },
    secretParameters: { api_key: key },
    actor: owner,
  });
}

async function seedCorpusFlow(owner = 'admin') {
  return seedFlow(p, {
    environment: 'test',
    id: FLOW_ID,
    name: 'VARify - Set favourite team',
    owner,
    connections: [{ key: KEY, logicalName: REF, runtimeSource: 'embedded', connectorId: 'cioplenu' }],
    definition: retargetedCorpusFlow().flow,
  });
}

describe(`connector actions through connection references (${process.env['PATCHBAY_TEST_STORE']})`, () => {
  it('the re-targeted corpus flow calls cioplenu with the bound connection; re-binding changes host and credentials of the next run and no flow', async () => {
    const { flow: retargeted, original } = retargetedCorpusFlow();
    // Only the connector action and the connection map differ from the corpus file.
    const strip = (f: Record<string, unknown>) => {
      const c = structuredClone(f) as {
        properties: {
          connectionReferences?: unknown;
          definition: { actions: { Try: { actions: Record<string, unknown> } } };
        };
      };
      delete c.properties.connectionReferences;
      delete c.properties.definition.actions.Try.actions['Add_a_new_row'];
      return c;
    };
    expect(strip(retargeted)).toEqual(strip(original));

    await installCioplenu();
    const a = await cioplenuServer();
    const b = await cioplenuServer();
    const keyA = `cio-A-${Math.random().toString(36).slice(2)}`;
    const keyB = `cio-B-${Math.random().toString(36).slice(2)}`;
    const first = await cioplenuConnection(a.host, keyA);
    const second = await cioplenuConnection(b.host, keyB);
    await p.references.bind({ environment: 'test', logicalName: REF, connectionId: first.id });
    await seedCorpusFlow();
    const before = await p.flows.get('test', FLOW_ID);
    expect(before.state).toBe('On');

    const run1 = await p.runs.run({
      environment: 'test',
      flow: FLOW_ID,
      trigger: { body: { text: 'Arsenal', text_1: 'alice' } },
    });
    expect(run1.result.status).toBe('Succeeded');
    expect(run1.result.response?.body).toEqual({ response: 'Your favourite team has now been set to Arsenal.' });
    expect(a.received).toHaveLength(1);
    expect(a.received[0]!.headers['authorization']).toBe(`Bearer ${keyA}`);
    expect(JSON.parse(a.received[0]!.body)).toEqual({ title: 'Arsenal', description: 'alice', priority: 5 });
    expect(run1.result.summary.actions['Add_a_new_row']).toMatchObject({ status: 'Succeeded' });

    await p.references.bind({ environment: 'test', logicalName: REF, connectionId: second.id });
    const run2 = await p.runs.run({
      environment: 'test',
      flow: FLOW_ID,
      trigger: { body: { text: 'Spurs', text_1: 'bob' } },
    });
    expect(run2.result.status).toBe('Succeeded');
    expect(a.received).toHaveLength(1);
    expect(b.received).toHaveLength(1);
    expect(b.received[0]!.headers['authorization']).toBe(`Bearer ${keyB}`);
    expect(JSON.parse(b.received[0]!.body)).toMatchObject({ title: 'Spurs' });

    const after = await p.flows.get('test', FLOW_ID);
    expect([after.modifiedOn, JSON.stringify(after.definition)]).toEqual([
      before.modifiedOn,
      JSON.stringify(before.definition),
    ]);

    // one secret.decrypt entry per connection per run, naming run, action and connection, never values
    const decrypts = await p.store.repos.audit.list({ action: 'secret.decrypt', limit: 50 });
    expect(
      decrypts.map((d) => [
        d.details?.['runId'],
        d.details?.['actionName'],
        d.details?.['connectionId'],
        d.details?.['secretNames'],
      ]),
    ).toEqual([
      [run2.run.id, 'Add_a_new_row', second.id, ['api_key']],
      [run1.run.id, 'Add_a_new_row', first.id, ['api_key']],
    ]);
    const everything = JSON.stringify([
      await p.runs.get(run1.run.id),
      await p.runs.get(run2.run.id),
      await p.store.repos.audit.list({ limit: 500 }),
    ]);
    expect(everything).not.toContain(keyA);
    expect(everything).not.toContain(keyB);
  });

  it('Greet caller and Greet many (sample solution) run end to end; re-binding during a running Foreach moves the next iteration to the new connection', async () => {
    const keys: Record<string, string> = { 'demo-key-1': 'first key', 'demo-key-2': 'second key' };
    let rebind: (() => Promise<void>) | undefined;
    const greeter = async (): Promise<TestServer> => {
      const s = await testServer(async (r, res) => {
        const keyName = keys[String(r.headers['x-api-key'])];
        if (r.path !== '/api/greeting' || !keyName) return void res.writeHead(401).end();
        // The second call of the loop re-binds the reference before it answers.
        if (rebind && s.received.length === 2) {
          const f = rebind;
          rebind = undefined;
          await f();
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end(
          JSON.stringify({
            message: `${r.query.get('salutation')}, ${r.query.get('name')}!`,
            keyName,
            served: s.received.length,
          }),
        );
      });
      servers.push(s);
      return s;
    };
    const one = await greeter();
    const two = await greeter();
    await p.solutions.import({ environment: 'test', package: await readSolution(demoPath) });
    const conn = async (host: string, key: string) =>
      p.connections.create({
        environment: 'test',
        connector: 'pbdemo_greetingapi',
        displayName: `Greeting API ${host}`,
        parameters: { host },
        secretParameters: { api_key: key },
      });
    const c1 = await conn(one.host, 'demo-key-1');
    const c2 = await conn(two.host, 'demo-key-2');
    await p.references.bind({ environment: 'test', logicalName: 'pbdemo_GreetingApi', connectionId: c1.id });

    const caller = await p.runs.run({
      environment: 'test',
      flow: 'Greet caller',
      trigger: { body: { name: 'Ada' }, method: 'POST' },
    });
    expect(caller.result.status).toBe('Succeeded');
    expect(caller.result.response?.body).toMatchObject({ greeting: 'Hello, Ada!', keyName: 'first key' });
    one.received.length = 0;

    const before = await p.flows.get('test', 'Greet many');
    rebind = async () => {
      await p.references.bind({ environment: 'test', logicalName: 'pbdemo_GreetingApi', connectionId: c2.id });
    };
    const many = await p.runs.run({
      environment: 'test',
      flow: 'Greet many',
      trigger: { body: { names: ['a', 'b', 'c', 'd'] }, method: 'POST' },
    });
    expect(many.result.status).toBe('Succeeded');
    expect((many.result.response?.body as { greetings: unknown[] }).greetings).toEqual([
      { message: 'Hello, a!', keyName: 'first key' },
      { message: 'Hello, b!', keyName: 'first key' },
      { message: 'Hello, c!', keyName: 'second key' },
      { message: 'Hello, d!', keyName: 'second key' },
    ]);
    expect(one.received.map((r) => r.query.get('name'))).toEqual(['a', 'b']);
    expect(two.received.map((r) => r.query.get('name'))).toEqual(['c', 'd']);
    const after = await p.flows.get('test', 'Greet many');
    expect([after.modifiedOn, JSON.stringify(after.definition)]).toEqual([
      before.modifiedOn,
      JSON.stringify(before.definition),
    ]);
  });

  it('a flow whose owner may not use the bound connection fails the action naming reference and connection; no secret in history, audit, output or errors', async () => {
    const out = captureOutput();
    try {
      await installCioplenu();
      const s = await cioplenuServer();
      const secret = `cio-secret-${Math.random().toString(36).slice(2)}`;
      const aliceConn = await cioplenuConnection(s.host, secret, 'alice');
      await p.references.bind({ environment: 'test', logicalName: REF, connectionId: aliceConn.id, actor: 'alice' });
      const flow = await seedCorpusFlow('bob');
      expect(flow.state).toBe('Off');
      expect(flow.reasons.map((r) => r.code)).toEqual(['not_shared_with_owner']);
      await expect(
        p.runs.run({ environment: 'test', flow: FLOW_ID, trigger: { body: { text: 'x', text_1: 'y' } } }),
      ).rejects.toMatchObject({ code: 'FLOW_NOT_ON' });
      // Run it anyway: the action itself checks the owner's right at call time.
      const r = await p.runs.run({
        environment: 'test',
        flow: FLOW_ID,
        ignoreState: true,
        trigger: { body: { text: 'x', text_1: 'y' } },
      });
      expect(r.result.status).toBe('Failed');
      const action = r.result.record.actions.find((a) => a.name === 'Add_a_new_row')!;
      expect(action.status).toBe('Failed');
      expect(action.error?.code).toBe('CONNECTION_NOT_SHARED_WITH_OWNER');
      expect(action.error?.message).toContain(REF);
      expect(action.error?.message).toContain(aliceConn.id);
      expect(action.error?.message).toContain('bob');
      expect(s.received).toHaveLength(0);

      // Shared with bob: the flow turns On and the same action succeeds with alice's connection.
      await p.connections.share({ id: aliceConn.id, with: 'bob', role: 'CanUse', actor: 'alice' });
      const ok = await p.runs.run({
        environment: 'test',
        flow: FLOW_ID,
        trigger: { body: { text: 'x', text_1: 'y' } },
      });
      expect(ok.result.status).toBe('Succeeded');
      expect(s.received[0]!.headers['authorization']).toBe(`Bearer ${secret}`);

      // A failure after resolution (the instance is gone): the error names reference and connection, not the key.
      await s.close();
      // (connect failures are retried by the default policy: the virtual clock makes the waits free)
      const down = await p.runs.run({
        environment: 'test',
        flow: FLOW_ID,
        trigger: { body: { text: 'x', text_1: 'y' } },
        clock: virtualClock(Date.now()),
      });
      expect(down.result.status).toBe('Failed');
      const err = down.result.record.actions.find((a) => a.name === 'Add_a_new_row')!.error!;
      expect(err.code).toBe('HTTP_CONNECTION_FAILED');
      expect(err.message).toContain(REF);
      expect(err.message).toContain(aliceConn.id);

      const runs = await p.store.repos.runs.list({
        environmentId: (await p.environments.get('test')).id,
        withRecord: true,
        limit: 100,
      });
      const all = JSON.stringify([
        runs,
        await p.store.repos.audit.list({ limit: 1000 }),
        r,
        ok.result.record,
        down.result.record,
      ]);
      expect(all).not.toContain(secret);
      expect(out.text()).not.toContain(secret);
    } finally {
      out.stop();
    }
  }, 60_000);

  it('unbound references, disabled owners, unusable connections, blocked connectors and host rules fail with typed errors', async () => {
    await installCioplenu();
    const s = await cioplenuServer();
    const conn = await cioplenuConnection(s.host, 'k-1', 'alice');
    await p.connections.share({ id: conn.id, with: 'admin', role: 'CanUse', actor: 'alice' });
    await seedCorpusFlow();
    const run = async () => {
      const r = await p.runs.run({
        environment: 'test',
        flow: FLOW_ID,
        ignoreState: true,
        trigger: { body: { text: 't', text_1: 'u' } },
      });
      return r.result.record.actions.find((a) => a.name === 'Add_a_new_row')!.error;
    };
    expect(await run()).toMatchObject({ code: 'REFERENCE_UNBOUND' });
    await p.references.bind({ environment: 'test', logicalName: REF, connectionId: conn.id });
    await p.connections.setStatus({ id: conn.id, status: 'Error', message: 'broken' });
    expect(await run()).toMatchObject({ code: 'CONNECTION_NOT_USABLE' });
    await p.connections.setStatus({ id: conn.id, status: 'Connected' });
    await p.principals.disable({ name: 'alice' });
    const disabled = await run();
    expect(disabled).toMatchObject({ code: 'CONNECTION_OWNER_DISABLED' });
    expect(disabled?.message).toContain(conn.id);
    await p.principals.enable({ name: 'alice' });
    await p.environments.setPolicy({ environment: 'test', policy: { blockedConnectors: ['cioplenu'] } });
    expect(await run()).toMatchObject({ code: 'CONNECTOR_BLOCKED' });
    await p.environments.setPolicy({
      environment: 'test',
      policy: { blockedConnectors: [], deniedHosts: ['127.0.0.1'] },
    });
    expect(await run()).toMatchObject({ code: 'HTTP_HOST_DENIED' });
    await p.environments.setPolicy({
      environment: 'test',
      policy: { deniedHosts: [], allowedHosts: ['api.example.com'] },
    });
    expect(await run()).toMatchObject({ code: 'HTTP_HOST_DENIED' });
    await p.environments.setPolicy({ environment: 'test', policy: { allowedHosts: [], allowLoopback: false } });
    expect(await run()).toMatchObject({ code: 'HTTP_HOST_DENIED' });
    await p.environments.setPolicy({ environment: 'test', policy: { allowLoopback: true } });
    expect(await run()).toBeUndefined();
    expect(s.received).toHaveLength(1);
  });

  it('Http actions follow the environment policy: host lists, loopback, and a blocked http connector', async () => {
    const s = await testServer(
      (_r, res) => void res.writeHead(200, { 'content-type': 'application/json' }).end('{"pong":true}'),
    );
    servers.push(s);
    await seedFlow(p, {
      environment: 'test',
      id: '00000000-0000-0000-0000-0000000000a1',
      name: 'Ping',
      owner: 'admin',
      connections: [],
      definition: {
        properties: {
          connectionReferences: {},
          definition: {
            triggers: { manual: { type: 'Request', kind: 'Button', inputs: {} } },
            actions: { Ping: { type: 'Http', inputs: { method: 'GET', uri: `http://${s.host}/ping` } } },
          },
        },
      },
    });
    const ping = async () =>
      (await p.runs.run({ environment: 'test', flow: 'Ping' })).result.record.actions.find((a) => a.name === 'Ping')!;
    expect((await ping()).status).toBe('Succeeded');
    await p.environments.setPolicy({ environment: 'test', policy: { deniedHosts: ['127.0.0.1'] } });
    expect((await ping()).error?.code).toBe('HTTP_HOST_DENIED');
    await p.environments.setPolicy({ environment: 'test', policy: { deniedHosts: [], blockedConnectors: ['http'] } });
    expect((await ping()).error?.code).toBe('CONNECTOR_BLOCKED');
    expect(s.received).toHaveLength(1);
  });

  it('invoker references use the connection the caller supplies with the run', async () => {
    await installCioplenu();
    const s = await cioplenuServer();
    const own = await cioplenuConnection(s.host, 'bound-key');
    await p.references.bind({ environment: 'test', logicalName: REF, connectionId: own.id });
    const { flow } = retargetedCorpusFlow();
    (
      flow as { properties: { connectionReferences: Record<string, { runtimeSource: string }> } }
    ).properties.connectionReferences[KEY]!.runtimeSource = 'invoker';
    await seedFlow(p, {
      environment: 'test',
      id: FLOW_ID,
      name: 'VARify - Set favourite team',
      owner: 'admin',
      connections: [{ key: KEY, logicalName: REF, runtimeSource: 'invoker', connectorId: 'cioplenu' }],
      definition: flow,
    });
    const bobs = await cioplenuConnection(s.host, 'bobs-own-key', 'bob');
    const missing = await p.runs.run({
      environment: 'test',
      flow: FLOW_ID,
      actor: 'bob',
      trigger: { body: { text: 't', text_1: 'u' } },
    });
    expect(missing.result.record.actions.find((a) => a.name === 'Add_a_new_row')!.error).toMatchObject({
      code: 'INVOKER_CONNECTION_MISSING',
    });
    const withOwn = await p.runs.run({
      environment: 'test',
      flow: FLOW_ID,
      actor: 'bob',
      invokerConnections: [bobs.id],
      trigger: { body: { text: 't', text_1: 'u' } },
    });
    expect(withOwn.result.status).toBe('Succeeded');
    expect(s.received.map((r) => r.headers['authorization'])).toEqual(['Bearer bobs-own-key']);
    const notHis = await p.runs.run({
      environment: 'test',
      flow: FLOW_ID,
      actor: 'alice',
      invokerConnections: [bobs.id],
      trigger: { body: { text: 't', text_1: 'u' } },
    });
    expect(notHis.result.record.actions.find((a) => a.name === 'Add_a_new_row')!.error).toMatchObject({
      code: 'INVOKER_CONNECTION_NOT_PERMITTED',
    });
  });

  it('connector triggers resolve through the same path (connection and operation, or the typed error)', async () => {
    await installCioplenu();
    const s = await cioplenuServer();
    const { flow } = retargetedCorpusFlow();
    const f = flow as { properties: { definition: { triggers: Record<string, unknown> } } };
    f.properties.definition.triggers = {
      When_a_task_is_created: {
        type: 'OpenApiConnectionNotification',
        inputs: {
          host: {
            connectionName: KEY,
            operationId: 'CreateTask',
            apiId: '/providers/Microsoft.PowerApps/apis/cioplenu',
          },
          parameters: {},
        },
      },
    };
    const seeded = await seedFlow(p, {
      environment: 'test',
      id: FLOW_ID,
      name: 'Triggered',
      owner: 'admin',
      connections: [{ key: KEY, logicalName: REF, runtimeSource: 'embedded', connectorId: 'cioplenu' }],
      definition: flow,
    });
    await expect(resolveTriggerConnection(p.ctx, { flow: seeded })).rejects.toMatchObject({
      code: 'REFERENCE_UNBOUND',
    });
    const conn = await cioplenuConnection(s.host, 'k');
    await p.references.bind({ environment: 'test', logicalName: REF, connectionId: conn.id });
    const r = await resolveTriggerConnection(p.ctx, { flow: seeded });
    expect(r).toMatchObject({
      trigger: 'When_a_task_is_created',
      connectionKey: KEY,
      operation: { operationId: 'CreateTask', method: 'POST' },
    });
    expect(r?.resolved.connection.id).toBe(conn.id);
    const requestTriggered = await seedFlow(p, {
      environment: 'test',
      id: '00000000-0000-0000-0000-0000000000c2',
      name: 'Request',
      owner: 'admin',
      connections: [{ key: KEY, logicalName: REF, runtimeSource: 'embedded', connectorId: 'cioplenu' }],
      definition: retargetedCorpusFlow().flow,
    });
    expect(await resolveTriggerConnection(p.ctx, { flow: requestTriggered })).toBeUndefined();
  });
});
