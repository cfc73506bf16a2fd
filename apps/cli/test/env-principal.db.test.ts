import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testStoreLocation, type TestStoreLocation } from '../../../test-support/stores.js';
import { cli } from './helpers.js';

let loc: TestStoreLocation;
let run: ReturnType<typeof cli>;

beforeAll(async () => {
  loc = await testStoreLocation();
  run = cli(loc.cliArgs);
});
afterAll(async () => loc.cleanup());

describe(`patchbay env / principal (${process.env['PATCHBAY_TEST_STORE']})`, () => {
  it('creates an environment and lists it as JSON', async () => {
    const created = await run('env', 'create', 'dev', '--json');
    expect(created.code).toBe(0);
    expect(created.json()).toMatchObject({ name: 'dev' });
    const list = await run('env', 'list', '--json');
    expect(list.code).toBe(0);
    expect(list.json<Array<{ name: string }>>().map((e) => e.name)).toEqual(['dev']);
  });

  it('refuses a duplicate environment name ignoring case (exit 3) and a bad name (exit 2)', async () => {
    const dup = await run('env', 'create', 'DEV');
    expect(dup.code).toBe(3);
    expect(dup.stderr).toContain('ENVIRONMENT_EXISTS');
    const bad = await run('env', 'create', 'no spaces');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('ENVIRONMENT_NAME_INVALID');
  });

  it('creates users and service principals and disables them', async () => {
    expect((await run('principal', 'create', 'alice')).code).toBe(0);
    const sp = await run('principal', 'create', 'build-sp', '--service-principal', '--json');
    expect(sp.json()).toMatchObject({ name: 'build-sp', kind: 'servicePrincipal', status: 'active' });
    const disabled = await run('principal', 'disable', 'alice', '--json');
    expect(disabled.code).toBe(0);
    expect(disabled.json()).toMatchObject({ principal: { name: 'alice', status: 'disabled' }, flows: [] });
    const list = await run('principal', 'list', '--json');
    expect(list.json<Array<{ name: string }>>().map((p) => p.name)).toEqual(['admin', 'alice', 'build-sp']);
  });

  it('exits 1 on a usage error and 2 for an unknown principal', async () => {
    expect((await run('env', 'create')).code).toBe(1);
    const r = await run('principal', 'disable', 'nobody');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('PRINCIPAL_NOT_FOUND');
  });
});
