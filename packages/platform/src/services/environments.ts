/** Environments: create, list, get, policy (design §1, §3F). */
import {
  conflict,
  defaultPolicy,
  invalid,
  notFound,
  type Environment,
  type EnvironmentPolicy,
  type Role,
  type RoleAssignment,
} from '@patchbay/core';
import type { PlatformContext } from '../context.js';

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/** Options of {@link EnvironmentService.create}. */
export interface CreateEnvironmentOptions {
  /** Letters, digits, `_`, `.`, `-`; up to 64 characters; unique ignoring case. */
  name: string;
  displayName?: string;
  /** The creating principal (default the local admin); it becomes the environment's Admin. */
  actor?: string;
  policy?: Partial<EnvironmentPolicy>;
}

/** Environment operations. */
export class EnvironmentService {
  constructor(private readonly ctx: PlatformContext) {}

  /**
   * Creates an environment; the actor becomes its Admin.
   * @throws ENVIRONMENT_NAME_INVALID (invalid), ENVIRONMENT_EXISTS (conflict).
   */
  async create(options: CreateEnvironmentOptions): Promise<Environment> {
    if (!NAME.test(options.name)) {
      throw invalid(
        'ENVIRONMENT_NAME_INVALID',
        `environment name ${JSON.stringify(options.name)} is invalid: use 1–64 letters, digits, '_', '.', '-', starting with a letter or digit`,
        { field: 'name', value: options.name },
      );
    }
    if (options.displayName !== undefined && options.displayName.length > 256) {
      throw invalid('ENVIRONMENT_NAME_INVALID', 'an environment display name has at most 256 characters', {
        field: 'displayName',
      });
    }
    return this.ctx.store.transaction(async (tx) => {
      const actor = await this.ctx.actor(options.actor, tx);
      const existing = await tx.environments.getByName(options.name);
      if (existing) {
        throw conflict('ENVIRONMENT_EXISTS', `environment ${existing.name} already exists`, {
          environment: existing.name,
        });
      }
      const env: Environment = {
        id: this.ctx.ids.newId(),
        name: options.name,
        displayName: options.displayName ?? options.name,
        policy: { ...defaultPolicy(), ...options.policy },
        createdOn: this.ctx.nowIso(),
      };
      await tx.environments.insert(env);
      await tx.roles.set({ environmentId: env.id, principalId: actor.id, role: 'Admin' });
      await this.ctx.audit(tx, {
        actor,
        environmentId: env.id,
        action: 'environment.create',
        target: { type: 'environment', id: env.id, name: env.name },
        after: env,
      });
      return env;
    });
  }

  /** Every environment, by name. */
  async list(): Promise<Environment[]> {
    return this.ctx.store.repos.environments.list();
  }

  /** An environment by name (case-insensitive) or id. @throws ENVIRONMENT_NOT_FOUND (not-found) */
  async get(nameOrId: string): Promise<Environment> {
    const repos = this.ctx.store.repos;
    const env = (await repos.environments.getByName(nameOrId)) ?? (await repos.environments.get(nameOrId));
    if (!env)
      throw notFound('ENVIRONMENT_NOT_FOUND', `environment ${nameOrId} does not exist`, { environment: nameOrId });
    return env;
  }

  /**
   * Gives a principal a role in an environment (replacing its previous role there).
   * @throws ROLE_INVALID (invalid), ENVIRONMENT_NOT_FOUND, PRINCIPAL_NOT_FOUND.
   */
  async assignRole(options: {
    environment: string;
    principal: string;
    role: Role;
    actor?: string;
  }): Promise<RoleAssignment> {
    if (!['Admin', 'Maker', 'Viewer'].includes(options.role)) {
      throw invalid('ROLE_INVALID', `role must be Admin, Maker or Viewer (got ${options.role})`, {
        field: 'role',
        value: options.role,
      });
    }
    return this.ctx.store.transaction(async (tx) => {
      const env = await this.get(options.environment);
      const actor = await this.ctx.actor(options.actor, tx);
      const p = await this.ctx.principal(options.principal, tx);
      const before = (await tx.roles.listForEnvironment(env.id)).find((r) => r.principalId === p.id)?.role;
      const a: RoleAssignment = { environmentId: env.id, principalId: p.id, role: options.role };
      await tx.roles.set(a);
      await this.ctx.audit(tx, {
        actor,
        environmentId: env.id,
        action: 'role.assign',
        target: { type: 'principal', id: p.id, name: p.name },
        before: { role: before ?? null },
        after: { role: a.role },
      });
      return a;
    });
  }

  /** Removes a principal's role in an environment. */
  async removeRole(options: { environment: string; principal: string; actor?: string }): Promise<void> {
    await this.ctx.store.transaction(async (tx) => {
      const env = await this.get(options.environment);
      const actor = await this.ctx.actor(options.actor, tx);
      const p = await this.ctx.principal(options.principal, tx);
      const before = (await tx.roles.listForEnvironment(env.id)).find((r) => r.principalId === p.id)?.role;
      await tx.roles.remove(env.id, p.id);
      await this.ctx.audit(tx, {
        actor,
        environmentId: env.id,
        action: 'role.remove',
        target: { type: 'principal', id: p.id, name: p.name },
        before: { role: before ?? null },
      });
    });
  }

  /** The role assignments of an environment, with principal names. */
  async roles(environment: string): Promise<Array<{ principal: string; role: Role }>> {
    const env = await this.get(environment);
    const names = new Map((await this.ctx.store.repos.principals.list()).map((p) => [p.id, p.name]));
    return (await this.ctx.store.repos.roles.listForEnvironment(env.id)).map((r) => ({
      principal: names.get(r.principalId) ?? r.principalId,
      role: r.role,
    }));
  }

  /** Changes an environment's policy (merged into the current one). */
  async setPolicy(options: {
    environment: string;
    policy: Partial<EnvironmentPolicy>;
    actor?: string;
  }): Promise<Environment> {
    return this.ctx.store.transaction(async (tx) => {
      const env = await this.get(options.environment);
      const actor = await this.ctx.actor(options.actor, tx);
      const next = { ...env, policy: { ...env.policy, ...options.policy } };
      await tx.environments.update(next);
      await this.ctx.audit(tx, {
        actor,
        environmentId: env.id,
        action: 'environment.policy',
        target: { type: 'environment', id: env.id, name: env.name },
        before: env.policy,
        after: next.policy,
      });
      return next;
    });
  }
}
