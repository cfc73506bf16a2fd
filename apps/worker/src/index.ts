/**
 * Public entry of @patchbay/worker: a process that runs flow jobs only (issue 9 item 4), plus the
 * operations pieces every Patchbay process shares — the structured JSON logger (pino) and a small
 * HTTP endpoint for liveness, readiness and Prometheus metrics.
 *
 * `startWorker({platform, databaseUrl, concurrency})` joins the cluster as an execution node,
 * takes run jobs from graphile-worker (PostgreSQL) — or from the embedded jobs table when asked —
 * and resumes runs whose node died. It never fires schedules and serves no API.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino, { type DestinationStream, type Logger } from 'pino';
import { ExecutionService, executionConfig, type ExecutionLogger, type Platform } from '@patchbay/platform';

/** Log levels accepted by `--log-level`. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/**
 * Keys never written to the logs even if some caller passes them (the execution layer logs ids,
 * statuses and error codes only; this is a safety net for invariant 5).
 */
export const REDACTED_LOG_PATHS = [
  'password',
  'secret',
  'token',
  'authorization',
  'apiKey',
  'clientSecret',
  '*.password',
  '*.secret',
  '*.token',
  '*.authorization',
  '*.apiKey',
  '*.clientSecret',
  'headers.authorization',
  'headers.cookie',
  'body',
  'inputs',
  'outputs',
];

/**
 * A structured JSON logger (one JSON object per line: `level`, `time`, `msg`, plus the fields
 * given, e.g. `runId`). `write` receives each line (default stdout).
 */
export function createJsonLogger(
  o: { level?: string; write?: (line: string) => void; base?: Record<string, unknown> } = {},
): Logger {
  const dest: DestinationStream = { write: o.write ?? ((line: string) => void process.stdout.write(line)) };
  return pino(
    {
      level: o.level ?? 'info',
      base: { pid: process.pid, ...(o.base ?? {}) },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACTED_LOG_PATHS, censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
    },
    dest,
  );
}

/** Adapts a pino logger to the execution layer's logger. */
export function executionLogger(logger: Logger): ExecutionLogger {
  return {
    debug: (obj, msg) => logger.debug(obj, msg),
    info: (obj, msg) => logger.info(obj, msg),
    warn: (obj, msg) => logger.warn(obj, msg),
    error: (obj, msg) => logger.error(obj, msg),
  };
}

/** A listening operations endpoint. */
export interface OpsServer {
  url: string;
  close(): Promise<void>;
}

/**
 * Serves `GET /healthz` (200 while the process runs), `GET /readyz` (200 when the database answers
 * and the node is registered, else 503) and `GET /metrics` (Prometheus text format).
 */
export async function startOpsServer(o: {
  execution: ExecutionService;
  port: number;
  host?: string;
}): Promise<OpsServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const send = (status: number, type: string, body: string): void => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    if (req.method !== 'GET') return send(405, 'application/json', JSON.stringify({ code: 'METHOD_NOT_ALLOWED' }));
    if (path === '/healthz')
      return send(200, 'application/json', JSON.stringify({ status: 'ok', node: o.execution.nodeId }));
    if (path === '/readyz') {
      void o.execution
        .readiness()
        .then((r) =>
          send(
            r.ready ? 200 : 503,
            'application/json',
            JSON.stringify({ status: r.ready ? 'ready' : 'not ready', ...r }),
          ),
        );
      return;
    }
    if (path === '/metrics') {
      void o.execution.metrics.text().then(
        (text) => send(200, o.execution.metrics.registry.contentType, text),
        () => send(500, 'text/plain', 'metrics unavailable\n'),
      );
      return;
    }
    send(404, 'application/json', JSON.stringify({ code: 'ROUTE_NOT_FOUND' }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host ?? '127.0.0.1', () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${addr.port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Options of {@link startWorker}. */
export interface StartWorkerOptions {
  platform: Platform;
  /** PostgreSQL URL: jobs come from graphile-worker. */
  databaseUrl?: string;
  /** Jobs handled at once by this process (default 10). */
  concurrency?: number;
  /** Environment variables (PATCHBAY_* tuning, see docs/operations.md). */
  env?: Record<string, string | undefined>;
  logger?: ExecutionLogger;
  /** Port of the health/readiness/metrics endpoint (absent: none). */
  opsPort?: number;
  opsHost?: string;
  /** Queue override (default: graphile with a database URL, else embedded). */
  queue?: 'embedded' | 'graphile';
}

/** A running worker. */
export interface RunningWorker {
  execution: ExecutionService;
  ops?: OpsServer;
  /** Graceful stop: no new jobs; in-flight calls get the shutdown grace time; the node deregisters. */
  close(): Promise<void>;
}

/** Starts a worker process's job handling (see the module comment). */
export async function startWorker(o: StartWorkerOptions): Promise<RunningWorker> {
  const config = executionConfig(o.env ?? {}, {
    ...(o.databaseUrl ? { databaseUrl: o.databaseUrl } : {}),
    ...(o.queue ? { queue: o.queue } : {}),
  });
  const execution = await ExecutionService.create({
    platform: o.platform,
    config,
    kind: 'worker',
    env: o.env ?? {},
    ...(o.logger ? { logger: o.logger } : {}),
  });
  let ops: OpsServer | undefined;
  try {
    await execution.startWorkers(o.concurrency ?? 10);
    if (o.opsPort !== undefined)
      ops = await startOpsServer({ execution, port: o.opsPort, ...(o.opsHost ? { host: o.opsHost } : {}) });
  } catch (e) {
    await execution.stop();
    throw e;
  }
  let closing: Promise<void> | undefined;
  return {
    execution,
    ...(ops ? { ops } : {}),
    close: () =>
      (closing ??= (async () => {
        await execution.stop();
        await ops?.close();
      })()),
  };
}
