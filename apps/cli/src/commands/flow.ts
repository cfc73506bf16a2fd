/**
 * `patchbay flow …` commands. This module creates the `flow` group and its `test` sub-command
 * (run a flow JSON file in-process, without an environment: for testing flows in CI).
 * The environment-bound sub-commands (`list`, `on`, `off`, `run`) are added to the group returned
 * by {@link flowCommand} by their own module.
 */
import { readFile, readdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Command } from 'commander';
import { PatchbayError, invalid } from '@patchbay/core';
import { runFlow, virtualClock, type ChildFlowResolver, type RunFlowOptions } from '@patchbay/platform';
import { usageError, type CliContext } from '../context.js';
import { registerFlowEnvCommands } from './flow-env.js';
import { printRun, runExitCode } from './run-output.js';

type StaticResults = NonNullable<RunFlowOptions['staticResults']>;

async function readJsonFile(ctx: CliContext, file: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(ctx.path(file), 'utf8');
  } catch (e) {
    throw new PatchbayError({
      code: 'FILE_NOT_READABLE',
      message: `cannot read ${what} ${file}: ${(e as Error).message}`,
      category: 'invalid',
      details: { file },
    });
  }
  try {
    return JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (e) {
    throw invalid('INVALID_JSON', `${what} ${file} is not valid JSON: ${(e as Error).message}`, { file });
  }
}

/** Parses `--body`: JSON text, `@FILE` or `-` (stdin); plain text that is not JSON is passed as a string. */
async function readBody(ctx: CliContext, value: string): Promise<unknown> {
  const text = await ctx.readArg(value);
  try {
    return JSON.parse(text);
  } catch {
    if (value.startsWith('@') || value === '-') return text;
    throw invalid('INVALID_JSON', `--body is not valid JSON (use @FILE to pass a file): ${text.slice(0, 80)}`, {
      option: 'body',
    });
  }
}

function validateStaticResults(raw: unknown, file: string): StaticResults {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw invalid('INVALID_STATIC_RESULTS', `${file}: expected an object of action name → {status, outputs}`, { file });
  const out: StaticResults = {};
  for (const [name, v] of Object.entries(raw as Record<string, unknown>)) {
    const r = v as Record<string, unknown>;
    const status = typeof r?.status === 'string' ? r.status : undefined;
    if (!status || !['Succeeded', 'Failed', 'Skipped', 'TimedOut', 'Cancelled'].includes(status)) {
      throw invalid(
        'INVALID_STATIC_RESULTS',
        `${file}: '${name}' needs status Succeeded, Failed, Skipped, TimedOut or Cancelled`,
        { file, field: `${name}.status` },
      );
    }
    out[name] = r as unknown as StaticResults[string];
  }
  return out;
}

/**
 * Child flows of `flow test`: a Workflow action's `workflowReferenceName` (a flow GUID) is looked
 * up among the JSON files of a folder whose names end with `-<GUID>.json`, the layout of an
 * unpacked solution's Workflows folder.
 */
function folderResolver(dir: string): ChildFlowResolver {
  return async (workflowId) => {
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      return undefined;
    }
    const suffix = `-${workflowId.toLowerCase()}.json`;
    const hit = names.find((n) => n.toLowerCase().endsWith(suffix));
    if (!hit) return undefined;
    const flow = JSON.parse((await readFile(join(dir, hit), 'utf8')).replace(/^\uFEFF/, '')) as unknown;
    return { flow, workflow: { id: workflowId, displayName: hit.slice(0, -suffix.length) } };
  };
}

/**
 * Creates the `flow` command group with its `test` sub-command and returns it, so other modules
 * can add `list`, `on`, `off` and `run` to the same group.
 */
export function flowCommand(program: Command, ctx: CliContext): Command {
  const flow = program.command('flow').description('cloud flows: run, test, turn on and off');
  // `list`, `on`, `off` and `run NAME --env E` are added to this group by the environment-bound flow commands.
  flow
    .command('test <file>')
    .description(
      'run a flow JSON file in-process without an environment (for CI); connector actions need static results',
    )
    .option('--body <json>', 'trigger body: JSON text, @FILE or - for stdin')
    .option('--static-results <file>', 'JSON file: action name (or static result name) → {status, outputs}')
    .option('--header <name:value...>', 'trigger request header (repeatable)')
    .option('--query <name=value...>', 'trigger request query parameter (repeatable)')
    .option('--scheduled-time <iso>', 'Recurrence: the scheduled time of the run (default: now)')
    .option('--env-var <schemaName=value...>', 'environment variable value (repeatable)')
    .option('--param <name=value...>', 'definition parameter value, JSON or text (repeatable)')
    .option('--flows-dir <dir>', 'folder of child flows (<Name>-<GUID>.json); default: the folder of FILE')
    .option('--allow-loopback', 'let Http actions call loopback addresses (tests, demos)')
    .option('--real-time', 'wait real time for Delay, Until and retry timers (default: skip ahead when idle)')
    .option('--json', 'print {status, response, outputs, actions, error} as JSON')
    .action(
      async (
        file: string,
        o: {
          body?: string;
          staticResults?: string;
          header?: string[];
          query?: string[];
          scheduledTime?: string;
          envVar?: string[];
          param?: string[];
          flowsDir?: string;
          allowLoopback?: boolean;
          realTime?: boolean;
          json?: boolean;
        },
      ) => {
        const flowJson = await readJsonFile(ctx, file, 'flow file');
        const staticResults = o.staticResults
          ? validateStaticResults(await readJsonFile(ctx, o.staticResults, 'static results file'), o.staticResults)
          : undefined;
        const headers: Record<string, string> = {};
        for (const h of o.header ?? []) {
          const i = h.indexOf(':');
          if (i <= 0) throw usageError(`--header expects name:value, got '${h}'`, { option: 'header' });
          headers[h.slice(0, i).trim()] = h.slice(i + 1).trim();
        }
        const pairs = (list: string[] | undefined, option: string, parse: boolean): Record<string, unknown> => {
          const out: Record<string, unknown> = {};
          for (const p of list ?? []) {
            const i = p.indexOf('=');
            if (i <= 0) throw usageError(`--${option} expects name=value, got '${p}'`, { option });
            const raw = p.slice(i + 1);
            let v: unknown = raw;
            if (parse) {
              try {
                v = JSON.parse(raw);
              } catch {
                v = raw;
              }
            }
            out[p.slice(0, i)] = v;
          }
          return out;
        };
        const body = o.body !== undefined ? await readBody(ctx, o.body) : undefined;
        let scheduledTime: string | undefined;
        if (o.scheduledTime !== undefined) {
          const t = Date.parse(o.scheduledTime);
          if (Number.isNaN(t))
            throw usageError(`--scheduled-time expects an ISO 8601 time, got '${o.scheduledTime}'`, {
              option: 'scheduled-time',
            });
          scheduledTime = new Date(t).toISOString();
        }
        const flowPath = ctx.path(file);
        const result = await runFlow({
          flow: flowJson,
          trigger: {
            ...(body !== undefined ? { body } : {}),
            ...(Object.keys(headers).length ? { headers } : {}),
            ...(o.query?.length ? { queries: pairs(o.query, 'query', false) as Record<string, string> } : {}),
            ...(scheduledTime ? { scheduledTime } : {}),
          },
          workflow: {
            id: basename(flowPath).replace(/\.json$/i, ''),
            displayName: basename(flowPath)
              .replace(/-[0-9a-f-]{36}\.json$/i, '')
              .replace(/\.json$/i, ''),
          },
          ...(staticResults ? { staticResults } : {}),
          environmentVariables: pairs(o.envVar, 'env-var', false),
          parameters: pairs(o.param, 'param', true),
          resolveChildFlow: folderResolver(o.flowsDir ? ctx.path(o.flowsDir) : dirname(flowPath)),
          httpPolicy: { allowLoopback: o.allowLoopback === true },
          ...(o.realTime ? {} : { clock: virtualClock(scheduledTime ? Date.parse(scheduledTime) : Date.now()) }),
        });
        if (o.json) ctx.printJson(result.summary);
        else printRun(ctx, result);
        ctx.exitCode = runExitCode(result.status);
      },
    );
  return flow;
}

/** Registers the `flow` commands on the program: `test` here, `list`/`on`/`off`/`run` from flow-env.ts. */
export function register(program: Command, ctx: CliContext): void {
  registerFlowEnvCommands(flowCommand(program, ctx), ctx);
}
