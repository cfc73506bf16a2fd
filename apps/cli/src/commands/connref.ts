/** `patchbay connref create|list|bind|unbind|usages|delete` — connection references (design §3C). */
import type { Command } from 'commander';
import { referenceJson } from '@patchbay/platform';
import type { CliContext } from '../context.js';

export { referenceJson };

/** Registers the `connref` commands on the program. */
export function register(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('connref')
    .description('connection references: solution-aware names bound per environment to a connection');
  cmd
    .command('create <logicalName>')
    .description('create an unbound connection reference')
    .requiredOption('--env <name>', 'environment')
    .requiredOption('--connector <id>', 'connector id')
    .option('--display-name <text>', 'display name (naming rule: <Area> – <Connector> – <Type>)')
    .option('--description <text>', 'description')
    .option('--as <principal>', 'acting principal (default: admin)')
    .option('--json', 'print JSON')
    .action(
      async (
        logicalName: string,
        o: { env: string; connector: string; displayName?: string; description?: string; as?: string; json?: boolean },
      ) => {
        const p = await ctx.platform();
        await ctx.requireRole(o.as, { environment: o.env }, 'Maker', 'creating connection references');
        const r = await p.references.create({
          environment: o.env,
          logicalName,
          connector: o.connector,
          ...(o.displayName ? { displayName: o.displayName } : {}),
          ...(o.description ? { description: o.description } : {}),
          ...(o.as ? { actor: o.as } : {}),
        });
        if (o.json) ctx.printJson(referenceJson(r, [], o.as ?? 'admin'));
        else ctx.println(`created connection reference ${r.logicalName} (${r.connectorId}, unbound)`);
      },
    );
  cmd
    .command('list')
    .description('list every connection reference of the environment with its connector, binding and flows')
    .requiredOption('--env <name>', 'environment')
    .option('--json', 'print JSON')
    .action(async (o: { env: string; json?: boolean }) => {
      const p = await ctx.platform();
      const refs = await p.references.list(o.env);
      const usages = await p.references.allUsages(o.env);
      const names = new Map((await p.principals.list()).map((x) => [x.id, x.name]));
      const rows = refs.map((r) =>
        referenceJson(r, usages.get(r.logicalName.toLowerCase()) ?? [], names.get(r.ownerId)),
      );
      if (o.json) ctx.printJson(rows);
      else
        ctx.printTable(
          ['LOGICAL NAME', 'CONNECTOR', 'CONNECTION', 'FLOWS'],
          rows.map((r) => [
            r.logicalName,
            r.connector,
            r.connectionId ?? '(unbound)',
            r.flows.map((f) => f.name).join(', '),
          ]),
        );
    });
  cmd
    .command('bind <logicalName>')
    .description('bind a reference to a connection of the same connector; changes no flow')
    .requiredOption('--env <name>', 'environment')
    .requiredOption('--connection <id>', 'connection id')
    .option('--as <principal>', 'acting principal (default: admin); must own or share the connection')
    .option('--json', 'print JSON')
    .action(async (logicalName: string, o: { env: string; connection: string; as?: string; json?: boolean }) => {
      const p = await ctx.platform();
      await ctx.requireRole(o.as, { environment: o.env }, 'Maker', 'binding connection references');
      const r = await p.references.bind({
        environment: o.env,
        logicalName,
        connectionId: o.connection,
        ...(o.as ? { actor: o.as } : {}),
      });
      if (o.json) {
        ctx.printJson({
          reference: r.reference.logicalName,
          connectionId: r.reference.connectionId,
          previousConnectionId: r.previousConnectionId,
          usages: r.usages,
          flows: r.flows,
        });
        return;
      }
      ctx.println(
        `bound ${r.reference.logicalName} to connection ${o.connection}${r.previousConnectionId && r.previousConnectionId !== o.connection ? ` (was ${r.previousConnectionId})` : ''}`,
      );
      for (const u of r.usages)
        ctx.println(
          `  flow ${u.flowName} now uses connection ${o.connection} in ${u.actions.length} action(s); the flow itself is unchanged`,
        );
      for (const f of r.flows) ctx.println(`  flow ${f.name}: ${f.from} -> ${f.to}`);
    });
  cmd
    .command('unbind <logicalName>')
    .description('remove the binding; lists the flows that turn off')
    .requiredOption('--env <name>', 'environment')
    .option('--as <principal>', 'acting principal (default: admin)')
    .option('--json', 'print JSON')
    .action(async (logicalName: string, o: { env: string; as?: string; json?: boolean }) => {
      const p = await ctx.platform();
      await ctx.requireRole(o.as, { environment: o.env }, 'Maker', 'unbinding connection references');
      const r = await p.references.unbind({ environment: o.env, logicalName, ...(o.as ? { actor: o.as } : {}) });
      if (o.json)
        ctx.printJson({
          reference: r.reference.logicalName,
          previousConnectionId: r.previousConnectionId,
          flows: r.flows,
        });
      else {
        ctx.println(`unbound ${r.reference.logicalName}`);
        for (const f of r.flows) ctx.println(`  flow ${f.name}: ${f.from} -> ${f.to}`);
      }
    });
  cmd
    .command('usages <logicalName>')
    .description('which flows and which of their triggers and actions use a reference')
    .requiredOption('--env <name>', 'environment')
    .option('--json', 'print JSON')
    .action(async (logicalName: string, o: { env: string; json?: boolean }) => {
      const p = await ctx.platform();
      const u = await p.references.usages({ environment: o.env, logicalName });
      if (o.json) {
        ctx.printJson(u);
        return;
      }
      if (u.length === 0) ctx.println(`${logicalName} is not used by any flow`);
      for (const f of u) {
        ctx.println(`flow ${f.flowName} (${f.flowId}, ${f.state}) keys ${f.connectionKeys.join(', ')}`);
        for (const a of f.actions)
          ctx.println(`  ${a.kind} ${a.path} (${a.type}${a.operationId ? ` ${a.operationId}` : ''})`);
      }
    });
  cmd
    .command('delete <logicalName>')
    .description('delete a reference; refused while flows use it unless --force')
    .requiredOption('--env <name>', 'environment')
    .option('--force', 'delete even when flows use it (they turn off)')
    .option('--json', 'print JSON')
    .action(async (logicalName: string, o: { env: string; force?: boolean; json?: boolean }) => {
      const p = await ctx.platform();
      const r = await p.references.delete({ environment: o.env, logicalName, force: Boolean(o.force) });
      if (o.json) ctx.printJson({ deleted: r.reference.logicalName, flows: r.flows });
      else
        ctx.println(
          `deleted ${r.reference.logicalName}${r.flows.length ? `; flows turned off: ${r.flows.map((f) => f.name).join(', ')}` : ''}`,
        );
    });
}
