/**
 * @patchbay/expression — the Workflow Definition Language expression language of Logic Apps and
 * Power Automate: parser (positions on every node), printer, compiler to cached evaluators, the
 * full function library, typed errors, and the conformance runner. Pure: no I/O, no clock, no
 * Math.random, no eval. Semantics and decisions: docs/expressions.md.
 */
import type { ExpressionContext } from './contract.js';
import { compileExpression } from './compile.js';
export type { ExpressionContext, CompiledValue } from './contract.js';
export type * from './ast.js';
export { parseExpression, parseExpressionBody, MAX_NESTING } from './parser.js';
export { printExpression, printExpressionBody } from './printer.js';
export {
  compileExpression,
  compileValue,
  clearCompileCache,
  COMPILE_CACHE_SIZE,
  type CompileOptions,
} from './compile.js';
export { contextFromData, clockValue, clockTicks, type ContextData, type ContextOptions } from './context.js';
export {
  ExpressionError,
  ExpressionErrorCode,
  isExpressionError,
  type ExpressionErrorDetails,
  type ExpressionErrorCodeValue,
} from './errors.js';
export {
  runConformance,
  runCase,
  summarize,
  jsonEqual,
  canonicalXml,
  parseCaseFile,
  validateCase,
  COMPARE_MODES,
  type ConformanceCase,
  type ConformanceResult,
  type ConformanceOptions,
} from './conformance.js';
export { SUPPORTED_FUNCTIONS, lookupFunction, FUNCTIONS } from './functions/index.js';
export { formatInstant } from './functions/datetime.js';
export { WINDOWS_ZONES, offsetAt } from './functions/timezones.js';
export { parseJson, JsonSyntaxError, MAX_JSON_DEPTH } from './json.js';
export { WdlDecimal } from './decimal.js';
export { toText, toJsonText, valuesEqual, typeName, isContentEnvelope, decimalsToNumbers } from './values.js';

/**
 * WDL truthiness for conditions: only the boolean `true` is true. Used for If/Until/trigger
 * conditions whose expression must produce a boolean; a non-boolean is not coerced (the engine
 * should fail the action, as the runtime does: "the expression must evaluate to a boolean").
 */
export function isTruthy(value: unknown): boolean {
  return value === true;
}

/** Convenience: parse, compile (cached) and evaluate one definition string. */
export function evaluateExpression(source: string, ctx: ExpressionContext): unknown {
  return compileExpression(source).evaluate(ctx);
}
