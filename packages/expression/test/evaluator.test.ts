/**
 * The compiler and evaluator: compile once / evaluate many, constants, result ownership, value
 * model (integer vs float, 64-bit integers, decimals), property access, typed errors, the
 * plain-data context, and the shared conformance file through the pure runner.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  ExpressionError,
  SUPPORTED_FUNCTIONS,
  compileExpression,
  compileValue,
  contextFromData,
  formatInstant,
  parseJson,
  runConformance,
  summarize,
  toJsonText,
  type ConformanceCase,
  type ContextData,
} from '@patchbay/expression';
import { CONFORMANCE_FILE } from '../../../test-support/shared.js';

const NOW = '2025-09-25T05:18:31.3384797Z';

function ev(source: string, data: ContextData = {}): unknown {
  return compileExpression(source).evaluate(contextFromData(data, { assumeNow: NOW }));
}

function err(source: string, data: ContextData = {}): ExpressionError {
  try {
    const v = ev(source, data);
    throw new Error(`expected an error from ${source}, got ${toJsonText(v)}`);
  } catch (e) {
    if (!(e instanceof ExpressionError)) throw e;
    return e;
  }
}

const CORPUS = CONFORMANCE_FILE;

describe('conformance file (pure runner)', () => {
  it('passes every non-disputed case', () => {
    const cases = readFileSync(CORPUS, 'utf8')
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => parseJson(l) as ConformanceCase);
    const results = runConformance(cases, { now: Date.parse('2025-01-01T00:00:00Z') });
    const failed = results.filter((r) => r.status === 'failed');
    expect(failed).toEqual([]);
    const s = summarize(results);
    expect(s.passed).toBe(cases.filter((c) => !c.disputed).length);
    expect(s.skipped).toBe(cases.filter((c) => c.disputed).length);
  });

  it('covers the whole catalogue of functions', () => {
    expect(SUPPORTED_FUNCTIONS.length).toBeGreaterThanOrEqual(125);
    for (const name of [
      'formatDateTime',
      'xpath',
      'triggerFormDataMultiValues',
      'listCallbackUrl',
      'nthIndexOf',
      'decodeDataUri',
      'uriComponentToBinary',
      'iterationIndexes',
    ]) {
      expect(SUPPORTED_FUNCTIONS).toContain(name);
    }
  });
});

describe('compileValue', () => {
  const ctx = contextFromData({ variables: { x: 1, name: 'Ann' } }, { assumeNow: NOW });

  it('compiles every string of a JSON value; keys stay literal', () => {
    const c = compileValue({
      '@key': "@variables('x')",
      list: ['plain', '@@escaped', "Hi @{variables('name')}"],
      n: 5,
      nested: { b: true },
    });
    expect(c.isConstant).toBe(false);
    expect(c.evaluate(ctx)).toEqual({ '@key': 1, list: ['plain', '@escaped', 'Hi Ann'], n: 5, nested: { b: true } });
  });

  it('detects constant sub-trees, including folded pure calls', () => {
    expect(compileValue({ a: 'x', b: [1, 2, { c: null }] }).isConstant).toBe(true);
    expect(compileValue("@concat('a', 'b')").isConstant).toBe(true);
    expect(compileValue('@json(\'{"a": [1, 2]}\')').evaluate(ctx)).toEqual({ a: [1, 2] });
    expect(compileValue('@utcNow()').isConstant).toBe(false);
    expect(compileValue("@variables('x')").isConstant).toBe(false);
  });

  it('returns fresh containers on every evaluation', () => {
    const c = compileValue({ list: [] as unknown[], obj: { a: 1 } });
    const first = c.evaluate(ctx) as { list: unknown[]; obj: { a: number } };
    first.list.push('mutated');
    first.obj.a = 99;
    expect(c.evaluate(ctx)).toEqual({ list: [], obj: { a: 1 } });
    const j = compileExpression('@createArray(1, 2)');
    (j.evaluate(ctx) as unknown[]).push(3);
    expect(j.evaluate(ctx)).toEqual([1, 2]);
  });

  it('caches compiled strings by source', () => {
    expect(compileExpression("@variables('x')")).toBe(compileExpression("@variables('x')"));
    expect(compileExpression("@variables('x')", { cache: false })).not.toBe(compileExpression("@variables('x')"));
  });

  it('raises a typed error for an invalid string anywhere in the value', () => {
    expect(() => compileValue({ a: { b: '@concat(' } })).toThrow(ExpressionError);
    expect(() => compileValue('@noSuchFunction(1)')).toThrow(/noSuchFunction/);
  });
});

describe('value model', () => {
  it('distinguishes integer and float arithmetic', () => {
    expect(ev('@div(5, 2)')).toBe(2);
    expect(ev('@div(5.0, 2)')).toBe(2.5);
    expect(ev('@div(-11, 5)')).toBe(-2);
    expect(ev('@div(mul(1.5, 2), 2)')).toBe(1.5);
    expect(ev("@div(float('3'), 2)")).toBe(1.5);
    expect(ev("@div(int('7'), 2)")).toBe(3);
    expect(ev('@mod(-5, 2)')).toBe(-1);
    expect(ev('@mod(5.5, 2)')).toBe(1.5);
    expect(ev("@div(variables('v'), 2)", { variables: { v: 2.5 } })).toBe(1.25);
  });

  it('keeps 64-bit integers exact beyond 2^53 and fails on overflow', () => {
    const t = ev("@ticks('2018-03-15T13:27:36Z')");
    expect(t).toBe(636567172560000000n);
    expect(toJsonText({ ticks: t })).toBe('{"ticks":636567172560000000}');
    expect(ev("@sub(ticks('2018-01-02T00:00:00Z'), ticks('2018-01-01T00:00:00Z'))")).toBe(864000000000);
    expect(ev("@add(ticks('2018-01-01T00:00:00Z'), 1)")).toBe(636503616000000001n);
    expect(ev('@add(9007199254740991, 10)')).toBe(9007199254741001n);
    expect(err('@mul(9223372036854775807, 2)').code).toBe('EXPRESSION_OVERFLOW');
  });

  it('keeps decimal precision inside an expression and surfaces numbers', () => {
    expect(ev("@string(add(decimal('1.2345678912312131'), decimal('1.2345678912312131')))")).toBe('2.4691357824624262');
    expect(ev("@decimal('1.2345678912312131')")).toBe(1.234567891231213);
    expect(ev("@createArray(decimal('0.1'))")).toEqual([0.1]);
    expect(ev("@string(div(decimal('1'), decimal('3')))")).toBe('0.3333333333333333333333333333');
    expect(ev("@equals(decimal('0.10'), 0.1)")).toBe(true);
  });

  it('stringifies like the runtime', () => {
    expect(ev('@string(true)')).toBe('True');
    expect(ev('@{json(\'{"a":[1,true,null]}\')}')).toBe('{"a":[1,true,null]}');
    expect(ev('@string(add(0.1, 0.2))')).toBe('0.30000000000000004');
    expect(ev('@string(1e21)')).toBe('1E+21');
    expect(ev('@string(0.000001)')).toBe('1E-06');
    expect(ev('@{null}x')).toBe('x');
    expect(ev("@string(binary('hé'))")).toBe('hé');
  });
});

describe('property access', () => {
  const data: ContextData = { trigger: { outputs: { body: { a: { b: [10, 20] }, n: null, 'x/y': 1, Name: 'N' } } } };

  it('reads properties and indexes', () => {
    expect(ev("@triggerBody()['a']['b'][1]", data)).toBe(20);
    expect(ev('@triggerBody().a.b', data)).toEqual([10, 20]);
    expect(ev("@triggerBody()?['missing']", data)).toBeNull();
    expect(ev("@triggerBody()?['n']?['deeper']", data)).toBeNull();
    expect(ev("@triggerBody()['a']['b']?[5]", data)).toBeNull();
  });

  it('follows Power Automate slash paths unless the key exists as written', () => {
    expect(ev("@triggerOutputs()?['body/a/b']", data)).toEqual([10, 20]);
    expect(ev("@triggerBody()['x/y']", data)).toBe(1);
  });

  it('raises typed errors without ?', () => {
    const missing = err("@triggerBody()['missing']", data);
    expect(missing.code).toBe('EXPRESSION_PROPERTY_MISSING');
    expect(missing.details).toMatchObject({
      property: 'missing',
      position: 15,
      expression: "@triggerBody()['missing']",
    });
    expect(err("@triggerBody()['n']['deeper']", data).code).toBe('EXPRESSION_NULL_REFERENCE');
    expect(err("@triggerBody()['a']['b'][5]", data).code).toBe('EXPRESSION_INDEX_OUT_OF_RANGE');
    expect(err("@triggerBody()['a']['b']['x']", data).code).toBe('EXPRESSION_INVALID_ACCESS');
    expect(err("@triggerBody()['Name']['x']", data).code).toBe('EXPRESSION_INVALID_ACCESS');
    // property names are case-sensitive
    expect(err("@triggerBody()['name']", data).code).toBe('EXPRESSION_PROPERTY_MISSING');
  });
});

describe('errors', () => {
  it('carry code, message, position, function and expression', () => {
    const e = err("@concat('a', toLower(variables('v')))", { variables: { v: null } });
    expect(e.code).toBe('EXPRESSION_ARGUMENT_TYPE');
    expect(e.category).toBe('invalid');
    expect(e.message).toBe(
      "The template language function 'toLower' expects its parameter to be a string. The provided value is of type 'Null'.",
    );
    expect(e.details).toMatchObject({
      function: 'toLower',
      position: 13,
      expression: "@concat('a', toLower(variables('v')))",
    });
  });

  it('are never turned into empty strings inside interpolation', () => {
    expect(err("Hello @{triggerBody()['name']}", { trigger: { outputs: { body: {} } } }).code).toBe(
      'EXPRESSION_PROPERTY_MISSING',
    );
    expect(err('x @{div(1, 0)} y').code).toBe('EXPRESSION_FUNCTION_ERROR');
  });

  it('report wrong argument counts and unknown functions at compile time', () => {
    expect(() => compileExpression('@add(1)')).toThrow(expect.objectContaining({ code: 'EXPRESSION_ARGUMENT_COUNT' }));
    expect(() => compileExpression('@frobnicate()')).toThrow(
      expect.objectContaining({
        code: 'EXPRESSION_UNKNOWN_FUNCTION',
        details: expect.objectContaining({ position: 1 }),
      }),
    );
  });

  it('report missing runtime data', () => {
    expect(err("@variables('nope')").code).toBe('EXPRESSION_REFERENCE_NOT_FOUND');
    expect(err("@parameters('nope')").code).toBe('EXPRESSION_REFERENCE_NOT_FOUND');
    expect(err("@body('Not_run')").code).toBe('EXPRESSION_REFERENCE_NOT_FOUND');
    expect(err('@item()').code).toBe('EXPRESSION_REFERENCE_NOT_FOUND');
    expect(err('@listCallbackUrl()').code).toBe('EXPRESSION_REFERENCE_NOT_FOUND');
  });

  it('evaluate arguments eagerly (if/and/or do not short-circuit)', () => {
    expect(err("@if(true, 'a', div(1, 0))").details.function).toBe('div');
    expect(err('@and(false, div(1, 0))').details.function).toBe('div');
  });
});

describe('contextFromData', () => {
  it('uses the fixed clock and a seeded random source', () => {
    const a = contextFromData({}, { assumeNow: NOW, seed: 7 });
    const b = contextFromData({}, { assumeNow: NOW, seed: 7 });
    const guid = compileExpression('@guid()');
    expect(guid.evaluate(a)).toBe(guid.evaluate(b));
    expect(guid.evaluate(a)).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(compileExpression('@utcNow()').evaluate(a)).toBe(NOW);
    expect(() => compileExpression('@utcNow()').evaluate(contextFromData({}))).toThrow(ExpressionError);
  });

  it('exposes every kind of runtime data', () => {
    const data: ContextData = {
      parameters: { p: 1 },
      variables: { v: 'x' },
      actions: { A: { status: 'Succeeded', outputs: { statusCode: 200, body: { ok: true } } } },
      trigger: { outputs: { headers: { h: '1' }, body: { t: 1 } } },
      item: { i: 1 },
      items: { Loop: 'it' },
      iterationIndexes: { Until: 3 },
      results: { Scope: [{ name: 'A' }] },
      workflow: { name: 'wf', run: { name: 'r1' } },
      action: { name: 'Self' },
      callbackUrl: 'https://example.test/cb',
    };
    expect(
      ev(
        "@createArray(parameters('p'), variables('v'), actions('A').status, outputs('A').statusCode, body('A').ok, triggerOutputs().headers.h, triggerBody().t, item().i, items('Loop'), iterationIndexes('Until'), length(result('Scope')), workflow().run.name, action().name, listCallbackUrl())",
        data,
      ),
    ).toEqual([1, 'x', 'Succeeded', 200, true, '1', 1, 1, 'it', 3, 1, 'r1', 'Self', 'https://example.test/cb']);
  });
});

describe('formatInstant', () => {
  it('formats like utcNow(): seven fractional digits and Z', () => {
    expect(formatInstant(Date.UTC(2025, 8, 25, 5, 18, 31, 338))).toBe('2025-09-25T05:18:31.3380000Z');
    expect(formatInstant(0)).toBe('1970-01-01T00:00:00.0000000Z');
    expect(formatInstant(1.5)).toBe('1970-01-01T00:00:00.0015000Z');
  });
});
