/**
 * Decrypted connection secrets for the length of one run at most (issue 7 item 1, design §6).
 *
 * A run (with its child flows) gets one {@link RunSecrets}. The first action that uses a
 * connection decrypts all of that connection's secrets once and records one audit entry
 * `secret.decrypt` (target: the connection; details: run id, action name, connection id, secret
 * names, reference, purpose). Later actions of the same run that use the same connection read the
 * cache and write no entry. `clear()` drops every value when the run ends; nothing is kept between
 * runs. Values are never logged, stored in run history or put in errors.
 *
 * Names starting with `$` are Patchbay's own secrets of a connection (`$oauth`: the OAuth client
 * and token state), not connection parameters.
 */
import type { Connection, Principal } from '@patchbay/core';
import type { PlatformContext } from '../context.js';

/** Why secrets were decrypted, for the audit entry. */
export interface DecryptPurpose {
  runId?: string;
  actionName?: string;
  reference?: string;
  /** `action` (default), `token-refresh`, `connection-test`, `oauth-connect`. */
  purpose?: string;
  actor?: Principal;
}

/**
 * Decrypts all secrets of a connection and writes the `secret.decrypt` audit entry (in its own
 * transaction; the entry names the secrets, never their values).
 */
export async function decryptConnectionSecrets(
  ctx: PlatformContext,
  connection: Connection,
  why: DecryptPurpose,
): Promise<Record<string, string>> {
  const values = await ctx.vault.getAll(connection.id);
  await ctx.store.transaction((tx) =>
    ctx.audit(tx, {
      ...(why.actor ? { actor: why.actor } : {}),
      environmentId: connection.environmentId,
      action: 'secret.decrypt',
      target: { type: 'connection', id: connection.id, name: connection.displayName },
      details: {
        ...(why.runId ? { runId: why.runId } : {}),
        ...(why.actionName ? { actionName: why.actionName } : {}),
        connectionId: connection.id,
        secretNames: Object.keys(values).sort(),
        ...(why.reference ? { reference: why.reference } : {}),
        purpose: why.purpose ?? 'action',
      },
    }),
  );
  return values;
}

/** The secret cache of one run. */
export class RunSecrets {
  private readonly cache = new Map<string, Promise<Record<string, string>>>();

  constructor(
    private readonly ctx: PlatformContext,
    private readonly actor?: Principal,
  ) {}

  /** The decrypted secrets of a connection (decrypted and audited on first use in this run). */
  get(connection: Connection, why: DecryptPurpose): Promise<Record<string, string>> {
    const key = `${connection.id}|${connection.modifiedOn}`;
    let hit = this.cache.get(key);
    if (!hit) {
      hit = decryptConnectionSecrets(this.ctx, connection, { ...why, ...(this.actor ? { actor: this.actor } : {}) });
      this.cache.set(key, hit);
      hit.catch(() => this.cache.delete(key));
    }
    return hit;
  }

  /** Replaces one cached value (e.g. `$oauth` after a token refresh) without decrypting again. */
  async update(connection: Connection, name: string, value: string): Promise<void> {
    const key = `${connection.id}|${connection.modifiedOn}`;
    const hit = this.cache.get(key);
    if (!hit) return;
    const values = await hit;
    this.cache.set(key, Promise.resolve({ ...values, [name]: value }));
  }

  /** Every secret value currently cached (for redaction of error messages). */
  async values(): Promise<string[]> {
    const out: string[] = [];
    for (const p of this.cache.values()) {
      try {
        out.push(...Object.values(await p));
      } catch {
        // a failed decryption holds no values
      }
    }
    return out;
  }

  /** Drops every cached value (end of the run). */
  clear(): void {
    this.cache.clear();
  }
}

/** Replaces every occurrence of a secret value (4 characters or more) in a text with `***`. */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of [...secrets].sort((a, b) => b.length - a.length)) {
    if (s.length < 4) continue;
    if (!s.startsWith('{')) out = out.split(s).join('***');
    // JSON-encoded $oauth blobs hold the token values; redact those too.
    if (s.startsWith('{')) {
      try {
        const inner = JSON.parse(s) as Record<string, unknown>;
        out = redactSecrets(
          out,
          ['accessToken', 'refreshToken', 'clientSecret']
            .map((k) => inner[k])
            .filter((v): v is string => typeof v === 'string'),
        );
      } catch {
        // not JSON
      }
    }
  }
  return out;
}
