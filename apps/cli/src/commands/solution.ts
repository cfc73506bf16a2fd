/**
 * `patchbay solution …` commands over solution packages (zip and unpacked tree), with the
 * flags of `pac solution`: pack, unpack, create-settings, check-settings, analyze.
 * Formats and behaviour: docs/formats.md; exit codes: docs/cli.md (0 ok, 1 usage, 2 invalid
 * input, 3 not ready / conflict).
 *
 * The group is created by {@link solutionCommand}, which returns the existing group when it is
 * already registered: later sub-commands that need an environment (`plan`, `import`, `export`)
 * are added to the same group with `solutionCommand(program, ctx).command('plan')…`.
 */
import { readFile, stat, writeFile } from 'node:fs/promises';
import { Option, type Command } from 'commander';
import {
  analyzeSolution,
  checkDeploymentSettings,
  createDeploymentSettings,
  describeSolution,
  formatDeploymentSettings,
  parseDeploymentSettings,
  readSolution,
  solutionCounts,
  writeSolutionFolder,
  writeSolutionZipFile,
  type Finding,
  type SolutionPackage,
} from '@patchbay/solution';
import { PatchbayError } from '@patchbay/core';
import { usageError, type CliContext } from '../context.js';

async function kindOf(path: string): Promise<'file' | 'folder' | 'other' | undefined> {
  try {
    const st = await stat(path);
    return st.isDirectory() ? 'folder' : st.isFile() ? 'file' : 'other';
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    return 'other'; // readSolution reports the file-system failure with the path
  }
}

async function readAs(
  ctx: CliContext,
  raw: string,
  expect: 'file' | 'folder' | 'any',
  flag: string,
  exclude: string[] = [],
): Promise<SolutionPackage> {
  const path = ctx.path(raw);
  const kind = await kindOf(path);
  if (kind === undefined) {
    throw new PatchbayError({
      code: 'SOLUTION_NOT_FOUND',
      message: `${raw}: no such file or folder`,
      category: 'not-found',
      details: { file: raw },
    });
  }
  if (expect !== 'any' && kind !== expect && kind !== 'other') {
    throw usageError(
      `${flag} expects a ${expect === 'file' ? 'solution .zip file' : 'folder'}, but ${raw} is a ${kind}`,
      { file: raw },
    );
  }
  return readSolution(path, { exclude });
}

/** The bytes of a settings file (decoded by parseDeploymentSettings: UTF-8, or UTF-16 with a byte-order mark). */
async function readSettingsBytes(ctx: CliContext, raw: string): Promise<Buffer> {
  try {
    return await readFile(ctx.path(raw));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new PatchbayError({
      code: code === 'ENOENT' ? 'SETTINGS_FILE_NOT_FOUND' : 'FILE_NOT_READABLE',
      message: `cannot read the settings file ${raw}: ${(e as Error).message}`,
      category: code === 'EACCES' || code === 'EPERM' ? 'permission' : code === 'ENOENT' ? 'not-found' : 'invalid',
      details: { file: raw, ...(code ? { errno: code } : {}) },
    });
  }
}

function countsLine(pkg: SolutionPackage): string {
  const c = solutionCounts(pkg);
  return `${c.flows} flows, ${c.connectionReferences} connection references, ${c.environmentVariables} environment variables, ${c.customConnectors} custom connectors, ${c.files} other files`;
}

function printWarnings(ctx: CliContext, pkg: SolutionPackage): void {
  for (const w of pkg.warnings) ctx.io.err(`warning ${w.code}: ${w.message}\n`);
}

function printFindings(ctx: CliContext, findings: Finding[]): void {
  if (findings.length === 0) {
    ctx.println('No findings.');
    return;
  }
  ctx.printTable(
    ['SEVERITY', 'CODE', 'MESSAGE'],
    findings.map((f) => [f.severity, f.code, f.message]),
  );
}

/**
 * Creates (once) the `solution` command group with pack, unpack, create-settings,
 * check-settings and analyze, and returns it. Calling it again returns the same group, so other
 * modules can add sub-commands (plan, import, export) to it.
 */
export function solutionCommand(program: Command, ctx: CliContext): Command {
  const existing = program.commands.find((c) => c.name() === 'solution');
  if (existing) return existing;
  const group = program
    .command('solution')
    .description('Power Platform solution packages: pack, unpack, deployment settings, analysis');

  group
    .command('unpack')
    .description(
      'unpack an exported solution zip into a source-control folder (pac layout: Other/, Workflows/*.json.data.xml, …)',
    )
    .requiredOption('-z, --zipfile <zip>', 'solution zip to read')
    .requiredOption('-f, --folder <folder>', 'folder to write (created; must be empty unless --allow-delete)')
    .option('--allow-delete', 'replace the content of a non-empty folder')
    .addOption(new Option('--allowDelete', 'alias of --allow-delete (pac spelling)').hideHelp())
    .option('--json', 'print the result as JSON')
    .action(async (opts: { zipfile: string; folder: string; allowDelete?: boolean; json?: boolean }) => {
      const pkg = await readAs(ctx, opts.zipfile, 'file', '--zipfile');
      const written = await writeSolutionFolder(pkg, ctx.path(opts.folder), { allowDelete: Boolean(opts.allowDelete) });
      if (opts.json)
        ctx.printJson({
          zipfile: opts.zipfile,
          folder: opts.folder,
          files: written.length,
          counts: solutionCounts(pkg),
          warnings: pkg.warnings,
        });
      else {
        printWarnings(ctx, pkg);
        ctx.println(
          `Unpacked ${pkg.manifest.uniqueName} ${pkg.manifest.version} into ${opts.folder}: ${written.length} files (${countsLine(pkg)}).`,
        );
      }
    });

  group
    .command('pack')
    .description('pack a source-control folder (with or without a src/ wrapper next to a .cdsproj) into a solution zip')
    .requiredOption('-z, --zipfile <zip>', 'solution zip to write (replaced if it exists)')
    .requiredOption('-f, --folder <folder>', 'unpacked solution folder to read')
    .option('--json', 'print the result as JSON')
    .action(async (opts: { zipfile: string; folder: string; json?: boolean }) => {
      // The zip may be written inside the tree it packs (`-f T -z T/out.zip`): never pack it into itself.
      const pkg = await readAs(ctx, opts.folder, 'folder', '--folder', [ctx.path(opts.zipfile)]);
      const bytes = await writeSolutionZipFile(pkg, ctx.path(opts.zipfile));
      if (opts.json)
        ctx.printJson({
          zipfile: opts.zipfile,
          folder: opts.folder,
          bytes,
          counts: solutionCounts(pkg),
          warnings: pkg.warnings,
        });
      else {
        printWarnings(ctx, pkg);
        ctx.println(
          `Packed ${pkg.manifest.uniqueName} ${pkg.manifest.version} into ${opts.zipfile}: ${bytes} bytes (${countsLine(pkg)}).`,
        );
      }
    });

  group
    .command('create-settings')
    .description(
      'write a deployment settings file (pac format) with one entry per connection reference and environment variable',
    )
    .option('-z, --solution-zip <zip>', 'solution zip to read')
    .option('-f, --solution-folder <folder>', 'unpacked solution folder to read')
    .requiredOption('-s, --settings-file <file>', 'settings file to write (replaced if it exists)')
    .option('--json', 'print the result as JSON')
    .action(async (opts: { solutionZip?: string; solutionFolder?: string; settingsFile: string; json?: boolean }) => {
      if ((opts.solutionZip === undefined) === (opts.solutionFolder === undefined)) {
        throw usageError('give exactly one of --solution-zip and --solution-folder');
      }
      const pkg =
        opts.solutionZip !== undefined
          ? await readAs(ctx, opts.solutionZip, 'file', '--solution-zip')
          : await readAs(ctx, opts.solutionFolder as string, 'folder', '--solution-folder');
      const settings = createDeploymentSettings(pkg);
      await writeFile(ctx.path(opts.settingsFile), formatDeploymentSettings(settings));
      if (opts.json)
        ctx.printJson({
          settingsFile: opts.settingsFile,
          solution: pkg.manifest.uniqueName,
          connectionReferences: settings.ConnectionReferences.length,
          environmentVariables: settings.EnvironmentVariables.length,
        });
      else {
        printWarnings(ctx, pkg);
        ctx.println(
          `Wrote ${opts.settingsFile}: ${settings.ConnectionReferences.length} connection references, ${settings.EnvironmentVariables.length} environment variables (values to fill in).`,
        );
      }
    });

  group
    .command('check-settings')
    .description('check a deployment settings file (against a solution zip or folder when PATH is given)')
    .argument('[path]', 'solution zip or unpacked folder the settings are for')
    .requiredOption('-s, --settings-file <file>', 'deployment settings file to check')
    .option('--template', 'a template: placeholders and empty values are reported but do not fail the check')
    .option('--json', 'print the result as JSON')
    .action(async (path: string | undefined, opts: { settingsFile: string; template?: boolean; json?: boolean }) => {
      const settings = parseDeploymentSettings(await readSettingsBytes(ctx, opts.settingsFile), {
        file: opts.settingsFile,
      });
      const pkg = path === undefined ? undefined : await readAs(ctx, path, 'any', 'PATH');
      const result = checkDeploymentSettings(pkg, settings);
      const ok = opts.template ? result.fits : result.ready;
      ctx.exitCode = ok ? 0 : 3;
      if (opts.json) {
        ctx.printJson({ ...result, solution: pkg?.manifest.uniqueName ?? null, ok });
        return;
      }
      if (pkg) printWarnings(ctx, pkg);
      printFindings(ctx, result.findings);
      const s = result.summary;
      const verdict = pkg
        ? !result.fits
          ? 'does not fit the solution'
          : result.ready
            ? 'ready to deploy'
            : 'fits, not filled in yet'
        : !result.fits
          ? 'has invalid entries'
          : result.ready
            ? 'entries filled in; no solution given to check them against'
            : 'not filled in yet; no solution given to check the entries against';
      ctx.println(
        `${opts.settingsFile}: ${verdict} (${s.errors} errors, ${s.warnings} warnings: ${s.placeholders + s.otherPlaceholders} placeholders, ${s.emptyValues} empty values)${pkg ? ` for ${pkg.manifest.uniqueName}` : ''}.`,
      );
    });

  group
    .command('analyze')
    .description('analyse a solution zip or folder: references and their usage, environment variables, findings')
    .argument('<path>', 'solution zip or unpacked folder')
    .option(
      '--naming-pattern <regex>',
      'naming rule for reference display names (default: <Area> – <Connector> – <Type>)',
    )
    .option('--no-naming', 'skip the naming rule')
    .addOption(
      new Option('--fail-on <severity>', 'exit 3 when a finding of this severity or worse exists').choices([
        'error',
        'warning',
        'info',
      ]),
    )
    .option('--json', 'print the model and the analysis as JSON')
    .option('--full', 'with --json: include each flow definition and the custom connector definitions in the model')
    .action(
      async (
        path: string,
        opts: {
          namingPattern?: string;
          naming: boolean;
          failOn?: 'error' | 'warning' | 'info';
          json?: boolean;
          full?: boolean;
        },
      ) => {
        const pkg = await readAs(ctx, path, 'any', 'PATH');
        let namingRule: { pattern: string; description: string } | false | undefined;
        if (!opts.naming) namingRule = false;
        else if (opts.namingPattern !== undefined) {
          try {
            new RegExp(opts.namingPattern, 'u');
          } catch (e) {
            throw usageError(`--naming-pattern is not a valid regular expression: ${(e as Error).message}`);
          }
          namingRule = { pattern: opts.namingPattern, description: `/${opts.namingPattern}/` };
        }
        const analysis = analyzeSolution(pkg, namingRule === undefined ? {} : { namingRule });
        if (opts.failOn) {
          const rank = { error: 0, warning: 1, info: 2 } as const;
          if (analysis.findings.some((f) => rank[f.severity] <= rank[opts.failOn as 'error'])) ctx.exitCode = 3;
        }
        if (opts.json) {
          ctx.printJson({
            model: describeSolution(pkg, {
              includeFlowDefinitions: Boolean(opts.full),
              includeConnectorDefinitions: Boolean(opts.full),
            }),
            analysis,
          });
          return;
        }
        printWarnings(ctx, pkg);
        const m = pkg.manifest;
        ctx.println(
          `${m.uniqueName} ${m.version} (${m.managed === 1 ? 'managed' : m.managed === 2 ? 'managed and unmanaged' : 'unmanaged'}, publisher ${m.publisher.uniqueName}, prefix ${m.publisher.prefix}, ${pkg.layout})`,
        );
        ctx.println(countsLine(pkg));
        ctx.println();
        if (analysis.references.length > 0) {
          ctx.printTable(
            ['REFERENCE', 'CONNECTOR', 'FLOWS', 'USES'],
            analysis.references.map((r) => [
              r.logicalName,
              r.connector,
              r.flows.map((f) => f.name).join(', ') || '-',
              r.useCount,
            ]),
          );
          ctx.println();
        }
        if (analysis.environmentVariables.length > 0) {
          ctx.printTable(
            ['ENVIRONMENT VARIABLE', 'TYPE', 'FLOWS'],
            analysis.environmentVariables.map((v) => [
              v.schemaName,
              v.type,
              v.flows.map((f) => f.name).join(', ') || '-',
            ]),
          );
          ctx.println();
        }
        printFindings(ctx, analysis.findings);
        ctx.println(
          `${analysis.summary.errors} errors, ${analysis.summary.warnings} warnings, ${analysis.summary.info} info.`,
        );
      },
    );

  return group;
}

/** Registers the `solution` commands on the program. */
export function register(program: Command, ctx: CliContext): void {
  solutionCommand(program, ctx);
}
