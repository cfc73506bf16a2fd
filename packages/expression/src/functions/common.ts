/**
 * Shared machinery of the function library: the definition shape, the call site handed to
 * every implementation (for error positions), and argument checks that raise typed errors
 * worded like the Logic Apps runtime ("The template language function 'div' expects its first
 * parameter to be an integer or a decimal number. The provided value is of type 'Null'.").
 */
import type { ExpressionContext } from '../contract.js';
import { ExpressionError, ExpressionErrorCode, type ExpressionErrorCodeValue } from '../errors.js';
import { WdlDecimal } from '../decimal.js';
import { isObject, typeName, type JsonObject } from '../values.js';

/** Where a function is called: used by implementations for typed errors and int/float typing. */
export interface CallSite {
  /** Canonical (catalogue) name, e.g. `formatDateTime`. */
  readonly fn: string;
  /** Zero-based offset of the call in `expression`. */
  readonly position: number;
  /** The whole source string. */
  readonly expression: string;
  /** Per argument: true when the argument is statically a float (`5.0`, `float(…)`, `mul(1.5, 2)`). */
  readonly floatArgs: readonly boolean[];
  /** Per argument: the constant value when the argument is a literal / folded constant (else undefined). */
  readonly constArgs: readonly unknown[];
  /** Per-call-site memo for implementations (e.g. the last compiled date format); never shared between sites. */
  memo?: { key1: unknown; key2: unknown; value: unknown };
}

/** A function implementation: receives evaluated arguments (left to right). Must not keep `args`. */
export type FunctionImpl = (args: unknown[], site: CallSite, ctx: ExpressionContext) => unknown;

/** One catalogue entry. */
export interface FunctionDef {
  /** Canonical name as documented (`toLower`). Lookup is case-insensitive. */
  name: string;
  /** Deprecated or alternative names with the same implementation. */
  aliases?: string[];
  min: number;
  /** Maximum argument count (Infinity for variadic). */
  max: number;
  impl: FunctionImpl;
  /** Deterministic and context-free: calls with constant arguments are folded at compile time. */
  pure?: boolean;
  /** Result is a float: `always` (float()), or `args` when any argument is a float (add, div, …). */
  float?: 'always' | 'args';
  /** Group in the catalogue (docs). */
  group: 'string' | 'collection' | 'logical' | 'conversion' | 'math' | 'date' | 'workflow' | 'uri' | 'manipulation';
}

const ORDINALS = ['first', 'second', 'third', 'fourth', 'fifth', 'sixth', 'seventh', 'eighth'];

/** "first parameter" / "parameter" (for one-argument functions). */
export function paramName(index: number, site?: CallSite): string {
  if (site && site.floatArgs.length === 1) return 'parameter';
  return `${ORDINALS[index] ?? `${index + 1}th`} parameter`;
}

/** Raises a typed error from inside a function. */
export function fail(
  site: CallSite,
  message: string,
  code: ExpressionErrorCodeValue = ExpressionErrorCode.Function,
  cause?: unknown,
): never {
  throw new ExpressionError(
    code,
    `The template language function '${site.fn}' failed: ${message}`,
    { position: site.position, function: site.fn, expression: site.expression },
    cause,
  );
}

/** Raises an argument type error. */
export function typeError(site: CallSite, index: number, expected: string, value: unknown): never {
  throw new ExpressionError(
    ExpressionErrorCode.ArgumentType,
    `The template language function '${site.fn}' expects its ${paramName(index, site)} to be ${expected}. The provided value is of type '${typeName(value)}'.`,
    {
      position: site.position,
      function: site.fn,
      expression: site.expression,
      argument: index,
      actualType: typeName(value),
    },
  );
}

/** The argument as a string, else an argument type error. */
export function argString(site: CallSite, args: unknown[], i: number): string {
  const v = args[i];
  if (typeof v !== 'string') typeError(site, i, 'a string', v);
  return v;
}

/** Optional string argument (undefined when absent). Null is treated as absent. */
export function optString(site: CallSite, args: unknown[], i: number): string | undefined {
  if (i >= args.length || args[i] === null) return undefined;
  return argString(site, args, i);
}

/** True when the argument counts as a float at this call site. */
export function isFloatArg(site: CallSite, i: number, v: unknown): boolean {
  return typeof v === 'number' && (site.floatArgs[i] === true || !Number.isInteger(v));
}

/** The argument as an integer (safe JS number), else an argument type error. Bigints outside the safe range fail. */
export function argInt(site: CallSite, args: unknown[], i: number): number {
  const v = args[i];
  if (typeof v === 'number' && Number.isInteger(v) && !site.floatArgs[i]) return v;
  if (typeof v === 'bigint') {
    if (v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(v);
    fail(site, `the ${paramName(i, site)} ${v} is out of the supported range`, ExpressionErrorCode.Overflow);
  }
  if (v instanceof WdlDecimal) {
    const w = v.toBigIntIfWhole();
    if (w !== undefined && w >= BigInt(Number.MIN_SAFE_INTEGER) && w <= BigInt(Number.MAX_SAFE_INTEGER))
      return Number(w);
  }
  return typeError(site, i, 'an integer', v);
}

/** The argument as a number (int or float; bigints and decimals converted), else a type error. */
export function argNumber(site: CallSite, args: unknown[], i: number): number {
  const v = args[i];
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (v instanceof WdlDecimal) return v.toNumber();
  return typeError(site, i, 'an integer or a decimal number', v);
}

/** The argument as an array, else a type error. */
export function argArray(site: CallSite, args: unknown[], i: number): unknown[] {
  const v = args[i];
  if (!Array.isArray(v)) typeError(site, i, 'an array', v);
  return v;
}

/** The argument as an object, else a type error. */
export function argObject(site: CallSite, args: unknown[], i: number): JsonObject {
  const v = args[i];
  if (!isObject(v)) typeError(site, i, 'an object', v);
  return v;
}

/** The argument as a boolean, else a type error. */
export function argBool(site: CallSite, args: unknown[], i: number): boolean {
  const v = args[i];
  if (typeof v !== 'boolean') typeError(site, i, 'a boolean', v);
  return v;
}

/** Raises "not found" for workflow functions whose data is absent from the context. */
export function notFound(site: CallSite, what: string, name?: string): never {
  throw new ExpressionError(
    ExpressionErrorCode.ReferenceNotFound,
    `The template language function '${site.fn}' failed: ${what}${name === undefined ? '' : ` '${name}'`} is not available in this context.`,
    {
      position: site.position,
      function: site.fn,
      expression: site.expression,
      ...(name === undefined ? {} : { name }),
    },
  );
}
