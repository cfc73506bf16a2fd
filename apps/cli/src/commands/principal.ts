/** `patchbay principal create|list|disable|enable` — users and service principals. */
import type { Command } from 'commander';
import type { Principal, Role } from '@patchbay/core';
import type { PrincipalChange } from '@patchbay/platform';
import type { CliContext } from '../context.js';

/** The JSON shape of a principal on the CLI. */
export function principalJson(p: Principal) {
  return { id: p.id, name: p.name, kind: p.kind, displayName: p.displayName, status: p.status, createdOn: p.createdOn };
}

function printChange(ctx: CliContext, change: PrincipalChange, json: boolean | undefined, verb: string): void {
  if (json) {
    ctx.printJson({ principal: principalJson(change.principal), flows: change.flows });
    return;
  }
  ctx.println(`${verb} principal ${change.principal.name}`);
  if (change.flows.length === 0) ctx.println('no flow changed state');
  for (const f of change.flows) {
    const why = f.reasons.filter((r) => r.code !== 'turned_off').map((r) => r.message);
    ctx.println(
      `  flow ${f.name} (${f.flowId}) in ${f.environment}: ${f.from} -> ${f.to}${why.length ? ` (${why.join('; ')})` : ''}`,
    );
  }
}

/** Registers the `principal` commands on the program. */
export function register(program: Command, ctx: CliContext): void {
  const cmd = program.command('principal').description('users and service principals');
  cmd
    .command('create <name>')
    .description('create a user (default) or a service principal')
    .option('--service-principal', 'create a service principal (application identity)')
    .option('--display-name <text>', 'display name')
    .option('--json', 'print the created principal as JSON')
    .action(async (name: string, o: { servicePrincipal?: boolean; displayName?: string; json?: boolean }) => {
      const p = await ctx.platform();
      const created = await p.principals.create({
        name,
        kind: o.servicePrincipal ? 'servicePrincipal' : 'user',
        ...(o.displayName ? { displayName: o.displayName } : {}),
      });
      if (o.json) ctx.printJson(principalJson(created));
      else
        ctx.println(
          `created ${created.kind === 'servicePrincipal' ? 'service principal' : 'user'} ${created.name} (${created.id})`,
        );
    });
  cmd
    .command('list')
    .description('list principals')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      const p = await ctx.platform();
      const list = await p.principals.list();
      if (o.json) ctx.printJson(list.map(principalJson));
      else
        ctx.printTable(
          ['NAME', 'KIND', 'STATUS', 'ID'],
          list.map((x) => [x.name, x.kind, x.status, x.id]),
        );
    });
  cmd
    .command('assign <name>')
    .description('give a principal a role (Admin, Maker, Viewer) in an environment')
    .requiredOption('--env <name>', 'environment')
    .requiredOption('--role <role>', 'Admin, Maker or Viewer')
    .option('--json', 'print JSON')
    .action(async (name: string, o: { env: string; role: string; json?: boolean }) => {
      const p = await ctx.platform();
      await p.environments.assignRole({ environment: o.env, principal: name, role: o.role as Role });
      if (o.json) ctx.printJson(await p.environments.roles(o.env));
      else ctx.println(`${name} is ${o.role} in ${o.env}`);
    });
  cmd
    .command('disable <name>')
    .description('disable a principal; lists the flows that turn off')
    .option('--json', 'print JSON')
    .action(async (name: string, o: { json?: boolean }) => {
      const p = await ctx.platform();
      printChange(ctx, await p.principals.disable({ name }), o.json, 'disabled');
    });
  cmd
    .command('enable <name>')
    .description('enable a principal again; lists the flows that turn back on')
    .option('--json', 'print JSON')
    .action(async (name: string, o: { json?: boolean }) => {
      const p = await ctx.platform();
      printChange(ctx, await p.principals.enable({ name }), o.json, 'enabled');
    });
}
