/**
 * Regression tests for defects found by trying the CLI and platform as a new user (issues 2 and 5).
 */
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Platform } from '@patchbay/platform';
import { toConnectorDefinition } from '@patchbay/platform';
import {
  parseDeploymentSettings,
  readCustomConnectorFolder,
  readSolution,
  type SolutionPackage,
} from '@patchbay/solution';
import { testPlatform } from '../../../test-support/platform.js';
import { CORPUS_DIR } from '../../../test-support/shared.js';

const demoPath = join(__dirname, '../../../samples/solutions/DemoGreetings');
const REF = 'pbdemo_GreetingApi';
let p: Platform;
let cleanup: () => Promise<void>;
let demo: SolutionPackage;

beforeEach(async () => {
  ({ platform: p, cleanup } = await testPlatform());
  demo = await readSolution(demoPath);
  await p.environments.create({ name: 'test' });
  await p.principals.create({ name: 'bob' });
});
afterEach(async () => cleanup());

const greeting = (key: string) =>
  p.connections.create({
    environment: 'test',
    connector: 'pbdemo_greetingapi',
    displayName: key,
    parameters: { host: 'h' },
    secretParameters: { api_key: key },
  });

describe(`regressions (${process.env['PATCHBAY_TEST_STORE']})`, () => {
  it('plan blocks settings entries that repeat a logical or schema name ignoring case', async () => {
    await p.solutions.import({ environment: 'test', package: demo });
    const a = await greeting('key-a');
    const b = await greeting('key-b');
    const settings = parseDeploymentSettings(
      JSON.stringify({
        EnvironmentVariables: [
          { SchemaName: 'pbdemo_Salutation', Value: 'Hi' },
          { SchemaName: 'PBDEMO_SALUTATION', Value: 'Yo' },
        ],
        ConnectionReferences: [
          { LogicalName: REF, ConnectionId: a.id, ConnectorId: '' },
          { LogicalName: REF.toUpperCase(), ConnectionId: b.id, ConnectorId: '' },
        ],
      }),
      { file: 'dup.json' },
    );
    const plan = await p.solutions.plan({ environment: 'test', package: demo, settings });
    expect(plan.exitCode).toBe(3);
    expect(plan.problems.map((x) => x.code)).toEqual(['SETTINGS_DUPLICATE_ENTRY', 'SETTINGS_DUPLICATE_ENTRY']);
    await expect(p.solutions.import({ environment: 'test', package: demo, settings })).rejects.toMatchObject({
      code: 'SETTINGS_DUPLICATE_ENTRY',
    });
  });

  it('an upgrade that changes the connector of a bound reference is blocked (invariant 1 holds)', async () => {
    await p.solutions.import({ environment: 'test', package: demo });
    const c = await greeting('key-a');
    await p.references.bind({ environment: 'test', logicalName: REF, connectionId: c.id });
    const v2: SolutionPackage = {
      ...demo,
      manifest: { ...demo.manifest, version: '1.0.0.1' },
      connectionReferences: demo.connectionReferences.map((r) => {
        const { customConnectorId: _drop, ...rest } = r;
        return { ...rest, connectorId: '/providers/Microsoft.PowerApps/apis/shared_office365' };
      }),
    };
    const plan = await p.solutions.plan({ environment: 'test', package: v2, addMissingConnectors: true });
    expect(plan.blockingProblem).toMatchObject({
      code: 'REFERENCE_CONNECTOR_CHANGED',
      details: { reference: REF, from: 'pbdemo_greetingapi', to: 'shared_office365', connection: c.id },
    });
    expect(plan.exitCode).toBe(3);
    expect((await p.references.get('test', REF)).connectorId).toBe('pbdemo_greetingapi');
  });

  it('connection parameters: an empty required value is missing, a declared default applies, transfer to the owner is refused', async () => {
    await p.solutions.import({ environment: 'test', package: demo });
    await expect(
      p.connections.create({
        environment: 'test',
        connector: 'pbdemo_greetingapi',
        displayName: 'e',
        parameters: { host: '' },
        secretParameters: { api_key: 'k' },
      }),
    ).rejects.toMatchObject({ code: 'CONNECTION_PARAMETER_REQUIRED', details: { parameter: 'host' } });
    const odn = await readCustomConnectorFolder(join(CORPUS_DIR, 'connectors/Open-Data-Network'));
    await p.connectors.install({
      environment: 'test',
      id: 'odn',
      displayName: 'ODN',
      definition: toConnectorDefinition(odn),
    });
    const c = await p.connections.create({
      environment: 'test',
      connector: 'odn',
      displayName: 'ODN',
      parameterSet: 'api-auth',
      secretParameters: { api_key: 'token' },
    });
    expect(c.parameters).toEqual({ environment: 'api.us.socrata.com' });
    await expect(p.connections.transfer({ id: c.id, to: 'admin' })).rejects.toMatchObject({
      code: 'TRANSFER_TO_OWNER',
      category: 'conflict',
    });
    await expect(p.connections.unshare({ id: c.id, with: 'bob' })).rejects.toMatchObject({
      code: 'SHARE_NOT_FOUND',
      category: 'not-found',
    });
    await expect(
      p.connections.create({
        environment: 'test',
        connector: 'odn',
        displayName: ' ',
        parameterSet: 'api-auth',
        secretParameters: { api_key: 't' },
      }),
    ).rejects.toMatchObject({
      code: 'CONNECTION_NAME_REQUIRED',
      category: 'invalid',
    });
  });
});
