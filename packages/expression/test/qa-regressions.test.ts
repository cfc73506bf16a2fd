/**
 * Regression tests for the QA findings on the expression package (one `describe` per finding,
 * numbered as in the report). Each asserts the behaviour on real input; the decisions are
 * recorded in docs/expressions.md.
 */
import { describe, expect, it } from 'vitest';
import {
  ExpressionError,
  compileExpression,
  contextFromData,
  parseExpression,
  parseJson,
  printExpression,
  runCase,
  toText,
  type ConformanceCase,
  type ContextData,
  type ExpressionContext,
} from '@patchbay/expression';

const NOW = '2025-03-09T10:30:00.0000000Z';

function ev(source: string, data: ContextData = {}): unknown {
  return compileExpression(source).evaluate(contextFromData(data, { assumeNow: NOW }));
}

function err(source: string, data: ContextData = {}): ExpressionError {
  try {
    ev(source, data);
  } catch (e) {
    if (e instanceof ExpressionError) return e;
    throw new Error(`expected an ExpressionError from ${source}, got ${String(e)}`);
  }
  throw new Error(`expected an error from ${source}`);
}

describe('1. xpath over large documents', () => {
  const many = (n: number): string => '<r>' + '<a/>'.repeat(n) + '</r>';

  // (before the fix 10,000 siblings took 54 s and the time grew with the square; timings are in BENCHMARKS.md)
  it('selects 20,000 sibling elements with //a and /r/a', () => {
    const data = { parameters: { x: many(20_000) } };
    expect(ev("@length(xpath(xml(parameters('x')), '//a'))", data)).toBe(20_000);
    expect(ev("@length(xpath(xml(parameters('x')), '/r/a'))", data)).toBe(20_000);
    expect(ev("@xpath(xml(parameters('x')), 'count(//a)')", data)).toBe(20_000);
  });

  it('keeps document order for unions of elements, attributes and text', () => {
    const x = '<r><b k="1" j="2">t1</b><c>t2</c><b k="3">t3</b></r>';
    const out = ev("@xpath(xml(parameters('x')), '//c/text() | //b/@* | //b[2] | /r/b[1]')", {
      parameters: { x },
    }) as unknown[];
    expect(out.map((v) => toText(v))).toEqual(['<b k="1" j="2">t1</b>', '1', '2', 't2', '<b k="3">t3</b>', '3']);
  });

  it('preceding:: excludes ancestors and returns document order', () => {
    const x = '<r><a>1</a><s><a>2</a><t><a>3</a></t></s></r>';
    expect(ev("@xpath(xml(parameters('x')), 'string(//t/a/preceding::a[1])')", { parameters: { x } })).toBe('2');
    const names = ev("@xpath(xml(parameters('x')), '//t/preceding::*')", { parameters: { x } }) as unknown[];
    expect(names.map((v) => toText(v))).toEqual(['<a>1</a>', '<a>2</a>']);
  });

  it('compares large node-sets by the XPath 1.0 rules', () => {
    const x = '<r>' + '<a>1</a><b>2</b>'.repeat(5_000) + '<c>2</c></r>';
    const p = { parameters: { x } };
    expect(ev("@xpath(xml(parameters('x')), '//a = //b')", p)).toBe(false);
    expect(ev("@xpath(xml(parameters('x')), '//b = //c')", p)).toBe(true);
    expect(ev("@xpath(xml(parameters('x')), '//a != //a')", p)).toBe(false);
    expect(ev("@xpath(xml(parameters('x')), '//a != //b')", p)).toBe(true);
    expect(ev("@xpath(xml(parameters('x')), '//a < //b')", p)).toBe(true);
    expect(ev("@xpath(xml(parameters('x')), '//b <= //a')", p)).toBe(false);
    expect(ev("@xpath(xml(parameters('x')), '//b >= //c')", p)).toBe(true);
    expect(ev("@xpath(xml(parameters('x')), '//a > //nothing')", p)).toBe(false);
  });

  it('refuses XML text over 4,194,304 characters with EXPRESSION_LIMIT_EXCEEDED', () => {
    const e = err("@xml(parameters('x'))", { parameters: { x: '<r>' + ' '.repeat(4_194_304) + '</r>' } });
    expect(e.code).toBe('EXPRESSION_LIMIT_EXCEEDED');
    expect(e.details.function).toBe('xml');
  });
});

describe('2. conformance: integers compare exactly', () => {
  const run = (line: string) => runCase(parseJson(line) as ConformanceCase);

  it('fails a ticks result that is 2,000 off near the end of the range', () => {
    const wrong = run(
      '{"id":"t","expr":"@ticks(\'9999-12-31T23:59:59.9999999Z\')","expect":3155378975999997999,"expectError":false,"source":"t","note":"","bigint":true}',
    );
    expect(wrong.status).toBe('failed');
    const right = run(
      '{"id":"t","expr":"@ticks(\'9999-12-31T23:59:59.9999999Z\')","expect":3155378975999999999,"expectError":false,"source":"t","note":"","bigint":true}',
    );
    expect(right.status).toBe('passed');
  });

  it('fails a ticks result that is 1 off', () => {
    const wrong = run(
      '{"id":"t","expr":"@ticks(\'2018-03-15T13:00:00.0000001Z\')","expect":636567156000000000,"expectError":false,"source":"t","note":""}',
    );
    expect(wrong.status).toBe('failed');
    expect(wrong.reason).toBe('result differs');
    const right = run(
      '{"id":"t","expr":"@ticks(\'2018-03-15T13:00:00.0000001Z\')","expect":636567156000000001,"expectError":false,"source":"t","note":""}',
    );
    expect(right.status).toBe('passed');
  });

  it('compares safe integers exactly and floats with a tolerance', () => {
    const c = (expr: string, expectJson: string) =>
      run(`{"id":"n","expr":"${expr}","expect":${expectJson},"expectError":false,"source":"t","note":""}`).status;
    expect(c('@add(4503599627370495, 1)', '4503599627370497')).toBe('failed');
    expect(c('@add(4503599627370495, 1)', '4503599627370496')).toBe('passed');
    expect(c('@add(0.1, 0.2)', '0.3')).toBe('passed');
    expect(c('@add(0.1, 0.2)', '0.31')).toBe('failed');
  });

  it('refuses a bigint expectation that was read as a double', () => {
    const line =
      '{"id":"t","expr":"@ticks(\'2018-03-15T13:00:00.0000001Z\')","expect":636567156000000001,"expectError":false,"source":"t","note":"","bigint":true}';
    const r = runCase(JSON.parse(line) as ConformanceCase);
    expect(r.status).toBe('failed');
    expect(r.reason).toMatch(/read as a double/);
  });
});

describe('3. long accessor chains', () => {
  it('compiles, evaluates and prints .a × 3,000 after triggerBody()', () => {
    const source = '@triggerBody()' + '.a'.repeat(3000);
    let body: unknown = 'end';
    for (let i = 0; i < 3000; i++) body = { a: body };
    expect(ev(source, { trigger: { outputs: { body } } })).toBe('end');
    expect(printExpression(parseExpression(source))).toBe(source);
  });

  it('evaluates ?[0] × 3,000 and ?.a × 100,000 to null', () => {
    expect(ev('@triggerBody()' + '?[0]'.repeat(3000), { trigger: { outputs: { body: [] } } })).toBeNull();
    const long = '@triggerBody()' + '?.a'.repeat(100_000);
    expect(ev(long, { trigger: { outputs: { body: {} } } })).toBeNull();
    expect(printExpression(parseExpression(long))).toBe(long);
  });

  it('reports a missing property deep in a chain with its position', () => {
    const source = '@triggerBody()' + '.a'.repeat(2000) + '.b';
    let body: unknown = { c: 1 };
    for (let i = 0; i < 2000; i++) body = { a: body };
    const e = err(source, { trigger: { outputs: { body } } });
    expect(e.code).toBe('EXPRESSION_PROPERTY_MISSING');
    expect(e.details.position).toBe(source.length - 1);
  });

  it('keeps the nesting limit for calls and index expressions', () => {
    const deep = '@' + 'string('.repeat(300) + "'x'" + ')'.repeat(300);
    expect(() => compileExpression(deep)).toThrow(ExpressionError);
    const keys = '@triggerBody()' + '[triggerBody()'.repeat(300) + "['k']" + ']'.repeat(300);
    expect(() => compileExpression(keys)).toThrow(/nested too deeply/);
  });
});

describe('5. non-finite floats are EXPRESSION_OVERFLOW, never values', () => {
  it.each([
    ['@add(1e308, 1e308)'],
    ['@mul(1e308, 10)'],
    ['@sub(-1e308, 1e308)'],
    ['@div(1e308, 1e-308)'],
    ["@json('1e400')"],
    ["@json('[1, -1e400]')"],
    ["@float('1e400')"],
    ["@float('-1e400')"],
    ["@xpath(xml('<r/>'), '1 div 0')"],
    ["@xpath(xml('<r/>'), '0 div 0')"],
    ["@xpath(xml('<r><a>x</a></r>'), 'sum(//a)')"],
  ])('%s', (source) => {
    const e = err(source);
    expect(e.code).toBe('EXPRESSION_OVERFLOW');
    expect(e.details.position).toBeTypeOf('number');
  });

  it('refuses an integer literal beyond the double range when parsing', () => {
    expect(() => compileExpression('@add(' + '9'.repeat(400) + ', 1)')).toThrow(/Number out of range/);
  });

  it('keeps large finite floats', () => {
    expect(ev('@add(1e308, 1e307)')).toBe(1.1e308);
    expect(ev("@json('[1e308]')")).toEqual([1e308]);
    expect(ev("@xpath(xml('<r><a>2</a><a>3</a></r>'), 'sum(//a)')")).toBe(5);
  });
});

describe('6. the fixed clock keeps 100-ns precision', () => {
  const at = (assumeNow: string, source: string): unknown =>
    compileExpression(source).evaluate(contextFromData({}, { assumeNow }));

  it('utcNow() and ticks keep the seventh fractional digit', () => {
    expect(at('2025-03-09T10:30:00.1234567Z', '@utcNow()')).toBe('2025-03-09T10:30:00.1234567Z');
    expect(at('2025-03-09T10:30:00.0000001Z', '@utcNow()')).toBe('2025-03-09T10:30:00.0000001Z');
    expect(at('2025-03-09T10:30:00.1234567Z', '@ticks(utcNow())')).toBe(638771130001234567n);
    expect(at('2025-03-09T10:30:00.9999999Z', "@getFutureTime(1, 'Day')")).toBe('2025-03-10T10:30:00.9999999Z');
    expect(at('2025-03-09T10:30:00.0000001Z', "@getPastTime(1, 'Second', 'o')")).toBe('2025-03-09T10:29:59.0000001Z');
  });

  it('the conformance runner uses the exact clock of assumeNow', () => {
    const r = runCase(
      parseJson(
        '{"id":"c","expr":"@utcNow()","expect":"2025-03-09T10:30:00.1234567Z","expectError":false,"source":"t","note":"","nondeterministic":true,"assumeNow":"2025-03-09T10:30:00.1234567Z"}',
      ) as ConformanceCase,
    );
    expect(r.status).toBe('passed');
  });

  it('a context with only now() (the engine) still works', () => {
    const base = contextFromData({}, { assumeNow: '2025-03-09T10:30:00.5Z' });
    const engineLike: ExpressionContext = {
      ...base,
      nowTicks: undefined,
      now: () => Date.UTC(2025, 2, 9, 10, 30, 0, 500),
    };
    expect(compileExpression('@utcNow()').evaluate(engineLike)).toBe('2025-03-09T10:30:00.5000000Z');
  });
});

describe('7. only a real document type declaration is refused', () => {
  it.each([
    ['<r><html><![CDATA[<!DOCTYPE html><p>hi</p>]]></html></r>'],
    ['<r><!-- <!DOCTYPE x> --></r>'],
    ['<?xml version="1.0"?><!-- <!DOCTYPE x> --><r>&lt;!DOCTYPE r&gt;</r>'],
  ])('accepts %s', (x) => {
    expect(toText(ev("@xml(parameters('x'))", { parameters: { x } }))).toBe(x);
  });

  it('keeps the CDATA text that looks like a DOCTYPE', () => {
    const x = '<r><html><![CDATA[<!DOCTYPE html><p>hi</p>]]></html></r>';
    expect(ev("@json(xml(parameters('x')))", { parameters: { x } })).toEqual({
      r: { html: { '#cdata-section': '<!DOCTYPE html><p>hi</p>' } },
    });
  });

  it.each([
    ['<!DOCTYPE r [<!ENTITY a "b">]><r>&a;</r>'],
    ['<?xml version="1.0"?>\n<!-- c -->\n<!DOCTYPE r SYSTEM "file:///etc/passwd"><r/>'],
    ['\uFEFF<!doctype r><r/>'],
  ])('refuses %s', (x) => {
    const e = err("@xml(parameters('x'))", { parameters: { x } });
    expect(e.code).toBe('EXPRESSION_FUNCTION_ERROR');
    expect(e.message).toMatch(/document type declaration/);
  });
});

describe('8. string results are limited to 104,857,600 characters everywhere', () => {
  const big = "join(range(0,100000), '')";

  it('replace refuses a result over the limit before building it, naming function and position', () => {
    const e = err(`@length(replace(${big}, '1', ${big}))`);
    expect(e.code).toBe('EXPRESSION_LIMIT_EXCEEDED');
    expect(e.details).toMatchObject({ function: 'replace', position: 8, limit: 104_857_600 });
    expect(e.details['length']).toBeGreaterThan(104_857_600);
  });

  it('concat, join and interpolation use the same typed error', () => {
    const x = 'a'.repeat(60_000_000);
    const p = { parameters: { x } };
    expect(err("@concat(parameters('x'), parameters('x'))", p).code).toBe('EXPRESSION_LIMIT_EXCEEDED');
    expect(err("@join(createArray(parameters('x'), parameters('x')), '')", p).code).toBe('EXPRESSION_LIMIT_EXCEEDED');
    const i = err("a@{parameters('x')}b@{parameters('x')}", p);
    expect(i.code).toBe('EXPRESSION_LIMIT_EXCEEDED');
    expect(i.details.position).toBe(20);
  });

  it('any function that builds a longer string (uriComponent) is held to the limit', () => {
    const e = err("@uriComponent(parameters('x'))", { parameters: { x: 'é'.repeat(20_000_000) } });
    expect(e.code).toBe('EXPRESSION_LIMIT_EXCEEDED');
    expect(e.details).toMatchObject({ function: 'uriComponent', position: 1, length: 120_000_000 });
  });

  it('an unexpected exception inside a function names the function and position', () => {
    const ctx = contextFromData({}, { assumeNow: NOW });
    const broken: ExpressionContext = {
      ...ctx,
      variable: () => {
        throw new TypeError('store unavailable');
      },
    };
    try {
      compileExpression("@concat('a', variables('v'))").evaluate(broken);
      throw new Error('no error');
    } catch (e) {
      expect(e).toBeInstanceOf(ExpressionError);
      const x = e as ExpressionError;
      expect(x.code).toBe('EXPRESSION_INTERNAL_ERROR');
      expect(x.details).toMatchObject({ function: 'variables', position: 13 });
      expect(x.message).toContain('store unavailable');
      expect((x as Error & { cause?: unknown }).cause).toBeInstanceOf(TypeError);
    }
  });
});

describe('9. the decimal range is enforced (.NET OverflowException)', () => {
  const MAX = '79228162514264337593543950335';

  it.each([
    ["@decimal('79228162514264337593543950336')"],
    ["@decimal('-79228162514264337593543950336')"],
    [`@decimal('${MAX}.5')`],
    [`@mul(decimal('${MAX}'), 2)`],
    [`@add(decimal('${MAX}'), decimal('1'))`],
    [`@sub(decimal('-${MAX}'), 1)`],
    [`@div(decimal('${MAX}'), decimal('0.5'))`],
    ['@decimal(1e30)'],
    [`@add(decimal('1'), 1e30)`],
  ])('%s is EXPRESSION_OVERFLOW', (source) => {
    expect(err(source).code).toBe('EXPRESSION_OVERFLOW');
  });

  it('accepts the extremes and rounds extra digits as .NET does', () => {
    expect(ev(`@string(decimal('${MAX}'))`)).toBe(MAX);
    expect(ev(`@string(decimal('-${MAX}'))`)).toBe('-' + MAX);
    expect(ev(`@string(add(decimal('${MAX}'), decimal('0.4')))`)).toBe(MAX);
    expect(ev("@string(div(decimal('100000000000000000000'), decimal('3')))")).toBe('33333333333333333333.333333333');
    expect(ev("@string(decimal('0.12345678901234567890123456789'))")).toBe('0.1234567890123456789012345679');
    expect(ev("@string(mul(decimal('1.2345678912312131'), decimal('1.2345678912312131')))")).toBe(
      '1.5241578780590844195306036976',
    );
  });
});

describe('12. date edge cases', () => {
  it("'%%' and a trailing '%' are format errors; '%d' is the one-character custom format", () => {
    expect(err("@formatDateTime('2025-03-09T10:30:00Z', '%%')").code).toBe('EXPRESSION_FUNCTION_ERROR');
    expect(err("@formatDateTime('2025-03-09T10:30:00Z', 'yyyy%')").code).toBe('EXPRESSION_FUNCTION_ERROR');
    expect(ev("@formatDateTime('2025-03-09T10:30:00Z', '%d')")).toBe('9');
    expect(ev("@formatDateTime('2025-03-09T10:30:00Z', '%d%M')")).toBe('93');
  });

  it('rounds an eighth fractional digit into the next second', () => {
    expect(ev("@formatDateTime('2025-03-09T10:30:00.99999999Z')")).toBe('2025-03-09T10:30:01.0000000Z');
    expect(ev("@formatDateTime('2025-03-09T23:59:59.99999996')")).toBe('2025-03-10T00:00:00.0000000');
    expect(ev("@formatDateTime('2025-03-09T10:30:00.99999994Z')")).toBe('2025-03-09T10:30:00.9999999Z');
    expect(ev("@formatDateTime('03/09/2025 10:30:00.999999999')")).toBe('2025-03-09T10:30:01.0000000');
    expect(err("@formatDateTime('9999-12-31T23:59:59.99999999Z')").code).toBe('EXPRESSION_FUNCTION_ERROR');
  });

  it('accepts offsets up to ±14:00 only', () => {
    expect(ev("@formatDateTime('2025-03-09T10:30:00+14:00')")).toBe('2025-03-08T20:30:00.0000000Z');
    expect(ev("@formatDateTime('2025-03-09T10:30:00-14:00')")).toBe('2025-03-10T00:30:00.0000000Z');
    for (const t of [
      '2025-03-09T10:30:00+14:01',
      '2025-03-09T10:30:00-14:30',
      '2025-03-09T10:30:00+1500',
      '03/09/2025 10:30:00 +15:00',
    ])
      expect(err(`@formatDateTime('${t}')`).code).toBe('EXPRESSION_FUNCTION_ERROR');
    expect(err("@parseDateTime('2025-03-09 10:30 +15:00', 'en-US', 'yyyy-MM-dd HH:mm zzz')").code).toBe(
      'EXPRESSION_FUNCTION_ERROR',
    );
  });
});

describe('13. argument type errors are uniform', () => {
  it.each([
    ['@formatDateTime(null)', 'Null'],
    ['@formatDateTime(1741516200)', 'Integer'],
    ["@addDays(createArray('2025-03-09'), 1)", 'Array'],
    ["@dateDifference('2025-03-09', true)", 'Boolean'],
    ['@ticks(1.5)', 'Float'],
  ])('%s is EXPRESSION_ARGUMENT_TYPE naming the WDL type %s', (source, type) => {
    const e = err(source);
    expect(e.code).toBe('EXPRESSION_ARGUMENT_TYPE');
    expect(e.message).toContain(`The provided value is of type '${type}'.`);
    expect(e.message).toMatch(/expects its (first |second )?parameter to be a string that contains a timestamp/);
    expect(e.details).toMatchObject({ position: 1, actualType: type });
  });
});

describe('14. an unterminated string literal inside @{ } is named as such', () => {
  it("@{'a} reports the string literal at the quote", () => {
    const e = err("@{'a}");
    expect(e.code).toBe('EXPRESSION_PARSE_ERROR');
    expect(e.message).toBe("Unterminated string literal at position 2: expected a closing quote ('), found '''");
    expect(e.details).toMatchObject({ position: 2, expected: "a closing quote (')" });
    expect(err("x @{concat('a', 'b)} y").details.position).toBe(16);
  });

  it("an '@{' without '}' is still reported as such", () => {
    const e = err("x @{concat('a', 'b')");
    expect(e.message).toMatch(/^Unterminated '@\{' in string interpolation at position 2/);
  });
});

describe('15. mod(long.MinValue, -1) overflows like div', () => {
  it('is EXPRESSION_OVERFLOW for both', () => {
    expect(err('@mod(-9223372036854775808, -1)').code).toBe('EXPRESSION_OVERFLOW');
    expect(err('@div(-9223372036854775808, -1)').code).toBe('EXPRESSION_OVERFLOW');
    expect(ev('@mod(-9223372036854775808, 1)')).toBe(0);
    expect(ev('@mod(-9223372036854775807, -1)')).toBe(0);
    expect(ev('@mod(-9223372036854775808, 7)')).toBe(-1);
  });
});

describe('16. URI functions follow .NET Uri', () => {
  it.each([
    ["@uriHost('mailto:a@b.com')", 'b.com'],
    ["@uriHost('mailto:John.Doe@Example.com?subject=hi')", 'example.com'],
    ["@uriHost('https://[::1]:80/')", '[::1]'],
    ["@uriHost('https://[2001:db8::1]/x')", '[2001:db8::1]'],
    ["@uriHost('https://www.contoso.com/x')", 'www.contoso.com'],
    ["@uriComponentToString('%ff')", '%ff'],
    ["@uriComponentToString('a%C3%A9b')", 'aéb'],
    ["@uriComponentToString('%C3')", '%C3'],
    ["@uriComponentToString('%41%ff%42')", 'A%ffB'],
    ["@uriComponentToString('%F0%9F%98%80%zz%')", '😀%zz%'],
    ["@uriComponentToString('%ED%A0%80')", '%ED%A0%80'],
  ])('%s = %s', (source, expected) => {
    expect(ev(source)).toBe(expected);
  });

  it('uriComponentToBinary keeps the raw bytes', () => {
    expect(ev("@uriComponentToBinary('%ff')")).toEqual({
      '$content-type': 'application/octet-stream',
      $content: '/w==',
    });
  });
});

describe('17. characters XML 1.0 does not allow are refused', () => {
  it.each([
    ['<r>&#0;</r>', '0000'],
    ['<r>&#x1;</r>', '0001'],
    ['<r a="&#0;"/>', '0000'],
    ['<r>\u0001</r>', '0001'],
    ['<r>&#xFFFE;</r>', 'FFFE'],
    ['<r>&#xD800;</r>', 'D800'],
  ])('%j', (x, code) => {
    const e = err("@xml(parameters('x'))", { parameters: { x } });
    expect(e.code).toBe('EXPRESSION_FUNCTION_ERROR');
    expect(e.message).toContain(`U+${code} is not a legal XML 1.0 character`);
  });

  it('accepts tab, newline, supplementary characters and a reference written inside CDATA', () => {
    for (const x of ['<r>&#9;&#10;&#13;</r>', '<r>&#x10FFFF;😀</r>', '<r><![CDATA[&#0;]]></r>'])
      expect(toText(ev("@xml(parameters('x'))", { parameters: { x } }))).toBe(x);
  });
});

describe('18. result ownership (decided: results are read-only; built containers are shallow)', () => {
  it('setProperty builds a new top-level object that shares nested values with the context', () => {
    const p = { a: { b: 1 }, list: [1, 2] };
    const data = { parameters: { p } };
    const out = ev("@setProperty(parameters('p'), 'z', 1)", data) as Record<string, unknown>;
    expect(out).toEqual({ a: { b: 1 }, list: [1, 2], z: 1 });
    expect(out).not.toBe(p);
    expect(p).toEqual({ a: { b: 1 }, list: [1, 2] }); // the argument is not changed
    expect(out['a']).toBe(p.a); // shared, as documented: callers must not mutate results
  });

  it('constants are copied on every evaluation, so two evaluations never share a container', () => {
    const c = compileExpression('@json(\'{"a":{"b":[1]}}\')');
    const ctx = contextFromData({});
    const x = c.evaluate(ctx) as { a: { b: number[] } };
    const y = c.evaluate(ctx) as { a: { b: number[] } };
    expect(x).toEqual(y);
    expect(x.a).not.toBe(y.a);
    expect(x.a.b).not.toBe(y.a.b);
  });
});
