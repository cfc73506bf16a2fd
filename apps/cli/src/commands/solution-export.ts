/**
 * `patchbay solution export --env E --name N --path OUT [--managed]` (docs/alm.md): writes an
 * installed solution from the environment's current state. Added to the `solution` group.
 */
import { stat } from 'node:fs/promises';
import type { Command } from 'commander';
import { writeSolutionFolder, writeSolutionZipFile } from '@patchbay/solution';
import type { CliContext } from '../context.js';
import { solutionCommand } from './solution.js';

async function isDir(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/** Adds `export` to the `solution` group. */
export function register(program: Command, ctx: CliContext): void {
  solutionCommand(program, ctx)
    .command('export')
    .description(
      'export an installed solution: flows as stored, references without connections, variable definitions without values, its custom connectors; no secret',
    )
    .requiredOption('--env <name>', 'environment')
    .requiredOption('--name <uniqueName>', 'solution unique name')
    .requiredOption(
      '--path <out>',
      'a zip file, or a folder (unpacked layout) when it ends with / or is an existing folder',
    )
    .option('--managed', 'export as managed')
    .option('--allow-delete', 'replace the content of a non-empty output folder')
    .option('--as <principal>', 'acting principal (default: admin)')
    .option('--json', 'print JSON')
    .action(
      async (o: {
        env: string;
        name: string;
        path: string;
        managed?: boolean;
        allowDelete?: boolean;
        as?: string;
        json?: boolean;
      }) => {
        const p = await ctx.platform();
        const pkg = await p.solutions.export({
          environment: o.env,
          name: o.name,
          ...(o.managed ? { managed: true } : {}),
          ...(o.as ? { actor: o.as } : {}),
        });
        const out = ctx.path(o.path);
        const folder = /[\\/]$/.test(o.path) || (await isDir(out));
        let written: string;
        if (folder) {
          const files = await writeSolutionFolder(pkg, out, { allowDelete: Boolean(o.allowDelete) });
          written = `${files.length} files`;
        } else written = `${await writeSolutionZipFile(pkg, out)} bytes`;
        const summary = {
          solution: pkg.manifest.uniqueName,
          version: pkg.manifest.version,
          managed: pkg.manifest.managed === 1,
          path: out,
          layout: folder ? 'folder' : 'zip',
          flows: pkg.flows.length,
          connectionReferences: pkg.connectionReferences.length,
          environmentVariables: pkg.environmentVariables.length,
          customConnectors: pkg.customConnectors.length,
        };
        if (o.json) ctx.printJson(summary);
        else
          ctx.println(
            `exported ${summary.solution} ${summary.version}${summary.managed ? ' (managed)' : ''} from ${o.env} to ${out} (${written}): ${summary.flows} flows, ${summary.connectionReferences} references, ${summary.environmentVariables} variables, ${summary.customConnectors} connectors`,
          );
      },
    );
}
