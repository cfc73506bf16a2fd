/**
 * Solution import (design §3E, issue 5 item 5): applies a plan atomically — every write happens in
 * one transaction, so any failure leaves the environment exactly as before. Order inside the
 * transaction: connectors (installed from the package / registered by id) → references (created
 * unbound, owned by the importer; metadata of existing ones updated, bindings kept) → bindings from
 * the settings file → environment variable definitions and values → flows → the solution record →
 * re-evaluation of every flow of the environment (children before parents).
 */
import {
  PatchbayError,
  type Environment,
  type Flow,
  type FlowState,
  type Repositories,
  type SolutionComponent,
} from '@patchbay/core';
import type { DeploymentSettings, SolutionPackage } from '@patchbay/solution';
import type { PlatformContext } from '../context.js';
import { reevaluateEnvironment } from '../services/activation.js';
import { computePlan, type ImportPlan, type PlanWork } from './plan.js';
import { setVariableValue } from './variables.js';

/** Steps reported while an import writes (progress, and a hook for failure-injection tests). */
export type ImportStep = 'connectors' | 'references' | 'variables' | 'flows' | 'solution' | 'activation';

/** Options of an import. */
export interface ImportOptions {
  environment: string;
  package: SolutionPackage;
  settings?: DeploymentSettings;
  /** The importing principal (default the local admin). */
  actor?: string;
  /** Register connectors the environment lacks by id only. */
  addMissingConnectors?: boolean;
  /** Called after each step's writes, inside the transaction; throwing aborts and rolls back everything. */
  onStep?: (step: ImportStep) => void | Promise<void>;
}

/** One flow's outcome. */
export interface FlowOutcome {
  id: string;
  name: string;
  action: 'create' | 'update';
  state: FlowState;
  reasons: Flow['reasons'];
}

/** What an import did. */
export interface ImportResult {
  plan: ImportPlan;
  flows: FlowOutcome[];
}

/** Options of {@link runImport}. */
export interface RunImportOptions extends ImportOptions {
  ctx: PlatformContext;
  resolveEnvironment: (name: string) => Promise<Environment>;
}

/**
 * Plans and applies an import in one transaction.
 * @throws the first blocking problem of the plan as a PatchbayError (code and category of the
 *   problem; `details.plan` holds the whole plan) — nothing is written.
 */
export async function runImport(o: RunImportOptions): Promise<ImportResult> {
  const { ctx } = o;
  const env = await o.resolveEnvironment(o.environment);
  return ctx.store.transaction(async (tx) => {
    const actor = await ctx.actor(o.actor, tx);
    const work = await computePlan({
      ctx,
      repos: tx,
      env,
      actor,
      pkg: o.package,
      ...(o.settings ? { settings: o.settings } : {}),
      ...(o.addMissingConnectors ? { addMissingConnectors: true } : {}),
    });
    const blocking = work.plan.blockingProblem;
    if (blocking) {
      throw new PatchbayError({
        code: blocking.code,
        category: blocking.category,
        message: `import of ${o.package.manifest.uniqueName} into ${env.name} blocked: ${blocking.message}`,
        details: { ...blocking.details, problems: work.plan.problems, plan: work.plan },
      });
    }
    return apply(ctx, tx, work, o);
  });
}

async function apply(ctx: PlatformContext, tx: Repositories, work: PlanWork, o: ImportOptions): Promise<ImportResult> {
  const { env, plan } = work;
  const step = async (s: ImportStep): Promise<void> => {
    if (o.onStep) await o.onStep(s);
  };
  for (const c of [...work.connectorsToInstall, ...work.connectorsToAdd]) await tx.connectors.upsert(c);
  await step('connectors');
  for (const r of work.references) {
    if (await tx.references.get(r.id)) await tx.references.update(r);
    else await tx.references.insert(r);
  }
  await step('references');
  const now = ctx.nowIso();
  for (const v of work.variables) {
    const existing = await tx.environmentVariables.getDefinition(env.id, v.schemaName);
    await tx.environmentVariables.upsertDefinition({
      environmentId: env.id,
      schemaName: v.schemaName,
      displayName: v.displayName,
      type: v.type,
      ...(v.defaultValue !== undefined ? { defaultValue: v.defaultValue } : {}),
      isRequired: v.isRequired,
      createdOn: existing?.createdOn ?? now,
      modifiedOn: now,
    });
    if (v.valueChanged && v.value !== undefined) {
      await setVariableValue(ctx, tx, {
        environmentId: env.id,
        schemaName: v.schemaName,
        type: v.type,
        value: v.value,
      });
    }
  }
  await step('variables');
  for (const f of work.flows) {
    if (await tx.flows.get(env.id, f.id)) await tx.flows.update(f);
    else await tx.flows.insert(f);
  }
  await step('flows');
  const existing = await tx.solutions.get(env.id, plan.solution.uniqueName);
  const components: SolutionComponent[] = [
    ...work.flows.map((f) => ({ type: 'flow' as const, id: f.id })),
    ...work.references.map((r) => ({ type: 'connectionReference' as const, id: r.logicalName })),
    ...work.variables.map((v) => ({ type: 'environmentVariable' as const, id: v.schemaName })),
    ...work.connectorsToInstall.map((c) => ({ type: 'connector' as const, id: c.id })),
  ];
  await tx.solutions.upsert({
    environmentId: env.id,
    uniqueName: existing?.uniqueName ?? plan.solution.uniqueName,
    displayName: plan.solution.displayName,
    version: plan.solution.version,
    managed: plan.solution.managed,
    publisher: plan.solution.publisher,
    components: mergeComponents(existing?.components ?? [], components),
    installedOn: existing?.installedOn ?? now,
    modifiedOn: now,
  });
  await step('solution');
  await reevaluateEnvironment(ctx, tx, env.id);
  await ctx.audit(tx, {
    actor: work.actor,
    environmentId: env.id,
    action: 'solution.import',
    target: { type: 'solution', id: plan.solution.uniqueName, name: plan.solution.displayName },
    ...(existing ? { before: { version: existing.version } } : {}),
    after: { version: plan.solution.version },
    details: {
      references: plan.references.map((r) => ({ logicalName: r.logicalName, action: r.action, binding: r.binding })),
      flows: plan.flows.map((f) => ({ id: f.id, name: f.name, action: f.action })),
      connectors: plan.connectors.map((c) => ({ id: c.id, status: c.status })),
      variables: plan.variables.map((v) => ({ schemaName: v.schemaName, source: v.value.source })),
    },
  });
  await step('activation');
  const flows: FlowOutcome[] = [];
  for (const pf of plan.flows) {
    const f = await tx.flows.get(env.id, pf.id);
    flows.push({ id: pf.id, name: pf.name, action: pf.action, state: f?.state ?? 'Off', reasons: f?.reasons ?? [] });
  }
  return { plan, flows };
}

/** Components of an upgrade: the new ones plus the old ones the new version no longer lists (kept, never deleted). */
function mergeComponents(old: SolutionComponent[], next: SolutionComponent[]): SolutionComponent[] {
  const key = (c: SolutionComponent): string => `${c.type}:${c.id.toLowerCase()}`;
  const seen = new Set(next.map(key));
  return [...next, ...old.filter((c) => !seen.has(key(c)))];
}
