/**
 * Math functions (wdl-spec §6 "Math"): integer op integer → integer (64-bit, exact beyond 2^53
 * with bigint, overflow is an error); any float → float; any decimal → decimal. `div` of two
 * integers truncates toward zero; `mod` takes the sign of the dividend; a zero divisor is an
 * error. Null and non-numbers are argument type errors.
 */
import type { CallSite, FunctionDef } from './common.js';
import { argArray, argInt, fail, isFloatArg, typeError } from './common.js';
import { DECIMAL_MAX_MANTISSA, DecimalOverflowError, WdlDecimal } from '../decimal.js';
import { compareNumeric, toDecimal } from '../values.js';
import { ExpressionErrorCode } from '../errors.js';

type Num = number | bigint | WdlDecimal;

const INT64_MAX = 9223372036854775807n;
const INT64_MIN = -9223372036854775808n;
const SAFE_MAX = BigInt(Number.MAX_SAFE_INTEGER);
const SAFE_MIN = BigInt(Number.MIN_SAFE_INTEGER);

function numArg(site: CallSite, args: unknown[], i: number): Num {
  const v = args[i];
  if (typeof v === 'number' || typeof v === 'bigint' || v instanceof WdlDecimal) return v;
  return typeError(site, i, 'an integer or a decimal number', v);
}

/** Normalises an integer result: a number when safe, a bigint within int64, else an overflow error. */
export function intResult(site: CallSite, v: bigint): number | bigint {
  if (v >= SAFE_MIN && v <= SAFE_MAX) return Number(v);
  if (v < INT64_MIN || v > INT64_MAX)
    fail(site, 'the result is outside the 64-bit integer range', ExpressionErrorCode.Overflow);
  return v;
}

/**
 * A float result: ±Infinity and NaN are not values (JSON cannot carry them and the runtime's
 * serializer refuses them), so a float operation that overflows the double range is
 * `EXPRESSION_OVERFLOW` (docs/expressions.md, decision on non-finite floats).
 */
export function finiteResult(site: CallSite, v: number): number {
  if (!Number.isFinite(v))
    fail(
      site,
      `the result ${Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity'} is not a finite floating-point number (it overflows the double range)`,
      ExpressionErrorCode.Overflow,
    );
  return v;
}

type Op = 'add' | 'sub' | 'mul' | 'div' | 'mod';

function decimalOp(site: CallSite, op: Op, a: WdlDecimal, b: WdlDecimal): WdlDecimal {
  try {
    return decimalOpUnchecked(site, op, a, b);
  } catch (e) {
    if (e instanceof DecimalOverflowError)
      fail(
        site,
        `the decimal result is outside the decimal range ±${DECIMAL_MAX_MANTISSA}`,
        ExpressionErrorCode.Overflow,
      );
    throw e;
  }
}

function decimalOpUnchecked(site: CallSite, op: Op, a: WdlDecimal, b: WdlDecimal): WdlDecimal {
  switch (op) {
    case 'add':
      return a.add(b);
    case 'sub':
      return a.sub(b);
    case 'mul':
      return a.mul(b);
    case 'div':
      if (b.isZero()) fail(site, 'the divisor must not be zero');
      return a.div(b);
    case 'mod':
      if (b.isZero()) fail(site, 'the divisor must not be zero');
      return a.mod(b);
  }
}

function arith(site: CallSite, op: Op, args: unknown[]): Num {
  const a = numArg(site, args, 0);
  const b = numArg(site, args, 1);
  if (a instanceof WdlDecimal || b instanceof WdlDecimal) {
    const da = toDecimal(a);
    const db = toDecimal(b);
    if (!da || !db) fail(site, 'a non-finite number cannot be combined with a decimal');
    return decimalOp(site, op, da, db);
  }
  const float = isFloatArg(site, 0, a) || isFloatArg(site, 1, b);
  if (float) {
    const x = Number(a);
    const y = Number(b);
    switch (op) {
      case 'add':
        return finiteResult(site, x + y);
      case 'sub':
        return finiteResult(site, x - y);
      case 'mul':
        return finiteResult(site, x * y);
      case 'div':
        if (y === 0) fail(site, 'the divisor must not be zero');
        return finiteResult(site, x / y);
      case 'mod':
        if (y === 0) fail(site, 'the divisor must not be zero');
        return finiteResult(site, x % y);
    }
  }
  if (typeof a === 'number' && typeof b === 'number') {
    let r: number;
    switch (op) {
      case 'add':
        r = a + b;
        break;
      case 'sub':
        r = a - b;
        break;
      case 'mul':
        r = a * b;
        break;
      case 'div':
        if (b === 0) fail(site, 'the divisor must not be zero');
        r = Math.trunc(a / b);
        break;
      case 'mod':
        if (b === 0) fail(site, 'the divisor must not be zero');
        r = a % b;
        break;
    }
    if (Number.isSafeInteger(r)) return r === 0 ? 0 : r;
  }
  const x = BigInt(a);
  const y = BigInt(b);
  switch (op) {
    case 'add':
      return intResult(site, x + y);
    case 'sub':
      return intResult(site, x - y);
    case 'mul':
      return intResult(site, x * y);
    case 'div':
      if (y === 0n) fail(site, 'the divisor must not be zero');
      return intResult(site, x / y);
    case 'mod':
      if (y === 0n) fail(site, 'the divisor must not be zero');
      // .NET `long.MinValue % -1` throws OverflowException, as `div` does for the same operands
      if (x === INT64_MIN && y === -1n)
        fail(site, 'the result is outside the 64-bit integer range', ExpressionErrorCode.Overflow);
      return intResult(site, x % y);
  }
}

function extreme(site: CallSite, args: unknown[], sign: 1 | -1): Num {
  let list: unknown[] = args;
  if (args.length === 1 && Array.isArray(args[0])) list = argArray(site, args, 0);
  if (list.length === 0) fail(site, 'expects at least one number');
  let best: Num | undefined;
  for (let i = 0; i < list.length; i++) {
    const v = list[i];
    if (typeof v !== 'number' && typeof v !== 'bigint' && !(v instanceof WdlDecimal)) {
      return typeError(
        site,
        list === args ? i : 0,
        list === args ? 'an integer or a decimal number' : 'an array of numbers',
        v,
      );
    }
    if (best === undefined || compareNumeric(v, best) * sign > 0) best = v;
  }
  return best as Num;
}

export const mathFunctions: FunctionDef[] = [
  {
    name: 'add',
    group: 'math',
    min: 2,
    max: 2,
    pure: true,
    float: 'args',
    impl: (args, site) => arith(site, 'add', args),
  },
  {
    name: 'sub',
    group: 'math',
    min: 2,
    max: 2,
    pure: true,
    float: 'args',
    impl: (args, site) => arith(site, 'sub', args),
  },
  {
    name: 'mul',
    group: 'math',
    min: 2,
    max: 2,
    pure: true,
    float: 'args',
    impl: (args, site) => arith(site, 'mul', args),
  },
  {
    name: 'div',
    group: 'math',
    min: 2,
    max: 2,
    pure: true,
    float: 'args',
    impl: (args, site) => arith(site, 'div', args),
  },
  {
    name: 'mod',
    group: 'math',
    min: 2,
    max: 2,
    pure: true,
    float: 'args',
    impl: (args, site) => arith(site, 'mod', args),
  },
  {
    name: 'min',
    group: 'math',
    min: 1,
    max: Infinity,
    pure: true,
    float: 'args',
    impl: (args, site) => extreme(site, args, -1),
  },
  {
    name: 'max',
    group: 'math',
    min: 1,
    max: Infinity,
    pure: true,
    float: 'args',
    impl: (args, site) => extreme(site, args, 1),
  },
  {
    name: 'rand',
    group: 'math',
    min: 2,
    max: 2,
    impl: (args, site, ctx) => {
      const lo = argInt(site, args, 0);
      const hi = argInt(site, args, 1);
      if (lo > hi) fail(site, `the minimum value ${lo} must not be greater than the maximum value ${hi}`);
      if (lo === hi) return lo;
      const r = ctx.random();
      if (!(r >= 0 && r < 1)) fail(site, 'the context returned a random number outside [0, 1)');
      return lo + Math.floor(r * (hi - lo));
    },
  },
  {
    name: 'range',
    group: 'math',
    min: 2,
    max: 2,
    pure: true,
    impl: (args, site) => {
      const start = argInt(site, args, 0);
      const count = argInt(site, args, 1);
      if (count < 0) fail(site, `the count ${count} must not be negative`);
      if (count > 100_000) fail(site, `the count ${count} must not exceed 100000`);
      if (start + count > 2_147_483_647)
        fail(site, 'the sum of the start index and the count must not exceed 2147483647');
      const out = new Array<number>(count);
      for (let i = 0; i < count; i++) out[i] = start + i;
      return out;
    },
  },
];
