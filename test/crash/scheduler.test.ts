/**
 * Scheduler with two server processes (issue 9 "must show"): two `patchbay serve --workers 2` on
 * one PostgreSQL database both run the scheduler; a flow with a Recurrence every second fires
 * once per occurrence for about 20 seconds: every occurrence between the first and the last has
 * exactly one run (no gap, no duplicate), each run was fired by one of the two processes, and every
 * run ends Succeeded with its scheduledTime. PostgreSQL only: this file creates its own database.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openPlatform, type Platform } from '@patchbay/platform';
import type { RunRecord } from '@patchbay/engine';
import { seedFlow } from '../../test-support/platform.js';
import { freshPgDatabase, startServe, stop, until, type CliProcess } from './harness.js';

const procs: CliProcess[] = [];
let cleanup: Array<() => Promise<void> | void> = [];

afterAll(async () => {
  for (const p of procs) await stop(p);
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

describe('scheduler: two server processes, one Recurrence every second', () => {
  it('fires once per occurrence over 20 seconds', async () => {
    const db = await freshPgDatabase('pb_sched');
    cleanup.push(() => db.drop());
    const dataDir = mkdtempSync(join(tmpdir(), 'patchbay-sched-'));
    cleanup.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const env = {
      PATCHBAY_MASTER_KEY: randomBytes(32).toString('base64'),
      PATCHBAY_SCHEDULER_REFRESH_MS: '500',
      PATCHBAY_SCHEDULER_TICK_MS: '200',
      PATCHBAY_GRAPHILE_POLL_MS: '250',
    };
    const platform: Platform = await openPlatform({ dataDir, databaseUrl: db.url, env });
    cleanup.push(() => platform.close());
    await platform.environments.create({ name: 'dev' });
    await seedFlow(platform, {
      environment: 'dev',
      id: 'f0000000-0000-0000-0000-0000000000aa',
      name: 'EverySecond',
      owner: 'admin',
      connections: [],
      definition: {
        properties: {
          connectionReferences: {},
          definition: {
            triggers: { Recurrence: { type: 'Recurrence', recurrence: { frequency: 'Second', interval: 1 } } },
            actions: { When: { type: 'Compose', inputs: "@trigger()['scheduledTime']" } },
          },
        },
      },
    });
    const envId = (await platform.environments.get('dev')).id;
    const globals = ['--data-dir', dataDir, '--database-url', db.url];
    const servers = [
      await startServe(globals, ['--workers', '2'], env),
      await startServe(globals, ['--workers', '2'], env),
    ];
    procs.push(...servers.map((s) => s.cli));
    const recurrenceRuns = async () =>
      (await platform.store.repos.runs.list({ environmentId: envId, limit: 10_000, withRecord: true })).filter(
        (r) => r.startedBy === 'recurrence',
      );

    await until(
      async () => (await recurrenceRuns()).filter((r) => r.status === 'Succeeded').length >= 20 || undefined,
      '20 occurrences',
      60_000,
    );
    // Stop the schedule (both schedulers reload the flows every 500 ms), let the queued runs end.
    await platform.flows.turnOff({ environment: 'dev', flow: 'EverySecond' });
    await new Promise((r) => setTimeout(r, 1500));
    const runs = await until(async () => {
      const all = await recurrenceRuns();
      return all.every((r) => r.status !== 'Running') ? all : undefined;
    }, 'the fired runs to end');
    expect(runs.length).toBeGreaterThanOrEqual(20);
    expect(runs.every((r) => r.status === 'Succeeded')).toBe(true);
    const times = runs.map((r) => Date.parse((r.record as RunRecord).trigger.scheduledTime!)).sort((a, b) => a - b);
    expect(new Set(times).size).toBe(times.length); // no occurrence fired twice
    for (let i = 1; i < times.length; i++)
      expect(times[i]! - times[i - 1]!, `gap after ${new Date(times[i - 1]!).toISOString()}`).toBe(1000); // none skipped
    const outputs = runs.map((r) => (r.record as RunRecord).actions[0]!.outputs);
    expect(outputs.sort()).toEqual(times.map((t) => new Date(t).toISOString()));
    const firedBy = servers.map((s) =>
      s.cli
        .logs()
        .filter((l) => l.msg === 'recurrence fired')
        .map((l) => String(l.occurrence)),
    );
    expect(firedBy[0]!.filter((o) => firedBy[1]!.includes(o))).toEqual([]);
    expect(new Set([...firedBy[0]!, ...firedBy[1]!]).size).toBe(runs.length);
    console.log(
      `scheduler test: ${runs.length} occurrences, each fired once; fired by server 1: ${firedBy[0]!.length}, by server 2: ${firedBy[1]!.length}`,
    );
  }, 120_000);
});
