/**
 * The Recurrence scheduler on both stores (issue 9 item 3): two scheduler instances (as in two
 * server processes) over one store fire a per-second Recurrence once per occurrence; after a
 * long downtime the missed occurrences collapse into one run; a flow turned off stops firing and
 * starts afresh when turned on again. The clock is a manual one, so nothing here waits.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createPlatform,
  ExecutionService,
  executionConfig,
  loadKeyring,
  Scheduler,
  type Platform,
} from '@patchbay/platform';
import { seedFlow } from '../../../test-support/platform.js';
import { testStore } from '../../../test-support/stores.js';

let p: Platform;
let cleanup: () => Promise<void>;
let now = Date.parse('2025-06-02T08:00:00.000Z');
const services: ExecutionService[] = [];

beforeEach(async () => {
  const t = await testStore();
  const keyring = loadKeyring({
    env: { PATCHBAY_MASTER_KEY: randomBytes(32).toString('base64') },
    dataDir: join(t.location.dataDir, 'keys'),
  });
  p = await createPlatform({ store: t.store, keyring, clock: { now: () => now } });
  cleanup = t.cleanup;
  await p.environments.create({ name: 'dev' });
});
afterEach(async () => {
  for (const s of services.splice(0)) await s.stop();
  await cleanup();
});

async function scheduler(): Promise<Scheduler> {
  const svc = await ExecutionService.create({
    platform: p,
    config: executionConfig({}, { queue: 'embedded' }),
    kind: 'server',
  });
  services.push(svc);
  return new Scheduler(svc);
}

describe(`scheduler (${process.env['PATCHBAY_TEST_STORE']})`, () => {
  it('fires a per-second Recurrence once per occurrence with two schedulers; collapses missed occurrences after downtime', async () => {
    await seedFlow(p, {
      environment: 'dev',
      id: 'cccccccc-0000-0000-0000-000000000001',
      name: 'EverySecond',
      owner: 'admin',
      connections: [],
      definition: {
        properties: {
          connectionReferences: {},
          definition: {
            triggers: { Recurrence: { type: 'Recurrence', recurrence: { frequency: 'Second', interval: 1 } } },
            actions: { Note: { type: 'Compose', inputs: "@trigger()['scheduledTime']" } },
          },
        },
      },
    });
    const env = await p.environments.get('dev');
    const [a, b] = [await scheduler(), await scheduler()];
    await Promise.all([a.tick(), b.tick()]); // the schedule starts now: nothing fires yet
    const start = now;
    for (let i = 1; i <= 20; i++) {
      now = start + i * 1000;
      await Promise.all([a.tick(), b.tick(), a.tick()]);
    }
    const runs = await p.store.repos.runs.list({ environmentId: env.id, limit: 1000 });
    expect(runs).toHaveLength(20);
    expect(runs.every((r) => r.startedBy === 'recurrence' && r.status === 'Running')).toBe(true);
    const jobs = await p.store.repos.jobs.depth(new Date(now).toISOString());
    expect(jobs.ready).toBe(20);
    // every occurrence has its run, once
    const sched = (await p.store.repos.schedules.list())[0]!;
    expect(sched.lastOccurrence).toBe(new Date(start + 20_000).toISOString());

    // ten minutes without any scheduler: one run for the most recent missed occurrence
    now = start + 20_000 + 600_000;
    await Promise.all([a.tick(), b.tick()]);
    const after = await p.store.repos.runs.list({ environmentId: env.id, limit: 1000 });
    expect(after).toHaveLength(21);
    expect((await p.store.repos.schedules.list())[0]!.lastOccurrence).toBe(new Date(now).toISOString());

    // turned off: the schedule is dropped; turned on again: it restarts from now
    await p.flows.turnOff({ environment: 'dev', flow: 'EverySecond' });
    now += 10_000;
    const c = await scheduler();
    await c.tick();
    expect(await p.store.repos.schedules.list()).toEqual([]);
    await p.flows.turnOn({ environment: 'dev', flow: 'EverySecond' });
    now += 10_000;
    const d = await scheduler();
    await d.tick();
    expect(await p.store.repos.runs.list({ environmentId: env.id, limit: 1000 })).toHaveLength(21);
    now += 1000;
    await d.tick();
    expect(await p.store.repos.runs.list({ environmentId: env.id, limit: 1000 })).toHaveLength(22);
  });
});
