/**
 * `patchbay worker --database-url URL [--concurrency N] [--ops-port P]` — a process that runs flow
 * jobs only (scale-out, docs/operations.md): it takes run jobs from graphile-worker on the
 * PostgreSQL database, resumes the runs of workers that died, logs JSON lines on stdout, and
 * serves /healthz, /readyz and /metrics when `--ops-port` is given. Runs until SIGINT/SIGTERM,
 * then stops gracefully (in-flight calls get PATCHBAY_SHUTDOWN_GRACE_MS).
 */
import type { Command } from 'commander';
import { createJsonLogger, executionLogger, LOG_LEVELS, startWorker } from '@patchbay/worker';
import { usageError, type CliContext } from '../context.js';
import { parsePort, untilStopped } from './serve.js';

/** Parses a positive integer option. */
export function parseCount(name: string, value: string, max = 1000): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max)
    throw usageError(`--${name} must be an integer from 1 to ${max}, got ${value}`, { option: name, value });
  return n;
}

/** Registers the `worker` command on the program. */
export function register(program: Command, ctx: CliContext): void {
  program
    .command('worker')
    .description(
      'run flow jobs from the PostgreSQL queue (graphile-worker) until Ctrl-C; needs --database-url (scale-out, see docs/operations.md)',
    )
    .option('--concurrency <n>', 'jobs handled at once by this process', '10')
    .option('--ops-port <port>', 'serve /healthz, /readyz and /metrics on this port')
    .option('--ops-host <host>', 'address of the ops endpoint', '127.0.0.1')
    .option('--log-level <level>', `log level (${LOG_LEVELS.join(', ')})`, 'info')
    .action(async (o: { concurrency: string; opsPort?: string; opsHost: string; logLevel: string }) => {
      const databaseUrl = ctx.databaseUrl();
      if (!databaseUrl) {
        throw usageError(
          'patchbay worker needs the PostgreSQL database (--database-url or PATCHBAY_DATABASE_URL); with the embedded SQLite store, run workers inside the server: patchbay serve --workers N',
          { option: 'database-url' },
        );
      }
      if (!(LOG_LEVELS as readonly string[]).includes(o.logLevel))
        throw usageError(`--log-level must be one of ${LOG_LEVELS.join(', ')}`, {
          option: 'log-level',
          value: o.logLevel,
        });
      const concurrency = parseCount('concurrency', o.concurrency);
      const opsPort = o.opsPort !== undefined ? parsePort(o.opsPort) : undefined;
      const logger = createJsonLogger({
        level: o.logLevel,
        write: (line) => ctx.io.out(line),
        base: { component: 'worker' },
      });
      const platform = await ctx.platform();
      const worker = await startWorker({
        platform,
        databaseUrl,
        concurrency,
        env: ctx.io.env,
        logger: executionLogger(logger),
        ...(opsPort !== undefined ? { opsPort, opsHost: o.opsHost } : {}),
      });
      logger.info(
        {
          node: worker.execution.nodeId,
          queue: worker.execution.queue.kind,
          concurrency,
          ...(worker.ops ? { ops: worker.ops.url } : {}),
        },
        'worker ready',
      );
      const why = await untilStopped();
      logger.info({ signal: why }, 'stopping: no new jobs, in-flight calls finish');
      await worker.close();
      logger.info({}, 'stopped');
    });
}
