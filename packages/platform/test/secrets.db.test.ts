/**
 * Secrets at rest (design §3B, issue 2 item 4) on both stores: AES-256-GCM under per-environment
 * data keys wrapped by the master key; the key file is created 0600; every secret records its key
 * id; data key and master key rotations are online (reads keep working throughout).
 */
import { mkdtempSync, readFileSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createPlatform, loadKeyring, SecretVault, type Platform } from '@patchbay/platform';
import { testStore } from '../../../test-support/stores.js';
import type { KyselyStore } from '@patchbay/storage';

let store: KyselyStore;
let cleanup: () => Promise<void>;
let keyDir: string;
let p: Platform;

beforeEach(async () => {
  ({ store, cleanup } = await testStore());
  keyDir = mkdtempSync(join(tmpdir(), 'patchbay-keys-'));
  p = await createPlatform({ store, keyring: loadKeyring({ env: {}, dataDir: keyDir }) });
  await p.environments.create({ name: 'dev' });
  await p.environments.create({ name: 'prod' });
  for (const env of ['dev', 'prod']) {
    await p.connectors.install({
      environment: env,
      id: 'pfx_api',
      displayName: 'API',
      definition: {
        openApi: { swagger: '2.0', info: { title: 'API', version: '1' }, paths: {} },
        connectionParameters: {
          api_key: { type: 'securestring', uiDefinition: { constraints: { required: 'true' } } },
        },
        policyTemplateInstances: [],
      },
    });
  }
});
afterEach(async () => cleanup());

const make = (env: string, value: string) =>
  p.connections.create({
    environment: env,
    connector: 'pfx_api',
    displayName: value.slice(0, 8),
    secretParameters: { api_key: value },
  });

describe(`secrets at rest (${process.env['PATCHBAY_TEST_STORE']})`, () => {
  it('creates the master key file with mode 0600 and refuses a key file others can read', () => {
    const file = join(keyDir, 'master.key');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(Buffer.from(readFileSync(file, 'utf8').trim(), 'base64')).toHaveLength(32);
    const loose = mkdtempSync(join(tmpdir(), 'patchbay-loose-'));
    writeFileSync(join(loose, 'master.key'), Buffer.alloc(32, 1).toString('base64'));
    chmodSync(join(loose, 'master.key'), 0o644);
    expect(() => loadKeyring({ env: {}, dataDir: loose })).toThrow(
      expect.objectContaining({ code: 'MASTER_KEY_FILE_INSECURE', category: 'secret' }),
    );
    expect(() => loadKeyring({ env: { PATCHBAY_MASTER_KEY: 'not-a-key' }, dataDir: loose })).toThrow(
      expect.objectContaining({ code: 'MASTER_KEY_INVALID' }),
    );
  });

  it('uses one data key per environment and records it on every secret', async () => {
    const a = await make('dev', 'dev-secret-1');
    const b = await make('prod', 'prod-secret-1');
    const keys = await store.repos.dataKeys.list();
    expect(keys.map((k) => k.status)).toEqual(['active', 'active']);
    expect(new Set(keys.map((k) => k.environmentId)).size).toBe(2);
    const sa = await store.repos.secrets.get(a.id, 'api_key');
    const sb = await store.repos.secrets.get(b.id, 'api_key');
    expect(sa?.keyId).not.toBe(sb?.keyId);
    expect(keys.map((k) => k.id)).toEqual(expect.arrayContaining([sa?.keyId, sb?.keyId]));
    expect(sa?.ciphertext).not.toContain('dev-secret');
    expect(await p.vault.get(a.id, 'api_key')).toBe('dev-secret-1');
  });

  it('detects tampering and swapping of ciphertexts', async () => {
    const a = await make('dev', 'alpha-secret');
    const b = await make('dev', 'bravo-secret');
    const sa = (await store.repos.secrets.get(a.id, 'api_key'))!;
    const sb = (await store.repos.secrets.get(b.id, 'api_key'))!;
    await store.repos.secrets.put({ ...sa, ciphertext: sb.ciphertext });
    await expect(p.vault.get(a.id, 'api_key')).rejects.toMatchObject({
      code: 'SECRET_DECRYPT_FAILED',
      category: 'secret',
    });
    const raw = Buffer.from(sb.ciphertext, 'base64');
    raw[20] = (raw[20] ?? 0) ^ 0xff;
    await store.repos.secrets.put({ ...sb, ciphertext: raw.toString('base64') });
    await expect(p.vault.get(b.id, 'api_key')).rejects.toMatchObject({ code: 'SECRET_DECRYPT_FAILED' });
  });

  it('rotates data keys online: old and new keys decrypt during and after the rotation', async () => {
    const a = await make('dev', 'alpha-secret');
    const b = await make('prod', 'bravo-secret');
    const before = (await store.repos.secrets.get(a.id, 'api_key'))!.keyId;
    // A second process with the same keyring reads while the first rotates.
    const other = new SecretVault({
      store,
      keyring: loadKeyring({ env: {}, dataDir: keyDir }),
      clock: { now: () => Date.now() },
      ids: { newId: () => crypto.randomUUID() },
    });
    const [report, readDuring] = await Promise.all([p.vault.rotateDataKeys(), other.get(a.id, 'api_key')]);
    expect(readDuring).toBe('alpha-secret');
    expect(report).toEqual({ dataKeys: 2, secrets: 2 });
    const after = (await store.repos.secrets.get(a.id, 'api_key'))!.keyId;
    expect(after).not.toBe(before);
    expect((await store.repos.dataKeys.get(before))?.status).toBe('retired');
    expect(await other.get(a.id, 'api_key')).toBe('alpha-secret');
    expect(await p.vault.get(b.id, 'api_key')).toBe('bravo-secret');
    const c = await make('dev', 'charlie-secret');
    expect((await store.repos.secrets.get(c.id, 'api_key'))!.keyId).toBe(after);
  });

  it('rotates the master key online: data keys re-wrapped, other processes reload the key file', async () => {
    const a = await make('dev', 'alpha-secret');
    const other = new SecretVault({
      store,
      keyring: loadKeyring({ env: {}, dataDir: keyDir }),
      clock: { now: () => Date.now() },
      ids: { newId: () => crypto.randomUUID() },
    });
    const oldMaster = p.vault.masterKeyId;
    const report = await p.vault.rotateMasterKey();
    expect(report.masterKeyId).not.toBe(oldMaster);
    expect((await store.repos.dataKeys.list()).every((k) => k.masterKeyId === report.masterKeyId)).toBe(true);
    expect(statSync(join(keyDir, 'master.key')).mode & 0o777).toBe(0o600);
    // `other` still holds the old keyring in memory: it reloads the file on an unknown master key id.
    expect(await other.get(a.id, 'api_key')).toBe('alpha-secret');
    // A process started with only the old key cannot unwrap (and says so with exit-6 errors).
    const stale = mkdtempSync(join(tmpdir(), 'patchbay-stale-'));
    writeFileSync(join(stale, 'master.key'), readFileSync(join(keyDir, 'master.key'), 'utf8').split('\n')[1] + '\n', {
      mode: 0o600,
    });
    const staleVault = new SecretVault({
      store,
      keyring: loadKeyring({ env: {}, dataDir: stale }),
      clock: { now: () => Date.now() },
      ids: { newId: () => crypto.randomUUID() },
    });
    await expect(staleVault.get(a.id, 'api_key')).rejects.toMatchObject({
      code: 'MASTER_KEY_UNKNOWN',
      category: 'secret',
    });
  });

  it('re-wraps under a new PATCHBAY_MASTER_KEY listed first, the old one after it', async () => {
    const k1 = Buffer.alloc(32, 7).toString('base64');
    const k2 = Buffer.alloc(32, 9).toString('base64');
    const envStore = await testStore();
    try {
      const p1 = await createPlatform({
        store: envStore.store,
        keyring: loadKeyring({ env: { PATCHBAY_MASTER_KEY: k1 }, dataDir: keyDir }),
      });
      await p1.environments.create({ name: 'dev' });
      await p1.connectors.add({ environment: 'dev', id: 'shared_x' });
      const c = await p1.connections.create({
        environment: 'dev',
        connector: 'shared_x',
        displayName: 'x',
        secretParameters: { token: 'tok' },
      });
      const p2 = await createPlatform({
        store: envStore.store,
        keyring: loadKeyring({ env: { PATCHBAY_MASTER_KEY: `${k2},${k1}` }, dataDir: keyDir }),
      });
      expect(await p2.vault.get(c.id, 'token')).toBe('tok');
      expect((await p2.vault.rewrapDataKeys()).dataKeys).toBe(1);
      const p3 = await createPlatform({
        store: envStore.store,
        keyring: loadKeyring({ env: { PATCHBAY_MASTER_KEY: k2 }, dataDir: keyDir }),
      });
      expect(await p3.vault.get(c.id, 'token')).toBe('tok');
      await expect(p3.vault.rotateMasterKey()).rejects.toMatchObject({ code: 'MASTER_KEY_NOT_ROTATABLE' });
    } finally {
      await envStore.cleanup();
    }
  });
});

describe(`opening a store with the wrong master key (${process.env['PATCHBAY_TEST_STORE']})`, () => {
  it('refuses a missing or different master key once the store holds secrets (exit 6), and never creates a new key file for it', async () => {
    const { openPlatform } = await import('@patchbay/platform');
    const { testStoreLocation } = await import('../../../test-support/stores.js');
    const { existsSync, rmSync } = await import('node:fs');
    const loc = await testStoreLocation();
    try {
      const open = (env: Record<string, string> = {}) =>
        openPlatform({ dataDir: loc.dataDir, ...(loc.databaseUrl ? { databaseUrl: loc.databaseUrl } : {}), env });
      const first = await open();
      await first.environments.create({ name: 'dev' });
      await first.connectors.add({ environment: 'dev', id: 'shared_x' });
      await first.connections.create({
        environment: 'dev',
        connector: 'shared_x',
        displayName: 'x',
        secretParameters: { token: 't' },
      });
      await first.close();
      await expect(open({ PATCHBAY_MASTER_KEY: Buffer.alloc(32, 3).toString('base64') })).rejects.toMatchObject({
        code: 'MASTER_KEY_UNKNOWN',
        category: 'secret',
      });
      rmSync(join(loc.dataDir, 'master.key'));
      await expect(open()).rejects.toMatchObject({ code: 'MASTER_KEY_MISSING', category: 'secret' });
      expect(existsSync(join(loc.dataDir, 'master.key'))).toBe(false);
    } finally {
      await loc.cleanup();
    }
  });
});
