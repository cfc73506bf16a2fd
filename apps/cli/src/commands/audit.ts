/** `patchbay audit list` — the audit log (design §6): every change and every secret decryption. */
import type { Command } from 'commander';
import { auditJson } from '@patchbay/platform';
import { usageError, type CliContext } from '../context.js';

/** Registers the `audit` commands on the program. */
export function register(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('audit')
    .description('the audit log: who changed what, when (before/after without secrets), and every secret decryption');
  cmd
    .command('list')
    .description('list audit entries, newest first')
    .option('--env <name>', 'only entries of this environment')
    .option('--action <action>', "only this action, or a prefix with '.*' (e.g. connection.*, secret.decrypt)")
    .option('--actor <principal>', 'only changes made by this principal')
    .option('--target <id>', 'only entries about this object id (connection id, flow id, …)')
    .option('--since <iso>', 'entries at or after this instant (ISO 8601)')
    .option('--until <iso>', 'entries before this instant (ISO 8601)')
    .option('--limit <n>', 'at most N entries (default 100)')
    .option('--json', 'print JSON')
    .action(
      async (o: {
        env?: string;
        action?: string;
        actor?: string;
        target?: string;
        since?: string;
        until?: string;
        limit?: string;
        json?: boolean;
      }) => {
        for (const k of ['since', 'until'] as const) {
          const v = o[k];
          if (v !== undefined && Number.isNaN(Date.parse(v)))
            throw usageError(`--${k} must be an ISO 8601 instant`, { option: k, value: v });
        }
        const limit = o.limit === undefined ? undefined : Number.parseInt(o.limit, 10);
        if (limit !== undefined && !(limit > 0))
          throw usageError('--limit must be a positive integer', { option: 'limit', value: o.limit });
        const p = await ctx.platform();
        const env = o.env ? await p.environments.get(o.env) : undefined;
        const actor = o.actor ? await p.principals.get(o.actor) : undefined;
        const list = await p.store.repos.audit.list({
          ...(env ? { environmentId: env.id } : {}),
          ...(o.action ? { action: o.action } : {}),
          ...(actor ? { actorId: actor.id } : {}),
          ...(o.target ? { targetId: o.target } : {}),
          ...(o.since ? { since: new Date(o.since).toISOString() } : {}),
          ...(o.until ? { until: new Date(o.until).toISOString() } : {}),
          ...(limit ? { limit } : {}),
        });
        const names = new Map((await p.environments.list()).map((e) => [e.id, e.name]));
        const rows = list.map((a) => auditJson(a, names));
        if (o.json) {
          ctx.printJson(rows);
          return;
        }
        ctx.printTable(
          ['AT', 'ACTOR', 'ENVIRONMENT', 'ACTION', 'TARGET', 'DETAILS'],
          rows.map((a) => [
            a.at,
            a.actor ?? '(system)',
            a.environment ?? '',
            a.action,
            `${a.target.type} ${a.target.name ?? a.target.id}`,
            a.details ? JSON.stringify(a.details).slice(0, 120) : '',
          ]),
        );
      },
    );
}
