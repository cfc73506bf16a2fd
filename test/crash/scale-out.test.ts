/**
 * Crash test, scale-out (issue 9 "must show"): one `patchbay serve --workers 0` and two
 * `patchbay worker` processes on PostgreSQL (graphile-worker); 200 runs of a flow with a Delay
 * started through the flow's callback URL; one worker is killed with SIGKILL while the runs are
 * under way. Every run ends Succeeded, exactly one run row per request, and the counter service
 * the flow calls once per run saw each run at least once — more than once only for a run whose
 * history records the call as interrupted by the kill (ActionInterrupted, then repeated).
 * PostgreSQL only: this file creates its own database. Real processes, real HTTP, no timing assertions.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openPlatform, type Platform } from '@patchbay/platform';
import type { RunRecord } from '@patchbay/engine';
import { seedFlow } from '../../test-support/platform.js';
import {
  counterService,
  delayThenCountFlow,
  fire,
  freshPgDatabase,
  spawnCli,
  startServe,
  stop,
  until,
  type CliProcess,
} from './harness.js';

const RUNS = 200;
const procs: CliProcess[] = [];
let cleanup: Array<() => Promise<void> | void> = [];

afterAll(async () => {
  for (const p of procs) await stop(p);
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

describe('crash test: server + two workers on PostgreSQL, one worker killed with SIGKILL', () => {
  it('every one of 200 runs ends Succeeded once; the counter counted one call per run (a repeated delivery, only where an interrupted call is recorded, is recognised by its action tracking id)', async () => {
    const db = await freshPgDatabase('pb_crash');
    cleanup.push(() => db.drop());
    const dataDir = mkdtempSync(join(tmpdir(), 'patchbay-crash-'));
    cleanup.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const env = {
      PATCHBAY_MASTER_KEY: randomBytes(32).toString('base64'),
      PATCHBAY_NODE_TIMEOUT_MS: '3000',
      PATCHBAY_HEARTBEAT_MS: '500',
      PATCHBAY_SWEEP_MS: '500',
      PATCHBAY_GRAPHILE_POLL_MS: '250',
    };
    const counter = await counterService();
    cleanup.push(() => counter.close());

    // Setup through the platform on the same database: an environment that may call 127.0.0.1, the flow, its callback URL.
    const platform: Platform = await openPlatform({ dataDir, databaseUrl: db.url, env });
    cleanup.push(() => platform.close());
    await platform.environments.create({ name: 'dev', policy: { allowLoopback: true } });
    await seedFlow(platform, {
      environment: 'dev',
      id: 'f0000000-0000-0000-0000-000000000001',
      name: 'DelayThenCount',
      owner: 'admin',
      connections: [],
      definition: delayThenCountFlow(counter.url, 2),
    });

    const globals = ['--data-dir', dataDir, '--database-url', db.url];
    const server = await startServe(globals, ['--workers', '0'], env);
    procs.push(server.cli);
    const callback = await platform.triggers.listCallbackUrl({ environment: 'dev', flow: 'DelayThenCount' });
    const url = server.url + callback.url.slice(callback.url.indexOf('/api/v1/'));
    const workers = [
      spawnCli([...globals, 'worker', '--concurrency', '10'], env),
      spawnCli([...globals, 'worker', '--concurrency', '10'], env),
    ];
    procs.push(...workers);
    await Promise.all(workers.map((w) => w.waitForLine(/"msg":"worker ready"/)));
    const victimNode = String(workers[0]!.logs().find((l) => l.msg === 'worker ready')!.node);

    const answers = await fire(url, RUNS, 25, (i) => ({ n: i }));
    expect(answers.map((a) => a.status)).toEqual(answers.map(() => 202));
    const runIds = answers.map((a) => String(a.json.runId));
    expect(new Set(runIds).size).toBe(RUNS);

    // Kill worker 1 while it holds runs (it starts runs and parks them on the Delay, then finishes them).
    await until(
      async () => workers[0]!.logs().filter((l) => l.msg === 'run finished').length >= 10 || undefined,
      'the first worker to finish some runs',
    );
    const activeAtKill = (await Promise.all(runIds.map((id) => platform.store.repos.runStates.get(id)))).filter(
      (r) => r?.owner === victimNode,
    ).length;
    workers[0]!.proc.kill('SIGKILL');
    const killed = await workers[0]!.exited;
    expect(killed.signal).toBe('SIGKILL');

    const runs = await until(
      async () => {
        const rows = await Promise.all(runIds.map((id) => platform.store.repos.runs.get(id)));
        return rows.every((r) => r && r.status !== 'Running') ? rows.map((r) => r!) : undefined;
      },
      'all runs to end',
      90_000,
    );
    expect(runs.map((r) => r.status)).toEqual(runs.map(() => 'Succeeded'));
    const env0 = await platform.environments.get('dev');
    const all = await platform.store.repos.runs.list({ environmentId: env0.id, limit: 10_000 });
    expect(all).toHaveLength(RUNS); // no run duplicated
    let interrupted = 0;
    for (const r of runs) {
      const count = (r.record as RunRecord).actions.find((a) => a.name === 'Count')!;
      const cut = (count.attempts ?? []).filter((a) => a.error?.code === 'ActionInterrupted').length;
      interrupted += cut;
      const calls = counter.calls.get(r.id) ?? 0;
      expect(calls, `counted calls of run ${r.id}`).toBe(1);
      expect(counter.deliveries.get(r.id) ?? 0, `deliveries to run ${r.id}`).toBeLessThanOrEqual(1 + cut);
    }
    expect(counter.total()).toBe(RUNS); // the counter was called once per run
    // Each run was finished by exactly one process (a finish is logged after its commit).
    const finishedBy = new Map<string, number>();
    for (const w of workers)
      for (const l of w.logs())
        if (l.msg === 'run finished') finishedBy.set(String(l.runId), (finishedBy.get(String(l.runId)) ?? 0) + 1);
    expect([...finishedBy.values()].every((n) => n === 1)).toBe(true);
    // The dead worker's node was found dead and removed.
    expect(await platform.store.repos.executionNodes.get(victimNode)).toBeUndefined();
    const recovered =
      workers[1]!.logs().filter((l) => l.msg === 'run resumed after its node died').length +
      server.cli.logs().filter((l) => l.msg === 'run resumed after its node died').length;
    console.log(
      `crash test (scale-out): ${RUNS} runs Succeeded; counted calls ${counter.total()} (repeated deliveries recognised by x-ms-action-tracking-id: ${counter.repeated()}); runs held by the killed worker just before the kill: ${activeAtKill}; runs resumed elsewhere: ${recovered}; calls recorded as interrupted: ${interrupted}`,
    );
  }, 150_000);
});
