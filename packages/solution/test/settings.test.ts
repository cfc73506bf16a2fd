/**
 * Deployment settings files (the corpus' real ones and built cases) and custom connector
 * source folders (the corpus' connectors, one of which is not valid JSON upstream).
 */
import { describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { isPatchbayError } from '@patchbay/core';
import {
  checkDeploymentSettings,
  createDeploymentSettings,
  findPlaceholders,
  formatDeploymentSettings,
  parseDeploymentSettings,
  readCustomConnectorFolder,
  readSolution,
} from '@patchbay/solution';
import { connectorItems, corpusPath, manifest, settingsItems, type ManifestItem } from './helpers.js';

describe.each(settingsItems.map((i) => [i.path, i] as [string, ManifestItem]))('settings %s', (path, item) => {
  const notes = item.notes as ManifestItem['notes'] & {
    format: string;
    tokenPlaceholders: number;
    literalValues: number;
  };
  it('parses (or reports the legacy shape) and reports its placeholders', async () => {
    const text = await readFile(corpusPath(path), 'utf8');
    if (notes.format === 'legacy-name-value-pairs') {
      let error: unknown;
      try {
        parseDeploymentSettings(text, { file: path });
      } catch (e) {
        error = e;
      }
      expect(isPatchbayError(error)).toBe(true);
      const e = error as {
        code: string;
        category: string;
        details: { errors: Array<{ path: string; hint?: string }> };
      };
      expect(e.code).toBe('SETTINGS_SHAPE_INVALID');
      expect(e.category).toBe('invalid');
      const firstKey = /"(EnvironmentVariables|ConnectionReferences)"/.exec(text)?.[1];
      expect(e.details.errors[0]).toMatchObject({ path: `$.${firstKey}[0]` });
      expect(e.details.errors.every((x) => x.hint?.includes('[name, value] pair format'))).toBe(true);
      expect(e.details.errors).toHaveLength(notes.connectionReferences + notes.envVars);
      return;
    }
    const settings = parseDeploymentSettings(text, { file: path });
    expect(settings.connectionReferences).toHaveLength(notes.connectionReferences);
    expect(settings.environmentVariables).toHaveLength(notes.envVars);
    const result = checkDeploymentSettings(undefined, settings);
    // The manifest counts placeholders in the values pac reads (ConnectionId, Value).
    expect(result.summary.placeholders).toBe(notes.tokenPlaceholders);
    const ownerPlaceholders = settings.connectionReferences.filter(
      (e) => typeof e.extra['ConnectionOwner'] === 'string' && (e.extra['ConnectionOwner'] as string).startsWith('#{'),
    ).length;
    expect(result.summary.otherPlaceholders).toBe(ownerPlaceholders);
    const reported = result.findings.filter((f) => f.code === 'SETTINGS_PLACEHOLDER');
    expect(reported).toHaveLength(notes.tokenPlaceholders + ownerPlaceholders);
    expect(
      reported.every((f) =>
        /^\$\.(ConnectionReferences|EnvironmentVariables)\[\d+\]\.\w+$/.test(String(f.details?.['path'])),
      ),
    ).toBe(true);
    expect(result.fits).toBe(true);
    expect(result.ready).toBe(notes.tokenPlaceholders === 0 && ownerPlaceholders === 0);
  });
});

describe('settings checks', () => {
  it('a created file fits its package, is not ready until filled in, and is ready once filled', async () => {
    const pkg = await readSolution(corpusPath('solutions/zip/power-platform-blog-updates.zip'));
    const json = createDeploymentSettings(pkg);
    const empty = checkDeploymentSettings(
      pkg,
      parseDeploymentSettings(formatDeploymentSettings(json), { file: 's.json' }),
    );
    expect(empty).toMatchObject({ fits: true, ready: false });
    expect(empty.summary.emptyValues).toBe(15);
    for (const r of json.ConnectionReferences) r.ConnectionId = 'ef3d1cbb2c3b4e7987e02486584689d3';
    for (const v of json.EnvironmentVariables) v.Value = 'x';
    const filled = checkDeploymentSettings(pkg, parseDeploymentSettings(JSON.stringify(json), { file: 's.json' }));
    expect(filled).toMatchObject({ fits: true, ready: true, findings: [] });
  });

  it('matches case-insensitively; reports duplicates, unknown and missing entries, connector mismatches', async () => {
    const pkg = await readSolution(corpusPath('solutions/zip/power-platform-blog-updates.zip'));
    const json = createDeploymentSettings(pkg);
    for (const r of json.ConnectionReferences) r.ConnectionId = '4445162937b84457a3465d2f0c2cab7e';
    for (const v of json.EnvironmentVariables) v.Value = 'v';
    json.ConnectionReferences[0]!.LogicalName = json.ConnectionReferences[0]!.LogicalName.toUpperCase();
    expect(checkDeploymentSettings(pkg, parseDeploymentSettings(JSON.stringify(json), { file: 's.json' })).ready).toBe(
      true,
    );

    json.ConnectionReferences.push({
      ...json.ConnectionReferences[0]!,
      LogicalName: json.ConnectionReferences[0]!.LogicalName.toLowerCase(),
    });
    json.ConnectionReferences.push({
      LogicalName: 'natiturt_Unknown',
      ConnectionId: 'abc',
      ConnectorId: '/providers/Microsoft.PowerApps/apis/shared_rss',
    });
    json.ConnectionReferences[1]!.ConnectorId = '/providers/Microsoft.PowerApps/apis/shared_teams';
    const removed = json.EnvironmentVariables.shift()!;
    const r = checkDeploymentSettings(pkg, parseDeploymentSettings(JSON.stringify(json), { file: 's.json' }));
    expect(r.fits).toBe(false);
    const codes = r.findings.map((f) => f.code);
    expect(codes).toContain('SETTINGS_DUPLICATE_ENTRY');
    expect(r.findings.find((f) => f.code === 'SETTINGS_DUPLICATE_ENTRY')?.message).toContain('differ only in case');
    expect(r.findings.find((f) => f.code === 'SETTINGS_UNKNOWN_REFERENCE')).toMatchObject({
      reference: 'natiturt_Unknown',
      details: { path: '$.ConnectionReferences[3]' },
    });
    expect(r.findings.find((f) => f.code === 'SETTINGS_CONNECTOR_MISMATCH')).toMatchObject({
      details: { path: '$.ConnectionReferences[1].ConnectorId' },
    });
    // The package holds a current value for every variable, so a missing entry is only a warning.
    expect(r.findings.find((f) => f.code === 'SETTINGS_MISSING_VARIABLE')).toMatchObject({
      variable: removed.SchemaName,
      severity: 'warning',
    });
    json.ConnectionReferences.splice(0, 2);
    const missing = checkDeploymentSettings(pkg, parseDeploymentSettings(JSON.stringify(json), { file: 's.json' }));
    expect(missing.findings.filter((f) => f.code === 'SETTINGS_MISSING_REFERENCE')).toHaveLength(1);
  });

  it('reports a missing, empty or case-differing ConnectorId (pac writes it; the import does not read it)', async () => {
    const pkg = await readSolution(corpusPath('solutions/zip/power-platform-blog-updates.zip'));
    const json = createDeploymentSettings(pkg) as unknown as {
      ConnectionReferences: Array<Record<string, string>>;
      EnvironmentVariables: Array<Record<string, string>>;
    };
    for (const r of json.ConnectionReferences) r['ConnectionId'] = '4445162937b84457a3465d2f0c2cab7e';
    for (const v of json.EnvironmentVariables) v['Value'] = 'v';
    const [first, second] = json.ConnectionReferences as [Record<string, string>, Record<string, string>];
    delete first['ConnectorId'];
    second['ConnectorId'] = '';
    let r = checkDeploymentSettings(pkg, parseDeploymentSettings(JSON.stringify(json), { file: 's.json' }));
    expect(r.findings.filter((f) => f.code === 'SETTINGS_CONNECTOR_ID_MISSING')).toEqual([
      expect.objectContaining({ severity: 'warning', details: { path: '$.ConnectionReferences[0].ConnectorId' } }),
      expect.objectContaining({ severity: 'warning', details: { path: '$.ConnectionReferences[1].ConnectorId' } }),
    ]);
    expect(r.findings[0]?.message).toContain('missing');
    expect(r).toMatchObject({ fits: true, ready: true, summary: { warnings: 2 } });
    // Also without a package.
    expect(
      checkDeploymentSettings(
        undefined,
        parseDeploymentSettings(JSON.stringify(json), { file: 's.json' }),
      ).findings.map((f) => f.code),
    ).toEqual(['SETTINGS_CONNECTOR_ID_MISSING', 'SETTINGS_CONNECTOR_ID_MISSING']);
    const ref = pkg.connectionReferences.find((x) => x.logicalName === second['LogicalName'])!;
    first['ConnectorId'] = pkg.connectionReferences.find((x) => x.logicalName === first['LogicalName'])!.connectorId;
    second['ConnectorId'] = ref.connectorId.toUpperCase();
    r = checkDeploymentSettings(pkg, parseDeploymentSettings(JSON.stringify(json), { file: 's.json' }));
    expect(r.findings).toEqual([
      expect.objectContaining({
        code: 'SETTINGS_CONNECTOR_ID_CASE',
        severity: 'info',
        details: {
          path: '$.ConnectionReferences[1].ConnectorId',
          expected: ref.connectorId,
          found: second['ConnectorId'],
        },
      }),
    ]);
    expect(r.ready).toBe(true);
    second['ConnectorId'] = '#{connector}#';
    r = checkDeploymentSettings(pkg, parseDeploymentSettings(JSON.stringify(json), { file: 's.json' }));
    expect(r.findings.map((f) => f.code)).toEqual(['SETTINGS_PLACEHOLDER']);
    expect(r.summary.otherPlaceholders).toBe(1);
  });

  it('sorts findings by index numerically', () => {
    const refs = Array.from({ length: 12 }, (_, i) => ({
      LogicalName: `p_ref${i}`,
      ConnectionId: `#{conn${i}}#`,
      ConnectorId: '/providers/Microsoft.PowerApps/apis/shared_rss',
    }));
    const r = checkDeploymentSettings(
      undefined,
      parseDeploymentSettings(JSON.stringify({ EnvironmentVariables: [], ConnectionReferences: refs }), { file: 's' }),
    );
    expect(r.findings.map((f) => f.details?.['path'])).toEqual(
      refs.map((_, i) => `$.ConnectionReferences[${i}].ConnectionId`),
    );
  });

  it('reports every shape error in file order, each with its path in the message', async () => {
    const file = corpusPath('settings/ALMAcceleratorSampleSolution/Production/deploymentSettings.json');
    let error: { message: string; details: { errors: Array<{ path: string }> } } | undefined;
    try {
      parseDeploymentSettings(await readFile(file), { file: 'prod.json' });
    } catch (e) {
      error = e as typeof error;
    }
    const paths = [
      '$.ConnectionReferences[0]',
      '$.EnvironmentVariables[0]',
      '$.EnvironmentVariables[1]',
      '$.EnvironmentVariables[2]',
    ];
    expect(error?.details.errors.map((x) => x.path)).toEqual(paths);
    const lines = error?.message.split('\n') ?? [];
    expect(lines[0]).toBe('prod.json: 4 shape errors:');
    expect(lines.slice(1, 5).map((l) => l.trim().split(':')[0])).toEqual(paths);
    expect(lines.filter((l) => l.includes('[name, value] pair format'))).toHaveLength(1);
  });

  it('recognises the placeholder syntaxes of the common pipelines', () => {
    expect(findPlaceholders('#{connectionreference.cat_CDS}#')).toEqual(['#{connectionreference.cat_CDS}#']);
    expect(findPlaceholders('@@ConnectionId@@')).toEqual(['@@ConnectionId@@']);
    expect(findPlaceholders('${{ secrets.CONN }}x')).toEqual(['${{ secrets.CONN }']);
    expect(findPlaceholders('${CONN_ID}')).toEqual(['${CONN_ID}']);
    expect(findPlaceholders('__ConnectionId__')).toEqual(['__ConnectionId__']);
    expect(findPlaceholders('ef3d1cbb2c3b4e7987e02486584689d3')).toEqual([]);
    expect(findPlaceholders('shared-sharepointonl-594ec2f7')).toEqual([]);
  });

  it('reports shape errors with JSON paths, and JSON syntax errors with line and column', () => {
    const shape = (text: string): Array<{ path: string; message: string; hint?: string }> => {
      try {
        parseDeploymentSettings(text, { file: 'x.json' });
      } catch (e) {
        return (e as { details: { errors: Array<{ path: string; message: string; hint?: string }> } }).details.errors;
      }
      return [];
    };
    expect(shape('{"EnvironmentVariables": {}, "ConnectionReferences": []}')).toEqual([
      { path: '$.EnvironmentVariables', message: 'must be an array' },
    ]);
    expect(shape('{"EnvironmentVariables": [{"SchemaName": "a", "Value": 3}]}')[0]).toMatchObject({
      path: '$.EnvironmentVariables[0].Value',
      hint: 'write it as a string: "3"',
    });
    expect(shape('{"ConnectionReferences": [{"ConnectionId": ""}]}')[0]).toMatchObject({
      path: '$.ConnectionReferences[0].LogicalName',
      message: 'missing "LogicalName"',
    });
    expect(shape('{"connectionReferences": []}')[0]).toMatchObject({ path: '$.connectionReferences' });
    expect(shape('[]')[0]).toMatchObject({ path: '$' });
    try {
      parseDeploymentSettings('{\n  "EnvironmentVariables": [\n    {"SchemaName": "a" "Value": ""}\n  ]\n}', {
        file: 'x.json',
      });
      expect.unreachable();
    } catch (e) {
      expect(e).toMatchObject({ code: 'SETTINGS_JSON_INVALID', details: { file: 'x.json', line: 3 } });
    }
  });
});

describe.each(connectorItems.map((i) => [i.path, i] as [string, ManifestItem]))('connector %s', (path, item) => {
  const notes = item.notes as ManifestItem['notes'] & {
    parseErrors?: string[];
    policyTemplates: string[];
    auth: { connectionParameters: string[]; connectionParameterSets: string[] | null };
    operations: number;
    hasScript: boolean;
  };
  it('reads the source form, or reports its parse error with file and line', async () => {
    if (notes.parseErrors?.length) {
      await expect(readCustomConnectorFolder(corpusPath(path))).rejects.toMatchObject({
        code: 'CONNECTOR_JSON_INVALID',
        category: 'invalid',
        details: {
          file: expect.stringMatching(/apiDefinition\.swagger\.json$/),
          line: expect.any(Number),
          column: expect.any(Number),
        },
      });
      return;
    }
    const c = await readCustomConnectorFolder(corpusPath(path));
    expect(Object.keys(c.connectionParameters).sort()).toEqual([...notes.auth.connectionParameters].sort());
    expect([...new Set(c.policyTemplateInstances.map((p) => p.templateId))].sort()).toEqual(
      [...new Set(notes.policyTemplates)].sort(),
    );
    if (notes.auth.connectionParameterSets) {
      const names = ((c.connectionParameterSets?.['values'] as Array<{ name: string }>) ?? []).map((v) => v.name);
      expect(names.sort()).toEqual([...notes.auth.connectionParameterSets].sort());
    } else expect(c.connectionParameterSets).toBeUndefined();
    expect(c.script !== undefined).toBe(notes.hasScript);
    expect(c.openApiDefinition['swagger']).toBe('2.0');
  });
});

describe('connector corpus', () => {
  it('has exactly the parse errors the manifest lists', async () => {
    let failures = 0;
    for (const item of connectorItems) {
      try {
        await readCustomConnectorFolder(corpusPath(item.path));
      } catch {
        failures++;
      }
    }
    expect(failures).toBe(manifest.summary['connector']?.['withParseErrors']);
  });

  it('names the file and field of a shape error', async () => {
    const { parseCustomConnectorSource } = await import('@patchbay/solution');
    const apiDefinition = await readFile(corpusPath('connectors/AzureKeyVault/apiDefinition.swagger.json'), 'utf8');
    const props = JSON.parse(await readFile(corpusPath('connectors/AzureKeyVault/apiProperties.json'), 'utf8')) as {
      properties: { policyTemplateInstances: Array<Record<string, unknown>> };
    };
    delete props.properties.policyTemplateInstances[0]!['templateId'];
    expect(() =>
      parseCustomConnectorSource(
        { apiDefinition, apiProperties: JSON.stringify(props) },
        { name: 'kv', label: (f) => `kv/${f}` },
      ),
    ).toThrow(
      expect.objectContaining({
        code: 'CONNECTOR_FIELD_INVALID',
        details: { file: 'kv/apiProperties.json', field: '$.properties.policyTemplateInstances[0].templateId' },
      }),
    );
  });
});
