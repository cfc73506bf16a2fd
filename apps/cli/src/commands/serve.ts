/** `patchbay serve` — the HTTP API (docs/api.md) on the embedded store or PostgreSQL. */
import type { Command } from 'commander';
import { startServer } from '@patchbay/server';
import { usageError, type CliContext } from '../context.js';

/** Parses a TCP port option (0–65535). */
export function parsePort(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw usageError(`--port must be a TCP port (0-65535), got ${value}`, { option: 'port', value });
  return n;
}

/**
 * Resolves when the process receives SIGINT or SIGTERM (or `signal` aborts): the serve and demo
 * commands run until then.
 */
export function untilStopped(signal?: AbortSignal): Promise<string> {
  return new Promise((resolve) => {
    const done = (why: string): void => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      resolve(why);
    };
    const onInt = (): void => done('SIGINT');
    const onTerm = (): void => done('SIGTERM');
    process.once('SIGINT', onInt);
    process.once('SIGTERM', onTerm);
    signal?.addEventListener('abort', () => done('aborted'), { once: true });
  });
}

/** Registers the `serve` command on the program. */
export function register(program: Command, ctx: CliContext): void {
  program
    .command('serve')
    .description('serve the HTTP API (/api/v1, OpenAPI at /api/v1/openapi.json) until Ctrl-C; in-flight requests finish on shutdown')
    .option('--port <port>', 'TCP port (0: any free port)', '8080')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--public-url <url>', 'base URL used in callback URLs (default http://HOST:PORT)')
    .option('--log', 'log every request (JSON lines on stdout)')
    .action(async (o: { port: string; host: string; publicUrl?: string; log?: boolean }) => {
      const port = parsePort(o.port);
      const platform = await ctx.platform();
      const server = await startServer({ platform, port, host: o.host, ...(o.publicUrl ? { publicUrl: o.publicUrl } : {}), ...(o.log ? { logger: true } : {}) });
      ctx.println(`Patchbay API listening on ${server.url}/api/v1 (store: ${platform.store.kind}; OpenAPI: ${server.url}/api/v1/openapi.json)`);
      ctx.println('create a token with `patchbay token create --for admin`; Ctrl-C stops');
      const why = await untilStopped();
      ctx.io.err(`${why}: finishing in-flight requests…\n`);
      await server.close();
      ctx.io.err('stopped\n');
    });
}
