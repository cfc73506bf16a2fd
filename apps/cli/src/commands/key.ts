/** `patchbay key status|rotate|rotate-master|rewrap` — secrets at rest (design §3B). */
import type { Command } from 'commander';
import type { CliContext } from '../context.js';

/** Registers the `key` commands on the program. */
export function register(program: Command, ctx: CliContext): void {
  const key = program
    .command('key')
    .description('encryption keys of secrets at rest (AES-256-GCM data keys wrapped by a master key)');
  key
    .command('status')
    .description('show the active master key id and the data keys (never key material)')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      const p = await ctx.platform();
      const keys = await p.store.repos.dataKeys.list();
      const envs = new Map((await p.environments.list()).map((e) => [e.id, e.name]));
      const secrets = new Map<string, number>();
      for (const e of envs.keys()) {
        for (const s of await p.store.repos.secrets.listByEnvironment(e))
          secrets.set(s.keyId, (secrets.get(s.keyId) ?? 0) + 1);
      }
      const rows = keys.map((k) => ({
        id: k.id,
        environment: envs.get(k.environmentId) ?? k.environmentId,
        status: k.status,
        masterKeyId: k.masterKeyId,
        secrets: secrets.get(k.id) ?? 0,
        createdOn: k.createdOn,
      }));
      if (o.json) ctx.printJson({ masterKeyId: p.vault.masterKeyId, dataKeys: rows });
      else {
        ctx.println(`active master key: ${p.vault.masterKeyId}`);
        ctx.printTable(
          ['DATA KEY', 'ENVIRONMENT', 'STATUS', 'MASTER KEY', 'SECRETS'],
          rows.map((r) => [r.id, r.environment, r.status, r.masterKeyId, r.secrets]),
        );
      }
    });
  key
    .command('rotate')
    .description('give every environment a new data key and re-encrypt its secrets (online)')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      const p = await ctx.platform();
      const r = await p.vault.rotateDataKeys();
      if (o.json) ctx.printJson(r);
      else ctx.println(`rotated ${r.dataKeys} data key(s), re-encrypted ${r.secrets} secret(s)`);
    });
  key
    .command('rotate-master')
    .description('generate a new master key in the key file and re-wrap every data key (online)')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      const p = await ctx.platform();
      const r = await p.vault.rotateMasterKey();
      if (o.json) ctx.printJson(r);
      else ctx.println(`new master key ${r.masterKeyId}; re-wrapped ${r.dataKeys} data key(s)`);
    });
  key
    .command('rewrap')
    .description('re-wrap data keys under the active master key (after changing PATCHBAY_MASTER_KEY)')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      const p = await ctx.platform();
      const r = await p.vault.rewrapDataKeys();
      if (o.json) ctx.printJson(r);
      else ctx.println(`re-wrapped ${r.dataKeys} data key(s) under master key ${r.masterKeyId}`);
    });
}
