/**
 * Environment variable values. Values of Secret variables are stored encrypted in the secret
 * store (owner `envvar:<environment id>:<schema name lowercased>`, name `value`); the values table
 * then holds an empty string, so a Secret value never appears in a listing or an export.
 */
import type { EnvironmentVariableType, Repositories } from '@patchbay/core';
import type { PlatformContext } from '../context.js';

/** The secret-store owner id of a Secret variable's value. */
export function variableSecretOwner(environmentId: string, schemaName: string): string {
  return `envvar:${environmentId}:${schemaName.toLowerCase()}`;
}

/** Stores a variable's value (encrypted when the variable is a Secret). Call inside a transaction. */
export async function setVariableValue(
  ctx: PlatformContext,
  tx: Repositories,
  o: { environmentId: string; schemaName: string; type: EnvironmentVariableType; value: string },
): Promise<void> {
  const modifiedOn = ctx.nowIso();
  if (o.type === 'Secret') {
    await ctx.vault.put(tx, {
      environmentId: o.environmentId,
      ownerId: variableSecretOwner(o.environmentId, o.schemaName),
      name: 'value',
      value: o.value,
    });
    await tx.environmentVariables.upsertValue({
      environmentId: o.environmentId,
      schemaName: o.schemaName,
      value: '',
      modifiedOn,
    });
  } else {
    await tx.environmentVariables.upsertValue({
      environmentId: o.environmentId,
      schemaName: o.schemaName,
      value: o.value,
      modifiedOn,
    });
  }
}

/**
 * The effective value of every variable of an environment (value, else default), by schema name,
 * with Secret values decrypted: for the engine only, never for output.
 */
export async function effectiveVariableValues(
  ctx: PlatformContext,
  environmentId: string,
  repos: Repositories = ctx.store.repos,
): Promise<Map<string, string>> {
  const [defs, values] = await Promise.all([
    repos.environmentVariables.listDefinitions(environmentId),
    repos.environmentVariables.listValues(environmentId),
  ]);
  const byKey = new Map(values.map((v) => [v.schemaName.toLowerCase(), v.value]));
  const out = new Map<string, string>();
  for (const d of defs) {
    let v: string | undefined;
    if (d.type === 'Secret') v = await ctx.vault.get(variableSecretOwner(environmentId, d.schemaName), 'value', repos);
    else v = byKey.get(d.schemaName.toLowerCase());
    if (v === undefined || v === '') v = d.defaultValue;
    if (v !== undefined) out.set(d.schemaName.toLowerCase(), v);
  }
  return out;
}
