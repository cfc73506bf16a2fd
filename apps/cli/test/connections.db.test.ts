/**
 * Connectors, connections and references through the CLI on both stores, with real corpus
 * connectors; and the rule that a secret value never shows in any output or error.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/main.js';
import { memoryIO } from '../src/io.js';
import { testStoreLocation, type TestStoreLocation } from '../../../test-support/stores.js';
import { cli } from './helpers.js';
import { CORPUS_DIR } from '../../../test-support/shared.js';

const corpus = CORPUS_DIR;
const secret = 'ch-api-key-' + Math.random().toString(36).slice(2) + '-DO-NOT-LEAK';
let loc: TestStoreLocation;
let run: ReturnType<typeof cli>;
let secretFile: string;
const outputs: string[] = [];

async function record(...args: string[]) {
  const r = await run(...args);
  outputs.push(r.stdout, r.stderr);
  return r;
}

beforeAll(async () => {
  loc = await testStoreLocation();
  run = cli(loc.cliArgs);
  const dir = mkdtempSync(join(tmpdir(), 'patchbay-secret-'));
  secretFile = join(dir, 'key.txt');
  writeFileSync(secretFile, secret + '\n');
  await run('env', 'create', 'dev');
  await run('principal', 'create', 'alice');
  await run('principal', 'create', 'build-sp', '--service-principal');
  await run('principal', 'create', 'carol');
  await run('principal', 'assign', 'alice', '--env', 'dev', '--role', 'Maker');
  await run('principal', 'assign', 'build-sp', '--env', 'dev', '--role', 'Maker');
});
afterAll(async () => loc.cleanup());

describe(`connectors, connections and references via the CLI (${process.env['PATCHBAY_TEST_STORE']})`, () => {
  it('imports a real custom connector from source form', async () => {
    const r = await record('connector', 'import', join(corpus, 'connectors/CompaniesHouse'), '--env', 'dev', '--json');
    expect(r.code).toBe(0);
    expect(r.json()).toMatchObject({
      id: 'CompaniesHouse',
      kind: 'custom',
      connectionParameters: { api_key: 'securestring' },
    });
    const list = await record('connector', 'list', '--env', 'dev', '--json');
    expect(list.json<Array<{ id: string }>>().map((c) => c.id)).toEqual(
      expect.arrayContaining(['CompaniesHouse', 'shared_sql', 'shared_patchbayhttp']),
    );
  });

  it('names the file and the position when a connector definition is broken', async () => {
    const r = await record('connector', 'import', join(corpus, 'connectors/XSOAR'), '--env', 'dev');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('apiDefinition.swagger.json');
  });

  it('creates a connection with a secret from a file and from stdin, owned by a service principal', async () => {
    const r = await record(
      'connection',
      'create',
      '--env',
      'dev',
      '--connector',
      'CompaniesHouse',
      '--display-name',
      'Companies House – API key',
      '--secret-param',
      `api_key=@${secretFile}`,
      '--as',
      'build-sp',
      '--json',
    );
    expect(r.code).toBe(0);
    const created = r.json<{
      id: string;
      owner: string;
      ownerKind: string;
      secretParameters: string[];
      status: string;
    }>();
    expect(created).toMatchObject({
      owner: 'build-sp',
      ownerKind: 'servicePrincipal',
      secretParameters: ['api_key'],
      status: 'Connected',
    });
    const io = memoryIO({ stdin: secret + '\n' });
    const code = await main(
      [
        ...loc.cliArgs,
        'connection',
        'create',
        '--env',
        'dev',
        '--connector',
        'CompaniesHouse',
        '--display-name',
        'Second',
        '--secret-param',
        'api_key=-',
        '--json',
      ],
      io,
    );
    outputs.push(io.stdout, io.stderr);
    expect(code).toBe(0);
    const share = await record(
      'connection',
      'share',
      created.id,
      '--with',
      'alice',
      '--role',
      'CanUse',
      '--as',
      'build-sp',
      '--json',
    );
    expect(share.code).toBe(0);
    const list = await record('connection', 'list', '--env', 'dev', '--json');
    expect(list.json<Array<{ shares: unknown[] }>>()[0]?.shares).toEqual([{ principal: 'alice', role: 'CanUse' }]);
    expect((await record('connection', 'show', created.id, '--json')).code).toBe(0);
  });

  it('refuses secrets on the command line and in plain parameters without echoing them', async () => {
    const inline = await record(
      'connection',
      'create',
      '--env',
      'dev',
      '--connector',
      'CompaniesHouse',
      '--display-name',
      'x',
      '--secret-param',
      `api_key=${secret}`,
    );
    expect(inline.code).toBe(1);
    const plain = await record(
      'connection',
      'create',
      '--env',
      'dev',
      '--connector',
      'CompaniesHouse',
      '--display-name',
      'x',
      '--param',
      `api_key=${secret}`,
      '--json',
    );
    expect(plain.code).toBe(2);
    expect(plain.stderr).toContain('CONNECTION_PARAMETER_MUST_BE_SECRET');
    const missing = await record(
      'connection',
      'create',
      '--env',
      'dev',
      '--connector',
      'CompaniesHouse',
      '--display-name',
      'x',
    );
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('CONNECTION_PARAMETER_REQUIRED');
  });

  it('binds references: refuses a connection not shared with the maker (exit 4), accepts after sharing', async () => {
    expect(
      (
        await record(
          'connref',
          'create',
          'pfx_CompaniesHouse',
          '--env',
          'dev',
          '--connector',
          'CompaniesHouse',
          '--display-name',
          'Registry – Companies House – API key',
        )
      ).code,
    ).toBe(0);
    const conns = (await record('connection', 'list', '--env', 'dev', '--json')).json<
      Array<{ id: string; displayName: string }>
    >();
    const second = conns.find((c) => c.displayName === 'Second')!;
    const denied = await record(
      'connref',
      'bind',
      'pfx_CompaniesHouse',
      '--env',
      'dev',
      '--connection',
      second.id,
      '--as',
      'alice',
    );
    expect(denied.code).toBe(4);
    expect(denied.stderr).toContain('BINDING_NOT_PERMITTED');
    const first = conns.find((c) => c.displayName.startsWith('Companies House'))!;
    const ok = await record(
      'connref',
      'bind',
      'PFX_companieshouse',
      '--env',
      'dev',
      '--connection',
      first.id,
      '--as',
      'alice',
      '--json',
    );
    expect(ok.code).toBe(0);
    const refs = (await record('connref', 'list', '--env', 'dev', '--json')).json<
      Array<{ logicalName: string; connectionId: string; connector: string }>
    >();
    expect(refs).toMatchObject([
      { logicalName: 'pfx_CompaniesHouse', connectionId: first.id, connector: 'CompaniesHouse' },
    ]);
    const del = await record('connection', 'delete', first.id);
    expect(del.code).toBe(3);
    expect(del.stderr).toContain('CONNECTION_IN_USE');
  });

  it('applies the roles of --as principals like the API: no role, no change (exit 4)', async () => {
    const r = await record(
      'connref',
      'create',
      'pfx_Other',
      '--env',
      'dev',
      '--connector',
      'CompaniesHouse',
      '--as',
      'carol',
    );
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('ROLE_REQUIRED');
    expect((await record('principal', 'assign', 'carol', '--env', 'dev', '--role', 'Viewer')).code).toBe(0);
    const viewer = await record(
      'connection',
      'create',
      '--env',
      'dev',
      '--connector',
      'CompaniesHouse',
      '--display-name',
      'v',
      '--secret-param',
      `api_key=@${secretFile}`,
      '--as',
      'carol',
    );
    expect(viewer.code).toBe(4);
    expect(viewer.stderr).toContain('needs the Maker role');
  });

  it('never printed the secret value in any output or error', () => {
    expect(outputs.length).toBeGreaterThan(10);
    for (const o of outputs) expect(o).not.toContain(secret);
  });
});
