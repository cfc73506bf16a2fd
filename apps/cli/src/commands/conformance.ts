/**
 * `patchbay conformance …`: runs conformance case files against Patchbay's implementations.
 *
 * `patchbay conformance expressions FILE [--json]` evaluates every case of a Workflow Definition
 * Language expression file (JSON Lines in the format of ../shared/conformance/README.md) with
 * `runConformance` from @patchbay/expression. Text output: one line per failing case, then
 * `N passed, N failed` (and `, N skipped` for disputed cases). `--json`: one JSON object per case
 * and line (`id`, `status` passed/failed/skipped, `actual`, `error`, and `reason` when not passed).
 * Exit codes (docs/expressions.md, docs/cli.md): 0 every case passed, 5 some case failed,
 * 2 the file is unreadable, holds no case, or a line is not a valid case (the error names the
 * file, line and field).
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { ExitCode, PatchbayError } from '@patchbay/core';
import {
  parseCaseFile,
  runConformance,
  summarize,
  toJsonText,
  type ConformanceCase,
  type ConformanceResult,
} from '@patchbay/expression';
import type { CliContext } from '../context.js';

/**
 * Reads a JSON Lines case file and checks every case (`parseCaseFile`: required fields and field
 * types per conformance/README.md, valid `expectPattern`, unique ids, at least one case). Throws
 * `FILE_NOT_READABLE` or `CONFORMANCE_CASE_INVALID` naming `file:line` and the field (exit 2).
 */
export async function readCaseFile(path: string, displayName: string): Promise<ConformanceCase[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new PatchbayError({
      code: 'FILE_NOT_READABLE',
      message: `cannot read ${displayName}: ${(e as Error).message}`,
      category: 'invalid',
      details: { file: displayName },
    });
  }
  return parseCaseFile(text, displayName);
}

function oneLine(c: ConformanceCase, r: ConformanceResult): string {
  const details = r.error?.details as { position?: unknown } | undefined;
  const at = typeof details?.position === 'number' ? ` at position ${details.position}` : '';
  const got = r.error ? `error ${r.error.code}${at}: ${r.error.message}` : toJsonText(r.actual);
  const want = c.expectError
    ? 'an error'
    : c.nondeterministic && c.expectPattern
      ? `/${c.expectPattern}/`
      : toJsonText(c.expect);
  // an unexpected error is already shown as what was got; other reasons add to it
  const reason = r.reason && !(r.error && !c.expectError) ? ` (${r.reason})` : '';
  return `FAIL ${r.id}: ${toJsonText(c.expr)} expected ${want}, got ${got}${reason}`.replace(/[\r\n]+/g, ' ');
}

/** Registers the `conformance` commands on the program. */
export function register(program: Command, ctx: CliContext): void {
  const group = program.command('conformance').description('run conformance case files against Patchbay');
  group
    .command('expressions')
    .description('evaluate every case of a WDL expression conformance file (JSON Lines); exit 5 when a case fails')
    .argument('<file>', 'JSON Lines file in the format of conformance/README.md')
    .option('--json', 'print one JSON object per case: id, status, actual, error')
    .action(async (file: string, opts: { json?: boolean }) => {
      const cases = await readCaseFile(ctx.path(file), file);
      const results = runConformance(cases, { now: Date.now(), seed: 1 });
      const counts = summarize(results);
      if (opts.json) {
        for (const r of results) {
          const obj: Record<string, unknown> = { id: r.id, status: r.status, actual: r.actual, error: r.error };
          if (r.reason && r.status !== 'passed') obj['reason'] = r.reason;
          ctx.io.out(toJsonText(obj) + '\n');
        }
      } else {
        results.forEach((r, i) => {
          if (r.status === 'failed') ctx.println(oneLine(cases[i] as ConformanceCase, r));
        });
        ctx.println(
          `${counts.passed} passed, ${counts.failed} failed${counts.skipped > 0 ? `, ${counts.skipped} skipped` : ''}`,
        );
      }
      if (counts.failed > 0) ctx.exitCode = ExitCode.Partial;
    });
}
