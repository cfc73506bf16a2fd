/**
 * The master keyring (design §3B): 256-bit master keys that wrap the per-environment data keys.
 *
 * Sources, in order:
 * 1. `PATCHBAY_MASTER_KEY`: base64 of 32 bytes (optionally several, comma-separated: the first is
 *    active, the others only unwrap — used during a master key rotation);
 * 2. the key file `<data dir>/master.key`: one base64 key per line, first active. Created on first
 *    start with mode 0600 when no key exists anywhere.
 *
 * A key's id is the first 16 hex digits of SHA-256 over the key; it is stored with every wrapped
 * data key so the right master key is found, and never reveals the key.
 */
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { secretError } from '@patchbay/core';

/** One master key with its id. */
export interface MasterKey {
  id: string;
  key: Buffer;
}

/** Where the keyring comes from, and how to reload it (after another process rotated it). */
export interface Keyring {
  /** The key that wraps new data keys. */
  readonly active: MasterKey;
  /** Every key that can unwrap (active first). */
  readonly keys: readonly MasterKey[];
  /** Re-reads the source; returns the fresh keyring (the same object when the source cannot change). */
  reload(): Keyring;
  /** Human-readable source, without key material (`env PATCHBAY_MASTER_KEY` or the file path). */
  readonly source: string;
  /** The key file, when the keyring comes from one. */
  readonly file?: string;
}

/** The id of a master key: 16 hex digits of SHA-256(key). */
export function masterKeyId(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 16);
}

function parseKeys(text: string, source: string): MasterKey[] {
  const parts = text
    .split(/[\n,]/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0 && !s.startsWith('#'));
  if (parts.length === 0) throw secretError('MASTER_KEY_MISSING', `no master key in ${source}`, { source });
  return parts.map((b64, i) => {
    const key = Buffer.from(b64, 'base64');
    if (key.length !== 32 || key.toString('base64').replace(/=+$/, '') !== b64.replace(/=+$/, '')) {
      throw secretError('MASTER_KEY_INVALID', `master key #${i + 1} in ${source} is not base64 of 32 bytes`, {
        source,
        index: i + 1,
      });
    }
    return { id: masterKeyId(key), key };
  });
}

/** Options of {@link loadKeyring}. */
export interface LoadKeyringOptions {
  /** Environment variables (PATCHBAY_MASTER_KEY). */
  env: Record<string, string | undefined>;
  /** Directory holding `master.key` (the data dir). */
  dataDir: string;
  /** Create the key file when no key exists (default true). */
  create?: boolean;
}

/**
 * Loads the keyring (see the module comment).
 *
 * @throws MASTER_KEY_INVALID (secret) for a malformed key; MASTER_KEY_MISSING (secret) when none
 *   exists and `create` is false; MASTER_KEY_FILE_INSECURE (secret) when the key file is readable
 *   by group or others.
 */
export function loadKeyring(options: LoadKeyringOptions): Keyring {
  const fromEnv = options.env['PATCHBAY_MASTER_KEY'];
  if (fromEnv) {
    const keys = parseKeys(fromEnv, 'env PATCHBAY_MASTER_KEY');
    const ring: Keyring = { active: keys[0]!, keys, source: 'env PATCHBAY_MASTER_KEY', reload: () => ring };
    return ring;
  }
  const file = join(options.dataDir, 'master.key');
  if (!existsSync(file)) {
    if (options.create === false) {
      throw secretError('MASTER_KEY_MISSING', `no master key: set PATCHBAY_MASTER_KEY or create ${file}`, { file });
    }
    mkdirSync(dirname(file), { recursive: true });
    writeKeyFile(file, [randomBytes(32)]);
  }
  return keyringFromFile(file);
}

function keyringFromFile(file: string): Keyring {
  const mode = statSync(file).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw secretError(
      'MASTER_KEY_FILE_INSECURE',
      `master key file ${file} has mode ${mode.toString(8)}; it must be readable by its owner only (chmod 600)`,
      { file, mode: mode.toString(8) },
    );
  }
  const keys = parseKeys(readFileSync(file, 'utf8'), file);
  return { active: keys[0]!, keys, source: file, file, reload: () => keyringFromFile(file) };
}

/** Writes a key file atomically (temp file + rename) with mode 0600; the first key is active. */
export function writeKeyFile(file: string, keys: Buffer[]): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, keys.map((k) => k.toString('base64')).join('\n') + '\n', { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}
