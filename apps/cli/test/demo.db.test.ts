/**
 * Issue 8 must-show: `patchbay demo --exit` on a new data dir (SQLite, and PostgreSQL with
 * --database-url) exits 0 and its output shows the two runs using the two connections.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testStoreLocation, type TestStoreLocation } from '../../../test-support/stores.js';
import { cli } from './helpers.js';

let loc: TestStoreLocation;
beforeAll(async () => {
  loc = await testStoreLocation();
});
afterAll(async () => loc?.cleanup());

describe('patchbay demo --exit', () => {
  it('deploys, calls the flow, re-binds, calls again: two runs, two connections, exit 0', async () => {
    const run = cli(loc.cliArgs, { PATCHBAY_MASTER_KEY: undefined });
    const r = await run('demo', '--exit');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = r.stdout;
    for (const n of [1, 2, 3, 4, 5, 6, 7, 8]) expect(out).toContain(`[${n}] `);
    const conns = [...out.matchAll(/connection ([0-9a-f-]{36}) {2}"Greeting API \((alpha|beta) key\)"/g)].map((m) => ({
      id: m[1]!,
      key: m[2]!,
    }));
    expect(conns.map((c) => c.key)).toEqual(['alpha', 'beta']);
    const runs = [...out.matchAll(/run ([0-9a-f-]{36}) used connection ([0-9a-f-]{36})/g)].map((m) => ({
      run: m[1]!,
      connection: m[2]!,
    }));
    expect(runs).toHaveLength(2);
    expect(runs[0]!.run).not.toBe(runs[1]!.run);
    expect(runs.map((x) => x.connection)).toEqual(conns.map((c) => c.id));
    expect(out).toContain('"keyName":"alpha"');
    expect(out).toContain('"keyName":"beta"');
    expect(out).toContain('"greeting":"Good morning, Ada!"');
    expect(out).toContain('flow definition and modifiedOn unchanged: yes');
    for (const x of runs)
      expect(out).toMatch(
        new RegExp(`run ${x.run}: Succeeded, .*secret.decrypt: action Get_greeting, connection ${x.connection}`),
      );
    expect(out).toContain('result: the same flow called the Greeting API with the alpha key');
    expect(out).not.toContain('demo-key-alpha-7f3a');
    expect(out).not.toContain('demo-key-beta-91c2');
    // The data dir holds the demo now: a second run refuses to mix with it.
    const again = await run('demo', '--exit');
    expect(again.code).toBe(3);
    expect(again.stderr).toContain('DEMO_DATA_DIR_IN_USE');
  });
});
