/**
 * The abstract syntax tree of Workflow Definition Language expressions (wdl-spec §5).
 * Every node carries `start`/`end`: zero-based offsets into the whole source string as it
 * appears in the definition (including the leading `@` or the surrounding text of an
 * interpolation), so errors can point at the exact place.
 */

/** A single-quoted string literal (`'it''s'` has value `it's`). */
export interface StringLiteral {
  kind: 'string';
  value: string;
  start: number;
  end: number;
}

/**
 * A number literal. `float` is true when the literal has a fraction or an exponent (`5.0`,
 * `1e3`, `.3`); integers that fit the safe range are `number`, larger 64-bit ones `bigint`.
 */
export interface NumberLiteral {
  kind: 'number';
  value: number | bigint;
  float: boolean;
  start: number;
  end: number;
}

/** `true` / `false`. */
export interface BooleanLiteral {
  kind: 'boolean';
  value: boolean;
  start: number;
  end: number;
}

/** `null`. */
export interface NullLiteral {
  kind: 'null';
  start: number;
  end: number;
}

/** A function call `name(arg, …)`; `name` is kept as written (lookup is case-insensitive). */
export interface CallExpression {
  kind: 'call';
  name: string;
  args: ExpressionNode[];
  start: number;
  end: number;
}

/**
 * Property or index access: `target['key']`, `target.key` (`dot`), `target[0]`, and the
 * null-conditional forms `target?['key']` / `target?.key` (`optional`).
 */
export interface AccessExpression {
  kind: 'access';
  target: ExpressionNode;
  key: ExpressionNode;
  optional: boolean;
  dot: boolean;
  start: number;
  end: number;
}

/** Any expression node. */
export type ExpressionNode =
  StringLiteral | NumberLiteral | BooleanLiteral | NullLiteral | CallExpression | AccessExpression;

/** A definition string that is not an expression (`"hello"`, `" @"`, or `"@@x"` → `@x`). */
export interface LiteralTemplate {
  kind: 'literal';
  value: string;
  start: number;
  end: number;
}

/** `"@expr"`: one expression whose result keeps its JSON type. */
export interface ExpressionTemplate {
  kind: 'expression';
  body: ExpressionNode;
  start: number;
  end: number;
}

/** Literal text inside an interpolation (escapes already resolved: `@@{` → `@{`). */
export interface TextPart {
  kind: 'text';
  value: string;
  start: number;
  end: number;
}

/** `@{expr}` inside an interpolation; `start` is the offset of `@{`. */
export interface SegmentPart {
  kind: 'segment';
  body: ExpressionNode;
  start: number;
  end: number;
}

/** `"text @{expr} text"`: the result is always a string. */
export interface InterpolationTemplate {
  kind: 'interpolation';
  parts: Array<TextPart | SegmentPart>;
  start: number;
  end: number;
}

/** The parse result of one definition string. */
export type TemplateNode = LiteralTemplate | ExpressionTemplate | InterpolationTemplate;
