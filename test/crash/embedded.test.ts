/**
 * Crash test, embedded (issue 9 "must show"): `patchbay serve --workers 8` on the SQLite store;
 * 200 runs of a flow with a Delay started through the flow's callback URL; the server process is
 * killed with SIGKILL while the runs are under way and started again on the same data directory.
 * The restarted server finds the dead node (its process is gone), takes over its runs and jobs,
 * and every run ends Succeeded, once; the counter service saw each run at least once — more than
 * once only for a run whose history records the call as interrupted. Real processes, real HTTP.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openPlatform, type Platform } from '@patchbay/platform';
import type { RunRecord } from '@patchbay/engine';
import { seedFlow } from '../../test-support/platform.js';
import { counterService, delayThenCountFlow, fire, startServe, stop, until, type CliProcess } from './harness.js';

const RUNS = 200;
const procs: CliProcess[] = [];
let cleanup: Array<() => Promise<void> | void> = [];

afterAll(async () => {
  for (const p of procs) await stop(p);
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

describe('crash test: embedded server on SQLite killed with SIGKILL and restarted', () => {
  it('every one of 200 runs ends Succeeded once after the restart; the counter counted one call per run (a repeated delivery, only where an interrupted call is recorded, is recognised by its action tracking id)', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'patchbay-crash-embedded-'));
    cleanup.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const env = {
      PATCHBAY_MASTER_KEY: randomBytes(32).toString('base64'),
      PATCHBAY_SWEEP_MS: '500',
      PATCHBAY_HEARTBEAT_MS: '500',
    };
    const counter = await counterService();
    cleanup.push(() => counter.close());

    const platform: Platform = await openPlatform({ dataDir, env });
    await platform.environments.create({ name: 'dev', policy: { allowLoopback: true } });
    await seedFlow(platform, {
      environment: 'dev',
      id: 'f0000000-0000-0000-0000-000000000002',
      name: 'DelayThenCount',
      owner: 'admin',
      connections: [],
      definition: delayThenCountFlow(counter.url, 2),
    });
    const callback = await platform.triggers.listCallbackUrl({ environment: 'dev', flow: 'DelayThenCount' });
    const path = callback.url.slice(callback.url.indexOf('/api/v1/'));
    const envId = (await platform.environments.get('dev')).id;
    await platform.close();

    const globals = ['--data-dir', dataDir];
    const first = await startServe(globals, ['--workers', '8'], env);
    procs.push(first.cli);
    const answers = await fire(first.url + path, RUNS, 25, (i) => ({ n: i }));
    expect(answers.map((a) => a.status)).toEqual(answers.map(() => 202));
    const runIds = answers.map((a) => String(a.json.runId));
    expect(new Set(runIds).size).toBe(RUNS);
    await until(
      async () => first.cli.logs().filter((l) => l.msg === 'run finished').length >= 10 || undefined,
      'the server to finish some runs',
    );
    first.cli.proc.kill('SIGKILL');
    expect((await first.cli.exited).signal).toBe('SIGKILL');
    const finishedBeforeKill = first.cli.logs().filter((l) => l.msg === 'run finished').length;

    const second = await startServe(globals, ['--workers', '8'], env);
    procs.push(second.cli);
    const reader = await openPlatform({ dataDir, env });
    cleanup.push(() => reader.close());
    const runs = await until(
      async () => {
        const rows = await Promise.all(runIds.map((id) => reader.store.repos.runs.get(id)));
        return rows.every((r) => r && r.status !== 'Running') ? rows.map((r) => r!) : undefined;
      },
      'all runs to end after the restart',
      90_000,
    );
    expect(runs.map((r) => r.status)).toEqual(runs.map(() => 'Succeeded'));
    expect(await reader.store.repos.runs.list({ environmentId: envId, limit: 10_000 })).toHaveLength(RUNS);
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
    const finishedBy = new Map<string, number>();
    for (const p of [first.cli, second.cli])
      for (const l of p.logs())
        if (l.msg === 'run finished') finishedBy.set(String(l.runId), (finishedBy.get(String(l.runId)) ?? 0) + 1);
    expect([...finishedBy.values()].every((n) => n === 1)).toBe(true);
    const resumed = second.cli.logs().filter((l) => l.msg === 'run resumed after its node died').length;
    expect(second.cli.logs().some((l) => l.msg === 'dead nodes found')).toBe(true);
    console.log(
      `crash test (embedded): ${RUNS} runs Succeeded; ${finishedBeforeKill} had finished before the kill; runs resumed by the restarted server: ${resumed}; counted calls ${counter.total()} (repeated deliveries recognised by x-ms-action-tracking-id: ${counter.repeated()}); calls recorded as interrupted: ${interrupted}`,
    );
  }, 150_000);
});
