/**
 * Compiles parsed expressions to evaluators: a tree of closures built once per definition
 * string, so running a flow never re-parses. Literals and calls of pure functions with constant
 * arguments are folded at compile time; a whole value with no expression is a constant.
 *
 * Result rules (docs/expressions.md §Values): `evaluate` never returns `undefined`; results are
 * read-only — values read from the context are returned by reference and containers built by
 * functions are shallow (they hold the argument values); constants are copied on every
 * evaluation; decimals become numbers at the boundary.
 */
import type { CompiledValue, ExpressionContext } from './contract.js';
import type { AccessExpression, ExpressionNode, TemplateNode } from './ast.js';
import { ExpressionError, ExpressionErrorCode } from './errors.js';
import { isPatchbayError } from '@patchbay/core';
import { parseExpression } from './parser.js';
import { getMember, type AccessSite } from './access.js';
import { lookupFunction } from './functions/index.js';
import type { CallSite, FunctionImpl } from './functions/common.js';
import { cloneJson, decimalsToNumbers, setKey, toText } from './values.js';
import { WdlDecimal } from './decimal.js';
import { MAX_STRING_RESULT, isLengthRangeError, stringTooLong } from './limits.js';

type Ev = (ctx: ExpressionContext) => unknown;

interface Compiled {
  ev: Ev;
  constant: boolean;
  value: unknown;
  /** Statically a float (for integer vs float arithmetic). */
  float: boolean;
  /** May produce a decimal (contains a `decimal()` call). */
  decimal: boolean;
}

const EMPTY: unknown[] = [];

/** A context that refuses every access: used while folding constants (pure functions never touch it). */
const NO_CONTEXT = new Proxy({} as ExpressionContext, {
  get() {
    throw new Error('constant folding must not read the context');
  },
});

function isContainer(v: unknown): boolean {
  return typeof v === 'object' && v !== null && !(v instanceof WdlDecimal);
}

function constantEv(value: unknown): Ev {
  if (isContainer(value)) return () => cloneJson(value);
  return () => value;
}

function constant(value: unknown, float = false): Compiled {
  return { ev: constantEv(value), constant: true, value, float, decimal: value instanceof WdlDecimal };
}

function compileNode(node: ExpressionNode, source: string): Compiled {
  switch (node.kind) {
    case 'string':
      return constant(node.value);
    case 'number':
      return constant(node.value, node.float);
    case 'boolean':
      return constant(node.value);
    case 'null':
      return constant(null);
    case 'access':
      return compileAccess(node, source);
    case 'call':
      return compileCall(node.name, node.args, node.start, source);
  }
}

/** One accessor of a chain, applied to the value of the chain so far. */
type Step = (target: unknown, ctx: ExpressionContext) => unknown;

function accessStep(key: Compiled, optional: boolean, site: AccessSite): Step {
  if (key.constant && typeof key.value === 'string') {
    const name = key.value;
    return (o) => {
      if (typeof o === 'object' && o !== null && !Array.isArray(o) && Object.hasOwn(o, name)) {
        const v = (o as Record<string, unknown>)[name];
        return v === undefined ? null : v;
      }
      return getMember(o, name, optional, site);
    };
  }
  if (key.constant) {
    const k = key.value;
    return (o) => getMember(o, k, optional, site);
  }
  const k = key.ev;
  return (o, ctx) => getMember(o, k(ctx), optional, site);
}

/**
 * An accessor chain `target.a?['b'][0]…`, compiled iteratively: the AST nests one node per
 * accessor, but neither compiling nor evaluating recurses along the chain, so chains of any
 * length (the parser does not count accessors as nesting) cannot overflow the stack. A constant
 * prefix is folded; evaluation applies the remaining steps in a loop, target before key.
 */
function compileAccess(node: AccessExpression, source: string): Compiled {
  const chain: AccessExpression[] = [];
  let n: ExpressionNode = node;
  while (n.kind === 'access') {
    chain.push(n);
    n = n.target;
  }
  chain.reverse();
  let head = compileNode(n, source);
  let decimal = head.decimal;
  const steps: Step[] = [];
  for (const a of chain) {
    const key = compileNode(a.key, source);
    decimal = decimal || key.decimal;
    const site: AccessSite = { position: a.key.start, expression: source };
    if (steps.length === 0 && head.constant && key.constant) {
      try {
        head = { ...constant(getMember(head.value, key.value, a.optional, site)), decimal };
        continue;
      } catch {
        // Not folded: the same error is raised at evaluation time.
      }
    }
    steps.push(accessStep(key, a.optional, site));
  }
  if (steps.length === 0) return { ...head, decimal, float: false };
  const t = head.ev;
  let ev: Ev;
  const s0 = steps[0] as Step;
  if (steps.length === 1) ev = (ctx) => s0(t(ctx), ctx);
  else if (steps.length === 2) {
    const s1 = steps[1] as Step;
    ev = (ctx) => s1(s0(t(ctx), ctx), ctx);
  } else if (steps.length === 3) {
    const s1 = steps[1] as Step;
    const s2 = steps[2] as Step;
    ev = (ctx) => s2(s1(s0(t(ctx), ctx), ctx), ctx);
  } else {
    ev = (ctx) => {
      let o = t(ctx);
      for (let i = 0; i < steps.length; i++) o = (steps[i] as Step)(o, ctx);
      return o;
    };
  }
  return { ev, constant: false, value: undefined, float: false, decimal };
}

function compileCall(name: string, argNodes: ExpressionNode[], position: number, source: string): Compiled {
  const def = lookupFunction(name);
  if (!def) {
    throw new ExpressionError(
      ExpressionErrorCode.UnknownFunction,
      `The template function '${name}' is not defined or not valid (position ${position}).`,
      {
        position,
        function: name,
        expression: source,
      },
    );
  }
  const n = argNodes.length;
  if (n < def.min || n > def.max) {
    const range =
      def.min === def.max ? `${def.min}` : def.max === Infinity ? `at least ${def.min}` : `${def.min} to ${def.max}`;
    throw new ExpressionError(
      ExpressionErrorCode.ArgumentCount,
      `The template language function '${def.name}' expects ${range} argument${def.max === 1 && def.min === 1 ? '' : 's'}; ${n} ${n === 1 ? 'was' : 'were'} given (position ${position}).`,
      { position, function: def.name, expression: source, expected: range, given: n },
    );
  }
  const args = argNodes.map((a) => compileNode(a, source));
  const floatArgs = args.map((a) => a.float);
  const constArgs = args.map((a) => (a.constant ? a.value : undefined));
  const site: CallSite = { fn: def.name, position, expression: source, floatArgs, constArgs };
  const float = def.float === 'always' || (def.float === 'args' && floatArgs.some(Boolean));
  const decimal = def.name === 'decimal' || args.some((a) => a.decimal);
  const impl: FunctionImpl = def.impl;

  if (def.pure && args.every((a) => a.constant)) {
    try {
      const value = impl(
        args.map((a) => a.value),
        site,
        NO_CONTEXT,
      );
      return { ...constant(value === undefined ? null : value, float), decimal };
    } catch {
      // Left to run time, where it raises the same error (wrapped as a typed error if unexpected).
    }
  }

  const evs = args.map((a) => a.ev);
  // Every call goes through `call`: a string result over the limit is EXPRESSION_LIMIT_EXCEEDED,
  // and an unexpected exception becomes a typed error that names the function and position.
  const call = (values: unknown[], ctx: ExpressionContext): unknown => {
    let r: unknown;
    try {
      r = impl(values, site, ctx);
    } catch (e) {
      throw atSite(e, site);
    }
    if (typeof r === 'string' && r.length > MAX_STRING_RESULT) throw stringTooLong(site, r.length);
    return r;
  };
  let ev: Ev;
  switch (n) {
    case 0:
      ev = (ctx) => call(EMPTY, ctx);
      break;
    case 1: {
      const a0 = evs[0] as Ev;
      ev = (ctx) => call([a0(ctx)], ctx);
      break;
    }
    case 2: {
      const a0 = evs[0] as Ev;
      const a1 = evs[1] as Ev;
      ev = (ctx) => {
        const x = a0(ctx);
        return call([x, a1(ctx)], ctx);
      };
      break;
    }
    case 3: {
      const a0 = evs[0] as Ev;
      const a1 = evs[1] as Ev;
      const a2 = evs[2] as Ev;
      ev = (ctx) => {
        const x = a0(ctx);
        const y = a1(ctx);
        return call([x, y, a2(ctx)], ctx);
      };
      break;
    }
    default:
      ev = (ctx) => {
        const values = new Array(n);
        for (let i = 0; i < n; i++) values[i] = (evs[i] as Ev)(ctx);
        return call(values, ctx);
      };
  }
  return { ev, constant: false, value: undefined, float, decimal };
}

/**
 * Converts an exception raised inside a function into a typed error naming the function and the
 * position: a too-long string is EXPRESSION_LIMIT_EXCEEDED, anything else unexpected
 * EXPRESSION_INTERNAL_ERROR (with the original as `cause`). PatchbayErrors (typed expression
 * errors, errors of the engine's context accessors) pass through unchanged.
 */
function atSite(e: unknown, site: CallSite): unknown {
  if (isPatchbayError(e)) return e;
  if (isLengthRangeError(e))
    return stringTooLong({ fn: site.fn, position: site.position, expression: site.expression });
  const message = e instanceof Error ? e.message : String(e);
  return new ExpressionError(
    ExpressionErrorCode.Internal,
    `The template language function '${site.fn}' failed unexpectedly at position ${site.position}: ${message}`,
    { position: site.position, function: site.fn, expression: site.expression },
    e,
  );
}

/** Converts an unexpected failure outside any function into a typed error (PatchbayErrors pass through). */
function wrapUnexpected(e: unknown, source: string, position?: number): unknown {
  if (isPatchbayError(e)) return e;
  if (isLengthRangeError(e))
    return stringTooLong({ expression: source, ...(position === undefined ? {} : { position }) });
  const message = e instanceof Error ? e.message : String(e);
  return new ExpressionError(
    ExpressionErrorCode.Internal,
    `Evaluating '${source}' failed unexpectedly: ${message}`,
    { expression: source, ...(position === undefined ? {} : { position }) },
    e,
  );
}

class ConstantValue implements CompiledValue {
  readonly isConstant = true;
  private readonly shared: boolean;
  constructor(private readonly value: unknown) {
    this.shared = !isContainer(value);
  }
  evaluate(): unknown {
    return this.shared ? this.value : cloneJson(this.value);
  }
}

class ExpressionValue implements CompiledValue {
  readonly isConstant = false;
  constructor(
    private readonly ev: Ev,
    private readonly source: string,
    private readonly decimal: boolean,
  ) {}
  evaluate(ctx: ExpressionContext): unknown {
    let v: unknown;
    try {
      v = this.ev(ctx);
    } catch (e) {
      throw wrapUnexpected(e, this.source);
    }
    if (v === undefined) return null;
    return this.decimal ? decimalsToNumbers(v) : v;
  }
}

class InterpolationValue implements CompiledValue {
  readonly isConstant = false;
  constructor(
    private readonly parts: Array<string | Ev>,
    private readonly source: string,
    /** Offset of each part in the source (for errors). */
    private readonly positions: number[],
  ) {}
  evaluate(ctx: ExpressionContext): unknown {
    const parts = this.parts;
    let out = '';
    let i = 0;
    try {
      for (; i < parts.length; i++) {
        const p = parts[i] as string | Ev;
        out += typeof p === 'string' ? p : toText(p(ctx));
        if (out.length > MAX_STRING_RESULT)
          throw stringTooLong({ expression: this.source, position: this.positions[i] ?? 0 }, out.length);
      }
    } catch (e) {
      throw wrapUnexpected(e, this.source, this.positions[i]);
    }
    return out;
  }
}

/** Compiles a parsed definition string (see `parseExpression`); `source` is the original text, for error details. */
export function compileTemplate(ast: TemplateNode, source: string): CompiledValue {
  switch (ast.kind) {
    case 'literal':
      return new ConstantValue(ast.value);
    case 'expression': {
      const c = compileNode(ast.body, source);
      if (c.constant) return new ConstantValue(c.decimal ? decimalsToNumbers(c.value) : c.value);
      return new ExpressionValue(c.ev, source, c.decimal);
    }
    case 'interpolation': {
      const parts: Array<string | Ev> = [];
      const positions: number[] = [];
      for (const p of ast.parts) {
        let piece: string | Ev;
        if (p.kind === 'text') piece = p.value;
        else {
          const c = compileNode(p.body, source);
          piece = c.constant ? toText(c.value) : c.ev;
        }
        const last = parts[parts.length - 1];
        if (typeof piece === 'string' && typeof last === 'string') parts[parts.length - 1] = last + piece;
        else {
          parts.push(piece);
          positions.push(p.start);
        }
      }
      if (parts.length === 0) return new ConstantValue('');
      if (parts.length === 1 && typeof parts[0] === 'string') return new ConstantValue(parts[0]);
      return new InterpolationValue(parts, source, positions);
    }
  }
}

/** Options of {@link compileExpression}. */
export interface CompileOptions {
  /** Use the compile cache (default true). `false` parses and compiles every time (benchmarks). */
  cache?: boolean;
}

/** Maximum number of compiled strings kept in the cache (oldest dropped first). */
export const COMPILE_CACHE_SIZE = 10_000;
const cache = new Map<string, CompiledValue>();

/**
 * Compiles one definition string: `@expr`, `text @{expr} text`, `@@escaped` or a plain literal.
 * Results are cached per source string (bounded). Throws `ExpressionError`
 * (`EXPRESSION_PARSE_ERROR`, `EXPRESSION_UNKNOWN_FUNCTION`, `EXPRESSION_ARGUMENT_COUNT`).
 */
export function compileExpression(source: string, options: CompileOptions = {}): CompiledValue {
  const useCache = options.cache !== false;
  if (useCache) {
    const hit = cache.get(source);
    if (hit) return hit;
  }
  const compiled = compileTemplate(parseExpression(source), source);
  if (useCache) {
    if (cache.size >= COMPILE_CACHE_SIZE) {
      const oldest = cache.keys().next();
      if (!oldest.done) cache.delete(oldest.value);
    }
    cache.set(source, compiled);
  }
  return compiled;
}

/** Empties the compile cache (tests, long-running processes that reload definitions). */
export function clearCompileCache(): void {
  cache.clear();
}

class ArrayValue implements CompiledValue {
  readonly isConstant = false;
  constructor(private readonly items: CompiledValue[]) {}
  evaluate(ctx: ExpressionContext): unknown {
    const items = this.items;
    const out = new Array(items.length);
    for (let i = 0; i < items.length; i++) out[i] = (items[i] as CompiledValue).evaluate(ctx);
    return out;
  }
}

class ObjectValue implements CompiledValue {
  readonly isConstant = false;
  constructor(
    private readonly keys: string[],
    private readonly values: CompiledValue[],
  ) {}
  evaluate(ctx: ExpressionContext): unknown {
    const out: Record<string, unknown> = {};
    const keys = this.keys;
    for (let i = 0; i < keys.length; i++)
      setKey(out, keys[i] as string, (this.values[i] as CompiledValue).evaluate(ctx));
    return out;
  }
}

/**
 * Compiles a whole JSON value from a definition (action `inputs`, an If `expression`, …): every
 * string is compiled per the rules of {@link compileExpression}; object keys are literals;
 * sub-trees without expressions are constants (`isConstant`). Throws on the first invalid
 * expression (the message names it).
 */
export function compileValue(value: unknown): CompiledValue {
  if (typeof value === 'string') return compileExpression(value);
  if (value === null || value === undefined || typeof value !== 'object')
    return new ConstantValue(value === undefined ? null : value);
  if (Array.isArray(value)) {
    const items = value.map(compileValue);
    if (items.every((i) => i.isConstant)) return new ConstantValue(items.map((i) => i.evaluate(NO_CONTEXT)));
    return new ArrayValue(items);
  }
  const keys: string[] = [];
  const values: CompiledValue[] = [];
  for (const k of Object.keys(value)) {
    const v = (value as Record<string, unknown>)[k];
    if (v === undefined) continue;
    keys.push(k);
    values.push(compileValue(v));
  }
  if (values.every((v) => v.isConstant)) {
    const out: Record<string, unknown> = {};
    keys.forEach((k, i) => setKey(out, k, (values[i] as CompiledValue).evaluate(NO_CONTEXT)));
    return new ConstantValue(out);
  }
  return new ObjectValue(keys, values);
}
