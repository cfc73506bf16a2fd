/**
 * The function catalogue: every function of the Workflow Definition Language reference
 * (expression-functions-reference.md), looked up case-insensitively by name or alias.
 */
import type { FunctionDef } from './common.js';
import { stringFunctions } from './string.js';
import { collectionFunctions } from './collection.js';
import { conversionFunctions } from './conversion.js';
import { mathFunctions } from './math.js';
import { dateFunctions } from './dates.js';
import { workflowFunctions } from './workflow.js';

/** Every function definition, in catalogue order. */
export const FUNCTIONS: readonly FunctionDef[] = [
  ...stringFunctions,
  ...collectionFunctions,
  ...conversionFunctions,
  ...mathFunctions,
  ...dateFunctions,
  ...workflowFunctions,
];

const byName = new Map<string, FunctionDef>();
for (const def of FUNCTIONS) {
  for (const n of [def.name, ...(def.aliases ?? [])]) {
    const key = n.toLowerCase();
    if (byName.has(key)) throw new Error(`duplicate function name ${n}`);
    byName.set(key, def);
  }
}

/** The definition of a function by name (case-insensitive), or undefined. */
export function lookupFunction(name: string): FunctionDef | undefined {
  return byName.get(name.toLowerCase());
}

/** Every supported function name, including aliases, as documented (sorted). */
export const SUPPORTED_FUNCTIONS: readonly string[] = FUNCTIONS.flatMap((d) => [d.name, ...(d.aliases ?? [])]).sort(
  (a, b) => (a.toLowerCase() < b.toLowerCase() ? -1 : a.toLowerCase() > b.toLowerCase() ? 1 : 0),
);

export type { FunctionDef, CallSite } from './common.js';
