// `npm run bench:http`: requests per second and latency of an HTTP-triggered 5-action flow with
// every run's history persisted (group commit), on SQLite and PostgreSQL, next to a bare Fastify
// handler on the same machine (the ceiling). The server runs in its own process pinned to core 0
// (`taskset -c 0`); the load generator is `wrk` (Debian package `wrk`) pinned to core 1, 50
// connections, loopback only, bounded rounds. Writes its section of BENCHMARKS.md.
//
// Environment: BENCH_ROUNDS (default 5), BENCH_SECONDS (default 10), BENCH_CONNECTIONS (50),
// PATCHBAY_TEST_PG_URL (admin URL of the PostgreSQL server; the benchmark creates and drops its
// own database), BENCH_MODES (default "bare,sqlite,postgres"), BENCH_NO_WRITE=1 (print only).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import os from 'node:os';
import { median, machineLine, writeBenchSection } from './report.mjs';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const WARMUP_SECONDS = 3;
const MODES = (process.env.BENCH_MODES ?? 'bare,sqlite,postgres').split(',');
const here = (f) => fileURLToPath(new URL(f, import.meta.url));
const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

if (!has('wrk')) {
  console.error('bench:http needs the load generator wrk: apt-get install -y wrk');
  process.exit(1);
}
const pin = has('taskset');
const pinned = (core, cmd, args) => (pin ? ['taskset', ['-c', String(core), cmd, ...args]] : [cmd, args]);

async function pgDatabase() {
  const admin = process.env.PATCHBAY_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const name = `pb_bench_http_${process.pid}`;
  const c = new pg.Client({ connectionString: admin });
  try {
    await c.connect();
    await c.query(`CREATE DATABASE ${name}`);
  } catch (e) {
    console.error(
      `PostgreSQL not reachable at ${admin.replace(/:[^:@/]*@/, ':***@')}: ${e.message}; skipping the PostgreSQL rows`,
    );
    await c.end().catch(() => undefined);
    return undefined;
  }
  await c.end();
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const d = new pg.Client({ connectionString: admin });
      await d.connect();
      await d.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await d.end();
    },
  };
}

async function startServerProcess(mode, env, nodeArgs = []) {
  const [cmd, args] = pinned(0, process.execPath, [...nodeArgs, here('./http-server.mjs'), mode]);
  const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout });
  const queue = [];
  let waiter;
  lines.on('line', (l) => {
    if (waiter) {
      const w = waiter;
      waiter = undefined;
      w(l);
    } else queue.push(l);
  });
  const nextLine = () => (queue.length ? Promise.resolve(queue.shift()) : new Promise((r) => (waiter = r)));
  const first = JSON.parse(await nextLine());
  return {
    url: first.url,
    cpu: async () => {
      child.kill('SIGUSR2');
      return JSON.parse(await nextLine()).cpuUs;
    },
    stop: async () => {
      child.kill('SIGTERM');
      return JSON.parse(await nextLine());
    },
  };
}

function toMs(v) {
  const m = /^([\d.]+)(us|ms|s)$/.exec(v);
  if (!m) return NaN;
  const n = Number(m[1]);
  return m[2] === 'us' ? n / 1000 : m[2] === 's' ? n * 1000 : n;
}

function wrk(url, seconds) {
  const [cmd, args] = pinned(1, 'wrk', [
    '-t1',
    `-c${CONNECTIONS}`,
    `-d${seconds}s`,
    '--latency',
    '-s',
    here('./http-post.lua'),
    url,
  ]);
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`wrk failed: ${r.stderr}`);
  const out = r.stdout;
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
  const p50 = toMs(/\s50%\s+(\S+)/.exec(out)?.[1] ?? '');
  const p99 = toMs(/\s99%\s+(\S+)/.exec(out)?.[1] ?? '');
  const total = Number(/(\d+) requests in/.exec(out)?.[1] ?? 0);
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0);
  const errors = /Socket errors: (.*)/.exec(out)?.[1];
  return { rps, p50, p99, total, non2xx, errors };
}

const loadBefore = os.loadavg()[0];
const db = MODES.includes('postgres') ? await pgDatabase() : undefined;
const modes = MODES.filter((m) => m !== 'postgres' || db);
const servers = {};
for (const m of modes) servers[m] = await startServerProcess(m, m === 'postgres' ? { BENCH_PG_URL: db.url } : {});
const samples = Object.fromEntries(modes.map((m) => [m, []]));
const answered = Object.fromEntries(modes.map((m) => [m, 0]));
const failures = Object.fromEntries(modes.map((m) => [m, 0]));
for (const m of modes) {
  const w = wrk(servers[m].url, WARMUP_SECONDS);
  answered[m] += w.total - w.non2xx;
  failures[m] += w.non2xx;
}
for (let round = 1; round <= ROUNDS; round++) {
  for (const m of modes) {
    const cpu0 = await servers[m].cpu();
    const s = wrk(servers[m].url, SECONDS);
    s.cpuPerReq = (await servers[m].cpu()) - cpu0;
    s.cpuPerReq /= Math.max(1, s.total);
    samples[m].push(s);
    answered[m] += s.total - s.non2xx;
    failures[m] += s.non2xx;
    console.log(
      `round ${round} ${m.padEnd(8)} ${s.rps.toFixed(0).padStart(7)} req/s  p50 ${s.p50.toFixed(2)} ms  p99 ${s.p99.toFixed(2)} ms  CPU ${s.cpuPerReq.toFixed(1)} µs/req${s.non2xx ? `  non-2xx ${s.non2xx}` : ''}${s.errors ? `  socket errors ${s.errors}` : ''}`,
    );
  }
}
const loadAfter = os.loadavg()[0];
const stats = {};
for (const m of modes) stats[m] = await servers[m].stop();
await db?.drop();

// Where the time goes: one more SQLite round with the V8 CPU profiler, samples grouped by part.
const profileDir = mkdtempSync(join(tmpdir(), 'patchbay-bench-prof-'));
const profiled = await startServerProcess('sqlite', {}, ['--cpu-prof', `--cpu-prof-dir=${profileDir}`]);
wrk(profiled.url, WARMUP_SECONDS);
wrk(profiled.url, SECONDS);
await profiled.stop();
await new Promise((r) => setTimeout(r, 500));
const parts = profileParts(profileDir);
rmSync(profileDir, { recursive: true, force: true });

/** Self time of the profile's samples by part of the request path, in % of the busy samples (idle and module loading left out). */
function profileParts(dir) {
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) return [];
  const p = JSON.parse(readFileSync(join(dir, file), 'utf8'));
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const part = (cf) => {
    const u = cf.url;
    const f = cf.functionName;
    if (
      f === '(idle)' ||
      /node:internal\/modules|cjs-module-lexer/.test(u) ||
      f === 'wrapSafe' ||
      f === 'compileSourceTextModule'
    )
      return undefined;
    if (f === '(garbage collector)') return 'garbage collection';
    if (
      /kysely|better-sqlite3|packages\/storage/.test(u) ||
      ['runRow', 'capHistory'].includes(f) ||
      /run-batcher/.test(u)
    )
      return 'run history: JSON, Kysely, SQLite (incl. its I/O)';
    if (/packages\/(engine|expression)/.test(u)) return 'flow engine and expressions';
    if (/packages\/platform/.test(u)) return 'callback path: signature, flow cache, run ids, response';
    if (
      /fastify|find-my-way|fast-json-stringify|secure-json-parse|ajv|fast-querystring|apps\/server|avvio|light-my-request/.test(
        u,
      )
    )
      return 'Fastify (routing, parsing, validation, hooks, reply)';
    if (
      /node:(_http|net|internal\/(streams|http|net))/.test(u) ||
      ['writev', 'writeBuffer', 'writeUtf8String'].includes(f)
    )
      return 'Node HTTP and sockets';
    if (/async_hooks/.test(u)) return 'async hooks (AsyncLocalStorage of the store makes every promise pay)';
    if (f === '(program)') return 'V8 and native code not attributed to a function';
    if (/node:internal\/crypto/.test(u)) return 'random ids and seeds (crypto)';
    return 'other (Node internals, promises, timers)';
  };
  const acc = new Map();
  let total = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const k = part(byId.get(p.samples[i]).callFrame);
    if (!k) continue;
    const d = p.timeDeltas[i] ?? 0;
    total += d;
    acc.set(k, (acc.get(k) ?? 0) + d);
  }
  return [...acc].sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, (v / Math.max(1, total)) * 100]);
}

const row = (m) => {
  const s = samples[m];
  return {
    rps: median(s.map((x) => x.rps)),
    p50: median(s.map((x) => x.p50)),
    p99: median(s.map((x) => x.p99)),
    cpu: median(s.map((x) => x.cpuPerReq)),
    min: Math.min(...s.map((x) => x.rps)),
    max: Math.max(...s.map((x) => x.rps)),
  };
};
const rows = Object.fromEntries(modes.map((m) => [m, row(m)]));
const fmt = (n) => Math.round(n).toLocaleString('en-US');
const label = {
  bare: 'bare Fastify handler (ceiling): POST → small JSON, nothing else',
  sqlite: 'Patchbay, HTTP-triggered 5-action flow, history persisted to SQLite',
  postgres: 'Patchbay, HTTP-triggered 5-action flow, history persisted to PostgreSQL',
};
const ceiling = rows.bare?.rps;
const table = modes
  .map(
    (m) =>
      `| ${label[m]} | ${fmt(rows[m].rps)} | ${fmt(rows[m].min)}–${fmt(rows[m].max)} | ${rows[m].p50.toFixed(2)} ms | ${rows[m].p99.toFixed(2)} ms | ${ceiling && m !== 'bare' ? `${((rows[m].rps / ceiling) * 100).toFixed(0)} %` : '–'} | ${rows[m].cpu.toFixed(1)} µs | ${fmt(1e6 / rows[m].cpu)} | ${stats[m].maxRssMb} MB |`,
  )
  .join('\n');
const persisted = modes
  .filter((m) => m !== 'bare')
  .map(
    (m) =>
      `${m}: ${fmt(stats[m].runs)} runs in the \`runs\` table for ${fmt(answered[m])} answered requests counted by wrk (${failures[m]} non-2xx), ${fmt(stats[m].batches)} transactions, largest batch ${fmt(stats[m].largestBatch)} runs, mean ${(stats[m].rows / Math.max(1, stats[m].batches)).toFixed(1)} runs per transaction`,
  )
  .join('; ');
const sq = rows.sqlite?.rps ?? 0;
const verdict =
  sq >= 20000
    ? `met (${fmt(sq)} req/s)`
    : `**not met**: ${fmt(sq)} req/s, ${((sq / 20000) * 100).toFixed(0)} % of the target`;
const md = `
## HTTP-triggered flows (\`npm run bench:http\`)

${machineLine()} 1-minute load average: ${loadBefore.toFixed(2)} when the run started, ${loadAfter.toFixed(2)} when it ended, on ${os.cpus().length} cores shared with other work — throughput under such load is bounded by the CPU share the server and wrk get, so the *server CPU per request* column (CPU time of the server process during a round ÷ requests answered) is the steadier measure of cost.

**Method.** \`bench/http.mjs\` starts each server in its own Node.js process pinned to core 0 (\`taskset -c 0\`) and drives it with \`wrk\` pinned to core 1 (1 thread, ${CONNECTIONS} keep-alive connections, loopback only), POSTing \`{"name":"World"}\`. Patchbay's server is the real API (\`@patchbay/server\`, Fastify 5) over a fresh store; the request goes to the flow's signed callback URL, which checks the signature (cached key, no database read), takes the flow from the in-memory flow cache (compiled plan reused), runs trigger → InitializeVariable → Compose → If (SetVariable / SetVariable) → Response in-process, hands the finished run (redacted history record, one \`runs\` row) to the group-commit batcher, and answers with the Response only after the transaction holding that run committed. The ceiling is a bare Fastify 5 handler in the same kind of process. After a ${WARMUP_SECONDS} s warm-up per server, ${ROUNDS} rounds of ${SECONDS} s, servers interleaved within each round; the table gives medians over the rounds (range of the rounds' requests per second), and the peak resident memory of each server process (sampled every 100 ms).

| server | req/s (median) | range | p50 latency | p99 latency | of the ceiling | server CPU per request | 1 s of CPU ÷ CPU per request | peak RSS |
|---|---:|---:|---:|---:|---:|---:|---:|---:|
${table}

Every answered run is persisted: ${persisted}. (wrk stops counting at the end of a round while a few requests are in flight, so the table holds at least as many runs as wrk counted answers.)

**Where the time goes** (SQLite server, one more ${SECONDS} s round under \`node --cpu-prof\`, self time of the busy samples; idle and module loading left out):

| part | share |
|---|---:|
${parts.map(([k, v]) => `| ${k} | ${v.toFixed(1)} % |`).join('\n')}

Target (issue 8): at least 20,000 req/s on SQLite with every run persisted, server on one core, peak memory below 300 MB — ${verdict}; peak RSS ${stats.sqlite?.maxRssMb ?? '–'} MB (SQLite)${stats.postgres ? `, ${stats.postgres.maxRssMb} MB (PostgreSQL)` : ''}.
`;
if (!process.env.BENCH_NO_WRITE) writeBenchSection('http', md);
console.log(md);
