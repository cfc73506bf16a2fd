/**
 * Grammar (wdl-spec §5), positions, parse errors, printing — and the property-based checks:
 * any input either parses or raises a parse error; printing and re-parsing gives the same AST.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  ExpressionError,
  compileExpression,
  parseExpression,
  parseExpressionBody,
  printExpression,
  type ExpressionNode,
  type TemplateNode,
} from '@patchbay/expression';

/** Multiplier for the number of property runs (PATCHBAY_FC_RUNS=20 for a deep run). */
const RUNS = Math.max(1, Number(process.env['PATCHBAY_FC_RUNS'] ?? 1));

/** The AST without source positions (what "the same AST" means after printing). */
function strip(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(strip);
  if (typeof node !== 'object' || node === null) return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) if (k !== 'start' && k !== 'end') out[k] = strip(v);
  return out;
}

function parseError(source: string): ExpressionError {
  try {
    parseExpression(source);
  } catch (e) {
    expect(e).toBeInstanceOf(ExpressionError);
    return e as ExpressionError;
  }
  throw new Error(`expected a parse error for ${source}`);
}

describe('template rules (when a string is an expression)', () => {
  it('distinguishes literals, escapes, expressions and interpolations', () => {
    expect(strip(parseExpression('hello'))).toEqual({ kind: 'literal', value: 'hello' });
    expect(strip(parseExpression(' @'))).toEqual({ kind: 'literal', value: ' @' });
    expect(strip(parseExpression('@@'))).toEqual({ kind: 'literal', value: '@' });
    expect(strip(parseExpression('@@x()'))).toEqual({ kind: 'literal', value: '@x()' });
    expect(parseExpression("@parameters('a')").kind).toBe('expression');
    expect(parseExpression("@{parameters('a')}").kind).toBe('interpolation');
    expect(strip(parseExpression('x@@{y}'))).toEqual({
      kind: 'interpolation',
      parts: [{ kind: 'text', value: 'x@{y}' }],
    });
  });

  it('finds the closing brace outside quoted literals', () => {
    const ast = parseExpression("a@{concat('}', '''}')}b") as Extract<TemplateNode, { kind: 'interpolation' }>;
    expect(ast.parts.map((p) => p.kind)).toEqual(['text', 'segment', 'text']);
    expect((ast.parts[2] as { value: string }).value).toBe('b');
  });
});

describe('expression grammar', () => {
  it('parses literals with their int/float kind', () => {
    expect(strip(parseExpressionBody('5'))).toEqual({ kind: 'number', value: 5, float: false });
    expect(strip(parseExpressionBody('5.0'))).toEqual({ kind: 'number', value: 5, float: true });
    expect(strip(parseExpressionBody('.3'))).toEqual({ kind: 'number', value: 0.3, float: true });
    expect(strip(parseExpressionBody('-3'))).toEqual({ kind: 'number', value: -3, float: false });
    expect(strip(parseExpressionBody('1e3'))).toEqual({ kind: 'number', value: 1000, float: true });
    expect(strip(parseExpressionBody('9223372036854775807'))).toEqual({
      kind: 'number',
      value: 9223372036854775807n,
      float: false,
    });
    expect(strip(parseExpressionBody("'it''s'"))).toEqual({ kind: 'string', value: "it's" });
    expect(strip(parseExpressionBody('TRUE'))).toEqual({ kind: 'boolean', value: true });
    expect(strip(parseExpressionBody('null'))).toEqual({ kind: 'null' });
  });

  it('parses calls and accessors with positions into the whole source', () => {
    const ast = parseExpression("@triggerBody()?['a'].b[0]") as Extract<TemplateNode, { kind: 'expression' }>;
    const body = ast.body as Extract<ExpressionNode, { kind: 'access' }>;
    expect(body.kind).toBe('access');
    expect(body.key).toMatchObject({ kind: 'number', value: 0, start: 23, end: 24 });
    const dot = body.target as Extract<ExpressionNode, { kind: 'access' }>;
    expect(dot).toMatchObject({ dot: true, optional: false, key: { value: 'b', start: 21, end: 22 } });
    const q = dot.target as Extract<ExpressionNode, { kind: 'access' }>;
    expect(q).toMatchObject({ optional: true, dot: false, key: { value: 'a', start: 16, end: 19 } });
    expect(q.target).toMatchObject({ kind: 'call', name: 'triggerBody', args: [], start: 1, end: 14 });
  });

  it('names the position and what was expected in parse errors', () => {
    const e1 = parseError("@concat('abc)");
    expect(e1.code).toBe('EXPRESSION_PARSE_ERROR');
    expect(e1.details).toMatchObject({ position: 8, expected: "a closing quote (')", expression: "@concat('abc)" });
    const e2 = parseError("@concat('a',)");
    expect(e2.details).toMatchObject({ position: 12, expected: 'a value or a function call' });
    const e3 = parseError('@length("Hello")');
    expect(e3.message).toContain('Double quotes');
    expect(e3.details.position).toBe(8);
    expect(parseError('@foo').details).toMatchObject({ position: 4, expected: "'(' after the function name" });
    expect(parseError('@f()?').details).toMatchObject({ expected: "'.' or '['" });
    expect(parseError('text @{x').details).toMatchObject({ position: 5, expected: "'}'" });
    expect(parseError('@').details).toMatchObject({ position: 1, expected: 'an expression' });
    expect(parseError('@f() g()').details).toMatchObject({ position: 5 });
    expect(parseError('@1abc').details).toMatchObject({ position: 2 });
    expect(parseError('@' + '('.repeat(10) + 'f('.repeat(300)).code).toBe('EXPRESSION_PARSE_ERROR');
  });

  it('prints canonically', () => {
    expect(printExpression(parseExpression("@triggerBody()?['a']?.b[0]"))).toBe("@triggerBody()?['a']?.b[0]");
    expect(printExpression(parseExpression("a@@{b}c@{x( 1.0 ,'it''s' )}"))).toBe("a@@{b}c@{x(1.0, 'it''s')}");
    expect(printExpression(parseExpression('@@x'))).toBe('@@x');
  });
});

// ----- property-based tests ------------------------------------------------------------------

/** Strings built from grammar fragments, so random inputs reach deep into the parser. */
const fragments = fc
  .array(
    fc.constantFrom(
      '@',
      '@@',
      '@{',
      '}',
      '{',
      "'",
      "''",
      '(',
      ')',
      '[',
      ']',
      '?',
      '.',
      ',',
      ' ',
      'concat',
      'f',
      'true',
      'null',
      '1',
      '-2',
      '1.5',
      '.5',
      'e3',
      '"',
      '\t',
      'x',
    ),
    { maxLength: 40 },
  )
  .map((parts) => parts.join(''));

const anyInput = fc.oneof(fc.string({ maxLength: 60 }), fc.string({ unit: 'binary', maxLength: 40 }), fragments);

const identifier = fc.stringMatching(/^[A-Za-z_$][A-Za-z0-9_$]{0,8}$/);

const INT64_MIN = -9223372036854775808n;
const INT64_MAX = 9223372036854775807n;

const exprArb: fc.Arbitrary<ExpressionNode> = fc.letrec<{ expr: ExpressionNode }>((tie) => ({
  expr: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.string({ maxLength: 12 }).map((value) => ({ kind: 'string' as const, value, start: 0, end: 0 })),
    fc
      .integer()
      .map((value) => ({ kind: 'number' as const, value: value === 0 ? 0 : value, float: false, start: 0, end: 0 })),
    fc
      .bigInt({ min: INT64_MIN, max: INT64_MAX })
      .filter((b) => b > BigInt(Number.MAX_SAFE_INTEGER) || b < BigInt(Number.MIN_SAFE_INTEGER))
      .map((value) => ({ kind: 'number' as const, value, float: false, start: 0, end: 0 })),
    fc
      .double({ noNaN: true, noDefaultInfinity: true })
      .map((value) => ({ kind: 'number' as const, value, float: true, start: 0, end: 0 })),
    fc.boolean().map((value) => ({ kind: 'boolean' as const, value, start: 0, end: 0 })),
    fc.constant({ kind: 'null' as const, start: 0, end: 0 }),
    fc
      .record({ name: identifier, args: fc.array(tie('expr'), { maxLength: 3 }) })
      .map(({ name, args }) => ({ kind: 'call' as const, name, args, start: 0, end: 0 })),
    fc.record({ target: tie('expr'), key: tie('expr'), optional: fc.boolean() }).map(({ target, key, optional }) => ({
      kind: 'access' as const,
      target,
      key,
      optional,
      dot: false,
      start: 0,
      end: 0,
    })),
    fc.record({ target: tie('expr'), name: identifier, optional: fc.boolean() }).map(({ target, name, optional }) => ({
      kind: 'access' as const,
      target,
      key: { kind: 'string' as const, value: name, start: 0, end: 0 },
      optional,
      dot: true,
      start: 0,
      end: 0,
    })),
  ),
})).expr;

const textPart = fc.string({ minLength: 1, maxLength: 10 }).filter((s) => !s.endsWith('@'));

const templateArb: fc.Arbitrary<TemplateNode> = fc.oneof(
  fc
    .string({ maxLength: 20 })
    .filter((s) => s.startsWith('@') || !s.includes('@{'))
    .map((value) => ({ kind: 'literal' as const, value, start: 0, end: 0 })),
  exprArb.map((body) => ({ kind: 'expression' as const, body, start: 0, end: 0 })),
  fc
    .record({
      lead: fc.option(
        textPart.filter((s) => !s.startsWith('@')),
        { nil: undefined },
      ),
      segments: fc.array(fc.record({ body: exprArb, text: fc.option(textPart, { nil: undefined }) }), {
        minLength: 1,
        maxLength: 3,
      }),
    })
    .map(({ lead, segments }) => {
      const parts: Array<
        | { kind: 'text'; value: string; start: number; end: number }
        | { kind: 'segment'; body: ExpressionNode; start: number; end: number }
      > = [];
      if (lead) parts.push({ kind: 'text', value: lead, start: 0, end: 0 });
      for (const s of segments) {
        parts.push({ kind: 'segment', body: s.body, start: 0, end: 0 });
        if (s.text) parts.push({ kind: 'text', value: s.text, start: 0, end: 0 });
      }
      return { kind: 'interpolation' as const, parts, start: 0, end: 0 };
    }),
);

describe('properties', () => {
  it('any input either parses or raises EXPRESSION_PARSE_ERROR (never another exception)', () => {
    fc.assert(
      fc.property(anyInput, (input) => {
        try {
          parseExpression(input);
        } catch (e) {
          return (
            e instanceof ExpressionError &&
            e.code === 'EXPRESSION_PARSE_ERROR' &&
            typeof e.details.position === 'number'
          );
        }
        return true;
      }),
      { numRuns: 5000 * RUNS },
    );
  });

  it('any input either compiles or raises a typed expression error', () => {
    fc.assert(
      fc.property(anyInput, (input) => {
        try {
          compileExpression(input, { cache: false });
        } catch (e) {
          return (
            e instanceof ExpressionError &&
            ['EXPRESSION_PARSE_ERROR', 'EXPRESSION_UNKNOWN_FUNCTION', 'EXPRESSION_ARGUMENT_COUNT'].includes(e.code)
          );
        }
        return true;
      }),
      { numRuns: 3000 * RUNS },
    );
  });

  it('printing and re-parsing a parsed input gives the same AST', () => {
    fc.assert(
      fc.property(anyInput, (input) => {
        let ast: TemplateNode;
        try {
          ast = parseExpression(input);
        } catch {
          return true;
        }
        expect(strip(parseExpression(printExpression(ast)))).toEqual(strip(ast));
        return true;
      }),
      { numRuns: 5000 * RUNS },
    );
  });

  it('printing and re-parsing a generated AST gives the same AST', () => {
    fc.assert(
      fc.property(templateArb, (ast) => {
        const printed = printExpression(ast);
        expect(strip(parseExpression(printed))).toEqual(strip(ast));
      }),
      { numRuns: 3000 * RUNS },
    );
  });
});
