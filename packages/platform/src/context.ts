/**
 * What every platform service shares: the store, the secret vault, the clock and the id
 * generator, plus small helpers (current instant as ISO string, actor lookup).
 */
import { randomUUID } from 'node:crypto';
import {
  forbidden,
  notFound,
  type AuditEvent,
  type Clock,
  type IdGenerator,
  type Principal,
  type Repositories,
  type Store,
} from '@patchbay/core';
import type { SecretVault } from './secrets/vault.js';

/** The name of the local administrator principal created with every store. */
export const LOCAL_ADMIN = 'admin';

/** The system clock. */
export const systemClock: Clock = { now: () => Date.now() };

/** UUID v4 ids. */
export const uuidIds: IdGenerator = { newId: () => randomUUID() };

/** A change recorded in the audit log, announced to in-memory caches (flow runtime cache, token cache). */
export interface ChangeEvent {
  action: string;
  environmentId?: string;
}

/** Audited actions that change nothing a cache holds (reads of secrets, exports): no change notice. */
const READ_ONLY_AUDIT_ACTIONS = new Set(['secret.decrypt', 'solution.export']);

/** Shared dependencies of the services. */
export class PlatformContext {
  private readonly changeListeners = new Set<(e: ChangeEvent) => void>();
  /** Incremented on every change (before and after its commit); caches compare it with the value they loaded at. */
  generation = 0;

  constructor(
    readonly store: Store,
    readonly vault: SecretVault,
    readonly clock: Clock,
    readonly ids: IdGenerator,
  ) {}

  /** Subscribes to changes (every audited change, once when recorded and once after its commit). Returns an unsubscribe function. */
  onChange(fn: (e: ChangeEvent) => void): () => void {
    this.changeListeners.add(fn);
    return () => this.changeListeners.delete(fn);
  }

  /** Announces a change to the listeners (also called by the store wrapper after a commit). */
  notifyChange(e: ChangeEvent): void {
    this.generation++;
    for (const fn of this.changeListeners) fn(e);
  }

  /**
   * Runs a store transaction and, after it committed, announces the changes it recorded again
   * (a cache reloaded between the change and its commit would otherwise keep the old state).
   */
  async withCommitNotice<T>(run: () => Promise<T>): Promise<T> {
    // A counter rather than an AsyncLocalStorage (which would make every promise of the process
    // pay): when anything changed while the transaction ran, announce once more after it ended.
    // A joined (nested) transaction announces early and its outer one again after the commit.
    const before = this.generation;
    const out = await run();
    if (this.generation !== before) this.notifyChange({ action: 'commit' });
    return out;
  }

  /** The current instant as an ISO 8601 string. */
  nowIso(): string {
    return new Date(this.clock.now()).toISOString();
  }

  /**
   * The acting principal by name (default the local admin), which must be active.
   *
   * @throws PRINCIPAL_NOT_FOUND (not-found), PRINCIPAL_DISABLED (permission).
   */
  async actor(name: string | undefined, repos: Repositories = this.store.repos): Promise<Principal> {
    const p = await this.principal(name ?? LOCAL_ADMIN, repos);
    if (p.status !== 'active') {
      throw forbidden('PRINCIPAL_DISABLED', `principal ${p.name} is disabled and cannot act`, { principal: p.name });
    }
    return p;
  }

  /**
   * Appends an audit entry (design §6) in the caller's transaction, so the entry commits with the
   * change it records. `before`/`after` must hold no secret value (records of the model never do).
   */
  async audit(
    tx: Repositories,
    e: Omit<AuditEvent, 'id' | 'at' | 'actorId' | 'actorName'> & { actor?: Principal | undefined },
  ): Promise<void> {
    const { actor, ...rest } = e;
    if (!READ_ONLY_AUDIT_ACTIONS.has(e.action)) {
      this.notifyChange({ action: e.action, ...(e.environmentId ? { environmentId: e.environmentId } : {}) });
    }
    await tx.audit.append({
      id: this.ids.newId(),
      at: this.nowIso(),
      ...(actor ? { actorId: actor.id, actorName: actor.name } : {}),
      ...rest,
    });
  }

  /** True when the principal is an Admin of the environment (the local admin is Admin everywhere). */
  async isAdmin(principal: Principal, environmentId: string, repos: Repositories = this.store.repos): Promise<boolean> {
    if (principal.name.toLowerCase() === LOCAL_ADMIN) return true;
    const roles = await repos.roles.listForPrincipal(principal.id);
    return roles.some((r) => r.environmentId === environmentId && r.role === 'Admin');
  }

  /** A principal by name (case-insensitive). @throws PRINCIPAL_NOT_FOUND */
  async principal(name: string, repos: Repositories = this.store.repos): Promise<Principal> {
    const p = await repos.principals.getByName(name);
    if (!p) throw notFound('PRINCIPAL_NOT_FOUND', `principal ${name} does not exist`, { principal: name });
    return p;
  }
}
