/**
 * Principals: users and service principals (design §1, §2 invariants 6–7). Disabling a principal
 * turns Off every flow it owns and every flow using a connection it owns, and lists them.
 */
import { conflict, invalid, type FlowStateChange, type Principal, type PrincipalKind } from '@patchbay/core';
import type { PlatformContext } from '../context.js';
import { reevaluateAll } from './activation.js';

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.@-]{0,127}$/;

/** Options of {@link PrincipalService.create}. */
export interface CreatePrincipalOptions {
  /** Letters, digits, `_`, `.`, `@`, `-`; unique ignoring case. */
  name: string;
  kind?: PrincipalKind;
  displayName?: string;
  /** The acting principal (default the local admin), recorded in the audit log. */
  actor?: string;
}

/** A principal state change and the flows it turned off or on, per environment. */
export interface PrincipalChange {
  principal: Principal;
  flows: Array<FlowStateChange & { environment: string }>;
}

/** Principal operations. */
export class PrincipalService {
  constructor(private readonly ctx: PlatformContext) {}

  /** @throws PRINCIPAL_NAME_INVALID (invalid), PRINCIPAL_EXISTS (conflict). */
  async create(options: CreatePrincipalOptions): Promise<Principal> {
    if (!NAME.test(options.name)) {
      throw invalid(
        'PRINCIPAL_NAME_INVALID',
        `principal name ${JSON.stringify(options.name)} is invalid: use 1–128 letters, digits, '_', '.', '@', '-'`,
        { field: 'name', value: options.name },
      );
    }
    return this.ctx.store.transaction(async (tx) => {
      const actor = await this.ctx.actor(options.actor, tx);
      const existing = await tx.principals.getByName(options.name);
      if (existing)
        throw conflict('PRINCIPAL_EXISTS', `principal ${existing.name} already exists`, { principal: existing.name });
      const p: Principal = {
        id: this.ctx.ids.newId(),
        name: options.name,
        kind: options.kind ?? 'user',
        displayName: options.displayName ?? options.name,
        status: 'active',
        createdOn: this.ctx.nowIso(),
      };
      await tx.principals.insert(p);
      await this.ctx.audit(tx, {
        actor,
        action: 'principal.create',
        target: { type: 'principal', id: p.id, name: p.name },
        after: p,
      });
      return p;
    });
  }

  /** Every principal, by name. */
  async list(): Promise<Principal[]> {
    return this.ctx.store.repos.principals.list();
  }

  /** A principal by name. @throws PRINCIPAL_NOT_FOUND */
  async get(name: string): Promise<Principal> {
    return this.ctx.principal(name);
  }

  /**
   * Disables a principal and re-evaluates flows: every flow it owns and every flow that uses a
   * connection it owns turns Off, with the reason (invariant 7: the impact is listed).
   * @throws PRINCIPAL_NOT_FOUND, LOCAL_ADMIN_PROTECTED (conflict) for the local admin.
   */
  async disable(options: { name: string; actor?: string }): Promise<PrincipalChange> {
    return this.setStatus(options.name, 'disabled', options.actor);
  }

  /** Enables a principal again; flows that were turned on and are now usable turn back On. */
  async enable(options: { name: string; actor?: string }): Promise<PrincipalChange> {
    return this.setStatus(options.name, 'active', options.actor);
  }

  private async setStatus(name: string, status: Principal['status'], actorName?: string): Promise<PrincipalChange> {
    return this.ctx.store.transaction(async (tx) => {
      const actor = await this.ctx.actor(actorName, tx);
      const p = await this.ctx.principal(name, tx);
      if (status === 'disabled' && p.name.toLowerCase() === 'admin') {
        throw conflict('LOCAL_ADMIN_PROTECTED', 'the local admin principal cannot be disabled', { principal: p.name });
      }
      const next = { ...p, status };
      await tx.principals.update(next);
      const flows = await reevaluateAll(this.ctx, tx);
      await this.ctx.audit(tx, {
        actor,
        action: status === 'disabled' ? 'principal.disable' : 'principal.enable',
        target: { type: 'principal', id: p.id, name: p.name },
        before: { status: p.status },
        after: { status },
        details: { flows: flows.map((f) => ({ environment: f.environment, flow: f.name, from: f.from, to: f.to })) },
      });
      return { principal: next, flows };
    });
  }
}
