/** `patchbay env create|list` — environments. */
import type { Command } from 'commander';
import type { Environment } from '@patchbay/core';
import type { CliContext } from '../context.js';

/** The JSON shape of an environment on the CLI. */
export function environmentJson(e: Environment) {
  return { id: e.id, name: e.name, displayName: e.displayName, createdOn: e.createdOn, policy: e.policy };
}

/** Registers the `env` commands on the program. */
export function register(program: Command, ctx: CliContext): void {
  const env = program
    .command('env')
    .description('environments: isolated spaces with their own connections, bindings, flows and runs');
  env
    .command('create <name>')
    .description('create an environment; the acting principal becomes its Admin')
    .option('--display-name <text>', 'display name (default: the name)')
    .option('--allow-loopback', 'let outbound HTTP of this environment reach loopback addresses (tests, demos)')
    .option('--as <principal>', 'acting principal (default: admin)')
    .option('--json', 'print the created environment as JSON')
    .action(async (name: string, o: { displayName?: string; allowLoopback?: boolean; as?: string; json?: boolean }) => {
      const p = await ctx.platform();
      const created = await p.environments.create({
        name,
        ...(o.displayName ? { displayName: o.displayName } : {}),
        ...(o.as ? { actor: o.as } : {}),
        ...(o.allowLoopback ? { policy: { allowLoopback: true } } : {}),
      });
      if (o.json) ctx.printJson(environmentJson(created));
      else ctx.println(`created environment ${created.name} (${created.id})`);
    });
  env
    .command('list')
    .description('list environments')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      const p = await ctx.platform();
      const list = await p.environments.list();
      if (o.json) ctx.printJson(list.map(environmentJson));
      else if (list.length === 0) ctx.println('no environments');
      else
        ctx.printTable(
          ['NAME', 'DISPLAY NAME', 'ID', 'CREATED'],
          list.map((e) => [e.name, e.displayName, e.id, e.createdOn]),
        );
    });
}
