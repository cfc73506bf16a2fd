/**
 * Typed errors of the expression language. Every failure — parse, unknown function, wrong
 * argument, missing property, missing runtime data — is an {@link ExpressionError}; nothing is
 * swallowed or turned into an empty string (docs/expressions.md §Errors).
 */
import { PatchbayError } from '@patchbay/core';

/** Stable error codes of the expression language (SCREAMING_SNAKE, never reworded). */
export const ExpressionErrorCode = {
  /** The text is not a valid expression (details: position, expected, found). */
  Parse: 'EXPRESSION_PARSE_ERROR',
  /** A function name that is not in the catalogue. */
  UnknownFunction: 'EXPRESSION_UNKNOWN_FUNCTION',
  /** A function called with too few or too many arguments. */
  ArgumentCount: 'EXPRESSION_ARGUMENT_COUNT',
  /** A function argument of the wrong type (e.g. `add('a', 1)`). */
  ArgumentType: 'EXPRESSION_ARGUMENT_TYPE',
  /** A function failed on its (well-typed) arguments: bad format, out of range, invalid base64, … */
  Function: 'EXPRESSION_FUNCTION_ERROR',
  /** `x['p']` / `x.p` where `p` does not exist (and no `?`). */
  PropertyMissing: 'EXPRESSION_PROPERTY_MISSING',
  /** `x[i]` with `i` outside the array (and no `?`). */
  IndexOutOfRange: 'EXPRESSION_INDEX_OUT_OF_RANGE',
  /** Property or index access on null (and no `?`). */
  NullReference: 'EXPRESSION_NULL_REFERENCE',
  /** Property access on a value that has no properties (string, number, …), or a non-integer array index. */
  InvalidAccess: 'EXPRESSION_INVALID_ACCESS',
  /** `variables('x')`, `parameters('x')`, `actions('x')`, `item()` … with nothing behind it in the context. */
  ReferenceNotFound: 'EXPRESSION_REFERENCE_NOT_FOUND',
  /** Arithmetic overflow: the 64-bit integer range, the decimal range, or a float result that is not finite. */
  Overflow: 'EXPRESSION_OVERFLOW',
  /** A result or an input exceeds a size limit (strings over 104,857,600 characters, XML over 4,194,304 characters). */
  LimitExceeded: 'EXPRESSION_LIMIT_EXCEEDED',
  /** An unexpected failure inside the evaluator (a bug): reported, never hidden. */
  Internal: 'EXPRESSION_INTERNAL_ERROR',
} as const;

/** One of {@link ExpressionErrorCode}. */
export type ExpressionErrorCodeValue = (typeof ExpressionErrorCode)[keyof typeof ExpressionErrorCode];

/** Structured details of an {@link ExpressionError}. */
export interface ExpressionErrorDetails {
  /** Zero-based offset in `expression` where the problem is (start of the call / token). */
  position?: number;
  /** The function whose evaluation failed, as written in the source (`formatDateTime`). */
  function?: string;
  /** The whole source string as it appears in the definition (`@concat(...)`, `a@{b}c`). */
  expression?: string;
  /** For parse errors: what the parser expected at `position`. */
  expected?: string;
  /** For parse errors: what it found instead. */
  found?: string;
  [key: string]: unknown;
}

/**
 * An error raised while parsing or evaluating a Workflow Definition Language expression.
 * Category `invalid` (CLI exit 2, HTTP 400); the engine maps it to an `InvalidTemplate` action failure.
 */
export class ExpressionError extends PatchbayError {
  declare readonly details: ExpressionErrorDetails;

  constructor(code: ExpressionErrorCodeValue, message: string, details: ExpressionErrorDetails = {}, cause?: unknown) {
    super({ code, message, category: 'invalid', details, cause });
    this.name = 'ExpressionError';
  }
}

/** True for an {@link ExpressionError} (also from another copy of this module). */
export function isExpressionError(value: unknown): value is ExpressionError {
  return (
    value instanceof ExpressionError ||
    (value instanceof Error &&
      value.name === 'ExpressionError' &&
      typeof (value as { code?: unknown }).code === 'string' &&
      String((value as unknown as { code: string }).code).startsWith('EXPRESSION_'))
  );
}
