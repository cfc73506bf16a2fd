/**
 * Issue 5 must-show situations a–h, and re-binding with no change to any flow, on both stores.
 * Packages: the project's sample DemoGreetings (a custom connector, a reference, two flows) and
 * real corpus packages.
 */
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Platform } from '@patchbay/platform';
import { resolveConnection } from '@patchbay/platform';
import { parseDeploymentSettings, readSolution, type SolutionPackage } from '@patchbay/solution';
import { testPlatform } from '../../../test-support/platform.js';
import { CORPUS_DIR } from '../../../test-support/shared.js';

const root = join(__dirname, '../../..');
const corpus = CORPUS_DIR;
const demoPath = join(root, 'samples/solutions/DemoGreetings');
const REF = 'pbdemo_GreetingApi';

let p: Platform;
let cleanup: () => Promise<void>;
let demo: SolutionPackage;

beforeEach(async () => {
  ({ platform: p, cleanup } = await testPlatform());
  demo = await readSolution(demoPath);
  await p.environments.create({ name: 'dev' });
  await p.environments.create({ name: 'test' });
  await p.principals.create({ name: 'alice' });
  await p.principals.create({ name: 'deploy-sp', kind: 'servicePrincipal' });
});
afterEach(async () => cleanup());

const settings = (refs: Record<string, string>, vars: Record<string, string> = {}) =>
  parseDeploymentSettings(
    JSON.stringify({
      EnvironmentVariables: Object.entries(vars).map(([SchemaName, Value]) => ({ SchemaName, Value })),
      ConnectionReferences: Object.entries(refs).map(([LogicalName, ConnectionId]) => ({
        LogicalName,
        ConnectionId,
        ConnectorId: '',
      })),
    }),
    { file: 'deploymentSettings.json' },
  );

async function greetingConnection(env: string, owner = 'admin', key = 'key-1') {
  return p.connections.create({
    environment: env,
    connector: 'pbdemo_greetingapi',
    displayName: `Greeting API (${key})`,
    parameters: { host: '127.0.0.1:1' },
    secretParameters: { api_key: key },
    actor: owner,
  });
}

async function counts(env: string) {
  const e = await p.environments.get(env);
  const repos = p.store.repos;
  return {
    connectors: (await repos.connectors.list(e.id)).length,
    references: (await repos.references.list(e.id)).length,
    flows: (await repos.flows.list(e.id)).length,
    variables: (await repos.environmentVariables.listDefinitions(e.id)).length,
    values: (await repos.environmentVariables.listValues(e.id)).length,
    solutions: (await repos.solutions.list(e.id)).length,
  };
}
const empty = { connectors: 0, references: 0, flows: 0, variables: 0, values: 0, solutions: 0 };

describe(`solution deployment (${process.env['PATCHBAY_TEST_STORE']})`, () => {
  it('f. installs a shipped custom connector, leaves the reference unbound and flows Off; binding turns them On with no second import', async () => {
    const result = await p.solutions.import({ environment: 'test', package: demo });
    expect(result.plan.connectors).toMatchObject([{ id: 'pbdemo_greetingapi', status: 'install' }]);
    expect(result.flows.map((f) => [f.name, f.state, f.reasons.map((r) => r.code)])).toEqual([
      ['Greet caller', 'Off', ['unbound']],
      ['Greet many', 'Off', ['unbound']],
    ]);
    expect((await p.connectors.get('test', 'pbdemo_greetingapi')).kind).toBe('custom');
    const conn = await greetingConnection('test');
    const bound = await p.references.bind({ environment: 'test', logicalName: REF, connectionId: conn.id });
    expect(bound.flows.map((f) => [f.name, f.from, f.to])).toEqual([
      ['Greet caller', 'Off', 'On'],
      ['Greet many', 'Off', 'On'],
    ]);
    expect((await p.flows.list('test')).every((f) => f.state === 'On')).toBe(true);
  });

  it('re-binding a reference changes the connection every flow uses and no flow definition or modified time', async () => {
    await p.solutions.import({ environment: 'test', package: demo });
    const first = await greetingConnection('test', 'admin', 'key-1');
    const second = await greetingConnection('test', 'admin', 'key-2');
    await p.references.bind({ environment: 'test', logicalName: REF, connectionId: first.id });
    const before = await p.flows.list('test');
    const used = async () =>
      Promise.all(
        (await p.flows.list('test')).map(
          async (f) =>
            (await resolveConnection({ repos: p.store.repos, flow: f, connectionKey: f.connections[0]!.key }))
              .connection.id,
        ),
      );
    expect(await used()).toEqual([first.id, first.id]);
    const r = await p.references.bind({ environment: 'test', logicalName: REF, connectionId: second.id });
    expect(r.usages.map((u) => [u.flowName, u.actions.map((a) => a.path)])).toEqual([
      ['Greet caller', ['Get_greeting']],
      ['Greet many', ['For_each_name/Get_greeting_for_name']],
    ]);
    expect(await used()).toEqual([second.id, second.id]);
    const after = await p.flows.list('test');
    expect(after.map((f) => [f.id, f.modifiedOn, JSON.stringify(f.definition), f.state])).toEqual(
      before.map((f) => [f.id, f.modifiedOn, JSON.stringify(f.definition), 'On']),
    );
  });

  it('a. a settings file naming a connection of another environment: plan exit 3 naming reference, connection and environment; nothing written', async () => {
    await p.solutions.import({ environment: 'dev', package: demo });
    const devConn = await greetingConnection('dev');
    const s = settings({ [REF]: devConn.id });
    const plan = await p.solutions.plan({ environment: 'test', package: demo, settings: s });
    expect(plan.exitCode).toBe(3);
    expect(plan.blockingProblem).toMatchObject({
      code: 'CONNECTION_IN_OTHER_ENVIRONMENT',
      details: { reference: REF, connection: devConn.id, connectionEnvironment: 'dev', environment: 'test' },
    });
    expect(plan.blockingProblem?.message).toContain(REF);
    expect(plan.blockingProblem?.message).toContain(devConn.id);
    expect(plan.blockingProblem?.message).toContain('dev');
    await expect(p.solutions.import({ environment: 'test', package: demo, settings: s })).rejects.toMatchObject({
      code: 'CONNECTION_IN_OTHER_ENVIRONMENT',
      category: 'not-ready',
    });
    expect(await counts('test')).toEqual(empty);
  });

  it('b. a variable with no default and no value anywhere: plan exit 3 naming the variable', async () => {
    const pkg = await readSolution(join(corpus, 'solutions/unpacked/create-folder-with-link-back-to-list'));
    await p.connectors.add({ environment: 'test', id: 'shared_sharepointonline' });
    const plan = await p.solutions.plan({ environment: 'test', package: pkg });
    expect(plan.exitCode).toBe(3);
    expect(plan.blockingProblem).toMatchObject({
      code: 'VARIABLE_VALUE_MISSING',
      details: { variable: 'pnp_ev_site' },
    });
    expect(plan.variables.find((v) => v.schemaName === 'pnp_ev_site')).toMatchObject({ value: { source: 'missing' } });
    expect(plan.problems.filter((x) => x.code === 'VARIABLE_VALUE_MISSING').map((x) => x.details['variable'])).toEqual([
      'pnp_ev_site',
    ]);
    const ok = await p.solutions.plan({
      environment: 'test',
      package: pkg,
      settings: settings({}, { pnp_ev_site: 'https://contoso.sharepoint.com/sites/x' }),
    });
    expect(ok.exitCode).toBe(0);
    expect(ok.variables.find((v) => v.schemaName === 'pnp_ev_site')?.value).toEqual({
      source: 'settings',
      value: 'https://contoso.sharepoint.com/sites/x',
    });
  });

  it('c. the deploying service principal cannot use the named connection: exit 4 naming both; after sharing CanUse the import succeeds', async () => {
    await p.environments.assignRole({ environment: 'test', principal: 'deploy-sp', role: 'Maker' });
    await p.solutions.import({ environment: 'test', package: demo });
    const conn = await greetingConnection('test', 'alice');
    const s = settings({ [REF]: conn.id });
    const plan = await p.solutions.plan({ environment: 'test', package: demo, settings: s, actor: 'deploy-sp' });
    expect(plan.exitCode).toBe(4);
    expect(plan.blockingProblem).toMatchObject({
      code: 'BINDING_NOT_PERMITTED',
      details: { connection: conn.id, principal: 'deploy-sp' },
    });
    await expect(
      p.solutions.import({ environment: 'test', package: demo, settings: s, actor: 'deploy-sp' }),
    ).rejects.toMatchObject({
      code: 'BINDING_NOT_PERMITTED',
      category: 'permission',
    });
    await p.connections.share({ id: conn.id, with: 'deploy-sp', role: 'CanUse', actor: 'alice' });
    const result = await p.solutions.import({ environment: 'test', package: demo, settings: s, actor: 'deploy-sp' });
    expect(result.plan.references[0]?.binding).toMatchObject({
      action: 'bind',
      connectionId: conn.id,
      source: 'settings',
    });
    expect((await p.references.get('test', REF)).connectionId).toBe(conn.id);
  });

  it('d. a maker binding to a connection not shared with them is refused and the reference keeps its binding', async () => {
    await p.solutions.import({ environment: 'test', package: demo });
    const mine = await greetingConnection('test', 'alice', 'alice-key');
    await p.references.bind({ environment: 'test', logicalName: REF, connectionId: mine.id, actor: 'alice' });
    const theirs = await greetingConnection('test', 'admin', 'admin-key');
    await expect(
      p.references.bind({ environment: 'test', logicalName: REF, connectionId: theirs.id, actor: 'alice' }),
    ).rejects.toMatchObject({
      code: 'BINDING_NOT_PERMITTED',
      category: 'permission',
    });
    expect((await p.references.get('test', REF)).connectionId).toBe(mine.id);
  });

  it('e. a second import of a new version without settings keeps bindings; a flow turned off by hand stays Off', async () => {
    await p.solutions.import({ environment: 'test', package: demo });
    const conn = await greetingConnection('test');
    await p.references.bind({ environment: 'test', logicalName: REF, connectionId: conn.id });
    await p.flows.turnOff({ environment: 'test', flow: 'Greet many' });
    const v2: SolutionPackage = { ...demo, manifest: { ...demo.manifest, version: '1.0.0.1' } };
    const result = await p.solutions.import({ environment: 'test', package: v2 });
    expect(result.plan.solution).toMatchObject({ action: 'upgrade', installedVersion: '1.0.0.0', version: '1.0.0.1' });
    expect(result.plan.references[0]?.binding).toMatchObject({
      action: 'keep',
      connectionId: conn.id,
      source: 'existing',
    });
    expect((await p.references.get('test', REF)).connectionId).toBe(conn.id);
    expect(result.flows.map((f) => [f.name, f.state])).toEqual([
      ['Greet caller', 'On'],
      ['Greet many', 'Off'],
    ]);
    expect((await p.solutions.get('test', 'DemoGreetings')).version).toBe('1.0.0.1');
  });

  it('g. disabling the owner of a connection turns its flows Off with the reason; transfer to a service principal brings them back', async () => {
    await p.solutions.import({ environment: 'test', package: demo });
    const conn = await greetingConnection('test', 'alice');
    await p.connections.share({ id: conn.id, with: 'admin', role: 'CanUse', actor: 'alice' });
    await p.references.bind({ environment: 'test', logicalName: REF, connectionId: conn.id });
    expect((await p.flows.list('test')).map((f) => f.state)).toEqual(['On', 'On']);
    const disabled = await p.principals.disable({ name: 'alice' });
    expect(disabled.flows.map((f) => [f.name, f.to, f.reasons.map((r) => [r.code, r.connectionId])])).toEqual([
      ['Greet caller', 'Off', [['owner_disabled', conn.id]]],
      ['Greet many', 'Off', [['owner_disabled', conn.id]]],
    ]);
    const moved = await p.connections.transfer({ id: conn.id, to: 'deploy-sp' });
    expect(moved.flows.map((f) => [f.name, f.to])).toEqual([
      ['Greet caller', 'On'],
      ['Greet many', 'On'],
    ]);
  });

  it('h. an import that fails halfway leaves no trace', async () => {
    const devConn = await p.connectors.list('test');
    expect(devConn.every((c) => c.kind === 'builtin')).toBe(true);
    for (const failAt of ['connectors', 'references', 'variables', 'flows', 'solution', 'activation'] as const) {
      await expect(
        p.solutions.import({
          environment: 'test',
          package: demo,
          onStep: (step) => {
            if (step === failAt) throw new Error(`injected failure after ${step}`);
          },
        }),
      ).rejects.toThrow(`injected failure after ${failAt}`);
      expect(await counts('test')).toEqual(empty);
    }
    const ok = await p.solutions.import({ environment: 'test', package: demo });
    expect(ok.flows).toHaveLength(2);
    expect(await counts('test')).toMatchObject({ connectors: 1, references: 1, flows: 2, variables: 1, solutions: 1 });
  });

  it('plan lists missing connectors and --add-missing-connectors registers them by id', async () => {
    const pkg = await readSolution(join(corpus, 'solutions/unpacked/power-platform-blog-updates'));
    const plan = await p.solutions.plan({ environment: 'test', package: pkg });
    expect(plan.exitCode).toBe(3);
    expect(
      plan.connectors
        .filter((c) => c.status === 'missing')
        .map((c) => c.id)
        .sort(),
    ).toEqual(['shared_office365', 'shared_rss']);
    const result = await p.solutions.import({ environment: 'test', package: pkg, addMissingConnectors: true });
    expect(result.plan.connectors.map((c) => c.status)).toEqual(['add', 'add']);
    expect((await p.connectors.get('test', 'shared_rss')).kind).toBe('idOnly');
  });
});
