/**
 * Environment-bound `flow` sub-commands: `list`, `on`, `off`, `run` (added to the group created
 * by flow.ts).
 */
import type { Command } from 'commander';
import { invalid } from '@patchbay/core';
import { flowJson } from '@patchbay/platform';
import { summarizeRecord, type RunRecord } from '@patchbay/engine';
import type { CliContext } from '../context.js';
import { printRun, runExitCode } from './run-output.js';

export { flowJson };

/** Parses `--body`: JSON text, @FILE or - (stdin). */
async function body(ctx: CliContext, value: string): Promise<unknown> {
  const text = await ctx.readArg(value);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw invalid('INVALID_JSON', `--body is not valid JSON: ${(e as Error).message}`, { option: 'body' });
  }
}

/** Adds `list`, `on`, `off` and `run` to the `flow` group. */
export function registerFlowEnvCommands(flow: Command, ctx: CliContext): void {
  flow
    .command('list')
    .description("list an environment's flows with their state (On, Off, Suspended) and the reasons")
    .requiredOption('--env <name>', 'environment')
    .option('--json', 'print JSON: name, id, state, modifiedOn, reasons, …')
    .action(async (o: { env: string; json?: boolean }) => {
      const p = await ctx.platform();
      const owners = new Map((await p.principals.list()).map((x) => [x.id, x.name]));
      const flows = await p.flows.list(o.env);
      if (o.json) {
        ctx.printJson(flows.map((f) => flowJson(f, owners)));
        return;
      }
      ctx.printTable(
        ['NAME', 'ID', 'STATE', 'REASONS'],
        flows.map((f) => [
          f.name,
          f.id,
          f.state,
          f.reasons.map((r) => `${r.code}${r.reference ? `(${r.reference})` : ''}`).join(', '),
        ]),
      );
    });
  for (const verb of ['on', 'off'] as const) {
    flow
      .command(`${verb} <flow>`)
      .description(
        verb === 'on'
          ? 'turn a flow on; it is On when every reference is usable, else it stays Off with the reasons (exit 3) and turns On by itself once they are fixed'
          : 'turn a flow off; it stays Off until turned on',
      )
      .requiredOption('--env <name>', 'environment')
      .option('--as <principal>', 'acting principal (default: admin)')
      .option('--json', 'print JSON')
      .action(async (name: string, o: { env: string; as?: string; json?: boolean }) => {
        const p = await ctx.platform();
        await ctx.requireRole(o.as, { environment: o.env }, 'Maker', `turning flows ${verb}`);
        const args = { environment: o.env, flow: name, ...(o.as ? { actor: o.as } : {}) };
        const r = verb === 'on' ? await p.flows.turnOn(args) : await p.flows.turnOff(args);
        const owners = new Map((await p.principals.list()).map((x) => [x.id, x.name]));
        if (o.json) ctx.printJson(flowJson(r.flow, owners));
        else {
          ctx.println(`flow ${r.flow.name} is ${r.flow.state}`);
          for (const reason of r.flow.reasons.filter((x) => x.code !== 'turned_off'))
            ctx.println(`  ${reason.code}: ${reason.message}`);
        }
        if (verb === 'on' && r.flow.state !== 'On') ctx.exitCode = 3;
      });
  }
  flow
    .command('run <flow>')
    .description('run a flow of an environment in-process and print its status, response and failed actions')
    .requiredOption('--env <name>', 'environment')
    .option('--body <json>', 'trigger body: JSON text, @FILE or - (stdin)')
    .option('--as <principal>', 'the principal running the flow (default: admin)')
    .option('--json', 'print {runId, status, response, outputs, actions, error} as JSON')
    .action(async (name: string, o: { env: string; body?: string; as?: string; json?: boolean }) => {
      const p = await ctx.platform();
      await ctx.requireRole(o.as, { environment: o.env }, 'Maker', 'running flows');
      const b = o.body !== undefined ? await body(ctx, o.body) : undefined;
      const { run, result } = await p.runs.run({
        environment: o.env,
        flow: name,
        ...(b !== undefined ? { trigger: { body: b } } : {}),
        ...(o.as ? { actor: o.as } : {}),
      });
      if (o.json) ctx.printJson({ ...summarizeRecord(run.record as RunRecord), flow: run.flowName });
      else printRun(ctx, result);
      ctx.exitCode = runExitCode(result.status);
    });
}
