/**
 * Run history on both stores (issue 6 item 4): runs and their action records persisted, large
 * values cut with a marker, secure data redacted, retention pruning, resubmit.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Platform } from '@patchbay/platform';
import type { RunRecord } from '@patchbay/engine';
import { seedFlow, testPlatform } from '../../../test-support/platform.js';

let p: Platform;
let cleanup: () => Promise<void>;

const flowFile = (actions: Record<string, unknown>) => ({
  properties: {
    connectionReferences: {},
    definition: {
      $schema:
        'https://schema.management.azure.com/providers/Microsoft.Logic/schemas/2016-06-01/workflowdefinition.json#',
      contentVersion: '1.0.0.0',
      triggers: { manual: { type: 'Request', kind: 'Http', inputs: { schema: {} } } },
      actions,
    },
  },
  schemaVersion: '1.0.0.0',
});

beforeEach(async () => {
  ({ platform: p, cleanup } = await testPlatform());
  await p.environments.create({ name: 'dev' });
});
afterEach(async () => cleanup());

describe(`run history (${process.env['PATCHBAY_TEST_STORE']})`, () => {
  it('persists each action with status, timing, inputs and outputs; cuts large values with a marker; redacts secure data', async () => {
    await seedFlow(p, {
      environment: 'dev',
      id: 'aaaaaaaa-0000-0000-0000-000000000001',
      name: 'History',
      owner: 'admin',
      connections: [],
      definition: flowFile({
        Big: {
          type: 'Compose',
          inputs: "@concat(string(triggerBody()?['n']), join(createArray('x','x'), ''), substring('0123456789', 0, 1))",
        },
        Huge: { runAfter: { Big: ['Succeeded'] }, type: 'Compose', inputs: "@triggerBody()?['blob']" },
        Secret: {
          runAfter: { Huge: ['Succeeded'] },
          type: 'Compose',
          inputs: "@triggerBody()?['password']",
          runtimeConfiguration: { secureData: { properties: ['inputs', 'outputs'] } },
        },
        Loop: {
          runAfter: { Secret: ['Succeeded'] },
          type: 'Foreach',
          foreach: '@createArray(1,2,3)',
          actions: { Each: { type: 'Compose', inputs: "@items('Loop')" } },
        },
        Answer: {
          runAfter: { Loop: ['Succeeded'] },
          type: 'Response',
          kind: 'Http',
          inputs: { statusCode: 201, body: { ok: true } },
        },
      }),
    });
    const blob = 'z'.repeat(200 * 1024);
    const { run } = await p.runs.run({
      environment: 'dev',
      flow: 'History',
      trigger: { body: { n: 1, blob, password: 'hunter2-very-secret' } },
    });
    const stored = await p.runs.get(run.id);
    expect(stored).toMatchObject({
      status: 'Succeeded',
      flowName: 'History',
      response: { statusCode: 201, body: { ok: true } },
    });
    const rec = stored.record as RunRecord;
    const byName = (n: string) => rec.actions.filter((a) => a.name === n);
    expect(byName('Big')[0]).toMatchObject({ status: 'Succeeded', outputs: '1xx0' });
    expect(typeof byName('Big')[0]?.durationMs).toBe('number');
    expect(byName('Huge')[0]?.outputs).toMatchObject({ $truncated: true, size: blob.length + 2 });
    expect(byName('Secret')[0]).toMatchObject({
      inputs: '[redacted: secure data]',
      outputs: '[redacted: secure data]',
    });
    expect(byName('Each').map((a) => a.repetition?.[0]?.index)).toEqual([0, 1, 2]);
    expect(byName('Loop')[0]?.iterations).toHaveLength(3);
    expect(JSON.stringify(stored)).not.toContain('hunter2-very-secret');
    // the trigger body holds the password too: the trigger outputs are cut (large) — check the whole row
    const listed = await p.runs.list({ environment: 'dev' });
    expect(listed).toMatchObject([{ id: run.id, status: 'Succeeded' }]);
    expect(listed[0]?.record).toBeUndefined();
  });

  it('prunes runs older than the retention and resubmits a run with the same trigger', async () => {
    await seedFlow(p, {
      environment: 'dev',
      id: 'aaaaaaaa-0000-0000-0000-000000000002',
      name: 'Echo',
      owner: 'admin',
      connections: [],
      definition: flowFile({
        Answer: { type: 'Response', kind: 'Http', inputs: { statusCode: 200, body: '@triggerBody()' } },
      }),
    });
    const first = await p.runs.run({ environment: 'dev', flow: 'Echo', trigger: { body: { hello: 'world' } } });
    const again = await p.runs.resubmit({ id: first.run.id });
    expect(again.run).toMatchObject({
      status: 'Succeeded',
      resubmittedFrom: first.run.id,
      startedBy: 'resubmit',
      response: { body: { hello: 'world' } },
    });
    const env = await p.environments.get('dev');
    await p.store.repos.runs.insert({ ...first.run, id: 'old-run', startTime: '2020-01-01T00:00:00.000Z' });
    expect(await p.runs.list({ environment: 'dev' })).toHaveLength(3);
    expect(await p.runs.prune({ environment: 'dev' })).toBe(1);
    expect((await p.runs.list({ environment: 'dev' })).map((r) => r.id).sort()).toEqual(
      [first.run.id, again.run.id].sort(),
    );
    await p.environments.setPolicy({ environment: env.name, policy: { runRetentionDays: 0 } });
    expect(await p.runs.prune({ environment: 'dev' })).toBe(2);
  });
});
