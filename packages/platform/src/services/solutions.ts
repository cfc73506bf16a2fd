/**
 * Solutions in an environment (design §3E, issue 5 items 4–6): plan, import, list, export.
 */
import { notFound, type Solution } from '@patchbay/core';
import type { DeploymentSettings, SolutionPackage } from '@patchbay/solution';
import type { PlatformContext } from '../context.js';
import { runImport, type ImportOptions, type ImportResult } from '../deploy/apply.js';
import { computePlan, type ImportPlan } from '../deploy/plan.js';
import { buildExportPackage } from '../deploy/export.js';
import type { EnvironmentService } from './environments.js';

/** Options of {@link SolutionService.plan}. */
export interface PlanOptions {
  environment: string;
  package: SolutionPackage;
  settings?: DeploymentSettings;
  actor?: string;
  addMissingConnectors?: boolean;
}

/** Solution operations. */
export class SolutionService {
  constructor(
    private readonly ctx: PlatformContext,
    private readonly environments: EnvironmentService,
  ) {}

  /** Computes what importing the package would do; writes nothing (a read-only transaction that is rolled back). */
  async plan(options: PlanOptions): Promise<ImportPlan> {
    const env = await this.environments.get(options.environment);
    const actor = await this.ctx.actor(options.actor);
    const work = await computePlan({
      ctx: this.ctx,
      repos: this.ctx.store.repos,
      env,
      actor,
      pkg: options.package,
      ...(options.settings ? { settings: options.settings } : {}),
      ...(options.addMissingConnectors ? { addMissingConnectors: true } : {}),
    });
    return work.plan;
  }

  /** Imports a package atomically (see deploy/apply.ts). */
  async import(options: ImportOptions): Promise<ImportResult> {
    return runImport({ ...options, ctx: this.ctx, resolveEnvironment: (n) => this.environments.get(n) });
  }

  /** Solutions installed in an environment. */
  async list(environment: string): Promise<Solution[]> {
    const env = await this.environments.get(environment);
    return this.ctx.store.repos.solutions.list(env.id);
  }

  /**
   * Builds the package of an installed solution from the environment's current state (docs/alm.md
   * "solution export"): flows as stored, references without connections, variable definitions
   * without values, the custom connectors it installed. Write it with `writeSolutionZip` /
   * `writeSolutionFolder` of @patchbay/solution.
   * @throws SOLUTION_NOT_FOUND, SOLUTION_COMPONENT_MISSING.
   */
  async export(o: { environment: string; name: string; managed?: boolean; actor?: string }): Promise<SolutionPackage> {
    const env = await this.environments.get(o.environment);
    const solution = await this.get(env.name, o.name);
    const pkg = await buildExportPackage({
      repos: this.ctx.store.repos,
      env,
      solution,
      ...(o.managed !== undefined ? { managed: o.managed } : {}),
    });
    await this.ctx.store.transaction(async (tx) => {
      const actor = await this.ctx.actor(o.actor, tx);
      await tx.audit.append({
        id: this.ctx.ids.newId(),
        at: this.ctx.nowIso(),
        actorId: actor.id,
        actorName: actor.name,
        environmentId: env.id,
        action: 'solution.export',
        target: { type: 'solution', id: solution.uniqueName, name: solution.displayName },
        details: {
          version: solution.version,
          managed: pkg.manifest.managed === 1,
          flows: pkg.flows.length,
          references: pkg.connectionReferences.length,
        },
      });
    });
    return pkg;
  }

  /** An installed solution by unique name. @throws SOLUTION_NOT_FOUND */
  async get(environment: string, uniqueName: string): Promise<Solution> {
    const env = await this.environments.get(environment);
    const s = await this.ctx.store.repos.solutions.get(env.id, uniqueName);
    if (!s)
      throw notFound('SOLUTION_NOT_FOUND', `solution ${uniqueName} is not installed in environment ${env.name}`, {
        solution: uniqueName,
        environment: env.name,
      });
    return s;
  }
}

export type { DeploymentSettings };
