/**
 * The model on real packages: flow connection maps and usages, custom connectors, environment
 * variables, layout detection, edits written back, atomic folder writes, analysis findings.
 */
import { describe, expect, it } from 'vitest';
import { cp, mkdir, readdir, readFile, rename, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  analyzeSolution,
  customConnectorDefinition,
  embeddedConnectionKeys,
  findFlow,
  readSolution,
  readSolutionZip,
  renderSolutionFiles,
  writeSolutionFolder,
  writeSolutionZip,
  writeSolutionZipFile,
  withFlowClientData,
  type FlowComponent,
  type SolutionPackage,
} from '@patchbay/solution';
import { corpusPath, tempDir } from './helpers.js';

type Json = Record<string, unknown>;

/** The api name of the first reference to a managed connector of a package. */
function r0Api(pkg: SolutionPackage): string {
  const id = pkg.connectionReferences.find((r) => !r.customConnectorId)?.connectorId ?? '';
  return id.slice(id.lastIndexOf('/') + 1);
}

async function roundTripZip(pkg: SolutionPackage): Promise<SolutionPackage> {
  return readSolutionZip(await writeSolutionZip(pkg), { name: 'rt.zip' });
}

function definitionOf(flow: FlowComponent): { clientData: Json; definition: Json; refs: Json } {
  const clientData = structuredClone(flow.clientData) as Json;
  const props = clientData['properties'] as Json;
  return { clientData, definition: props['definition'] as Json, refs: props['connectionReferences'] as Json };
}

describe('flow connection maps', () => {
  it('maps keys to references with the actions that use them (ApiConnection and env-var parameters)', async () => {
    const pkg = await readSolution(corpusPath('solutions/unpacked/power-platform-blog-updates'));
    const flow = findFlow(pkg, '{369D136B-ECC3-ED11-83FF-000D3AB474C9}') as FlowComponent;
    expect(flow.name).toBe('Power Platform Blog Updates');
    expect(flow.fileName).toBe('Workflows/PowerPlatformBlogUpdates-369D136B-ECC3-ED11-83FF-000D3AB474C9.json');
    expect(flow.onWhenExported).toBe(true);
    expect(Object.keys(flow.connectionMap).sort()).toEqual(['shared_office365_1', 'shared_rss_1']);
    const rss = flow.connectionMap['shared_rss_1'];
    expect(rss).toMatchObject({
      logicalName: 'natiturt_RSSConnection',
      runtimeSource: 'embedded',
      apiName: 'shared_rss',
      embedded: false,
    });
    expect(rss?.usedBy).toHaveLength(6);
    expect(rss?.usedBy.every((u) => u.type === 'ApiConnection' && u.kind === 'action' && u.method === 'get')).toBe(
      true,
    );
    expect(flow.connectionMap['shared_office365_1']?.usedBy.map((u) => u.name)).toEqual(['Send_an_email']);
    expect(flow.envVarParameters).toHaveLength(13);
    expect(flow.envVarParameters[0]).toMatchObject({
      parameterName: 'Send To Address (natiturt_SendToAddress)',
      schemaName: 'natiturt_SendToAddress',
      type: 'String',
    });
    expect(flow.triggers).toEqual([{ name: 'Scheduled_Run', type: 'Recurrence' }]);
    expect(flow.unmappedUses).toEqual([]);
  });

  it('walks nested containers (Scope, If/else, Switch cases and default, Foreach, Until)', async () => {
    const pkg = await readSolution(corpusPath('solutions/zip/sharepoint-list-update-created-by.zip'));
    const flow = pkg.flows[0] as FlowComponent;
    const { clientData, definition } = definitionOf(flow);
    const key = Object.keys(flow.connectionMap)[0] as string;
    const call = (op: string): Json => ({
      type: 'OpenApiConnection',
      inputs: {
        host: {
          connectionName: key,
          operationId: op,
          apiId: '/providers/Microsoft.PowerApps/apis/shared_sharepointonline',
        },
      },
    });
    definition['actions'] = {
      Scope: {
        type: 'Scope',
        actions: {
          Check: {
            type: 'If',
            actions: { Yes: call('A') },
            else: { actions: { No: call('B') } },
          },
          Pick: {
            type: 'Switch',
            cases: { One: { case: 1, actions: { InCase: call('C') } } },
            default: { actions: { InDefault: call('D') } },
          },
          Loop: { type: 'Foreach', foreach: '@createArray(1)', actions: { InLoop: call('E') } },
          Again: { type: 'Until', expression: '@true', actions: { InUntil: call('F') } },
        },
      },
    };
    const changed = withFlowClientData(flow, clientData);
    const uses = changed.connectionMap[key]?.usedBy
      .filter((u) => u.kind === 'action')
      .map((u) => [u.path, u.operationId]);
    expect(uses).toEqual([
      ['Scope/Check/Yes', 'A'],
      ['Scope/Check/No', 'B'],
      ['Scope/Pick/InCase', 'C'],
      ['Scope/Pick/InDefault', 'D'],
      ['Scope/Loop/InLoop', 'E'],
      ['Scope/Again/InUntil', 'F'],
    ]);
    expect(changed.connectionMap[key]?.usedBy.find((u) => u.operationId === 'D')?.jsonPath).toBe(
      '$.properties.definition.actions.Scope.actions.Pick.default.actions.InDefault.inputs.host',
    );
    expect(changed.actionCount).toBe(11);
    // The change survives a write and a read.
    const pkg2 = await roundTripZip({ ...pkg, flows: [changed] });
    expect(pkg2.flows[0]?.connectionMap[key]?.usedBy).toHaveLength(
      6 + changed.connectionMap[key]!.usedBy.filter((u) => u.kind === 'trigger').length,
    );
  });

  it('detects flows that embed connections (legacy map entries) and keeps the mixed form as reference-based', async () => {
    const pkg = await readSolution(corpusPath('solutions/zip/sharepoint-list-update-created-by.zip'));
    const flow = pkg.flows[0] as FlowComponent;
    const { clientData, refs } = definitionOf(flow);
    refs['shared_sharepointonline-1'] = {
      connectionName: 'shared-sharepointonl-594ec2f7-1a2b-4c3d-8e9f-001122334455',
      source: 'Embedded',
      id: '/providers/Microsoft.PowerApps/apis/shared_sharepointonline',
      tier: 'NotSpecified',
    };
    refs['shared_commondataserviceforapps'] = {
      impersonation: {},
      runtimeSource: 'embedded',
      connection: {
        name: 'shared-commondataser-114efb88-0000-0000-0000-000000000000',
        connectionReferenceLogicalName: 'glynn_SharePoint',
      },
      api: { name: 'shared_sharepointonline' },
    };
    const legacy = withFlowClientData(flow, clientData);
    expect(legacy.connectionMap['shared_sharepointonline-1']).toMatchObject({
      embedded: true,
      runtimeSource: 'embedded',
      apiName: 'shared_sharepointonline',
      connectionName: 'shared-sharepointonl-594ec2f7-1a2b-4c3d-8e9f-001122334455',
    });
    expect(legacy.connectionMap['shared_commondataserviceforapps']).toMatchObject({
      embedded: false,
      logicalName: 'glynn_SharePoint',
    });
    expect(embeddedConnectionKeys(legacy)).toEqual(['shared_sharepointonline-1']);
    const a = analyzeSolution({ ...pkg, flows: [legacy] });
    expect(a.findings.filter((f) => f.code === 'FLOW_EMBEDS_CONNECTION').map((f) => f.key)).toEqual([
      'shared_sharepointonline-1',
    ]);
  });
});

describe('custom connectors', () => {
  it('reads the connector of a zip (customizations.xml + Connector/) and of a tree (Connectors/)', async () => {
    for (const path of ['solutions/zip/varify-bot.zip', 'solutions/unpacked/varify-bot']) {
      const pkg = await readSolution(corpusPath(path));
      expect(pkg.customConnectors).toHaveLength(1);
      const c = pkg.customConnectors[0]!;
      expect(c).toMatchObject({
        name: 'ba_api-2dfootball',
        connectorId: '5c834463-f47d-4959-9c3a-fa07810814e3',
        displayName: 'API-Football',
        connectorType: 1,
      });
      expect((c.openApiDefinition as Json)['host']).toBe('v3.football.api-sports.io');
      expect(Object.keys(c.connectionParameters as Json)).toEqual(['api_key']);
      expect(c.policyTemplateInstances).toBeNull();
      const def = customConnectorDefinition(c);
      expect(def.policyTemplateInstances).toEqual([]);
      expect(Object.keys((def.openApiDefinition['paths'] as Json) ?? {})).toEqual(['/status', '/fixtures', '/teams']);
      const refs = pkg.connectionReferences.filter((r) => r.customConnectorId === c.connectorId);
      expect(refs).toHaveLength(2);
    }
    const tree = await readSolution(corpusPath('solutions/unpacked/varify-bot'));
    // The corpus dropped the icon from the tree: a warning, the reference is kept for writing.
    expect(tree.warnings).toEqual([expect.objectContaining({ code: 'CONNECTOR_PART_MISSING' })]);
    for (const p of [tree, await readSolution(corpusPath('solutions/zip/varify-bot.zip'))]) {
      const a = analyzeSolution(p);
      // Custom connectors appear by their logical name; the environment-specific ids are extra fields.
      const custom = a.references.filter((r) => r.customConnectorId);
      expect(custom).toHaveLength(2);
      for (const r of custom) {
        expect(r).toMatchObject({
          connector: 'ba_api-2dfootball',
          customConnectorName: 'ba_api-2dfootball',
          customConnectorId: '5c834463-f47d-4959-9c3a-fa07810814e3',
        });
        expect(r.apiName).toMatch(/^shared_api-2dfootball-5f/);
      }
      expect(a.references.find((r) => !r.customConnectorId)).toMatchObject({ connector: r0Api(p), apiName: r0Api(p) });
      const dup = a.findings.find((f) => f.code === 'DUPLICATE_CONNECTOR_REFERENCES');
      expect(dup?.message).toContain('(custom connector ba_api-2dfootball)');
      expect(dup?.message).not.toContain('5c834463');
      expect(dup?.details).toMatchObject({
        connector: 'ba_api-2dfootball',
        customConnectorId: '5c834463-f47d-4959-9c3a-fa07810814e3',
      });
    }
  });

  it('identifies custom connectors by logical name, never by the environment-specific api-name hash', async () => {
    const pkg = await readSolution(corpusPath('solutions/zip/varify-bot.zip'));
    const flow = pkg.flows[0] as FlowComponent;
    const { clientData, definition, refs } = definitionOf(flow);
    const key = 'shared_api-2dfootball-5f983b8802de813283_1';
    refs[key] = {
      runtimeSource: 'embedded',
      connection: {
        connectionReferenceLogicalName: 'ba_sharedapi2dfootball5fef65ead3619d20b25fd08fbdd201909bb3_5715e',
      },
      api: { name: 'shared_api-2dfootball-5f21dec655d73f3a8c', logicalName: 'ba_api-2dfootball' },
    };
    (definition['actions'] as Json)['Get_fixtures'] = {
      type: 'OpenApiConnection',
      runAfter: {},
      inputs: { host: { connectionName: key, operationId: 'getFixtures' } },
    };
    const ok = withFlowClientData(flow, clientData);
    expect(ok.connectionMap[key]).toMatchObject({
      apiLogicalName: 'ba_api-2dfootball',
      apiName: 'shared_api-2dfootball-5f21dec655d73f3a8c',
    });
    const good = analyzeSolution({ ...pkg, flows: [ok] });
    expect(good.findings.filter((f) => f.code === 'REFERENCE_CONNECTOR_MISMATCH')).toEqual([]);
    expect(good.references.find((r) => r.customConnectorName)?.flows[0]?.uses).toEqual([
      { key, path: 'Get_fixtures', kind: 'action', type: 'OpenApiConnection', operationId: 'getFixtures' },
    ]);

    (refs[key] as { api: Json }).api['logicalName'] = 'ba_other-20connector';
    const bad = analyzeSolution({ ...pkg, flows: [withFlowClientData(flow, clientData)] });
    expect(bad.findings.filter((f) => f.code === 'REFERENCE_CONNECTOR_MISMATCH').map((f) => f.key)).toEqual([key]);
  });

  it('reports a managed connector mismatch between a flow and its reference', async () => {
    const pkg = await readSolution(corpusPath('solutions/zip/mention-teams-channel-in-post.zip'));
    pkg.connectionReferences[0]!.connectorId = '/providers/Microsoft.PowerApps/apis/shared_office365';
    const a = analyzeSolution(pkg);
    expect(a.findings.find((f) => f.code === 'REFERENCE_CONNECTOR_MISMATCH')).toMatchObject({
      severity: 'error',
      reference: 'pnp_sharedteams_fea83',
      key: 'shared_teams',
    });
  });
});

describe('environment variables', () => {
  it('reads data-source definitions, current values and every type code', async () => {
    const pkg = await readSolution(
      corpusPath('solutions/unpacked/utility-flow-get-sharepoint-info-from-environment-variables'),
    );
    const lib = pkg.environmentVariables.find((v) => v.schemaName === 'kk_v_Library');
    expect(lib).toMatchObject({
      type: 'DataSource',
      typeCode: 100000004,
      apiId: '/providers/microsoft.powerapps/apis/shared_sharepointonline',
      parameterKey: 'table',
      displayName: 'v_Library',
      isRequired: false,
    });
    const term = await readSolution(corpusPath('solutions/zip/term-buddy.zip'));
    expect(term.environmentVariables.find((v) => v.schemaName === 'kch_environments')?.description).toBe(
      'Format: {"dev":"<EnvironmentID>", "uat":"<EnvironmentID>", "prod":"<EnvironmentID>"}',
    );
    expect(term.environmentVariables.find((v) => v.schemaName === 'kch_demobackend')).toMatchObject({
      type: 'Boolean',
      currentValue: 'no',
    });
    expect(term.environmentVariables.find((v) => v.schemaName === 'kch_endpointsecret')?.type).toBe('Secret');
    expect(term.environmentVariables.find((v) => v.schemaName === 'kch_colorschema')?.type).toBe('JSON');
    // Number (not in the corpus): the same file with type 100000001.
    const files = renderSolutionFiles(term, 'zip');
    const p = 'environmentvariabledefinitions/kch_model/environmentvariabledefinition.xml';
    files.set(
      p,
      Buffer.from(
        (files.get(p) as Buffer).toString('utf8').replace('<type>100000000</type>', '<type>100000001</type>'),
      ),
    );
    const { parseSolutionFiles } = await import('@patchbay/solution');
    const withNumber = parseSolutionFiles(files, { layout: 'zip', name: 'n.zip' });
    expect(withNumber.environmentVariables.find((v) => v.schemaName === 'kch_model')?.type).toBe('Number');
  });
});

describe('layouts', () => {
  it('finds the tree under src/ next to a .cdsproj, and at a custom SolutionRootPath', async () => {
    const dir = await tempDir();
    const proj = join(dir, 'PatchTuesday');
    await mkdir(proj);
    await cp(corpusPath('solutions/unpacked/patch-tuesday'), join(proj, 'src'), { recursive: true });
    await writeFile(
      join(proj, 'PatchTuesday.cdsproj'),
      '<Project><PropertyGroup><SolutionRootPath>src</SolutionRootPath></PropertyGroup></Project>',
    );
    const a = await readSolution(proj);
    expect(a.flows).toHaveLength(3);
    expect(a.files.some((f) => f.path.endsWith('.cdsproj'))).toBe(false);
    await rename(join(proj, 'src'), join(proj, 'solution'));
    await writeFile(
      join(proj, 'PatchTuesday.cdsproj'),
      '<Project><PropertyGroup><SolutionRootPath>solution</SolutionRootPath></PropertyGroup></Project>',
    );
    expect((await readSolution(proj)).manifest.uniqueName).toBe('PatchTuesday');
    await mkdir(join(dir, 'empty'));
    await expect(readSolution(join(dir, 'empty'))).rejects.toMatchObject({
      code: 'SOLUTION_NOT_FOUND',
      category: 'not-found',
    });
    await expect(readSolution(join(dir, 'nope.zip'))).rejects.toMatchObject({ code: 'SOLUTION_NOT_FOUND' });
  });

  it('matches the fixed names of the tree case-insensitively (Other/solution.xml, SRC/)', async () => {
    const dir = await tempDir();
    const tree = join(dir, 'tree');
    await cp(corpusPath('solutions/unpacked/patch-tuesday'), tree, { recursive: true });
    await rename(join(tree, 'Other', 'Solution.xml'), join(tree, 'Other', 'solution.xml'));
    await rename(join(tree, 'Other'), join(tree, 'other'));
    expect((await readSolution(tree)).manifest.uniqueName).toBe('PatchTuesday');
    const proj = join(dir, 'proj');
    await mkdir(proj);
    await rename(tree, join(proj, 'SRC'));
    expect((await readSolution(proj)).flows).toHaveLength(3);
    await writeFile(
      join(proj, 'p.cdsproj'),
      '<Project><PropertyGroup><SolutionRootPath>src</SolutionRootPath></PropertyGroup></Project>',
    );
    expect((await readSolution(proj)).flows).toHaveLength(3);
  });

  it('keeps the SolutionRootPath of a .cdsproj inside the project folder (path segments) and refuses a symlinked root', async () => {
    const dir = await tempDir();
    await mkdir(join(dir, 'h', 'p'), { recursive: true });
    await cp(corpusPath('solutions/unpacked/patch-tuesday'), join(dir, 'h', 'p-evil'), { recursive: true });
    await writeFile(
      join(dir, 'h', 'p', 'x.cdsproj'),
      '<Project><PropertyGroup><SolutionRootPath>../p-evil</SolutionRootPath></PropertyGroup></Project>',
    );
    await expect(readSolution(join(dir, 'h', 'p'))).rejects.toMatchObject({
      code: 'SOLUTION_PATH_INVALID',
      details: { file: join(dir, 'h', 'p', 'x.cdsproj'), field: 'SolutionRootPath' },
    });
    await writeFile(join(dir, 'h', 'p', 'x.cdsproj'), '<Project />');
    await symlink(join(dir, 'h', 'p-evil'), join(dir, 'h', 'p', 'src'));
    await expect(readSolution(join(dir, 'h', 'p'))).rejects.toMatchObject({
      code: 'FOLDER_SYMLINK_REFUSED',
      details: { file: join(dir, 'h', 'p', 'src') },
    });
  });

  it('turns file-system failures into errors naming the path, not SOLUTION_NOT_FOUND', async () => {
    const dir = await tempDir();
    await symlink(join(dir, 'loop'), join(dir, 'loop'));
    await expect(readSolution(join(dir, 'loop'))).rejects.toMatchObject({
      code: 'FILE_NOT_READABLE',
      details: { file: join(dir, 'loop'), errno: 'ELOOP' },
    });
    const pkg = await readSolution(corpusPath('solutions/zip/patch-tuesday.zip'));
    await writeFile(join(dir, 'afile'), 'x');
    await expect(writeSolutionFolder(pkg, join(dir, 'afile', 'tree'))).rejects.toMatchObject({
      code: 'FOLDER_NOT_WRITABLE',
      category: 'invalid',
      details: { file: join(dir, 'afile', 'tree'), operation: 'write the folder' },
    });
    await mkdir(join(dir, 'adir'));
    await writeFile(join(dir, 'adir', 'x'), 'x');
    await expect(writeSolutionZipFile(pkg, join(dir, 'adir'))).rejects.toMatchObject({
      code: 'FILE_NOT_WRITABLE',
      details: { file: join(dir, 'adir') },
    });
  });

  it('writes a folder atomically, refusing a non-empty folder unless allowDelete replaces an unpacked solution', async () => {
    const dir = await tempDir();
    const pkg = await readSolution(corpusPath('solutions/zip/patch-tuesday.zip'));
    const out = join(dir, 'out');
    await mkdir(out);
    await writeFile(join(out, 'keep.txt'), 'mine');
    await expect(writeSolutionFolder(pkg, out)).rejects.toMatchObject({
      code: 'FOLDER_NOT_EMPTY',
      category: 'conflict',
    });
    expect(await readdir(out)).toEqual(['keep.txt']);
    // --allow-delete replaces only an unpacked solution: a folder of other files is refused too
    await expect(writeSolutionFolder(pkg, out, { allowDelete: true })).rejects.toMatchObject({
      code: 'FOLDER_NOT_A_SOLUTION',
    });
    expect(await readdir(out)).toEqual(['keep.txt']);
    await mkdir(join(out, 'Other'));
    await writeFile(join(out, 'Other', 'Solution.xml'), '<ImportExportXml />');
    const written = await writeSolutionFolder(pkg, out, { allowDelete: true });
    expect(written).toContain('Other/Customizations.xml');
    expect((await readdir(out)).sort()).toEqual(['CanvasApps', 'Other', 'Workflows']);
    expect((await readdir(dir)).sort()).toEqual(['out']);
    const data = await readFile(
      join(out, 'Workflows', 'IsitPatchTuesday-1E7C5C7B-0884-EE11-8179-000D3A5A8520.json.data.xml'),
      'utf8',
    );
    expect(
      data.startsWith(
        '\uFEFF<?xml version="1.0" encoding="utf-8"?>\r\n<Workflow WorkflowId="{1e7c5c7b-0884-ee11-8179-000d3a5a8520}"',
      ),
    ).toBe(true);
    expect(data).toContain('xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\r\n  <JsonFileName>');
    const cust = await readFile(join(out, 'Other', 'Customizations.xml'), 'utf8');
    expect(cust).toContain('<Workflows />');
  });
});

describe('zip output', () => {
  it('is deterministic: the same package gives the same bytes', async () => {
    const pkg = await readSolution(corpusPath('solutions/unpacked/term-buddy'));
    const a = await writeSolutionZip(pkg);
    const b = await writeSolutionZip(await readSolution(corpusPath('solutions/unpacked/term-buddy')));
    expect(a.equals(b)).toBe(true);
  });
});

describe('edits', () => {
  it('writes changed fields and new components, keeps the rest as found', async () => {
    const pkg = await readSolution(corpusPath('solutions/zip/incident-reporting.zip'));
    const before = renderSolutionFiles(pkg, 'zip');
    const [first, second] = pkg.connectionReferences;
    first!.displayName = 'Incidents – Dataverse – Service Principal';
    first!.description = 'used by <IncidentAssignment> & friends';
    pkg.flows[0]!.stateCode = 0;
    pkg.flows[0]!.statusCode = 1;
    pkg.manifest.version = '2.0.0.0';
    const variable = pkg.environmentVariables[0]!;
    variable.currentValue = 'https://contoso.example/new';
    variable.defaultValue = 'https://contoso.example/default';
    pkg.connectionReferences.push({
      logicalName: 'csa_new_reference',
      displayName: 'Incidents – Teams – User',
      connectorId: '/providers/Microsoft.PowerApps/apis/shared_teams',
      stateCode: 0,
      statusCode: 1,
    });
    const after = await roundTripZip(pkg);
    expect(after.manifest.version).toBe('2.0.0.0');
    expect(after.flows[0]).toMatchObject({ stateCode: 0, statusCode: 1, onWhenExported: false });
    expect(after.connectionReferences[0]).toMatchObject({
      displayName: 'Incidents – Dataverse – Service Principal',
      description: 'used by <IncidentAssignment> & friends',
    });
    expect(after.connectionReferences[1]).toEqual({ ...second, element: after.connectionReferences[1]!.element });
    expect(after.connectionReferences[2]).toMatchObject({
      logicalName: 'csa_new_reference',
      connectorId: '/providers/Microsoft.PowerApps/apis/shared_teams',
      stateCode: 0,
    });
    expect(after.environmentVariables.find((v) => v.schemaName === variable.schemaName)).toMatchObject({
      currentValue: 'https://contoso.example/new',
      defaultValue: 'https://contoso.example/default',
    });
    const a = analyzeSolution(after);
    expect(a.findings.filter((f) => f.code === 'REFERENCE_NAMING').map((f) => f.reference)).toEqual([
      'csa_sharedoffice365_e578a',
    ]);
    // Untouched parts are the same bytes.
    const again = renderSolutionFiles(after, 'zip');
    for (const [p, data] of before) {
      if (
        p === 'customizations.xml' ||
        p === 'solution.xml' ||
        p.startsWith(`environmentvariabledefinitions/${variable.schemaName}/`)
      )
        continue;
      expect(again.get(p)?.equals(data), p).toBe(true);
    }
    const cust = again.get('customizations.xml')?.toString('utf8') ?? '';
    expect(cust).toContain('<description>used by &lt;IncidentAssignment&gt; &amp; friends</description>');
    expect(cust).toContain('<StateCode>0</StateCode>');
  });

  it('reports cross-solution references, undefined and unused variables, and applies a configured naming rule', async () => {
    const pkg = await readSolution(corpusPath('solutions/unpacked/create-folder-with-link-back-to-list'));
    const removedRef = pkg.connectionReferences.splice(0, 1)[0]!;
    const removedVar = pkg.environmentVariables.splice(0, 1)[0]!;
    const a = analyzeSolution(await roundTripZip(pkg), {
      namingRule: { pattern: '^[A-Z]', description: 'starts with a capital' },
    });
    expect(a.findings.find((f) => f.code === 'REFERENCE_NOT_IN_PACKAGE')).toMatchObject({
      reference: removedRef.logicalName,
      severity: 'warning',
    });
    expect(a.findings.find((f) => f.code === 'ENV_VAR_UNDEFINED')).toMatchObject({ variable: removedVar.schemaName });
    const term = analyzeSolution(await readSolution(corpusPath('solutions/zip/term-buddy.zip')), { namingRule: false });
    expect(term.findings.filter((f) => f.code === 'ENV_VAR_UNUSED')).toHaveLength(9);
    expect(term.findings.some((f) => f.code === 'REFERENCE_NAMING')).toBe(false);
  });
});
