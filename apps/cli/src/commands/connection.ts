/** `patchbay connection create|list|show|share|unshare|transfer|delete|test|reconnect` — connections (design §3B). */
import type { Command } from 'commander';
import type { FlowStateChange, Principal, ShareRole } from '@patchbay/core';
import {
  connectionJson,
  createOAuthConnection,
  reconnectOAuthConnection,
  testConnection,
  type OAuthSignInOptions,
  type Platform,
} from '@patchbay/platform';
import { usageError, type CliContext } from '../context.js';

export { connectionJson };

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/** Parses repeated `k=v` options into a map; `what` names the option in errors. */
function pairs(values: string[] | undefined, what: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values ?? []) {
    const i = v.indexOf('=');
    if (i <= 0)
      throw usageError(`${what} expects name=value, got ${JSON.stringify(v.split('=')[0])}…`, { option: what });
    const name = v.slice(0, i);
    if (Object.keys(out).some((k) => k.toLowerCase() === name.toLowerCase())) {
      throw usageError(`${what} ${name} is given more than once`, { option: what, parameter: name });
    }
    out[name] = v.slice(i + 1);
  }
  return out;
}

async function principalMap(p: Platform): Promise<Map<string, Principal>> {
  return new Map((await p.principals.list()).map((x) => [x.id, x]));
}

function printFlowChanges(ctx: CliContext, flows: FlowStateChange[]): void {
  for (const f of flows) {
    const why = f.reasons.filter((r) => r.code !== 'turned_off').map((r) => `${r.code}: ${r.message}`);
    ctx.println(`  flow ${f.name} (${f.flowId}): ${f.from} -> ${f.to}${why.length ? ` (${why.join('; ')})` : ''}`);
  }
}

/** The OAuth sign-in options of `create --oauth` / `reconnect`: client id and secret, callback port, timeout; the URL goes to stderr. */
async function signInOptions(
  ctx: CliContext,
  o: { oauthClientId?: string; oauthClientSecret?: string; oauthPort?: string; oauthTimeout?: string },
  stdinUsed = false,
): Promise<OAuthSignInOptions> {
  let clientSecret: string | undefined;
  if (o.oauthClientSecret !== undefined) {
    if (o.oauthClientSecret === '-' && stdinUsed)
      throw usageError('only one option can read stdin (-)', { option: 'oauth-client-secret' });
    if (o.oauthClientSecret !== '-' && !o.oauthClientSecret.startsWith('@'))
      throw usageError(
        '--oauth-client-secret must be @FILE or - (stdin): secret values are never taken from the command line',
        { option: 'oauth-client-secret' },
      );
    clientSecret = (await ctx.readArg(o.oauthClientSecret)).replace(/\r?\n$/, '');
  }
  const port = o.oauthPort !== undefined ? Number(o.oauthPort) : undefined;
  if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port < 65536))
    throw usageError('--oauth-port must be a port number', { option: 'oauth-port' });
  const timeout = o.oauthTimeout !== undefined ? Number(o.oauthTimeout) : undefined;
  if (timeout !== undefined && !(timeout > 0))
    throw usageError('--oauth-timeout must be a number of seconds', { option: 'oauth-timeout' });
  return {
    ...(o.oauthClientId ? { clientId: o.oauthClientId } : {}),
    ...(clientSecret !== undefined ? { clientSecret } : {}),
    ...(port !== undefined ? { port } : {}),
    ...(timeout !== undefined ? { timeoutMs: timeout * 1000 } : {}),
    onAuthorizationUrl: (url: string) => {
      ctx.io.err(
        `Open this URL in a browser to sign the connection in (waiting for the redirect to 127.0.0.1):\n${url}\n`,
      );
    },
  };
}

/** Registers the `connection` commands on the program. */
export function register(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('connection')
    .description('connections: credentials for one connector in one environment, owned by a principal');
  cmd
    .command('create')
    .description('create a connection owned by the acting principal (which can be a service principal)')
    .requiredOption('--env <name>', 'environment')
    .requiredOption('--connector <id>', 'connector id')
    .requiredOption('--display-name <text>', 'display name')
    .option('--parameter-set <name>', 'connection parameter set (when the connector offers several)')
    .option('--param <name=value>', 'non-secret connection parameter (repeatable)', collect)
    .option(
      '--secret-param <name=@FILE|->',
      'secret parameter read from a file (@FILE) or stdin (-); never given inline (repeatable)',
      collect,
    )
    .option('--as <principal>', 'acting principal, the owner (default: admin)')
    .option(
      '--oauth',
      'sign the connection in with OAuth 2.0: authorization code through a local callback (prints the URL to open), or client credentials for service-principal parameter sets',
    )
    .option(
      '--oauth-client-id <id>',
      "OAuth client id (default: the connector's oAuthSettings.clientId or the token:clientId parameter)",
    )
    .option(
      '--oauth-client-secret <@FILE|->',
      'OAuth client secret read from a file or stdin (default: the token:clientSecret secret parameter)',
    )
    .option(
      '--oauth-port <port>',
      'port of the local callback http://127.0.0.1:<port>/oauth/callback (default: any free port)',
    )
    .option('--oauth-timeout <seconds>', 'how long to wait for the browser (default 300)')
    .option('--json', 'print the created connection as JSON')
    .action(
      async (o: {
        env: string;
        connector: string;
        displayName: string;
        parameterSet?: string;
        param?: string[];
        secretParam?: string[];
        as?: string;
        oauth?: boolean;
        oauthClientId?: string;
        oauthClientSecret?: string;
        oauthPort?: string;
        oauthTimeout?: string;
        json?: boolean;
      }) => {
        const secretRefs = pairs(o.secretParam, '--secret-param');
        const secrets: Record<string, string> = {};
        let stdinUsed = false;
        for (const [name, ref] of Object.entries(secretRefs)) {
          if (ref === '-') {
            if (stdinUsed) throw usageError('only one --secret-param can read stdin (-)', { parameter: name });
            stdinUsed = true;
          } else if (!ref.startsWith('@')) {
            throw usageError(
              `--secret-param ${name} must be @FILE or - (stdin): secret values are never taken from the command line`,
              {
                parameter: name,
              },
            );
          }
          secrets[name] = (await ctx.readArg(ref)).replace(/\r?\n$/, '');
        }
        const p = await ctx.platform();
        await ctx.requireRole(o.as, { environment: o.env }, 'Maker', 'creating connections');
        const common = {
          environment: o.env,
          connector: o.connector,
          displayName: o.displayName,
          ...(o.parameterSet ? { parameterSet: o.parameterSet } : {}),
          parameters: pairs(o.param, '--param'),
          secretParameters: secrets,
          ...(o.as ? { actor: o.as } : {}),
        };
        if (!o.oauth && (o.oauthClientId || o.oauthClientSecret || o.oauthPort || o.oauthTimeout))
          throw usageError('--oauth-* options need --oauth', { option: 'oauth' });
        const c = o.oauth
          ? await createOAuthConnection(p, { ...common, ...(await signInOptions(ctx, o, stdinUsed)) })
          : await p.connections.create(common);
        if (o.json) ctx.printJson(connectionJson(c, await principalMap(p)));
        else ctx.println(`created connection ${c.id} (${c.connectorId}, ${c.status})`);
      },
    );
  cmd
    .command('list')
    .description('list connections: id, connector, owner, status, shares and non-secret parameters')
    .requiredOption('--env <name>', 'environment')
    .option('--visible-to <principal>', 'only connections this principal owns or has a share on')
    .option('--json', 'print JSON')
    .action(async (o: { env: string; visibleTo?: string; json?: boolean }) => {
      const p = await ctx.platform();
      const list = await p.connections.list({ environment: o.env, ...(o.visibleTo ? { visibleTo: o.visibleTo } : {}) });
      const principals = await principalMap(p);
      if (o.json) {
        ctx.printJson(list.map((c) => connectionJson(c, principals)));
        return;
      }
      ctx.printTable(
        ['ID', 'CONNECTOR', 'NAME', 'OWNER', 'STATUS', 'PARAMETERS', 'SHARES'],
        list.map((c) => {
          const j = connectionJson(c, principals);
          return [
            j.id,
            j.connector,
            j.displayName,
            j.owner,
            j.status,
            Object.entries(j.parameters)
              .map(([k, v]) => `${k}=${String(v)}`)
              .join(' '),
            j.shares.map((s) => `${s.principal}:${s.role}`).join(' '),
          ];
        }),
      );
    });
  cmd
    .command('show <id>')
    .description('show one connection (no secret values)')
    .option('--json', 'print JSON')
    .action(async (id: string, o: { json?: boolean }) => {
      const p = await ctx.platform();
      const j = connectionJson(await p.connections.get(id), await principalMap(p));
      if (o.json) ctx.printJson(j);
      else
        for (const [k, v] of Object.entries(j))
          ctx.println(`${k}: ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`);
    });
  cmd
    .command('share <id>')
    .description('share a connection with a principal')
    .requiredOption('--with <principal>', 'principal to share with (user or service principal)')
    .requiredOption('--role <role>', 'CanUse or CanUseAndShare')
    .option('--as <principal>', 'acting principal (default: admin)')
    .option('--json', 'print JSON')
    .action(async (id: string, o: { with: string; role: string; as?: string; json?: boolean }) => {
      if (o.role !== 'CanUse' && o.role !== 'CanUseAndShare')
        throw usageError('--role must be CanUse or CanUseAndShare', { role: o.role });
      const p = await ctx.platform();
      await ctx.requireRole(o.as, { connectionId: id }, 'Maker', 'sharing connections');
      const r = await p.connections.share({
        id,
        with: o.with,
        role: o.role as ShareRole,
        ...(o.as ? { actor: o.as } : {}),
      });
      if (o.json) ctx.printJson({ connection: connectionJson(r.connection, await principalMap(p)), flows: r.flows });
      else {
        ctx.println(`shared connection ${id} with ${o.with} (${o.role})`);
        printFlowChanges(ctx, r.flows);
      }
    });
  cmd
    .command('unshare <id>')
    .description("remove a principal's share; lists flows that turn off")
    .requiredOption('--with <principal>', 'principal whose share is removed')
    .option('--as <principal>', 'acting principal (default: admin)')
    .option('--json', 'print JSON')
    .action(async (id: string, o: { with: string; as?: string; json?: boolean }) => {
      const p = await ctx.platform();
      await ctx.requireRole(o.as, { connectionId: id }, 'Maker', 'unsharing connections');
      const r = await p.connections.unshare({ id, with: o.with, ...(o.as ? { actor: o.as } : {}) });
      if (o.json) ctx.printJson({ connection: connectionJson(r.connection, await principalMap(p)), flows: r.flows });
      else {
        ctx.println(`removed the share of ${o.with} on connection ${id}`);
        printFlowChanges(ctx, r.flows);
      }
    });
  cmd
    .command('transfer <id>')
    .description('transfer ownership to another principal (user or service principal)')
    .requiredOption('--to <principal>', 'new owner')
    .option('--keep-access', 'leave the previous owner a CanUseAndShare share')
    .option('--as <principal>', 'acting principal (default: admin)')
    .option('--json', 'print JSON')
    .action(async (id: string, o: { to: string; keepAccess?: boolean; as?: string; json?: boolean }) => {
      const p = await ctx.platform();
      await ctx.requireRole(o.as, { connectionId: id }, 'Maker', 'transferring connections');
      const r = await p.connections.transfer({
        id,
        to: o.to,
        keepAccess: Boolean(o.keepAccess),
        ...(o.as ? { actor: o.as } : {}),
      });
      if (o.json) ctx.printJson({ connection: connectionJson(r.connection, await principalMap(p)), flows: r.flows });
      else {
        ctx.println(`connection ${id} is now owned by ${o.to}`);
        printFlowChanges(ctx, r.flows);
      }
    });
  cmd
    .command('delete <id>')
    .description('delete a connection; refused while bound unless --force, which lists the flows that turn off')
    .option('--force', 'unbind the references using it and delete anyway')
    .option('--as <principal>', 'acting principal (default: admin)')
    .option('--json', 'print JSON')
    .action(async (id: string, o: { force?: boolean; as?: string; json?: boolean }) => {
      const p = await ctx.platform();
      await ctx.requireRole(o.as, { connectionId: id }, 'Maker', 'deleting connections');
      const r = await p.connections.delete({ id, force: Boolean(o.force), ...(o.as ? { actor: o.as } : {}) });
      if (o.json) ctx.printJson({ deleted: r.connection.id, unboundReferences: r.unboundReferences, flows: r.flows });
      else {
        ctx.println(
          `deleted connection ${id}${r.unboundReferences.length ? `; unbound ${r.unboundReferences.join(', ')}` : ''}`,
        );
        printFlowChanges(ctx, r.flows);
      }
    });
  cmd
    .command('test <id>')
    .description(
      "test a connection: the connector's x-ms-capabilities.testConnection operation, SELECT 1 for SQL, or an OAuth token (exit 0 passed or nothing to test, 3 failed)",
    )
    .option('--param <name=value>', 'parameter of the test operation (repeatable)', collect)
    .option('--as <principal>', 'acting principal (default: admin)')
    .option('--json', 'print JSON')
    .action(async (id: string, o: { param?: string[]; as?: string; json?: boolean }) => {
      const p = await ctx.platform();
      await ctx.requireRole(o.as, { connectionId: id }, 'Maker', 'testing connections');
      const r = await testConnection(p, {
        id,
        parameters: pairs(o.param, '--param'),
        ...(o.as ? { actor: o.as } : {}),
      });
      if (o.json) ctx.printJson(r);
      else
        ctx.println(
          `connection ${r.connection} (${r.connector}): ${r.result}${r.operationId ? ` via ${r.operationId}` : ''} — ${r.message}`,
        );
      if (r.result === 'failed') ctx.exitCode = 3;
    });
  cmd
    .command('reconnect <id>')
    .description('sign an OAuth connection in again (e.g. after NeedsReconnect); its flows re-evaluate')
    .option('--oauth-client-id <id>', 'OAuth client id (default: as before)')
    .option('--oauth-client-secret <@FILE|->', 'OAuth client secret read from a file or stdin (default: as before)')
    .option('--oauth-port <port>', 'port of the local callback (default: any free port)')
    .option('--oauth-timeout <seconds>', 'how long to wait for the browser (default 300)')
    .option('--as <principal>', 'acting principal: the owner or an Admin (default: admin)')
    .option('--json', 'print the connection as JSON')
    .action(
      async (
        id: string,
        o: {
          oauthClientId?: string;
          oauthClientSecret?: string;
          oauthPort?: string;
          oauthTimeout?: string;
          as?: string;
          json?: boolean;
        },
      ) => {
        const p = await ctx.platform();
        await ctx.requireRole(o.as, { connectionId: id }, 'Maker', 'signing connections in again');
        const c = await reconnectOAuthConnection(p, {
          id,
          ...(await signInOptions(ctx, o)),
          ...(o.as ? { actor: o.as } : {}),
        });
        if (o.json) ctx.printJson(connectionJson(c, await principalMap(p)));
        else ctx.println(`connection ${c.id} signed in again (${c.status})`);
      },
    );
}
