/**
 * Deployment and runs through the CLI on both stores: solution plan/import, flow list/on/off/run,
 * run list/show, with real corpus packages and the DemoGreetings sample.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testStoreLocation, type TestStoreLocation } from '../../../test-support/stores.js';
import { cli } from './helpers.js';
import { CORPUS_DIR } from '../../../test-support/shared.js';

const root = join(__dirname, '../../..');
const corpus = join(CORPUS_DIR, 'solutions');
const demo = join(root, 'samples/solutions/DemoGreetings');
let loc: TestStoreLocation;
let run: ReturnType<typeof cli>;
let tmp: string;

beforeAll(async () => {
  loc = await testStoreLocation();
  run = cli(loc.cliArgs);
  tmp = mkdtempSync(join(tmpdir(), 'patchbay-deploy-'));
  expect((await run('env', 'create', 'dev')).code).toBe(0);
  expect((await run('env', 'create', 'test')).code).toBe(0);
});
afterAll(async () => loc.cleanup());

describe(`solution plan / import and flow runs via the CLI (${process.env['PATCHBAY_TEST_STORE']})`, () => {
  it('plans and imports a corpus zip, then runs its flows and shows the history', async () => {
    const zip = join(corpus, 'zip/patch-tuesday.zip');
    const plan = await run('solution', 'plan', zip, '--env', 'test', '--json');
    expect(plan.code).toBe(0);
    expect(plan.json()).toMatchObject({
      canProceed: true,
      solution: { uniqueName: 'PatchTuesday', action: 'install' },
    });
    const imported = await run('solution', 'import', '--path', zip, '--env', 'test');
    expect(imported.code).toBe(0);
    expect(imported.stdout).toContain('flow Patch Tuesday This Month: On');
    const flows = (await run('flow', 'list', '--env', 'test', '--json')).json<
      Array<{ name: string; id: string; state: string; modifiedOn: string; reasons: unknown[] }>
    >();
    expect(flows.map((f) => [f.name, f.state])).toEqual([
      ['Is it Patch Tuesday', 'On'],
      ['Patch Tuesday Arbitrary Date Flow', 'On'],
      ['Patch Tuesday This Month', 'On'],
    ]);
    expect(flows[0]).toHaveProperty('modifiedOn');
    expect(flows[0]).toHaveProperty('reasons', []);
    const r = await run('flow', 'run', 'Patch Tuesday This Month', '--env', 'test', '--json');
    expect(r.code).toBe(0);
    const out = r.json<{ runId: string; status: string; actions: Record<string, { status: string }> }>();
    expect(out.status).toBe('Succeeded');
    expect(Object.values(out.actions).every((a) => a.status === 'Succeeded')).toBe(true);
    const list = (await run('run', 'list', '--env', 'test', '--flow', 'Patch Tuesday This Month', '--json')).json<
      Array<{ id: string; status: string }>
    >();
    expect(list).toMatchObject([{ id: out.runId, status: 'Succeeded' }]);
    const show = await run('run', 'show', out.runId, '--json');
    expect(show.code).toBe(0);
    const shown = show.json<{
      status: string;
      actions: Record<string, { status: string }>;
      outputs: unknown;
      history: { actions: Array<{ name: string; durationMs?: number; inputs?: unknown }> };
    }>();
    expect(shown.status).toBe('Succeeded');
    expect(shown.actions).toEqual(out.actions);
    expect(shown.history.actions.length).toBeGreaterThan(0);
    const text = await run('run', 'show', out.runId);
    expect(text.stdout).toContain('Succeeded');
  });

  it('runs a flow that answers and then fails: exit 5, response and failed actions printed', async () => {
    expect(
      (await run('solution', 'import', '--path', join(corpus, 'unpacked/always-reply-to-request'), '--env', 'test'))
        .code,
    ).toBe(0);
    const r = await run('flow', 'run', 'Pattern: Always reply to HTTP request', '--env', 'test', '--json');
    expect(r.code).toBe(5);
    const out = r.json<{
      status: string;
      response: { statusCode: number; body: unknown };
      actions: Record<string, { status: string }>;
    }>();
    expect(out.status).toBe('Failed');
    expect(out.response.statusCode).toBe(500);
    const text = await run('flow', 'run', 'Pattern: Always reply to HTTP request', '--env', 'test');
    expect(text.code).toBe(5);
    expect(text.stdout).toContain('failed actions:');
  });

  it('turns flows off and on, and refuses to run a flow that is Off (exit 3)', async () => {
    expect((await run('flow', 'off', 'Is it Patch Tuesday', '--env', 'test')).code).toBe(0);
    const refused = await run('flow', 'run', 'Is it Patch Tuesday', '--env', 'test');
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain('FLOW_NOT_ON');
    const on = await run('flow', 'on', 'Is it Patch Tuesday', '--env', 'test', '--json');
    expect(on.json()).toMatchObject({ state: 'On' });
  });

  it('imports the sample with a custom connector: flows Off (unbound) until the reference is bound', async () => {
    const imported = await run('solution', 'import', '--path', demo, '--env', 'dev', '--json');
    expect(imported.code).toBe(0);
    expect(imported.json()).toMatchObject({
      flows: [{ state: 'Off', reasons: [{ code: 'unbound' }] }, { state: 'Off' }],
    });
    const keyFile = join(tmp, 'key');
    writeFileSync(keyFile, 'demo-key-1');
    const conn = await run(
      'connection',
      'create',
      '--env',
      'dev',
      '--connector',
      'pbdemo_greetingapi',
      '--display-name',
      'Greeting – key 1',
      '--param',
      'host=127.0.0.1:9',
      '--secret-param',
      `api_key=@${keyFile}`,
      '--json',
    );
    expect(conn.code).toBe(0);
    const id = conn.json<{ id: string }>().id;
    const bound = await run('connref', 'bind', 'pbdemo_GreetingApi', '--env', 'dev', '--connection', id);
    expect(bound.code).toBe(0);
    expect(bound.stdout).toContain('flow Greet caller now uses connection');
    expect(bound.stdout).toContain('Greet caller: Off -> On');
    const usages = (await run('connref', 'usages', 'pbdemo_GreetingApi', '--env', 'dev', '--json')).json<
      Array<{ flowName: string; actions: Array<{ path: string }> }>
    >();
    expect(usages.map((u) => [u.flowName, u.actions.map((a) => a.path)])).toEqual([
      ['Greet caller', ['Get_greeting']],
      ['Greet many', ['For_each_name/Get_greeting_for_name']],
    ]);
  });

  it('plan exits 3 for a connection of another environment and 4 for a principal without access', async () => {
    const devConn = (await run('connection', 'list', '--env', 'dev', '--json')).json<Array<{ id: string }>>()[0]!.id;
    const settings = join(tmp, 'settings.json');
    writeFileSync(
      settings,
      JSON.stringify({
        EnvironmentVariables: [],
        ConnectionReferences: [{ LogicalName: 'pbdemo_GreetingApi', ConnectionId: devConn, ConnectorId: '' }],
      }),
    );
    const wrongEnv = await run('solution', 'plan', demo, '--env', 'test', '--settings-file', settings);
    expect(wrongEnv.code).toBe(3);
    expect(wrongEnv.stdout).toContain('CONNECTION_IN_OTHER_ENVIRONMENT');
    expect((await run('principal', 'create', 'ci-sp', '--service-principal')).code).toBe(0);
    expect((await run('principal', 'assign', 'ci-sp', '--env', 'dev', '--role', 'Maker')).code).toBe(0);
    const denied = await run(
      'solution',
      'import',
      '--path',
      demo,
      '--env',
      'dev',
      '--settings-file',
      settings,
      '--as',
      'ci-sp',
    );
    expect(denied.code).toBe(4);
    expect(denied.stderr).toContain(devConn);
    expect(denied.stderr).toContain('ci-sp');
    expect((await run('connection', 'share', devConn, '--with', 'ci-sp', '--role', 'CanUse')).code).toBe(0);
    expect(
      (await run('solution', 'import', '--path', demo, '--env', 'dev', '--settings-file', settings, '--as', 'ci-sp'))
        .code,
    ).toBe(0);
  });
});
