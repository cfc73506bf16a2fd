/**
 * `patchbay solution …` in-process (main + memoryIO) on the real corpus, and once through the
 * built binary (apps/cli/bin/patchbay.js, built by `npx tsc -b`).
 */
import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Command } from 'commander';
import { CliContext, main, memoryIO } from '@patchbay/cli';
import { solutionCommand } from '../../../apps/cli/src/commands/solution.js';
import { describeSolution, readSolution, readZipEntries } from '@patchbay/solution';
import { corpusPath, tempDir } from './helpers.js';

async function run(args: string[], cwd?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const io = memoryIO(cwd ? { cwd } : {});
  const code = await main(args, io);
  return { code, stdout: io.stdout, stderr: io.stderr };
}

const ALM_DEFAULT = corpusPath('settings/ALMAcceleratorSampleSolution/default/deploymentSettings.json');

describe('patchbay solution analyze', () => {
  it('prints the model and findings of an unpacked folder as JSON', async () => {
    const r = await run([
      'solution',
      'analyze',
      corpusPath('solutions/unpacked/power-platform-blog-updates/'),
      '--json',
    ]);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as {
      model: {
        manifest: { uniqueName: string };
        flows: Array<{ connectionMap: Record<string, { usedBy: unknown[] }> }>;
        environmentVariables: unknown[];
      };
      analysis: { findings: Array<{ code: string }>; references: Array<{ logicalName: string; useCount: number }> };
    };
    expect(out.model.manifest.uniqueName).toBe('PowerPlatformBlogUpdates');
    expect(out.model.flows).toHaveLength(1);
    expect(out.model.flows[0]?.connectionMap['shared_rss_1']?.usedBy).toHaveLength(6);
    expect(out.model.environmentVariables).toHaveLength(13);
    expect(out.analysis.references.map((x) => [x.logicalName, x.useCount]).sort()).toEqual([
      ['natiturt_OutlookConnection', 1],
      ['natiturt_RSSConnection', 6],
    ]);
    expect(out.analysis.findings.map((f) => f.code)).toEqual(['REFERENCE_NAMING', 'REFERENCE_NAMING']);
    expect(JSON.stringify(out.model.flows[0])).not.toContain('clientData');
    const full = JSON.parse(
      (
        await run([
          'solution',
          'analyze',
          corpusPath('solutions/unpacked/power-platform-blog-updates/'),
          '--json',
          '--full',
        ])
      ).stdout,
    ) as {
      model: { flows: Array<{ clientData: { properties: { definition: { triggers: Record<string, unknown> } } } }> };
    };
    expect(Object.keys(full.model.flows[0]?.clientData.properties.definition.triggers ?? {})).toEqual([
      'Scheduled_Run',
    ]);
  });

  it('prints the same for the zip of the same solution, as text and with --fail-on', async () => {
    const zip = corpusPath('solutions/zip/power-platform-blog-updates.zip');
    const json = await run(['solution', 'analyze', zip, '--json']);
    const folder = await run([
      'solution',
      'analyze',
      corpusPath('solutions/unpacked/power-platform-blog-updates'),
      '--json',
    ]);
    const strip = (s: string): unknown => {
      const o = JSON.parse(s) as { model: Record<string, unknown> };
      delete o.model['files'];
      return o;
    };
    expect(strip(json.stdout)).toEqual(strip(folder.stdout));
    const text = await run(['solution', 'analyze', zip]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('PowerPlatformBlogUpdates 1.0.0.0 (unmanaged, publisher');
    expect(text.stdout).toMatch(/natiturt_RSSConnection\s+shared_rss\s+Power Platform Blog Updates\s+6/);
    expect((await run(['solution', 'analyze', zip, '--fail-on', 'warning'])).code).toBe(3);
    expect((await run(['solution', 'analyze', zip, '--no-naming', '--fail-on', 'warning'])).code).toBe(0);
    expect((await run(['solution', 'analyze', zip, '--naming-pattern', '^('])).code).toBe(1);
  });

  it('exits 2 with the file named for a bad package', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'bad.zip'), Buffer.from('PK not really'));
    const r = await run(['solution', 'analyze', join(dir, 'bad.zip'), '--json']);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout)).toMatchObject({
      error: { code: 'ZIP_INVALID', details: { file: join(dir, 'bad.zip') } },
    });
    expect((await run(['solution', 'analyze', join(dir, 'missing')])).code).toBe(2);
    // A file-system failure is reported as such, naming the path (not as "not found").
    await symlink(join(dir, 'loop'), join(dir, 'loop'));
    const loop = await run(['solution', 'analyze', join(dir, 'loop')]);
    expect(loop.code).toBe(2);
    expect(loop.stderr).toContain(
      `error FILE_NOT_READABLE: ${join(dir, 'loop')}: cannot read: too many levels of symbolic links`,
    );
    await mkdir(join(dir, 'adir', 'x'), { recursive: true });
    const packed = await run([
      'solution',
      'pack',
      '-f',
      corpusPath('solutions/unpacked/patch-tuesday'),
      '-z',
      join(dir, 'adir'),
    ]);
    expect(packed.code).toBe(2);
    expect(packed.stderr).toContain(`error FILE_NOT_WRITABLE: ${join(dir, 'adir')}: cannot write the file`);
  });
});

describe('patchbay solution create-settings and check-settings', () => {
  it('creates settings holding the package names, which fit the package and wait to be filled in', async () => {
    const dir = await tempDir();
    for (const [flag, path] of [
      ['--solution-zip', corpusPath('solutions/zip/term-buddy.zip')],
      ['--solution-folder', corpusPath('solutions/unpacked/term-buddy')],
    ] as const) {
      const out = join(dir, `settings${flag}.json`);
      const r = await run(['solution', 'create-settings', flag, path, '--settings-file', out]);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('1 connection references, 9 environment variables');
      const settings = JSON.parse(await readFile(out, 'utf8')) as {
        EnvironmentVariables: Array<{ SchemaName: string }>;
        ConnectionReferences: Array<{ LogicalName: string; ConnectorId: string }>;
      };
      const pkg = await readSolution(path);
      expect(settings.ConnectionReferences.map((c) => c.LogicalName).sort()).toEqual(
        pkg.connectionReferences.map((c) => c.logicalName).sort(),
      );
      expect(settings.EnvironmentVariables.map((c) => c.SchemaName).sort()).toEqual(
        pkg.environmentVariables.map((c) => c.schemaName).sort(),
      );
      const check = await run(['solution', 'check-settings', path, '--settings-file', out]);
      expect(check.code).toBe(3);
      expect(check.stdout).toContain(
        'fits, not filled in yet (0 errors, 10 warnings: 0 placeholders, 10 empty values) for termbuddy',
      );
      expect((await run(['solution', 'check-settings', path, '--settings-file', out, '--template'])).code).toBe(0);
    }
    expect((await run(['solution', 'create-settings', '--settings-file', join(dir, 'x.json')])).code).toBe(1);
  });

  it('reports the placeholders of a real settings file and whether it fits a package', async () => {
    const r = await run(['solution', 'check-settings', '--settings-file', ALM_DEFAULT, '--json']);
    expect(r.code).toBe(3);
    const out = JSON.parse(r.stdout) as {
      fits: boolean;
      ready: boolean;
      summary: { placeholders: number };
      findings: Array<{ code: string; details: { tokens?: string[] } }>;
    };
    expect(out).toMatchObject({ fits: true, ready: false, summary: { placeholders: 9 } });
    expect(out.findings.filter((f) => f.code === 'SETTINGS_PLACEHOLDER').flatMap((f) => f.details.tokens)).toContain(
      '#{connectionreference.cat_CDS_Current}#',
    );
    expect((await run(['solution', 'check-settings', '--settings-file', ALM_DEFAULT, '--template'])).code).toBe(0);
    const text = await run(['solution', 'check-settings', '--settings-file', ALM_DEFAULT]);
    expect(text.stdout).toMatch(
      /warning\s+SETTINGS_PLACEHOLDER\s+\$\.ConnectionReferences\[1\]\.ConnectionId: unresolved placeholder #\{connectionreference\.cat_CDS_Current\}#/,
    );
    // Against a package it was not made for: unknown and missing entries, exit 3.
    const wrong = await run([
      'solution',
      'check-settings',
      corpusPath('solutions/zip/term-buddy.zip'),
      '--settings-file',
      ALM_DEFAULT,
      '--json',
      '--template',
    ]);
    expect(wrong.code).toBe(3);
    const w = JSON.parse(wrong.stdout) as { fits: boolean; findings: Array<{ code: string }> };
    expect(w.fits).toBe(false);
    expect(w.findings.filter((f) => f.code === 'SETTINGS_UNKNOWN_REFERENCE')).toHaveLength(2);
    expect(w.findings.filter((f) => f.code === 'SETTINGS_MISSING_REFERENCE')).toHaveLength(1);
  });

  it('reads a UTF-16 settings file, refuses invalid UTF-8 with the position, and names a missing file', async () => {
    const dir = await tempDir();
    const zip = corpusPath('solutions/zip/mention-teams-channel-in-post.zip');
    const pkg = await readSolution(zip);
    const fixed = JSON.stringify({
      EnvironmentVariables: [],
      ConnectionReferences: [
        {
          LogicalName: pkg.connectionReferences[0]?.logicalName,
          ConnectionId: 'ZZ345',
          ConnectorId: pkg.connectionReferences[0]?.connectorId,
        },
      ],
    });
    await writeFile(join(dir, 'u16.json'), Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(fixed, 'utf16le')]));
    const ok = await run(['solution', 'check-settings', zip, '--settings-file', join(dir, 'u16.json')]);
    expect(ok.stderr).toBe('');
    expect(ok.stdout).toContain('ready to deploy');
    expect(ok.code).toBe(0);
    const at = Buffer.from(fixed.slice(0, fixed.indexOf('ZZ')), 'utf8');
    const bad = Buffer.concat([
      at,
      Buffer.from([0xff, 0xfe]),
      Buffer.from(fixed.slice(fixed.indexOf('ZZ') + 2), 'utf8'),
    ]);
    await writeFile(join(dir, 'bad.json'), bad);
    const r = await run(['solution', 'check-settings', zip, '--settings-file', join(dir, 'bad.json'), '--json']);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout)).toMatchObject({
      error: { code: 'SETTINGS_JSON_INVALID', details: { line: 1, column: fixed.indexOf('ZZ') + 1 } },
    });
    const missing = await run(['solution', 'check-settings', '--settings-file', join(dir, 'none.json')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('none.json');
  });

  it('exits 2 for the legacy pair shape, with the JSON path and a hint', async () => {
    const r = await run([
      'solution',
      'check-settings',
      '--settings-file',
      corpusPath('settings/ALMAcceleratorSampleSolution/Production/deploymentSettings.json'),
      '--json',
    ]);
    expect(r.code).toBe(2);
    const out = JSON.parse(r.stdout) as {
      error: { code: string; details: { errors: Array<{ path: string; hint: string }> } };
    };
    expect(out.error.code).toBe('SETTINGS_SHAPE_INVALID');
    expect(out.error.details.errors.map((e) => e.path)).toEqual([
      '$.ConnectionReferences[0]',
      '$.EnvironmentVariables[0]',
      '$.EnvironmentVariables[1]',
      '$.EnvironmentVariables[2]',
    ]);
    expect(out.error.details.errors[0]?.hint).toContain('[name, value] pair format');
    expect(r.stderr).toContain('error SETTINGS_SHAPE_INVALID');
    // The text output lists every shape error, in file order.
    const text = await run([
      'solution',
      'check-settings',
      '--settings-file',
      corpusPath('settings/ALMAcceleratorSampleSolution/Production/deploymentSettings.json'),
    ]);
    expect(text.code).toBe(2);
    expect(text.stderr).toMatch(
      /4 shape errors:\n {2}\$\.ConnectionReferences\[0\]: .*\n {2}\$\.EnvironmentVariables\[0\]: .*\n {2}\$\.EnvironmentVariables\[1\]: .*\n {2}\$\.EnvironmentVariables\[2\]: /,
    );
  });
});

describe('patchbay solution unpack and pack', () => {
  it('unpacks, refuses a non-empty folder without --allow-delete, packs back to an equal model', async () => {
    const dir = await tempDir();
    const zip = corpusPath('solutions/zip/varify-bot.zip');
    const r = await run(['solution', 'unpack', '--zipfile', zip, '--folder', 'tree'], dir);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Unpacked VARify 1.0.0.3 into tree');
    expect((await readdir(join(dir, 'tree'))).sort()).toEqual([
      'Assets',
      'Connectors',
      'Other',
      'Workflows',
      'botcomponents',
      'bots',
    ]);
    const again = await run(['solution', 'unpack', '-z', zip, '-f', 'tree'], dir);
    expect(again.code).toBe(3);
    expect(again.stderr).toContain('FOLDER_NOT_EMPTY');
    expect((await run(['solution', 'unpack', '-z', zip, '-f', 'tree', '--allow-delete'], dir)).code).toBe(0);
    expect((await run(['solution', 'unpack', '-z', zip, '-f', 'tree', '--allowDelete'], dir)).code).toBe(0);
    const packed = await run(['solution', 'pack', '--zipfile', 'out/varify.zip', '--folder', 'tree', '--json'], dir);
    expect(packed.code).toBe(0);
    expect(JSON.parse(packed.stdout)).toMatchObject({
      counts: { flows: 2, connectionReferences: 4, environmentVariables: 0, customConnectors: 1 },
    });
    const a = describeSolution(await readSolution(zip), {
      includeFlowDefinitions: true,
      includeConnectorDefinitions: true,
    });
    const b = describeSolution(await readSolution(join(dir, 'out', 'varify.zip')), {
      includeFlowDefinitions: true,
      includeConnectorDefinitions: true,
    });
    expect(b).toEqual(a);
    expect((await run(['solution', 'pack', '--zipfile', 'x.zip', '--folder', zip], dir)).code).toBe(1);
  });

  it('packs only what a solution tree holds: no VCS folders, OS junk, root files or the output zip itself', async () => {
    const dir = await tempDir();
    const zip = corpusPath('solutions/zip/varify-bot.zip');
    expect((await run(['solution', 'unpack', '-z', zip, '-f', 'T'], dir)).code).toBe(0);
    await mkdir(join(dir, 'T', '.git', 'hooks'), { recursive: true });
    await writeFile(join(dir, 'T', '.git', 'config'), '[core]\n');
    await writeFile(join(dir, 'T', '.git', 'hooks', 'pre-commit'), '#!/bin/sh\n');
    await writeFile(join(dir, 'T', '.DS_Store'), 'x');
    await writeFile(join(dir, 'T', 'Other', '.DS_Store'), 'x');
    await writeFile(join(dir, 'T', 'Other', 'Customizations.xml~'), 'x');
    await writeFile(join(dir, 'T', 'Workflows', 'Thumbs.db'), 'x');
    await writeFile(join(dir, 'T', 'README.md'), 'notes');
    for (let i = 0; i < 2; i++) {
      const r = await run(['solution', 'pack', '-f', 'T', '-z', 'T/out.zip'], dir);
      expect(r.code).toBe(0);
      expect(r.stderr).toContain('warning FOLDER_FILE_IGNORED');
      expect(r.stderr).toContain('README.md');
      expect(r.stderr).not.toContain('out.zip');
    }
    const names = [...(await readZipEntries(await readFile(join(dir, 'T', 'out.zip')), { file: 'out.zip' })).keys()];
    expect(names.filter((n) => /(^|\/)\.|~$|Thumbs\.db|README|out\.zip/.test(n))).toEqual([]);
    expect(names).toContain('Workflows/' + names.find((n) => n.startsWith('Workflows/'))?.slice(10));

    // --allow-delete replaces the solution content but keeps hidden entries such as .git.
    await writeFile(join(dir, 'T', 'Workflows', 'stale.json'), '{}');
    const again = await run(['solution', 'unpack', '-z', zip, '-f', 'T', '--allow-delete'], dir);
    expect(again.code).toBe(0);
    expect(await readFile(join(dir, 'T', '.git', 'config'), 'utf8')).toBe('[core]\n');
    expect(existsSync(join(dir, 'T', '.git', 'hooks', 'pre-commit'))).toBe(true);
    expect(existsSync(join(dir, 'T', '.DS_Store'))).toBe(true);
    expect(existsSync(join(dir, 'T', 'README.md'))).toBe(false);
    expect(existsSync(join(dir, 'T', 'out.zip'))).toBe(false);
    expect(existsSync(join(dir, 'T', 'Workflows', 'stale.json'))).toBe(false);
    expect(existsSync(join(dir, 'T', 'Other', '.DS_Store'))).toBe(false);
  });

  it('writes nothing when the zip is hostile', async () => {
    const dir = await tempDir();
    const data = await readFile(corpusPath('solutions/zip/patch-tuesday.zip'));
    await mkdir(join(dir, 'in'));
    await writeFile(join(dir, 'in', 'cut.zip'), data.subarray(0, data.length - 200));
    const r = await run(['solution', 'unpack', '--zipfile', 'in/cut.zip', '--folder', 'out'], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/error ZIP_INVALID: .*cut\.zip/);
    expect(existsSync(join(dir, 'out'))).toBe(false);
    expect(await readdir(dir)).toEqual(['in']);
  });
});

describe('the solution group', () => {
  it('is created once, so later modules can add sub-commands to it', () => {
    const program = new Command('patchbay');
    const ctx = new CliContext(memoryIO());
    const group = solutionCommand(program, ctx);
    expect(solutionCommand(program, ctx)).toBe(group);
    expect(group.commands.map((c) => c.name())).toEqual([
      'unpack',
      'pack',
      'create-settings',
      'check-settings',
      'analyze',
    ]);
    group.command('plan');
    expect(program.commands.filter((c) => c.name() === 'solution')).toHaveLength(1);
  });
});

describe('the built binary', () => {
  const bin = fileURLToPath(new URL('../../../apps/cli/bin/patchbay.js', import.meta.url));
  const built = existsSync(fileURLToPath(new URL('../../../apps/cli/dist/commands/solution.js', import.meta.url)));
  it('runs `solution analyze --json` on a zip and `check-settings` with exit 3', async () => {
    expect(built, 'apps/cli is not built: run `npx tsc -b` (npm test does) before this test').toBe(true);
    const exec = promisify(execFile);
    const { stdout } = await exec(process.execPath, [
      bin,
      'solution',
      'analyze',
      corpusPath('solutions/zip/varify-bot.zip'),
      '--json',
    ]);
    const out = JSON.parse(stdout) as {
      model: { customConnectors: Array<{ name: string }> };
      analysis: { summary: { errors: number }; references: Array<{ connector: string; customConnectorId?: string }> };
    };
    expect(out.model.customConnectors.map((c) => c.name)).toEqual(['ba_api-2dfootball']);
    expect(out.analysis.references.filter((r) => r.customConnectorId).map((r) => r.connector)).toEqual([
      'ba_api-2dfootball',
      'ba_api-2dfootball',
    ]);
    expect(out.analysis.summary.errors).toBe(0);
    const failed = await exec(process.execPath, [
      bin,
      'solution',
      'check-settings',
      '--settings-file',
      ALM_DEFAULT,
    ]).catch((e: { code: number; stdout: string }) => e);
    expect((failed as { code: number }).code).toBe(3);
    expect((failed as { stdout: string }).stdout).toContain('9 placeholders');
  });
});
