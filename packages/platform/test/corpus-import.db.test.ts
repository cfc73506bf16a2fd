/**
 * Issue 5 must-show: every solution of ../shared/corpus imported into a fresh environment with a
 * settings file that binds every reference — all references bound, flows On where the package had
 * them On (unless the package itself lacks what the flow needs: a reference or child flow shipped
 * in another solution, or an embedded connection — each reported with its reason).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectorIdFromApiId } from '@patchbay/core';
import type { Platform } from '@patchbay/platform';
import { parseDeploymentSettings, readSolution, type SolutionPackage } from '@patchbay/solution';
import { testPlatform } from '../../../test-support/platform.js';
import { CORPUS_DIR } from '../../../test-support/shared.js';

const corpus = CORPUS_DIR;
const manifest = JSON.parse(readFileSync(join(corpus, 'MANIFEST.json'), 'utf8')) as {
  items: Array<{ path: string; kind: string }>;
};
const solutions = manifest.items.filter((i) => i.kind === 'unpacked-solution' || i.kind === 'solution-zip');

const VALUE: Record<string, string> = {
  Number: '1',
  Boolean: 'true',
  JSON: '{}',
  String: 'value',
  DataSource: 'value',
  Secret: 'value',
  Unknown: 'value',
};
const PACKAGE_INHERENT = new Set(['reference_missing', 'child_flow_missing', 'embeds_connection', 'child_flow_off']);

let p: Platform;
let cleanup: () => Promise<void>;
beforeAll(async () => {
  ({ platform: p, cleanup } = await testPlatform());
});
afterAll(async () => cleanup());

/** Registers the first-party connectors `pkg` needs and starts a settings file giving every variable without default a value. */
async function prepare(env: string, pkg: SolutionPackage) {
  const plan = await p.solutions.plan({ environment: env, package: pkg, addMissingConnectors: true });
  for (const c of plan.connectors) if (c.status === 'add') await p.connectors.add({ environment: env, id: c.id });
  const json = {
    EnvironmentVariables: pkg.environmentVariables.map((v) => ({
      SchemaName: v.schemaName,
      Value: v.defaultValue ? '' : VALUE[v.type],
    })),
    ConnectionReferences: [] as Array<{ LogicalName: string; ConnectionId: string; ConnectorId: string }>,
  };
  return { json };
}

describe(`importing the corpus (${process.env['PATCHBAY_TEST_STORE']})`, () => {
  it.each(solutions.map((s) => [s.path]))('%s', async (path) => {
    const pkg = await readSolution(join(corpus, path));
    const env = path
      .replace(/[^A-Za-z0-9]+/g, '-')
      .replace(/^-|-$/g, '')
      .slice(0, 60);
    await p.environments.create({ name: env });
    const { json } = await prepare(env, pkg);
    // A first import without bindings installs the package's custom connectors; then connections
    // are created for every connector and a second import binds every reference from settings.
    const needsInstall = pkg.customConnectors.length > 0;
    if (needsInstall) {
      await p.solutions.import({
        environment: env,
        package: pkg,
        settings: parseDeploymentSettings(JSON.stringify(json), { file: 'settings.json' }),
      });
    }
    const plan = await p.solutions.plan({ environment: env, package: pkg });
    for (const r of plan.references) {
      const conn = await p.connections
        .create({ environment: env, connector: r.connector, displayName: `${r.connector} for ${r.logicalName}` })
        .catch(async (e: { code?: string }) => {
          if (e.code !== 'CONNECTION_PARAMETER_REQUIRED' && e.code !== 'CONNECTION_PARAMETER_SET_REQUIRED') throw e;
          // custom connectors with required secrets: give every required secure parameter a value
          const connector = await p.connectors.get(env, r.connector);
          const sets = connector.definition?.connectionParameterSets?.values ?? [];
          const params = sets[0]?.parameters ?? connector.definition?.connectionParameters ?? {};
          const secretParameters: Record<string, string> = {};
          const parameters: Record<string, string> = {};
          for (const [k, v] of Object.entries(params)) {
            if (v.type === 'securestring') secretParameters[k] = 'secret';
            else if (v.type === 'string') parameters[k] = v.uiDefinition?.constraints?.allowedValues?.[0]?.value ?? 'x';
          }
          return p.connections.create({
            environment: env,
            connector: r.connector,
            displayName: r.logicalName,
            ...(sets[0] ? { parameterSet: sets[0].name } : {}),
            parameters,
            secretParameters,
          });
        });
      json.ConnectionReferences.push({
        LogicalName: r.logicalName,
        ConnectionId: conn.id,
        ConnectorId: `/providers/Microsoft.PowerApps/apis/${connectorIdFromApiId(pkg.connectionReferences.find((c) => c.logicalName === r.logicalName)!.connectorId)}`,
      });
    }
    const result = await p.solutions.import({
      environment: env,
      package: pkg,
      settings: parseDeploymentSettings(JSON.stringify(json), { file: 'settings.json' }),
    });
    const refs = await p.references.list(env);
    expect(refs).toHaveLength(new Set(pkg.connectionReferences.map((r) => r.logicalName.toLowerCase())).size);
    for (const r of refs) expect(r.connectionId, r.logicalName).not.toBeNull();
    const flows = await p.flows.list(env);
    expect(flows).toHaveLength(pkg.flows.length);
    for (const pf of pkg.flows) {
      const f = flows.find((x) => x.id === pf.workflowId.toLowerCase())!;
      const outcome = result.flows.find((x) => x.id === f.id)!;
      expect(outcome.state).toBe(f.state);
      if (!pf.onWhenExported) {
        expect(f.state, pf.name).toBe('Off');
        expect(f.reasons[0]?.code).toBe('turned_off');
      } else if (f.state !== 'On') {
        // only what the package itself lacks may keep an exported-On flow Off
        expect(
          f.reasons.map((r) => r.code).filter((c) => !PACKAGE_INHERENT.has(c)),
          `${pf.name}: ${JSON.stringify(f.reasons)}`,
        ).toEqual([]);
      }
    }
    const vars = await p.store.repos.environmentVariables.listDefinitions((await p.environments.get(env)).id);
    expect(vars).toHaveLength(pkg.environmentVariables.length);
  });
});

describe('corpus import tally', () => {
  it('turns on every flow that was On at export', async () => {
    let exportedOn = 0;
    let on = 0;
    const off: string[] = [];
    for (const env of await p.environments.list()) {
      for (const f of await p.flows.list(env.name)) {
        if (!f.turnedOn) continue;
        exportedOn += 1;
        if (f.state === 'On') on += 1;
        else off.push(`${env.name}/${f.name}: ${f.reasons.map((r) => r.code).join(',')}`);
      }
    }
    expect(exportedOn).toBeGreaterThan(50);
    expect(off).toEqual([]);
    expect(on).toBe(exportedOn);
  });
});
