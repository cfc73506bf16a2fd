/** `patchbay serve` — the HTTP API (docs/api.md) on the embedded store or PostgreSQL. */
import type { Command } from 'commander';
import { ExecutionService, executionConfig } from '@patchbay/platform';
import { startServer } from '@patchbay/server';
import { createJsonLogger, executionLogger, LOG_LEVELS } from '@patchbay/worker';
import { usageError, type CliContext } from '../context.js';

/** Parses a TCP port option (0–65535). */
export function parsePort(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw usageError(`--port must be a TCP port (0-65535), got ${value}`, { option: 'port', value });
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
    .description(
      'serve the HTTP API (/api/v1, OpenAPI at /api/v1/openapi.json) until Ctrl-C; in-flight requests finish on shutdown',
    )
    .option('--port <port>', 'TCP port (0: any free port)', '8080')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--public-url <url>', 'base URL used in callback URLs (default http://HOST:PORT)')
    .option('--log', 'log every request (JSON lines on stdout)')
    .option(
      '--workers <n>',
      'job handlers in this process (0: API and scheduler only; queued runs wait for `patchbay worker` processes)',
      '4',
    )
    .option('--log-level <level>', 'level of the execution log (JSON lines on stdout)', 'info')
    .action(
      async (o: {
        port: string;
        host: string;
        publicUrl?: string;
        log?: boolean;
        workers: string;
        logLevel: string;
      }) => {
        const port = parsePort(o.port);
        const workers = Number(o.workers);
        if (!Number.isInteger(workers) || workers < 0 || workers > 1000)
          throw usageError(`--workers must be an integer from 0 to 1000, got ${o.workers}`, {
            option: 'workers',
            value: o.workers,
          });
        if (!(LOG_LEVELS as readonly string[]).includes(o.logLevel))
          throw usageError(`--log-level must be one of ${LOG_LEVELS.join(', ')}`, {
            option: 'log-level',
            value: o.logLevel,
          });
        const platform = await ctx.platform();
        // Queued durable execution (docs/operations.md): embedded queue on SQLite, graphile-worker on PostgreSQL.
        const logger = createJsonLogger({
          level: o.logLevel,
          write: (line) => ctx.io.out(line),
          base: { component: 'server' },
        });
        const databaseUrl = ctx.databaseUrl();
        const config = executionConfig(ctx.io.env, databaseUrl ? { databaseUrl } : {});
        const execution = await ExecutionService.create({
          platform,
          config,
          kind: config.queue === 'embedded' ? 'embedded' : 'server',
          env: ctx.io.env,
          logger: executionLogger(logger),
        });
        ctx.onClose(() => execution.stop());
        if (workers > 0) await execution.startWorkers(workers);
        execution.startScheduler();
        const server = await startServer({
          platform,
          port,
          host: o.host,
          execution,
          ...(o.publicUrl ? { publicUrl: o.publicUrl } : {}),
          ...(o.log ? { logger: true } : {}),
        });
        ctx.println(
          `Patchbay API listening on ${server.url}/api/v1 (store: ${platform.store.kind}; OpenAPI: ${server.url}/api/v1/openapi.json)`,
        );
        ctx.println(
          `queue: ${execution.queue.kind}, ${workers} worker${workers === 1 ? '' : 's'} in this process; /healthz, /readyz, /metrics`,
        );
        ctx.println('create a token with `patchbay token create --for admin`; Ctrl-C stops');
        const why = await untilStopped();
        ctx.io.err(`${why}: finishing in-flight requests…\n`);
        await server.close();
        await execution.stop();
        ctx.io.err('stopped\n');
      },
    );
}
