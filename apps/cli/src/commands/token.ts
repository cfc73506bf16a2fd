/**
 * `patchbay token create|list|revoke` — API tokens of principals, and `token create-client|
 * list-clients|revoke-client` — client credentials of service principals (docs/api.md
 * "Authentication"). Tokens and client secrets are printed once, when created, and stored hashed.
 */
import type { Command } from 'commander';
import { clientCredentialJson, tokenJson, type Platform } from '@patchbay/platform';
import type { Principal } from '@patchbay/core';
import { usageError, type CliContext } from '../context.js';

async function principalMap(p: Platform): Promise<Map<string, Principal>> {
  return new Map((await p.principals.list()).map((x) => [x.id, x]));
}

function days(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0)
    throw usageError('--expires-in-days must be a positive number', { option: 'expires-in-days', value });
  return n;
}

/** Registers the `token` commands on the program. */
export function register(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('token')
    .description(
      'API tokens (users and service principals) and client credentials (service principals) for the HTTP API',
    );
  cmd
    .command('create')
    .description('create an API token for a principal; the token is printed once and stored hashed')
    .requiredOption('--for <principal>', 'principal the token acts as')
    .option('--description <text>', 'what the token is for')
    .option('--expires-in-days <n>', 'expiry in days (default: never)')
    .option('--as <principal>', 'acting principal (default: admin)')
    .option('--json', 'print JSON (with the token)')
    .action(async (o: { for: string; description?: string; expiresInDays?: string; as?: string; json?: boolean }) => {
      const p = await ctx.platform();
      const expiresInDays = days(o.expiresInDays);
      if (o.as) await p.auth.requirePlatformAdmin(await p.ctx.actor(o.as), 'creating API tokens');
      const t = await p.auth.createToken({
        for: o.for,
        ...(o.description ? { description: o.description } : {}),
        ...(expiresInDays ? { expiresInDays } : {}),
        ...(o.as ? { actor: o.as } : {}),
      });
      if (o.json) ctx.printJson({ ...tokenJson(t.record, await principalMap(p)), token: t.token });
      else {
        ctx.println(t.token);
        ctx.io.err(
          `created token ${t.record.id} for ${o.for}${t.record.expiresOn ? `, expires ${t.record.expiresOn}` : ''}; it is shown only now\n`,
        );
      }
    });
  cmd
    .command('list')
    .description('list API tokens (never the secret)')
    .option('--for <principal>', "only this principal's tokens")
    .option('--json', 'print JSON')
    .action(async (o: { for?: string; json?: boolean }) => {
      const p = await ctx.platform();
      const pm = await principalMap(p);
      const list = (await p.auth.listTokens(o.for ? { for: o.for } : {})).map((t) => tokenJson(t, pm));
      if (o.json) ctx.printJson(list);
      else
        ctx.printTable(
          ['ID', 'PRINCIPAL', 'KIND', 'DESCRIPTION', 'CREATED', 'EXPIRES', 'REVOKED'],
          list.map((t) => [
            t.id,
            t.principal,
            t.kind,
            t.description,
            t.createdOn,
            t.expiresOn ?? 'never',
            t.revokedOn ?? '',
          ]),
        );
    });
  cmd
    .command('revoke <id>')
    .description('revoke an API token: it gets 401 from then on')
    .option('--as <principal>', 'acting principal (default: admin)')
    .option('--json', 'print JSON')
    .action(async (id: string, o: { as?: string; json?: boolean }) => {
      const p = await ctx.platform();
      const t = await p.auth.revokeToken({ id, ...(o.as ? { actor: o.as } : {}) });
      if (o.json) ctx.printJson(tokenJson(t, await principalMap(p)));
      else ctx.println(`revoked token ${id}`);
    });
  cmd
    .command('create-client')
    .description(
      'create client credentials for a service principal (POST /api/v1/oauth/token); the secret is printed once',
    )
    .requiredOption('--for <principal>', 'service principal')
    .option('--description <text>', 'what the credentials are for')
    .option('--expires-in-days <n>', 'expiry in days (default: never)')
    .option('--json', 'print JSON (with the secret)')
    .action(async (o: { for: string; description?: string; expiresInDays?: string; json?: boolean }) => {
      const p = await ctx.platform();
      const expiresInDays = days(o.expiresInDays);
      const c = await p.auth.createClientCredentials({
        for: o.for,
        ...(o.description ? { description: o.description } : {}),
        ...(expiresInDays ? { expiresInDays } : {}),
      });
      if (o.json)
        ctx.printJson({ ...clientCredentialJson(c.record, await principalMap(p)), clientSecret: c.clientSecret });
      else {
        ctx.println(`client_id=${c.clientId}`);
        ctx.println(`client_secret=${c.clientSecret}`);
        ctx.io.err('the client secret is shown only now\n');
      }
    });
  cmd
    .command('list-clients')
    .description('list client credentials (never the secret)')
    .option('--for <principal>', "only this service principal's credentials")
    .option('--json', 'print JSON')
    .action(async (o: { for?: string; json?: boolean }) => {
      const p = await ctx.platform();
      const pm = await principalMap(p);
      const list = (await p.auth.listClientCredentials(o.for ? { for: o.for } : {})).map((c) =>
        clientCredentialJson(c, pm),
      );
      if (o.json) ctx.printJson(list);
      else
        ctx.printTable(
          ['CLIENT ID', 'PRINCIPAL', 'DESCRIPTION', 'CREATED', 'EXPIRES', 'REVOKED'],
          list.map((c) => [
            c.clientId,
            c.principal,
            c.description,
            c.createdOn,
            c.expiresOn ?? 'never',
            c.revokedOn ?? '',
          ]),
        );
    });
  cmd
    .command('revoke-client <clientId>')
    .description('revoke client credentials (access tokens already issued expire by themselves)')
    .action(async (clientId: string) => {
      const p = await ctx.platform();
      await p.auth.revokeClientCredentials({ clientId });
      ctx.println(`revoked client ${clientId}`);
    });
}
