/** Printing a finished run for people, and its exit code (shared by `flow test`, `flow run`, `run resubmit`). */
import { ExitCode } from '@patchbay/core';
import type { RunFlowResult } from '@patchbay/platform';
import type { CliContext } from '../context.js';

function ms(start?: string, end?: string): string {
  if (!start || !end) return '';
  return `${Date.parse(end) - Date.parse(start)} ms`;
}

/** Prints a run for people: status, response, outputs, every action, then the failed ones with their errors. */
export function printRun(ctx: CliContext, result: RunFlowResult): void {
  const rec = result.record;
  ctx.println(`run ${rec.runId}: ${rec.status}${rec.endTime ? ` (${ms(rec.startTime, rec.endTime)})` : ''}`);
  if (rec.error) ctx.println(`error: ${rec.error.code}: ${rec.error.message}`);
  if (rec.response) ctx.println(`response: ${rec.response.statusCode} ${JSON.stringify(rec.response.body)}`);
  if (rec.outputs && Object.keys(rec.outputs).length > 0) ctx.println(`outputs: ${JSON.stringify(rec.outputs)}`);
  if (rec.actions.length > 0) {
    ctx.println('');
    ctx.printTable(
      ['ACTION', 'STATUS', 'DURATION', 'ITERATION'],
      rec.actions.map((a) => [
        a.name,
        a.status,
        a.durationMs !== undefined ? `${a.durationMs} ms` : '',
        a.repetition?.map((r) => `${r.loop}[${r.index}]`).join(' '),
      ]),
    );
  }
  const failed = rec.actions.filter((a) => a.status === 'Failed' || a.status === 'TimedOut');
  if (failed.length > 0) {
    ctx.println('');
    ctx.println('failed actions:');
    for (const a of failed) ctx.println(`  ${a.name}: ${a.error ? `${a.error.code}: ${a.error.message}` : a.status}`);
  }
}

/** Exit code of a finished run: 0 Succeeded (or Skipped: trigger conditions not met), 5 Failed or Cancelled. */
export function runExitCode(status: string): number {
  return status === 'Failed' || status === 'Cancelled' ? ExitCode.Partial : ExitCode.Ok;
}
