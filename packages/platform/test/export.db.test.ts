/**
 * Solution export (docs/alm.md): every solution of ../shared/corpus and the DemoGreetings sample
 * is imported into one environment, exported (zip and unpacked folder), and the export imported
 * into another environment: same flows (definitions deep-equal), same references (never a
 * connection id), same variable definitions (no values), same custom connectors; no secret in the
 * exported files.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Platform } from '@patchbay/platform';
import {
  parseDeploymentSettings,
  readSolution,
  readSolutionZip,
  renderSolutionFiles,
  writeSolutionFolder,
  writeSolutionZip,
  type SolutionPackage,
} from '@patchbay/solution';
import { testPlatform } from '../../../test-support/platform.js';
import { CORPUS_DIR } from '../../../test-support/shared.js';

const manifest = JSON.parse(readFileSync(join(CORPUS_DIR, 'MANIFEST.json'), 'utf8')) as {
  items: Array<{ path: string; kind: string }>;
};
const solutions = manifest.items
  .filter((i) => i.kind === 'unpacked-solution' || i.kind === 'solution-zip')
  .map((i) => join(CORPUS_DIR, i.path));
const DEMO = fileURLToPath(new URL('../../../samples/solutions/DemoGreetings', import.meta.url));
const VALUE: Record<string, string> = {
  Number: '1',
  Boolean: 'true',
  JSON: '{}',
  String: 'value',
  DataSource: 'value',
  Secret: 'top-secret-variable-value',
  Unknown: 'value',
};

let p: Platform;
let cleanup: () => Promise<void>;
let n = 0;
beforeAll(async () => {
  ({ platform: p, cleanup } = await testPlatform());
});
afterAll(async () => cleanup());

/** Imports a package (registering first-party connectors by id), giving variables without default a value. */
async function importInto(env: string, pkg: SolutionPackage): Promise<void> {
  const settings = parseDeploymentSettings(
    JSON.stringify({
      EnvironmentVariables: pkg.environmentVariables.map((v) => ({
        SchemaName: v.schemaName,
        Value: v.defaultValue ? '' : VALUE[v.type],
      })),
      ConnectionReferences: [],
    }),
    { file: 'settings.json' },
  );
  await p.solutions.import({ environment: env, package: pkg, settings, addMissingConnectors: true });
}

async function roundTrip(path: string): Promise<void> {
  const pkg = await readSolution(path);
  n += 1;
  const a = `a${n}`;
  const b = `b${n}`;
  await p.environments.create({ name: a });
  await p.environments.create({ name: b });
  await importInto(a, pkg);
  const exported = await p.solutions.export({ environment: a, name: pkg.manifest.uniqueName });
  const zip = await writeSolutionZip(exported);
  const text = zip.toString('latin1');
  expect(text).not.toContain('top-secret-variable-value');
  const again = await readSolutionZip(zip, { name: `${pkg.manifest.uniqueName}.zip` });
  await importInto(b, again);
  const [envA, envB] = [await p.environments.get(a), await p.environments.get(b)];
  const flowsA = await p.flows.list(a);
  const flowsB = await p.flows.list(b);
  expect(flowsB.map((f) => f.id).sort()).toEqual(flowsA.map((f) => f.id).sort());
  for (const f of flowsA) {
    const g = flowsB.find((x) => x.id === f.id)!;
    expect(g.definition, f.name).toEqual(f.definition);
    expect(g.name).toBe(f.name);
    expect(g.turnedOn).toBe(f.turnedOn);
  }
  const refsA = await p.references.list(a);
  const refsB = await p.references.list(b);
  expect(refsB.map((r) => [r.logicalName, r.connectorId, r.displayName])).toEqual(
    refsA.map((r) => [r.logicalName, r.connectorId, r.displayName]),
  );
  for (const r of again.connectionReferences)
    expect(JSON.stringify(r)).not.toMatch(/connectionid"?:\s*"[0-9a-f-]{36}"/i);
  const varsA = await p.store.repos.environmentVariables.listDefinitions(envA.id);
  const varsB = await p.store.repos.environmentVariables.listDefinitions(envB.id);
  expect(varsB.map((v) => [v.schemaName, v.type, v.defaultValue])).toEqual(
    varsA.map((v) => [v.schemaName, v.type, v.type === 'Secret' ? undefined : v.defaultValue]),
  );
  for (const v of again.environmentVariables) expect(v.currentValue).toBeUndefined();
  const custom = (await p.connectors.list(a)).filter((c) => c.kind === 'custom');
  const customB = (await p.connectors.list(b)).filter((c) => c.kind === 'custom');
  expect(customB.map((c) => c.id).sort()).toEqual(custom.map((c) => c.id).sort());
  for (const c of custom) expect(customB.find((x) => x.id === c.id)!.definition).toEqual(c.definition);
}

describe('export then import elsewhere', () => {
  it('DemoGreetings: flows, reference, variable and custom connector come back equal; zip and folder layouts', async () => {
    await roundTrip(DEMO);
    const pkg = await p.solutions.export({ environment: 'a1', name: 'DemoGreetings', managed: true });
    expect(pkg.manifest.managed).toBe(1);
    expect(pkg.customConnectors.map((c) => c.name)).toEqual(['pbdemo_greetingapi']);
    const dir = mkdtempSync(join(tmpdir(), 'patchbay-export-'));
    try {
      const files = await writeSolutionFolder(pkg, join(dir, 'out'));
      expect(files).toEqual(
        expect.arrayContaining(['Other/Solution.xml', 'Other/Customizations.xml', 'Connectors/pbdemo_greetingapi.xml']),
      );
      const back = await readSolution(join(dir, 'out'));
      expect(back.flows.map((f) => f.workflowId).sort()).toEqual(pkg.flows.map((f) => f.workflowId).sort());
      expect(back.customConnectors[0]!.openApiDefinition).toEqual(pkg.customConnectors[0]!.openApiDefinition);
      expect(statSync(join(dir, 'out', 'Other', 'Solution.xml')).size).toBeGreaterThan(0);
      expect(readdirSync(join(dir, 'out', 'Workflows')).length).toBe(4);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect([...renderSolutionFiles(pkg, 'zip').keys()]).toContain('[Content_Types].xml');
  });

  it('refuses an unknown solution', async () => {
    await expect(p.solutions.export({ environment: 'a1', name: 'Nope' })).rejects.toMatchObject({
      code: 'SOLUTION_NOT_FOUND',
    });
  });

  it.each(solutions.map((s) => [s.slice(CORPUS_DIR.length + 1)]))('corpus %s', async (rel) => {
    await roundTrip(join(CORPUS_DIR, rel));
  });
});
