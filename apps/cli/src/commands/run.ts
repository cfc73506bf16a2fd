/** `patchbay run list|show|resubmit|prune` — run history (design §3G). */
import type { Command } from 'commander';
import { runListJson, runShowJson } from '@patchbay/platform';
import type { CliContext } from '../context.js';
import { runExitCode } from './run-output.js';

export { runListJson, runShowJson };

/** Registers the `run` commands on the program. */
export function register(program: Command, ctx: CliContext): void {
  const cmd = program.command('run').description('run history: list, show, resubmit, prune');
  cmd
    .command('list')
    .description('list runs of an environment, newest first')
    .requiredOption('--env <name>', 'environment')
    .option('--flow <flow>', 'only runs of this flow (name or id)')
    .option('--status <status>', 'only runs with this status')
    .option('--limit <n>', 'at most N runs (default 50)')
    .option('--json', 'print JSON')
    .action(async (o: { env: string; flow?: string; status?: string; limit?: string; json?: boolean }) => {
      const p = await ctx.platform();
      const runs = await p.runs.list({
        environment: o.env,
        ...(o.flow ? { flow: o.flow } : {}),
        ...(o.status ? { status: o.status } : {}),
        ...(o.limit ? { limit: Math.max(1, Number.parseInt(o.limit, 10) || 50) } : {}),
      });
      if (o.json) ctx.printJson(runs.map(runListJson));
      else
        ctx.printTable(
          ['RUN', 'FLOW', 'STATUS', 'STARTED', 'DURATION', 'RESPONSE'],
          runs.map((r) => [
            r.id,
            r.flowName,
            r.status,
            r.startTime,
            r.durationMs !== undefined ? `${r.durationMs} ms` : '',
            r.response?.statusCode,
          ]),
        );
    });
  cmd
    .command('show <runId>')
    .description('show a run: each action with status, duration and (redacted) inputs and outputs')
    .option('--json', 'print JSON')
    .action(async (id: string, o: { json?: boolean }) => {
      const p = await ctx.platform();
      const r = await p.runs.get(id);
      const j = runShowJson(r);
      if (o.json) {
        ctx.printJson(j);
        return;
      }
      ctx.println(
        `run ${r.id} of ${r.flowName}: ${r.status}${r.durationMs !== undefined ? ` (${r.durationMs} ms)` : ''}`,
      );
      if (r.error) ctx.println(`error: ${r.error.code}: ${r.error.message}`);
      if (r.response) ctx.println(`response: ${r.response.statusCode} ${JSON.stringify(r.response.body)}`);
      for (const a of j.history?.actions ?? []) {
        const rep = a.repetition?.map((x) => `${x.loop}[${x.index}]`).join(' ');
        ctx.println(
          `- ${a.name}${rep ? ` ${rep}` : ''}: ${a.status}${a.durationMs !== undefined ? ` ${a.durationMs} ms` : ''}`,
        );
        if (a.inputs !== undefined) ctx.println(`    inputs:  ${JSON.stringify(a.inputs)}`);
        if (a.outputs !== undefined) ctx.println(`    outputs: ${JSON.stringify(a.outputs)}`);
        if (a.error) ctx.println(`    error:   ${a.error.code}: ${a.error.message}`);
      }
    });
  cmd
    .command('resubmit <runId>')
    .description('run the flow again with the same trigger outputs')
    .option('--as <principal>', 'acting principal (default: admin)')
    .option('--json', 'print JSON')
    .action(async (id: string, o: { as?: string; json?: boolean }) => {
      const p = await ctx.platform();
      const { run, result } = await p.runs.resubmit({ id, ...(o.as ? { actor: o.as } : {}) });
      if (o.json) ctx.printJson(runShowJson(run));
      else ctx.println(`resubmitted ${id} as run ${run.id}: ${run.status}`);
      ctx.exitCode = runExitCode(result.status);
    });
  cmd
    .command('prune')
    .description("delete runs older than the environment's retention (runRetentionDays, default 30)")
    .requiredOption('--env <name>', 'environment')
    .option('--older-than-days <n>', 'override the retention')
    .option('--json', 'print JSON')
    .action(async (o: { env: string; olderThanDays?: string; json?: boolean }) => {
      const p = await ctx.platform();
      const n = await p.runs.prune({
        environment: o.env,
        ...(o.olderThanDays !== undefined ? { olderThanDays: Number(o.olderThanDays) } : {}),
      });
      if (o.json) ctx.printJson({ deleted: n });
      else ctx.println(`deleted ${n} run(s)`);
    });
}
