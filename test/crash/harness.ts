/**
 * Helpers of the crash and scheduler tests: spawn the built `patchbay` CLI as real processes,
 * read their JSON log lines, a counter HTTP service on 127.0.0.1, a fresh PostgreSQL database.
 * The tests use the build (`npm test` builds first; `npx tsc -b` when running them alone).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { adminPgUrl } from '../../test-support/stores.js';

const BIN = fileURLToPath(new URL('../../apps/cli/bin/patchbay.js', import.meta.url));

/** A spawned `patchbay` process. */
export interface CliProcess {
  proc: ChildProcess;
  /** Every stdout line so far. */
  lines: string[];
  /** JSON log lines parsed (non-JSON lines skipped). */
  logs(): Array<Record<string, unknown>>;
  /** Resolves with the first stdout line matching `re` (rejects after `ms` or when the process exits). */
  waitForLine(re: RegExp, ms?: number): Promise<string>;
  /** Resolves with the exit code/signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr(): string;
}

/** Spawns `node apps/cli/bin/patchbay.js ...args`. */
export function spawnCli(args: string[], env: Record<string, string>): CliProcess {
  const proc = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let err = '';
  let buf = '';
  const watchers: Array<{ re: RegExp; resolve: (l: string) => void }> = [];
  proc.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    buf += chunk;
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      lines.push(line);
      for (const w of [...watchers])
        if (w.re.test(line)) {
          watchers.splice(watchers.indexOf(w), 1);
          w.resolve(line);
        }
    }
  });
  proc.stderr!.setEncoding('utf8').on('data', (c: string) => (err += c));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    proc,
    lines,
    logs: () =>
      lines.flatMap((l) => {
        if (!l.startsWith('{')) return [];
        try {
          return [JSON.parse(l) as Record<string, unknown>];
        } catch {
          return [];
        }
      }),
    waitForLine(re, ms = 30_000) {
      const hit = lines.find((l) => re.test(l));
      if (hit) return Promise.resolve(hit);
      return new Promise((resolve, reject) => {
        const t = setTimeout(
          () => reject(new Error(`no line matching ${re} within ${ms} ms; stderr: ${err.slice(-2000)}`)),
          ms,
        );
        watchers.push({ re, resolve: (l) => (clearTimeout(t), resolve(l)) });
        void exited.then((x) => {
          clearTimeout(t);
          reject(
            new Error(
              `process exited (${x.code ?? x.signal}) before a line matching ${re}; stderr: ${err.slice(-2000)}`,
            ),
          );
        });
      });
    },
    exited,
    stderr: () => err,
  };
}

/** Starts `patchbay serve` and returns it with its base URL. */
export async function startServe(
  globalArgs: string[],
  extra: string[],
  env: Record<string, string>,
): Promise<{ cli: CliProcess; url: string }> {
  const cli = spawnCli([...globalArgs, 'serve', '--port', '0', ...extra], env);
  const line = await cli.waitForLine(/^Patchbay API listening on /);
  const url = /listening on (http:\/\/[^/\s]+)/.exec(line)![1]!;
  return { cli, url };
}

/** Stops a process: SIGTERM, then SIGKILL after `ms`. */
export async function stop(p: CliProcess | undefined, ms = 15_000): Promise<void> {
  if (!p || p.proc.exitCode !== null || p.proc.signalCode !== null) return;
  p.proc.kill('SIGTERM');
  const t = setTimeout(() => p.proc.kill('SIGKILL'), ms);
  await p.exited;
  clearTimeout(t);
}

/**
 * A local HTTP service that counts calls per run (`run` query parameter), the way an idempotent
 * receiver does: a repeated delivery of the same action execution (same `x-ms-action-tracking-id`,
 * sent again after a worker died while the call was in flight) is recognised and not counted
 * twice. `calls` are the counted calls per run; `deliveries` every request received.
 */
export async function counterService(): Promise<{
  url: string;
  calls: Map<string, number>;
  deliveries: Map<string, number>;
  total: () => number;
  repeated: () => number;
  close(): void;
}> {
  const calls = new Map<string, number>();
  const deliveries = new Map<string, number>();
  const seen = new Set<string>();
  let total = 0;
  let repeated = 0;
  const server: Server = createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    const run = u.searchParams.get('run') ?? '';
    const tracking = String(req.headers['x-ms-action-tracking-id'] ?? '');
    deliveries.set(run, (deliveries.get(run) ?? 0) + 1);
    if (tracking && seen.has(tracking)) repeated++;
    else {
      if (tracking) seen.add(tracking);
      total++;
      calls.set(run, (calls.get(run) ?? 0) + 1);
    }
    req.resume();
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ counted: calls.get(run) }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    deliveries,
    total: () => total,
    repeated: () => repeated,
    close: () => server.close(),
  };
}

/** POSTs `n` requests to `url`, `parallel` at a time; returns the JSON answers. */
export async function fire(
  url: string,
  n: number,
  parallel: number,
  body: (i: number) => unknown,
): Promise<Array<{ status: number; json: Record<string, unknown> }>> {
  const out: Array<{ status: number; json: Record<string, unknown> }> = new Array(n);
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      for (;;) {
        const i = next++;
        if (i >= n) return;
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body(i)),
        });
        out[i] = { status: res.status, json: (await res.json()) as Record<string, unknown> };
      }
    }),
  );
  return out;
}

/** A new PostgreSQL database on the test server; `drop()` removes it. */
export async function freshPgDatabase(prefix: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminPgUrl() });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const u = new URL(adminPgUrl());
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: adminPgUrl() });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

/** Polls `fn` every 100 ms until it returns a truthy value; throws after `ms`. */
export async function until<T>(fn: () => Promise<T | undefined | false>, what: string, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The flow of the crash tests: Delay, then one POST to the counter with the run id (explicit retry policy: safe to repeat). */
export function delayThenCountFlow(counterUrl: string, delaySeconds: number): unknown {
  return {
    properties: {
      connectionReferences: {},
      definition: {
        triggers: { manual: { type: 'Request', kind: 'Http', inputs: { schema: {} } } },
        actions: {
          Delay: { type: 'Wait', inputs: { interval: { count: delaySeconds, unit: 'Second' } } },
          Count: {
            type: 'Http',
            runAfter: { Delay: ['Succeeded'] },
            inputs: {
              method: 'POST',
              uri: `${counterUrl}/count?run=@{workflow()['run']['name']}`,
              body: { n: "@triggerBody()?['n']" },
              retryPolicy: { type: 'fixed', count: 3, interval: 'PT1S' },
            },
          },
        },
      },
    },
  };
}
