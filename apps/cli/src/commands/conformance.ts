/**
 * `patchbay conformance …`: runs conformance case files against Patchbay's implementations.
 *
 * `patchbay conformance expressions FILE [--json]` evaluates every case of a Workflow Definition
 * Language expression file (JSON Lines in the format of ../shared/conformance/README.md) with
 * `runConformance` from @patchbay/expression. Text output: one line per failing case, then
 * `N passed, N failed` (and `, N skipped` for disputed cases). `--json`: one JSON object per case
 * and line (`id`, `status` passed/failed/skipped, `actual`, `error`, and `reason` when not passed).
 * Exit codes (docs/expressions.md, docs/cli.md): 0 every case passed, 5 some case failed,
 * 2 the file is unreadable or a line is not a valid case (the error names the file and line).
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { ExitCode, PatchbayError } from '@patchbay/core';
import {
  parseJson,
  runConformance,
  summarize,
  toJsonText,
  type ConformanceCase,
  type ConformanceResult,
} from '@patchbay/expression';
import type { CliContext } from '../context.js';

function invalidCase(file: string, line: number, message: string): PatchbayError {
  return new PatchbayError({
    code: 'CONFORMANCE_CASE_INVALID',
    message: `${file}:${line}: ${message}`,
    category: 'invalid',
    details: { file, line },
  });
}

/** Reads a JSON Lines case file: blank lines are skipped; every other line must be a case object with string `id` and `expr`. */
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
  const cases: ConformanceCase[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i] ?? '';
    if (raw.trim().length === 0) continue;
    let value: unknown;
    try {
      value = parseJson(raw.replace(/^\uFEFF/, ''));
    } catch (e) {
      throw invalidCase(displayName, i + 1, `not valid JSON (${(e as Error).message})`);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      throw invalidCase(displayName, i + 1, 'a case must be a JSON object');
    const c = value as Record<string, unknown>;
    if (typeof c['id'] !== 'string') throw invalidCase(displayName, i + 1, "the case has no string 'id'");
    if (typeof c['expr'] !== 'string') throw invalidCase(displayName, i + 1, `case '${c['id']}' has no string 'expr'`);
    cases.push(c as ConformanceCase);
  }
  return cases;
}

function oneLine(c: ConformanceCase, r: ConformanceResult): string {
  const got = r.error ? `error ${r.error.code}: ${r.error.message}` : toJsonText(r.actual);
  const want = c.expectError
    ? 'an error'
    : c.nondeterministic && c.expectPattern
      ? `/${c.expectPattern}/`
      : toJsonText(c.expect);
  return `FAIL ${r.id}: ${toJsonText(c.expr)} expected ${want}, got ${got}${r.reason ? ` (${r.reason})` : ''}`.replace(
    /[\r\n]+/g,
    ' ',
  );
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
