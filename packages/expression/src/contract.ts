/**
 * The contract between the expression language and its callers (the engine, the analyser,
 * the conformance runner). Kept stable: the engine codes against these names.
 *
 * Source of the semantics: ../shared/reference/wdl-spec.md §5–§6 and docs/expressions.md.
 */

/**
 * Runtime data an expression reads, supplied by the engine (or built from plain data by
 * `contextFromData`). Every accessor is lazy so the engine can answer from its run state
 * without copying. Time and randomness come in through here: the package itself never reads
 * the clock or Math.random (design §5: the centre does no I/O).
 */
export interface ExpressionContext {
  /** `trigger()`: the trigger record `{name, inputs, outputs, startTime, endTime, status, code, ...}`; `triggerBody()` is `outputs.body`. */
  trigger(): unknown;
  /** `actions(name)` / `body(name)` / `outputs(name)`: an action record `{name, inputs, outputs, status, code, error, startTime, endTime, ...}`, or undefined when no such action has run. */
  action(name: string): unknown;
  /** `action()`: the record of the action being evaluated (only in some places, e.g. `trackedProperties`). */
  currentAction(): unknown;
  /** `variables(name)`: the value, or undefined when the variable is not initialised. */
  variable(name: string): unknown;
  /** `parameters(name)`: the value, or undefined when the parameter is not defined. */
  parameter(name: string): unknown;
  /** `item()`: the current item of the innermost loop (Foreach) or the element in Select/Query/Filter; undefined outside. */
  item(): unknown;
  /** `items(loopName)`: the current item of the named Foreach; undefined outside. */
  items(loopName: string): unknown;
  /** `iterationIndexes(loopName)`: the zero-based index of the named Until loop; undefined outside. */
  iterationIndex(loopName: string): number | undefined;
  /** `result(scopeName)`: the records of the top-level actions inside a scope / loop / condition. */
  result(scopeName: string): unknown[] | undefined;
  /** `workflow()`: `{id, name, type, run: {id, name, type}, tags?}`. */
  workflow(): unknown;
  /** `listCallbackUrl()`: the callback URL of the Request trigger / webhook; undefined when none. */
  callbackUrl(): string | undefined;
  /** The current instant for `utcNow()` and friends, as epoch milliseconds. */
  now(): number;
  /**
   * Optional: the current instant as .NET ticks (100-ns units since 0001-01-01T00:00:00Z, as
   * `DateTime.Ticks`). When present, `utcNow()`, `getFutureTime()` and `getPastTime()` use it
   * instead of `now()`, so a clock given to 100 ns (`2025-03-09T10:30:00.1234567Z`) is kept
   * exactly (a double of epoch milliseconds cannot hold seven fractional digits).
   */
  nowTicks?(): bigint;
  /** A uniformly distributed number in [0, 1) for `rand()`. */
  random(): number;
  /** A new GUID (lowercase, hyphenated) for `guid()`. */
  newGuid(): string;
}

/** A compiled definition value: a JSON value whose strings may hold `@` expressions. Evaluating never re-parses. */
export interface CompiledValue {
  /**
   * Evaluates against a context. Throws an `ExpressionError` on failure; never returns an error as
   * a value. The result is read-only: it may share values with the context (docs/expressions.md
   * §Values, result ownership).
   */
  evaluate(ctx: ExpressionContext): unknown;
  /** True when the value has no expression at all (evaluate returns the same value every time). */
  readonly isConstant: boolean;
}
