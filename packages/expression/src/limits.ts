/**
 * Size limits of evaluation (wdl-spec §1: concat/join results ≤ 104,857,600 characters). Every
 * string a function builds is held to the limit: the call wrapper of the compiler checks each
 * string result, functions that could build a larger string first (`replace`, `concat`, `join`)
 * check before building it, and a JavaScript `RangeError: Invalid string length` anywhere in a
 * function is reported as the same typed error.
 */
import { ExpressionError, ExpressionErrorCode } from './errors.js';

/** Longest string an expression may build (characters). */
export const MAX_STRING_RESULT = 104_857_600;

/** Where a limit was exceeded (a call site, or just the expression). */
export interface LimitSite {
  readonly fn?: string;
  readonly position?: number;
  readonly expression: string;
}

/** The `EXPRESSION_LIMIT_EXCEEDED` error for a string result of `length` characters (or more, when unknown). */
export function stringTooLong(site: LimitSite, length?: number): ExpressionError {
  const what = site.fn ? `The template language function '${site.fn}' failed: the result` : 'The result';
  return new ExpressionError(
    ExpressionErrorCode.LimitExceeded,
    `${what} ${length === undefined ? 'would exceed' : `has ${length} characters, more than`} the limit of ${MAX_STRING_RESULT} characters.`,
    {
      ...(site.position === undefined ? {} : { position: site.position }),
      ...(site.fn === undefined ? {} : { function: site.fn }),
      expression: site.expression,
      limit: MAX_STRING_RESULT,
      ...(length === undefined ? {} : { length }),
    },
  );
}

/** True for the RangeError JavaScript raises when a string or array would be too long. */
export function isLengthRangeError(e: unknown): boolean {
  return e instanceof RangeError && /Invalid (string|array|typed array) length/.test(e.message);
}
