// `npm run bench:execution`: runs per second of the 5-action flow through the durable queue, and
// queue-to-finish latency (p50/p99), in three set-ups:
//   - embedded: one process, SQLite store, embedded queue (jobs table), 4 in-process workers —
//     what `patchbay serve` runs on SQLite;
//   - scale-out with 1 and with 2 `patchbay worker` processes (graphile-worker on PostgreSQL,
//     concurrency 10 each); this process plays the API server and only enqueues.
// Two measurements per set-up:
//   - live: 16 concurrent callers enqueue RUNS runs while the workers run them; runs/s from the first
//     enqueue to the last end, latency = enqueue → end of each run;
//   - drain: RUNS runs are queued first, then the workers start; runs/s = RUNS / (first run's start
//     → last run's end): what the workers alone sustain.
// Each run: enqueue (history row + sealed start request + job, one transaction) → a worker takes
// the job, takes the run, starts it (the flow is built-in only: it ends in its first step) and
// writes the final state, history record and phase in one transaction.
// Writes its section of BENCHMARKS.md. PostgreSQL from PATCHBAY_TEST_PG_URL (admin URL; the
// benchmark creates and drops its own databases).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import {
  createPlatform,
  ExecutionService,
  executionConfig,
  loadKeyring,
  openPlatform,
  reevaluateEnvironment,
} from '@patchbay/platform';
import { openStore } from '@patchbay/storage';
import { median, percentile, machineLine, writeBenchSection } from './report.mjs';

const RUNS = Number(process.env.BENCH_RUNS ?? 1000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const ENQUEUERS = Number(process.env.BENCH_ENQUEUERS ?? 16);
const ADMIN_PG = process.env.PATCHBAY_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const BIN = fileURLToPath(new URL('../apps/cli/bin/patchbay.js', import.meta.url));
const MASTER_KEY = randomBytes(32).toString('base64');

const fiveActions = {
  properties: {
    connectionReferences: {},
    definition: {
      triggers: { manual: { type: 'Request', kind: 'Http', inputs: { schema: {} } } },
      actions: {
        Init: { type: 'InitializeVariable', inputs: { variables: [{ name: 'greeting', type: 'string', value: '' }] } },
        Name: { type: 'Compose', inputs: "@triggerBody()?['name']", runAfter: { Init: ['Succeeded'] } },
        Known: {
          type: 'If',
          expression: { and: [{ equals: ["@outputs('Name')", 'World'] }] },
          actions: {
            Greet: { type: 'SetVariable', inputs: { name: 'greeting', value: "@{concat('Hello ', outputs('Name'))}" } },
          },
          else: { actions: { Unknown: { type: 'SetVariable', inputs: { name: 'greeting', value: 'Who?' } } } },
          runAfter: { Name: ['Succeeded'] },
        },
        Reply: {
          type: 'Response',
          inputs: { statusCode: 200, body: { greeting: "@variables('greeting')" } },
          runAfter: { Known: ['Succeeded'] },
        },
      },
    },
  },
};

async function seed(platform) {
  await platform.environments.create({ name: 'bench' });
  const env = await platform.environments.get('bench');
  const owner = await platform.principals.get('admin');
  const now = new Date().toISOString();
  await platform.store.transaction(async (tx) => {
    await tx.flows.insert({
      id: 'b0000000-0000-0000-0000-000000000005',
      environmentId: env.id,
      name: 'FiveActions',
      definition: fiveActions,
      connections: [],
      childFlowIds: [],
      ownerId: owner.id,
      coOwnerIds: [],
      turnedOn: true,
      suspended: false,
      state: 'Off',
      reasons: [],
      modifiedOn: now,
      stateChangedOn: now,
      createdOn: now,
    });
    await reevaluateEnvironment(platform.ctx, tx, env.id);
  });
  return env;
}

/** Enqueues RUNS runs with ENQUEUERS concurrent callers; returns run id → enqueue time and the enqueue rate. */
async function enqueueAll(execution) {
  const enqueuedAt = new Map();
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: ENQUEUERS }, async () => {
      for (;;) {
        const i = next++;
        if (i >= RUNS) return;
        const t = Date.now();
        const run = await execution.enqueue({
          environment: 'bench',
          flow: 'b0000000-0000-0000-0000-000000000005',
          trigger: { body: { name: 'World' } },
        });
        enqueuedAt.set(run.id, t);
      }
    }),
  );
  return { enqueuedAt, enqueuePerSecond: RUNS / ((performance.now() - started) / 1000) };
}

/** Waits until every run ended; checks each answered; returns their start and end times. */
async function ended(platform, env, ids) {
  const want = new Set(ids);
  for (;;) {
    const rows = await platform.store.repos.runs.list({ environmentId: env.id, limit: RUNS * 4, status: 'Running' });
    if (rows.filter((r) => want.has(r.id)).length === 0) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  const out = [];
  for (const id of ids) {
    const run = await platform.store.repos.runs.get(id);
    if (run.status !== 'Succeeded' || run.response?.body?.greeting !== 'Hello World')
      throw new Error(`run ${id} ended ${run.status} with ${JSON.stringify(run.response)}`);
    out.push({ id, start: Date.parse(run.startTime), end: Date.parse(run.endTime) });
  }
  return out;
}

/** Live: enqueue while the workers run. */
async function liveRound(execution, platform, env) {
  const wallStart = Date.now();
  const { enqueuedAt, enqueuePerSecond } = await enqueueAll(execution);
  const runs = await ended(platform, env, [...enqueuedAt.keys()]);
  const last = Math.max(...runs.map((r) => r.end));
  return {
    perSecond: RUNS / ((last - wallStart) / 1000),
    enqueuePerSecond,
    latencies: runs.map((r) => r.end - enqueuedAt.get(r.id)),
  };
}

/** Drain: queue first, then `start()` the workers, measure them alone; `stop()` afterwards. */
async function drainRound(execution, platform, env, start, stop) {
  const { enqueuedAt } = await enqueueAll(execution);
  await start();
  const runs = await ended(platform, env, [...enqueuedAt.keys()]);
  await stop();
  const first = Math.min(...runs.map((r) => r.start));
  const last = Math.max(...runs.map((r) => r.end));
  return RUNS / ((last - first) / 1000);
}

async function measure(label, o) {
  const load = [];
  const live = [];
  const drain = [];
  await o.startWorkers();
  await liveRound(o.execution, o.platform, o.env); // warm-up (not counted)
  for (let i = 0; i < ROUNDS; i++) {
    load.push(os.loadavg()[0]);
    live.push(await liveRound(o.execution, o.platform, o.env));
  }
  await o.stopWorkers();
  for (let i = 0; i < ROUNDS; i++) {
    load.push(os.loadavg()[0]);
    drain.push(await drainRound(o.execution, o.platform, o.env, o.startWorkers, o.stopWorkers));
  }
  const rates = live.map((r) => r.perSecond);
  const lat = live.flatMap((r) => r.latencies);
  const s = {
    label,
    live: median(rates),
    liveMin: Math.min(...rates),
    liveMax: Math.max(...rates),
    enqueue: median(live.map((r) => r.enqueuePerSecond)),
    p50: percentile(lat, 50),
    p99: percentile(lat, 99),
    drain: median(drain),
    drainMin: Math.min(...drain),
    drainMax: Math.max(...drain),
    load: median(load),
  };
  console.log(
    `${label}: live ${s.live.toFixed(0)} runs/s (enqueue ${s.enqueue.toFixed(0)}/s, p50 ${s.p50} ms, p99 ${s.p99} ms); drain ${s.drain.toFixed(0)} runs/s; load ${s.load.toFixed(2)}`,
  );
  return s;
}

const results = [];

// ---------------------------------------------------------------- embedded
{
  const dir = mkdtempSync(join(tmpdir(), 'patchbay-bench-exec-'));
  const store = await openStore({ sqliteFile: join(dir, 'patchbay.db') });
  const keyring = loadKeyring({ env: { PATCHBAY_MASTER_KEY: MASTER_KEY }, dataDir: join(dir, 'keys') });
  const platform = await createPlatform({ store, keyring });
  const env = await seed(platform);
  const config = executionConfig({ PATCHBAY_QUEUE_POLL_MS: '100' }, { queue: 'embedded' });
  let execution = await ExecutionService.create({ platform, config, kind: 'embedded' });
  results.push(
    await measure('embedded (SQLite, embedded queue, 4 in-process workers)', {
      get execution() {
        return execution;
      },
      platform,
      env,
      startWorkers: async () => {
        await execution.startWorkers(4);
      },
      stopWorkers: async () => {
        await execution.stop();
        execution = await ExecutionService.create({ platform, config, kind: 'embedded' });
      },
    }),
  );
  await execution.stop();
  await platform.close();
  rmSync(dir, { recursive: true, force: true });
}

// ---------------------------------------------------------------- scale-out
for (const workers of [1, 2]) {
  const name = `pb_bench_exec_${process.pid}_${workers}`;
  const admin = new pg.Client({ connectionString: ADMIN_PG });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const u = new URL(ADMIN_PG);
  u.pathname = `/${name}`;
  const databaseUrl = u.toString();
  const dir = mkdtempSync(join(tmpdir(), 'patchbay-bench-exec-'));
  const env = { PATCHBAY_MASTER_KEY: MASTER_KEY };
  const platform = await openPlatform({ dataDir: dir, databaseUrl, env });
  const benchEnv = await seed(platform);
  const execution = await ExecutionService.create({
    platform,
    config: executionConfig(env, { databaseUrl }),
    kind: 'server',
  });
  let procs = [];
  const startWorkers = async () => {
    procs = Array.from({ length: workers }, () =>
      spawn(
        process.execPath,
        [BIN, '--data-dir', dir, '--database-url', databaseUrl, 'worker', '--concurrency', '10', '--log-level', 'warn'],
        { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit'] },
      ),
    );
    for (;;) {
      const nodes = await platform.store.repos.executionNodes.list();
      if (nodes.filter((n) => n.kind === 'worker').length === workers) break;
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const stopWorkers = async () => {
    for (const p of procs) p.kill('SIGTERM');
    await Promise.all(procs.map((p) => new Promise((r) => (p.exitCode !== null ? r() : p.on('exit', r)))));
    procs = [];
  };
  results.push(
    await measure(
      `scale-out (PostgreSQL, graphile-worker, ${workers} worker process${workers > 1 ? 'es' : ''} × concurrency 10)`,
      { execution, platform, env: benchEnv, startWorkers, stopWorkers },
    ),
  );
  await execution.stop();
  await platform.close();
  rmSync(dir, { recursive: true, force: true });
  const c = new pg.Client({ connectionString: ADMIN_PG });
  await c.connect();
  await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await c.end();
}

const fmt = (n) => Math.round(n).toLocaleString('en-US');
const rows = results
  .map(
    (r) =>
      `| ${r.label} | ${fmt(r.live)} (${fmt(r.liveMin)}–${fmt(r.liveMax)}) | ${fmt(r.enqueue)} | ${fmt(r.p50)} | ${fmt(r.p99)} | ${fmt(r.drain)} (${fmt(r.drainMin)}–${fmt(r.drainMax)}) | ${r.load.toFixed(2)} |`,
  )
  .join('\n');
writeBenchSection(
  'execution',
  `## Queued execution (\`npm run bench:execution\`)

${machineLine()}

Method: \`bench/execution.mjs\`, built packages. The flow is the 5-action flow of the engine benchmark
(trigger → InitializeVariable → Compose → If (SetVariable / SetVariable) → Response), run through the
durable queue: each run is enqueued (history row, sealed start request and job in one transaction),
taken by a worker (job claim, compare-and-set on the run), started (it ends in its first engine step)
and finished (sealed state, redacted history record and phase in one transaction). Set-ups: *embedded*
is one process (SQLite, embedded queue, 4 in-process workers), as \`patchbay serve\` on SQLite;
*scale-out* is this process enqueuing like an API server while 1 or 2 \`patchbay worker\` processes
(concurrency 10) run the jobs from graphile-worker on a fresh PostgreSQL database on the same machine.
*Live*: ${ENQUEUERS} concurrent callers enqueue ${RUNS} runs while the workers run them; runs/s is ${RUNS} over the
time from the first enqueue to the last run's end (median of ${ROUNDS} rounds after a warm-up round, range in
brackets), *enqueue/s* the enqueue rate alone, *p50/p99* the time from enqueue to each run's end over
all runs of the rounds (it includes the wait behind the backlog when the workers are slower than the
callers). *Drain*: ${RUNS} runs are queued first, then the workers start; runs/s is ${RUNS} over the time from the
first run's start to the last run's end (median of ${ROUNDS} rounds): what the workers alone sustain. Load is
the median 1-minute load average during the rounds: every process (PostgreSQL, workers, enqueuer) shares
the machine's ${os.cpus().length} cores, and other work on the machine shows in it, so the scale-out rows
measure contention on one small box rather than the gain of a second machine.

| set-up | live runs/s (range) | enqueue/s | p50 ms | p99 ms | drain runs/s (range) | load |
|---|---:|---:|---:|---:|---:|---:|
${rows}
`,
);
console.log('BENCHMARKS.md: execution section written');
