/**
 * Secrets at rest (design §3B, §6): AES-256-GCM with a per-environment data key; data keys are
 * wrapped by the master key (keyring.ts). Every stored secret records the id of the data key that
 * encrypted it; every data key records the id of the master key that wrapped it.
 *
 * Ciphertext layout (base64): IV (12 bytes) ‖ ciphertext ‖ tag (16 bytes). The additional
 * authenticated data binds a secret to its environment, owner and name, and a data key to its id
 * and environment, so ciphertexts cannot be swapped between rows.
 *
 * Rotation is online: readers always decrypt with the key recorded on the row, so old and new
 * keys work side by side while a rotation runs.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import {
  secretError,
  type Clock,
  type DataKeyRecord,
  type IdGenerator,
  type Repositories,
  type Store,
} from '@patchbay/core';
import { masterKeyId, writeKeyFile, type Keyring } from './keyring.js';

function seal(key: Buffer, plaintext: Buffer, aad: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64');
}

function open(key: Buffer, sealed: string, aad: string): Buffer {
  const raw = Buffer.from(sealed, 'base64');
  if (raw.length < 28) throw new Error('ciphertext too short');
  const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
  decipher.setAAD(Buffer.from(aad, 'utf8'));
  decipher.setAuthTag(raw.subarray(raw.length - 16));
  return Buffer.concat([decipher.update(raw.subarray(12, raw.length - 16)), decipher.final()]);
}

const dataKeyAad = (k: { id: string; environmentId: string }): string => `patchbay:datakey:${k.id}:${k.environmentId}`;
const dataAad = (environmentId: string, owner: string): string => `patchbay:data:${environmentId}:${owner}`;
const secretAad = (environmentId: string, ownerId: string, name: string): string =>
  `patchbay:secret:${environmentId}:${ownerId}:${name}`;

/** What a rotation did. */
export interface RotationReport {
  /** Data keys created (data key rotation) or re-wrapped (master key rotation). */
  dataKeys: number;
  /** Secrets re-encrypted. */
  secrets: number;
  /** The new active master key id (master key rotation). */
  masterKeyId?: string;
}

/** Options of the {@link SecretVault} constructor. */
export interface SecretVaultOptions {
  store: Store;
  keyring: Keyring;
  clock: Clock;
  ids: IdGenerator;
}

/** Encrypts, stores, decrypts and rotates secrets. Decrypted data keys are cached in memory only. */
export class SecretVault {
  private keyring: Keyring;
  private readonly store: Store;
  private readonly clock: Clock;
  private readonly ids: IdGenerator;
  private readonly dataKeys = new Map<string, Buffer>();
  private readonly activeKeys = new Map<string, { record: DataKeyRecord; at: number }>();
  /** How long {@link sealData} reuses an environment's active data key record (ms). */
  static activeKeyCacheMs = 60_000;

  constructor(options: SecretVaultOptions) {
    this.store = options.store;
    this.keyring = options.keyring;
    this.clock = options.clock;
    this.ids = options.ids;
  }

  /** The active master key id (safe to show). */
  get masterKeyId(): string {
    return this.keyring.active.id;
  }

  private masterKey(id: string): Buffer {
    let k = this.keyring.keys.find((m) => m.id === id);
    if (!k) {
      // Another process may have rotated the master key: re-read the keyring once.
      this.keyring = this.keyring.reload();
      k = this.keyring.keys.find((m) => m.id === id);
    }
    if (!k) {
      throw secretError(
        'MASTER_KEY_UNKNOWN',
        `a data key is wrapped by master key ${id}, which is not in the keyring (${this.keyring.source})`,
        { masterKeyId: id, source: this.keyring.source },
      );
    }
    return k.key;
  }

  private unwrap(record: DataKeyRecord): Buffer {
    const cached = this.dataKeys.get(record.id);
    if (cached) return cached;
    let key: Buffer;
    try {
      key = open(this.masterKey(record.masterKeyId), record.wrappedKey, dataKeyAad(record));
    } catch (e) {
      if ((e as { code?: string }).code === 'MASTER_KEY_UNKNOWN') throw e;
      throw secretError(
        'DATA_KEY_UNWRAP_FAILED',
        `data key ${record.id} cannot be unwrapped: wrong master key or tampered data`,
        {
          dataKeyId: record.id,
        },
      );
    }
    this.dataKeys.set(record.id, key);
    return key;
  }

  /** The active data key of an environment, created on first use (inside the caller's transaction). */
  private async activeKey(tx: Repositories, environmentId: string): Promise<DataKeyRecord> {
    const all = await tx.dataKeys.list();
    const active = all.find((k) => k.environmentId === environmentId && k.status === 'active');
    if (active) return active;
    return this.createDataKey(tx, environmentId);
  }

  private async createDataKey(tx: Repositories, environmentId: string): Promise<DataKeyRecord> {
    const key = randomBytes(32);
    const id = this.ids.newId();
    const record: DataKeyRecord = {
      id,
      environmentId,
      wrappedKey: seal(this.keyring.active.key, key, dataKeyAad({ id, environmentId })),
      masterKeyId: this.keyring.active.id,
      status: 'active',
      createdOn: new Date(this.clock.now()).toISOString(),
    };
    await tx.dataKeys.insert(record);
    this.dataKeys.set(id, key);
    return record;
  }

  /**
   * Encrypts and stores a secret value (inserts or replaces by owner and name). Call inside the
   * transaction that creates or changes the owner so both commit together.
   */
  async put(
    tx: Repositories,
    options: { environmentId: string; ownerId: string; name: string; value: string },
  ): Promise<void> {
    const dk = await this.activeKey(tx, options.environmentId);
    await tx.secrets.put({
      ownerId: options.ownerId,
      environmentId: options.environmentId,
      name: options.name,
      keyId: dk.id,
      ciphertext: seal(
        this.unwrap(dk),
        Buffer.from(options.value, 'utf8'),
        secretAad(options.environmentId, options.ownerId, options.name),
      ),
      modifiedOn: new Date(this.clock.now()).toISOString(),
    });
  }

  /**
   * Decrypts one stored secret. Returns undefined when the owner has no secret of that name.
   * Callers record the decryption in the audit log (design §6).
   *
   * @throws DATA_KEY_MISSING, DATA_KEY_UNWRAP_FAILED, SECRET_DECRYPT_FAILED, MASTER_KEY_UNKNOWN (secret, exit 6).
   */
  async get(ownerId: string, name: string, repos: Repositories = this.store.repos): Promise<string | undefined> {
    const rec = await repos.secrets.get(ownerId, name);
    if (!rec) return undefined;
    const dk = await repos.dataKeys.get(rec.keyId);
    if (!dk) {
      throw secretError(
        'DATA_KEY_MISSING',
        `secret ${name} of ${ownerId} was encrypted with data key ${rec.keyId}, which no longer exists`,
        {
          owner: ownerId,
          secret: name,
          dataKeyId: rec.keyId,
        },
      );
    }
    try {
      return open(this.unwrap(dk), rec.ciphertext, secretAad(rec.environmentId, rec.ownerId, rec.name)).toString(
        'utf8',
      );
    } catch (e) {
      if ((e as { category?: string }).category === 'secret') throw e;
      throw secretError(
        'SECRET_DECRYPT_FAILED',
        `secret ${name} of ${ownerId} cannot be decrypted: tampered data or wrong key`,
        {
          owner: ownerId,
          secret: name,
        },
      );
    }
  }

  /** Decrypts every secret of an owner: name → value. */
  async getAll(ownerId: string, repos: Repositories = this.store.repos): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const rec of await repos.secrets.listByOwner(ownerId)) {
      const v = await this.get(ownerId, rec.name, repos);
      if (v !== undefined) out[rec.name] = v;
    }
    return out;
  }

  /**
   * Encrypts an arbitrary blob (e.g. a durable run state) with the environment's active data key
   * (created on first use). `aad` binds the ciphertext to what it belongs to (e.g. `run:<id>`), so
   * a blob cannot be moved to another row. The blob is not stored here: the caller keeps
   * `{keyId, sealed}` (base64 of IV ‖ ciphertext ‖ tag). The active key is cached per environment
   * for `activeKeyCacheMs` (60 s): after a data key rotation new blobs use the new key within that
   * time, and the retired key still opens the older ones.
   */
  async sealData(
    environmentId: string,
    aad: string,
    plaintext: string,
    repos: Repositories = this.store.repos,
  ): Promise<{ keyId: string; sealed: string }> {
    const now = this.clock.now();
    let record = this.activeKeys.get(environmentId);
    if (!record || now - record.at > SecretVault.activeKeyCacheMs) {
      const existing = (await repos.dataKeys.list()).find(
        (k) => k.environmentId === environmentId && k.status === 'active',
      );
      // A key created here may still roll back with the caller's transaction: cache only committed ones.
      if (existing) this.activeKeys.set(environmentId, { record: existing, at: now });
      record = { record: existing ?? (await this.createDataKey(repos, environmentId)), at: now };
    }
    const { record: dk } = record;
    return {
      keyId: dk.id,
      sealed: seal(this.unwrap(dk), Buffer.from(plaintext, 'utf8'), dataAad(environmentId, aad)),
    };
  }

  /**
   * Decrypts a blob sealed by {@link sealData} with the same environment and `aad`.
   *
   * @throws DATA_KEY_MISSING, DATA_KEY_UNWRAP_FAILED, DATA_DECRYPT_FAILED, MASTER_KEY_UNKNOWN (secret, exit 6).
   */
  async openData(
    environmentId: string,
    aad: string,
    keyId: string,
    sealed: string,
    repos: Repositories = this.store.repos,
  ): Promise<string> {
    let key = this.dataKeys.get(keyId);
    if (!key) {
      const dk = await repos.dataKeys.get(keyId);
      if (!dk) {
        throw secretError(
          'DATA_KEY_MISSING',
          `data of ${aad} was encrypted with data key ${keyId}, which no longer exists`,
          {
            dataKeyId: keyId,
            owner: aad,
          },
        );
      }
      key = this.unwrap(dk);
    }
    try {
      return open(key, sealed, dataAad(environmentId, aad)).toString('utf8');
    } catch {
      throw secretError('DATA_DECRYPT_FAILED', `data of ${aad} cannot be decrypted: tampered data or wrong key`, {
        owner: aad,
      });
    }
  }

  /**
   * Data key rotation: every environment gets a new active data key; secrets are re-encrypted
   * under it one environment per transaction; old keys are marked retired (kept, so a reader
   * holding a row read before the rotation can still decrypt it).
   * Readers keep working throughout (each row names its key).
   */
  async rotateDataKeys(): Promise<RotationReport> {
    const report: RotationReport = { dataKeys: 0, secrets: 0 };
    this.activeKeys.clear();
    const envs = new Set((await this.store.repos.dataKeys.list()).map((k) => k.environmentId));
    for (const environmentId of envs) {
      await this.store.transaction(async (tx) => {
        const keys = (await tx.dataKeys.list()).filter((k) => k.environmentId === environmentId);
        for (const k of keys) if (k.status === 'active') await tx.dataKeys.update({ ...k, status: 'retired' });
        const fresh = await this.createDataKey(tx, environmentId);
        report.dataKeys += 1;
        for (const rec of await tx.secrets.listByEnvironment(environmentId)) {
          const value = await this.get(rec.ownerId, rec.name, tx);
          if (value === undefined) continue;
          await tx.secrets.put({
            ...rec,
            keyId: fresh.id,
            ciphertext: seal(
              this.unwrap(fresh),
              Buffer.from(value, 'utf8'),
              secretAad(rec.environmentId, rec.ownerId, rec.name),
            ),
            modifiedOn: new Date(this.clock.now()).toISOString(),
          });
          report.secrets += 1;
        }
      });
    }
    return report;
  }

  /**
   * Master key rotation: generates a new master key, writes the key file with the new key first
   * and the old ones after (so processes that still run with the old keyring can reload it), and
   * re-wraps every data key under the new key in one transaction. Secrets are not touched.
   *
   * @throws MASTER_KEY_NOT_ROTATABLE (secret) when the keyring comes from PATCHBAY_MASTER_KEY
   *   (the operator rotates by setting a new first key and keeping the old one after it).
   */
  async rotateMasterKey(): Promise<RotationReport> {
    const file = this.keyring.file;
    if (!file) {
      throw secretError(
        'MASTER_KEY_NOT_ROTATABLE',
        'the master key comes from PATCHBAY_MASTER_KEY: put a new key first in that variable (old keys after it, comma-separated) and run `patchbay key rewrap`',
        {},
      );
    }
    const fresh = randomBytes(32);
    writeKeyFile(file, [fresh, ...this.keyring.keys.map((k) => k.key)]);
    this.keyring = this.keyring.reload();
    const report = await this.rewrapDataKeys();
    return { ...report, masterKeyId: masterKeyId(fresh) };
  }

  /** Re-wraps every data key not wrapped by the active master key (one transaction). */
  async rewrapDataKeys(): Promise<RotationReport> {
    let n = 0;
    await this.store.transaction(async (tx) => {
      for (const k of await tx.dataKeys.list()) {
        if (k.masterKeyId === this.keyring.active.id) continue;
        const key = this.unwrap(k);
        await tx.dataKeys.update({
          ...k,
          wrappedKey: seal(this.keyring.active.key, key, dataKeyAad(k)),
          masterKeyId: this.keyring.active.id,
        });
        n += 1;
      }
    });
    return { dataKeys: n, secrets: 0, masterKeyId: this.keyring.active.id };
  }
}
