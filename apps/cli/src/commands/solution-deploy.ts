/**
 * `patchbay solution plan|import|list` — deployment into an environment (docs/alm.md). Added to
 * the `solution` group created by solution.ts.
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { PatchbayError } from '@patchbay/core';
import type { ImportPlan } from '@patchbay/platform';
import { parseDeploymentSettings, readSolution, type DeploymentSettings } from '@patchbay/solution';
import type { CliContext } from '../context.js';
import { solutionCommand } from './solution.js';

async function loadSettings(ctx: CliContext, file: string | undefined): Promise<DeploymentSettings | undefined> {
  if (!file) return undefined;
  let text: Buffer;
  try {
    text = await readFile(ctx.path(file));
  } catch (e) {
    throw new PatchbayError({
      code: 'SETTINGS_FILE_NOT_READABLE',
      message: `cannot read settings file ${file}: ${(e as Error).message}`,
      category: 'invalid',
      details: { file },
    });
  }
  return parseDeploymentSettings(text, { file });
}

function printPlan(ctx: CliContext, plan: ImportPlan): void {
  const s = plan.solution;
  ctx.println(
    `plan: ${s.action} ${s.uniqueName} ${s.version}${s.installedVersion ? ` (installed ${s.installedVersion})` : ''} into ${plan.environment} as ${plan.actor}`,
  );
  if (plan.connectors.length) {
    ctx.println('\nconnectors:');
    for (const c of plan.connectors)
      ctx.println(`  ${c.id.padEnd(40)} ${c.status}${c.status === 'missing' ? '  <- blocks' : ''}`);
  }
  if (plan.references.length) {
    ctx.println('\nconnection references:');
    for (const r of plan.references) {
      const b = r.binding;
      const what =
        b.action === 'bind'
          ? `bind to ${b.connectionId} (settings)`
          : b.action === 'rebind'
            ? `re-bind ${b.previousConnectionId} -> ${b.connectionId} (settings)`
            : b.action === 'keep'
              ? `keep binding ${b.connectionId}`
              : 'unbound';
      ctx.println(`  ${r.logicalName.padEnd(40)} ${r.action.padEnd(6)} ${what}`);
    }
  }
  if (plan.variables.length) {
    ctx.println('\nenvironment variables:');
    for (const v of plan.variables) {
      ctx.println(
        `  ${v.schemaName.padEnd(40)} ${v.value.source}${v.value.value !== undefined ? ` = ${JSON.stringify(v.value.value)}` : ''}`,
      );
    }
  }
  if (plan.flows.length) {
    ctx.println('\nflows (children first):');
    for (const f of plan.flows) {
      const why = f.reasons
        .filter((r) => r.code !== 'turned_off')
        .map((r) => `${r.code}${r.reference ? ` ${r.reference}` : ''}`);
      ctx.println(
        `  ${f.name.padEnd(40)} ${f.action.padEnd(6)} -> ${f.outcome}${why.length ? ` (${why.join(', ')})` : ''}`,
      );
    }
  }
  if (plan.permissions.length) {
    ctx.println('\npermissions:');
    for (const p of plan.permissions) {
      ctx.println(
        `  ${p.principal} (${p.as}) ${p.canUse ? 'can use' : 'CANNOT use'} connection ${p.connectionId} for ${p.reference}`,
      );
    }
  }
  for (const w of plan.warnings) ctx.println(`warning ${w.code}: ${w.message}`);
  if (plan.blockingProblem) {
    ctx.println(`\nblocked: ${plan.blockingProblem.code}: ${plan.blockingProblem.message}`);
    for (const p of plan.problems.slice(1)) ctx.println(`  also ${p.code}: ${p.message}`);
  } else ctx.println('\nthe import can proceed');
}

/** Adds plan, import and list to the `solution` group. */
export function register(program: Command, ctx: CliContext): void {
  const group = solutionCommand(program, ctx);
  group
    .command('plan <path>')
    .description('pre-flight an import: references, variables, connectors, flow outcomes, permissions; writes nothing')
    .requiredOption('--env <name>', 'target environment')
    .option('--settings-file <file>', 'deployment settings file (pac create-settings format)')
    .option('--as <principal>', 'importing principal (default: admin)')
    .option('--add-missing-connectors', 'plan to register missing connectors by id')
    .option('--json', 'print the plan as JSON')
    .action(
      async (
        path: string,
        o: { env: string; settingsFile?: string; as?: string; addMissingConnectors?: boolean; json?: boolean },
      ) => {
        const pkg = await readSolution(ctx.path(path));
        const settings = await loadSettings(ctx, o.settingsFile);
        const p = await ctx.platform();
        const plan = await p.solutions.plan({
          environment: o.env,
          package: pkg,
          ...(settings ? { settings } : {}),
          ...(o.as ? { actor: o.as } : {}),
          ...(o.addMissingConnectors ? { addMissingConnectors: true } : {}),
        });
        if (o.json) ctx.printJson(plan);
        else printPlan(ctx, plan);
        ctx.exitCode = plan.exitCode;
      },
    );
  group
    .command('import')
    .description('import a solution (zip or folder) into an environment atomically: all or nothing')
    .requiredOption('--path <path>', 'solution zip or unpacked folder')
    .requiredOption('--env <name>', 'target environment')
    .option('--settings-file <file>', 'deployment settings file (pac create-settings format)')
    .option('--as <principal>', 'importing principal (default: admin)')
    .option('--add-missing-connectors', 'register connectors the environment lacks by id only')
    .option('--json', 'print the result as JSON')
    .action(
      async (o: {
        path: string;
        env: string;
        settingsFile?: string;
        as?: string;
        addMissingConnectors?: boolean;
        json?: boolean;
      }) => {
        const pkg = await readSolution(ctx.path(o.path));
        const settings = await loadSettings(ctx, o.settingsFile);
        const p = await ctx.platform();
        const result = await p.solutions.import({
          environment: o.env,
          package: pkg,
          ...(settings ? { settings } : {}),
          ...(o.as ? { actor: o.as } : {}),
          ...(o.addMissingConnectors ? { addMissingConnectors: true } : {}),
          onStep: (step) => {
            if (ctx.io.isTTY && !o.json) ctx.io.err(`  ${step} done\n`);
          },
        });
        if (o.json) {
          ctx.printJson(result);
          return;
        }
        const s = result.plan.solution;
        ctx.println(`imported ${s.uniqueName} ${s.version} into ${result.plan.environment} (${s.action})`);
        for (const r of result.plan.references) {
          ctx.println(
            `  reference ${r.logicalName}: ${r.binding.connectionId ? `bound to ${r.binding.connectionId}` : 'unbound'}${r.binding.source === 'settings' ? ' (settings)' : ''}`,
          );
        }
        for (const f of result.flows) {
          const why = f.reasons
            .filter((r) => r.code !== 'turned_off')
            .map((r) => `${r.code}${r.reference ? ` ${r.reference}` : ''}`);
          ctx.println(`  flow ${f.name}: ${f.state}${why.length ? ` (${why.join(', ')})` : ''}`);
        }
        for (const w of result.plan.warnings) ctx.println(`warning ${w.code}: ${w.message}`);
      },
    );
  group
    .command('list')
    .description('list the solutions installed in an environment')
    .requiredOption('--env <name>', 'environment')
    .option('--json', 'print JSON')
    .action(async (o: { env: string; json?: boolean }) => {
      const p = await ctx.platform();
      const list = await p.solutions.list(o.env);
      if (o.json) ctx.printJson(list);
      else
        ctx.printTable(
          ['UNIQUE NAME', 'VERSION', 'MANAGED', 'COMPONENTS', 'MODIFIED'],
          list.map((s) => [s.uniqueName, s.version, s.managed ? 'yes' : 'no', s.components.length, s.modifiedOn]),
        );
    });
}
