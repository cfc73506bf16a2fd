/**
 * Public entry of @patchbay/engine: the flow interpreter (pure, no I/O).
 *
 * `compileDefinition(flow)` → `Plan` (cached per definition object);
 * `startRun(plan, runStarted)` / `step(plan, state, event)` → `{state, commands}`;
 * `replay(plan, events)` → state; `runRecord(state)` / `summarizeRun(state)` → redacted history.
 * See docs/engine.md for the run model and the state machine.
 */
export * from './types.js';
export {
  compileDefinition,
  definitionOf,
  type Plan,
  type PlanAction,
  type PlanBlock,
  type PlanTrigger,
  type PlanParameter,
  type ActionKind,
} from './plan.js';
export {
  startRun,
  step,
  replay,
  splitTrigger,
  isTerminalStatus,
  parseRetryPolicy,
  retryAfterMs,
  httpCodeName,
  coerceParameter,
  textOf,
  DEFAULT_RETRY,
  ACTION_FAILED,
} from './engine.js';
export {
  runRecord,
  summarizeRun,
  summarizeRecord,
  historyAction,
  REDACTED,
  type RunRecord,
  type RunSummary,
  type HistoryActionRecord,
} from './history.js';
export { parseDuration, addUnits, type TimeUnit } from './duration.js';
export { validateSchema, type SchemaError } from './schema.js';
