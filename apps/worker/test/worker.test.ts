/**
 * The worker process's job handling on graphile-worker (PostgreSQL only: this file creates its own
 * database on PATCHBAY_TEST_PG_URL): runs queued by another process (a server) are executed by the
 * worker; /healthz, /readyz and /metrics answer; logs are JSON lines with the run id and without
 * the trigger's secret; `patchbay worker` without a database URL is a usage error.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExecutionService, executionConfig, openPlatform, type Platform } from '@patchbay/platform';
import { createJsonLogger, executionLogger, startWorker, type RunningWorker } from '@patchbay/worker';
import { main } from '../../cli/src/main.js';
import { memoryIO } from '../../cli/src/io.js';
import { adminPgUrl } from '../../../test-support/stores.js';
import { seedFlow } from '../../../test-support/platform.js';

const dbName = `pb_worker_${process.pid}_${randomBytes(4).toString('hex')}`;
const dataDir = mkdtempSync(join(tmpdir(), 'patchbay-worker-'));
const env = { PATCHBAY_MASTER_KEY: randomBytes(32).toString('base64'), PATCHBAY_GRAPHILE_POLL_MS: '200' };
let databaseUrl: string;
let server: Platform;
let workerPlatform: Platform;
let worker: RunningWorker;
let enqueuer: ExecutionService;
const lines: string[] = [];

beforeAll(async () => {
  const admin = new pg.Client({ connectionString: adminPgUrl() });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName}`);
  await admin.end();
  const u = new URL(adminPgUrl());
  u.pathname = `/${dbName}`;
  databaseUrl = u.toString();
  server = await openPlatform({ dataDir, databaseUrl, env });
  workerPlatform = await openPlatform({ dataDir, databaseUrl, env });
  await server.environments.create({ name: 'dev' });
  const logger = createJsonLogger({ write: (l) => lines.push(l), level: 'debug' });
  worker = await startWorker({
    platform: workerPlatform,
    databaseUrl,
    concurrency: 4,
    env,
    logger: executionLogger(logger),
    opsPort: 0,
  });
  enqueuer = await ExecutionService.create({
    platform: server,
    config: executionConfig(env, { databaseUrl }),
    kind: 'server',
  });
});

afterAll(async () => {
  await enqueuer?.stop();
  await worker?.close();
  await workerPlatform?.close();
  await server?.close();
  const admin = new pg.Client({ connectionString: adminPgUrl() });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  await admin.end();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('worker (graphile-worker on PostgreSQL)', () => {
  it('executes runs queued by another process; health, readiness, metrics; JSON logs without secrets', async () => {
    await seedFlow(server, {
      environment: 'dev',
      id: 'eeeeeeee-0000-0000-0000-000000000001',
      name: 'Hello',
      owner: 'admin',
      connections: [],
      definition: {
        properties: {
          definition: {
            triggers: { manual: { type: 'Request', kind: 'Http', inputs: {} } },
            actions: {
              Wait: { type: 'Wait', inputs: { interval: { count: 1, unit: 'Second' } } },
              Say: {
                type: 'Compose',
                runAfter: { Wait: ['Succeeded'] },
                inputs: "@concat('hello ', triggerBody()?['name'])",
              },
            },
          },
        },
      },
    });
    const runs = [];
    for (let i = 0; i < 3; i++)
      runs.push(
        await enqueuer.enqueue({
          environment: 'dev',
          flow: 'Hello',
          trigger: { body: { name: `n${i}`, password: 'pw-very-secret' } },
        }),
      );
    const deadline = Date.now() + 30_000;
    let done: Array<{ status: string } | undefined> = [];
    while (Date.now() < deadline) {
      done = await Promise.all(runs.map((r) => server.store.repos.runs.get(r.id)));
      if (done.every((r) => r && r.status !== 'Running')) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(done.map((r) => r?.status)).toEqual(['Succeeded', 'Succeeded', 'Succeeded']);

    const base = worker.ops!.url;
    expect(await (await fetch(`${base}/healthz`)).json()).toMatchObject({
      status: 'ok',
      node: worker.execution.nodeId,
    });
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/^patchbay_runs_started_total 3$/m);
    expect(metrics).toMatch(/^patchbay_runs_succeeded_total 3$/m);
    expect(metrics).toMatch(/^patchbay_queue_depth\{state="ready",queue="graphile"\} 0$/m);
    expect(metrics).toContain('patchbay_run_queue_to_finish_seconds_count 3');

    const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const finished = parsed.filter((l) => l.msg === 'run finished');
    expect(finished.map((l) => l.runId).sort()).toEqual(runs.map((r) => r.id).sort());
    expect(finished.every((l) => l.status === 'Succeeded' && typeof l.time === 'string' && l.level === 'info')).toBe(
      true,
    );
    expect(lines.join('')).not.toContain('pw-very-secret');
  });

  it('patchbay worker without a database URL is a usage error', async () => {
    const io = memoryIO({ env: {} });
    expect(await main(['--data-dir', dataDir, 'worker'], io)).toBe(1);
    expect(io.stderr).toContain('patchbay serve --workers N');
  });
});
