/**
 * The function library against the documented examples of expression-functions-reference.md
 * (beyond the conformance file) and the decisions recorded in docs/expressions.md.
 */
import { describe, expect, it } from 'vitest';
import { ExpressionError, compileExpression, contextFromData, toText, type ContextData } from '@patchbay/expression';

function ev(source: string, data: ContextData = {}, assumeNow = '2018-03-01T00:00:00.0000000Z'): unknown {
  return compileExpression(source).evaluate(contextFromData(data, { assumeNow }));
}

function code(source: string, data: ContextData = {}): string {
  try {
    ev(source, data);
  } catch (e) {
    if (e instanceof ExpressionError) return e.code;
    throw e;
  }
  return 'no error';
}

/** Decodes a content envelope (binary / XML value) to text. */
function text(v: unknown): string {
  return toText(v);
}

const table = (rows: Array<[string, unknown]>, data: ContextData = {}) =>
  it.each(rows)('%s', (source, expected) => {
    expect(ev(source, data)).toEqual(expected);
  });

describe('string functions', () => {
  table([
    ["@indexOf('hello world', 'world')", 6],
    ["@lastIndexOf('hello world hello world', '')", 22],
    ["@nthIndexOf('123456789123465789', '1', 1)", 0],
    ["@nthIndexOf('123456789123465789', '1', -1)", 9],
    ["@nthIndexOf('123456789123465789', '1', -3)", -1],
    ["@endsWith('hello world', 'world')", true],
    ["@slice('Hello World', 2)", 'llo World'],
    ["@slice('Hello World', 10, 2)", ''],
    ["@slice('Hello World', 0)", 'Hello World'],
    ["@slice('Hello World', 2, 5)", 'llo'],
    ["@split('a_b_c', ' ')", ['a_b_c']],
    ["@substring('hello world', 6, 5)", 'world'],
    ["@length('abcd')", 4],
    ["@concat('a', 1, true, null, createArray(1))", 'a1True[1]'],
    ["@formatNumber(1234567890, '#,##0.00', 'en-US')", '1,234,567,890.00'],
    ["@formatNumber(1234567890, '#,##0.00', 'is-IS')", '1.234.567.890,00'],
    ["@formatNumber(17.35, 'C2')", '$17.35'],
    ["@formatNumber(1234.5, 'N1', 'de-DE')", '1.234,5'],
    ["@formatNumber(0.5, 'P0')", '50%'],
    ["@formatNumber(42, 'D5')", '00042'],
    ["@formatNumber(255, 'x')", 'ff'],
    ["@formatNumber(1234.5678, 'F2')", '1234.57'],
    ["@formatNumber(1.005, 'F2')", '1.00'],
    ["@formatNumber(0.125, 'F2')", '0.13'],
    ["@formatNumber(1234567.891, '0.###E+0')", '1.235E+6'],
    ["@formatNumber(5551234567, '(###) ###-####')", '(555) 123-4567'],
    ["@formatNumber(-12.5, '#.0;(#.0);zero')", '(12.5)'],
    ["@formatNumber(0, '#.0;(#.0);zero')", 'zero'],
    ["@formatNumber(1234567, '#,##0,K')", '1,235K'],
    ["@isInt('10')", true],
    ["@isInt('10.5')", false],
    ["@isFloat('10,000.00')", true],
    ["@isFloat('10.000,00', 'de-DE')", true],
    ["@isFloat('abc')", false],
  ]);

  it('errors', () => {
    expect(code("@substring('hello', 2, 10)")).toBe('EXPRESSION_FUNCTION_ERROR');
    expect(code("@replace('abc', '', 'x')")).toBe('EXPRESSION_FUNCTION_ERROR');
    expect(code("@formatNumber(1.5, 'D2')")).toBe('EXPRESSION_FUNCTION_ERROR');
    expect(code('@toUpper(1)')).toBe('EXPRESSION_ARGUMENT_TYPE');
    expect(code("@guid('Q')")).toBe('EXPRESSION_FUNCTION_ERROR');
  });

  it('guid formats', () => {
    expect(ev("@guid('N')")).toMatch(/^[0-9a-f]{32}$/);
    expect(ev("@guid('B')")).toMatch(/^\{[0-9a-f-]{36}\}$/);
    expect(ev("@guid('P')")).toMatch(/^\([0-9a-f-]{36}\)$/);
    expect(ev("@guid('X')")).toMatch(
      /^\{0x[0-9a-f]{8},0x[0-9a-f]{4},0x[0-9a-f]{4},\{(0x[0-9a-f]{2},){7}0x[0-9a-f]{2}\}\}$/,
    );
  });
});

describe('collection and logical functions', () => {
  table([
    [
      '@chunk(createArray(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12), 5)',
      [
        [1, 2, 3, 4, 5],
        [6, 7, 8, 9, 10],
        [11, 12],
      ],
    ],
    ["@coalesce(null, 'hello', 'world')", 'hello'],
    ["@contains('hello world', 'world')", true],
    ['@contains(createArray(1, json(\'{"a":1}\')), json(\'{"a":1}\'))', true],
    ["@empty('abc')", false],
    ['@empty(null)', true],
    ["@first('hello')", 'h'],
    ['@last(createArray(0, 1, 2, 3))', 3],
    ['@intersection(createArray(1, 2, 3), createArray(101, 2, 1, 10), createArray(6, 8, 1, 2))', [1, 2]],
    ['@union(createArray(1, 2, 3), createArray(1, 2, 10, 101))', [1, 2, 3, 10, 101]],
    ["@join(createArray('a', 'b', 'c'), '.')", 'a.b.c'],
    ['@take(createArray(0, 1, 2, 3, 4), 3)', [0, 1, 2]],
    ["@skip('abc', 1)", 'bc'],
    [
      '@sort(createArray(json(\'{ "first": "Amalie", "last": "Rose" }\'), json(\'{ "first": "Elise", "last": "Renee" }\')), \'last\')',
      [
        { first: 'Elise', last: 'Renee' },
        { first: 'Amalie', last: 'Rose' },
      ],
    ],
    ['@and(equals(1, 1), equals(2, 2))', true],
    ['@or(equals(1, 1), equals(1, 2))', true],
    ['@not(equals(1, 2))', true],
    ['@greater(10, 5)', true],
    ['@greaterOrEquals(5, 5)', true],
    ["@less('banana', 'apple')", false],
    ['@lessOrEquals(10, 10)', true],
    ['@greater(2.5, 2)', true],
    ['@equals(1, 1.0)', true],
    ['@equals(true, 1)', false],
    ["@equals('1', 1)", false],
    ['@equals(json(\'{"a":1,"b":2}\'), json(\'{"b":2,"a":1}\'))', true],
  ]);

  it('errors', () => {
    expect(code("@and(true, 'true')")).toBe('EXPRESSION_ARGUMENT_TYPE');
    expect(code("@greater('a', 1)")).toBe('EXPRESSION_ARGUMENT_TYPE');
    expect(code("@union(createArray(1), json('{}'))")).toBe('EXPRESSION_ARGUMENT_TYPE');
    expect(code("@chunk('abc', 0)")).toBe('EXPRESSION_FUNCTION_ERROR');
  });
});

describe('conversion functions', () => {
  table([
    ['@bool(0)', false],
    ["@bool('TRUE')", true],
    ["@float('10.000,333', 'de-DE')", 10000.333],
    ["@float('12345,6,78,-')", -12345678],
    ["@float('-12,345,678,')", -12345678],
    ["@int(' -42 ')", -42],
    ["@json('[1, 2, 3]')", [1, 2, 3]],
    ['@json(\'{"big": 9223372036854775807}\')', { big: 9223372036854775807n }],
    ["@base64ToBinary('aGVsbG8=')", { '$content-type': 'application/octet-stream', $content: 'aGVsbG8=' }],
    ["@dataUri(binary('hi'))", 'data:application/octet-stream;base64,aGk='],
    ["@dataUriToString('data:,hello%20world')", 'hello world'],
    ["@uriComponent('a b&c/d?e=f!*')", 'a%20b%26c%2Fd%3Fe%3Df%21%2A'],
    ["@uriComponentToString('100%25 %E2%9C%93 %zz')", '100% ✓ %zz'],
    ['@string(json(\'{"name": "Sophie Owen"}\'))', '{"name":"Sophie Owen"}'],
    ['@json(xml(\'<root><a>1</a><a>2</a><b x="y"/></root>\'))', { root: { a: ['1', '2'], b: { '@x': 'y' } } }],
    ["@json(xml('<r><e/></r>'))", { r: { e: null } }],
  ]);

  it('json() and xml() read content envelopes (bodies the runtime did not parse)', () => {
    const data: ContextData = {
      trigger: {
        outputs: { body: { '$content-type': 'text/plain', $content: Buffer.from('{"a":[1]}').toString('base64') } },
      },
      variables: { x: { '$content-type': 'text/plain', $content: Buffer.from('<a>1</a>').toString('base64') } },
    };
    expect(ev('@json(triggerBody()).a[0]', data)).toBe(1);
    expect(ev("@json(xml(variables('x')))", data)).toEqual({ a: '1' });
    expect(ev("@xpath(variables('x'), 'string(/a)')", data)).toBe('1');
  });

  it('xml() produces XML values', () => {
    expect(text(ev("@xml('<name>Sophia Owen</name>')"))).toBe('<name>Sophia Owen</name>');
    expect(text(ev('@xml(json(\'{"person": {"name": "Sophia Owen", "city": "Seattle"}}\'))'))).toBe(
      '<person><name>Sophia Owen</name><city>Seattle</city></person>',
    );
    expect(
      text(ev('@xml(json(\'{"?xml": {"@version": "1.0"}, "a": {"@id": 1, "#text": "x & y", "first name": null}}\'))')),
    ).toBe('<?xml version="1.0"?><a id="1">x &amp; y<first_x0020_name /></a>');
  });

  it('errors', () => {
    expect(code("@int('1.5')")).toBe('EXPRESSION_FUNCTION_ERROR');
    expect(code("@bool('yes')")).toBe('EXPRESSION_FUNCTION_ERROR');
    expect(code("@base64ToString('not base64!')")).toBe('EXPRESSION_FUNCTION_ERROR');
    expect(code("@json('{bad')")).toBe('EXPRESSION_FUNCTION_ERROR');
    expect(code('@xml(createArray(1))')).toBe('EXPRESSION_FUNCTION_ERROR');
    expect(code("@xml('<a>')")).toBe('EXPRESSION_FUNCTION_ERROR');
    expect(code('@xml(\'<!DOCTYPE a [<!ENTITY e "x">]><a>&e;</a>\')')).toBe('EXPRESSION_FUNCTION_ERROR');
    expect(code("@dataUriToString('hello')")).toBe('EXPRESSION_FUNCTION_ERROR');
  });
});

describe('math functions', () => {
  table([
    ['@div(11.0, 5)', 2.2],
    ['@mod(3, 2)', 1],
    ['@mul(1, 2)', 2],
    ['@max(createArray(1, 2, 3))', 3],
    ['@min(createArray(1, 2, 3))', 1],
    ['@max(1, 2.5)', 2.5],
    ['@range(0, 0)', []],
    ['@sub(10.3, .3)', 10],
  ]);

  it('errors', () => {
    expect(code('@div(1, 0)')).toBe('EXPRESSION_FUNCTION_ERROR');
    expect(code('@mod(1.5, 0)')).toBe('EXPRESSION_FUNCTION_ERROR');
    expect(code('@add(null, 1)')).toBe('EXPRESSION_ARGUMENT_TYPE');
    expect(code("@add('1', 1)")).toBe('EXPRESSION_ARGUMENT_TYPE');
    expect(code('@range(2147483647, 1)')).toBe('EXPRESSION_FUNCTION_ERROR');
    expect(code('@rand(5, 1)')).toBe('EXPRESSION_FUNCTION_ERROR');
  });

  it('rand stays in [min, max)', () => {
    for (let seed = 1; seed < 50; seed++) {
      const v = compileExpression('@rand(1, 5)').evaluate(contextFromData({}, { seed })) as number;
      expect(v >= 1 && v < 5 && Number.isInteger(v)).toBe(true);
    }
  });
});

describe('date and time functions', () => {
  table([
    ["@addHours('2018-03-15T00:00:00Z', 10)", '2018-03-15T10:00:00.0000000Z'],
    ["@addMinutes('2018-03-15T00:10:00Z', 10)", '2018-03-15T00:20:00.0000000Z'],
    ["@addSeconds('2018-03-15T00:00:30Z', -5)", '2018-03-15T00:00:25.0000000Z'],
    ["@addToTime('2018-01-01T00:00:00Z', 1, 'Day')", '2018-01-02T00:00:00.0000000Z'],
    ["@addToTime('2018-01-31T10:00:00Z', 1, 'Month')", '2018-02-28T10:00:00.0000000Z'],
    ["@addToTime('2016-02-29', 1, 'Year')", '2017-02-28T00:00:00.0000000'],
    ["@subtractFromTime('2018-01-02T00:00:00Z', 1, 'Day')", '2018-01-01T00:00:00.0000000Z'],
    ["@getFutureTime(5, 'Day')", '2018-03-06T00:00:00.0000000Z'],
    ["@startOfMonth('2018-03-15T13:30:30Z', 'yyyy-MM-dd')", '2018-03-01'],
    ["@convertFromUtc('2018-01-01T08:00:00.0000000Z', 'Pacific Standard Time')", '2018-01-01T00:00:00.0000000'],
    ["@convertFromUtc('2018-07-01T08:00:00Z', 'Pacific Standard Time')", '2018-07-01T01:00:00.0000000'],
    ["@convertFromUtc('2018-07-01T08:00:00Z', 'Europe/Paris', 'HH:mm')", '10:00'],
    ["@convertTimeZone('2018-01-01T08:00:00.0000000Z', 'UTC', 'Pacific Standard Time')", '2018-01-01T00:00:00.0000000'],
    [
      "@convertTimeZone('2018-06-01T12:00:00', 'W. Europe Standard Time', 'India Standard Time')",
      '2018-06-01T15:30:00.0000000',
    ],
    ["@convertToUtc('01/01/2018 00:00:00', 'Pacific Standard Time', 'D')", 'Monday, January 1, 2018'],
    ["@convertToUtc('2018-11-04T01:30:00', 'Pacific Standard Time')", '2018-11-04T09:30:00.0000000Z'],
    ["@formatDateTime('01/31/2016', 'dddd MMMM d', 'fr-FR')", 'dimanche janvier 31'],
    ["@formatDateTime('01/31/2016', 'dddd MMMM d', 'es-es')", 'domingo enero 31'],
    ["@formatDateTime('2018-03-15T13:27:36.1234567Z', 'yyyy-MM-dd HH:mm:ss.fff tt K')", '2018-03-15 13:27:36.123 PM Z'],
    ["@formatDateTime('2018-03-15T13:27:36Z', 'hh:mm:ss.FFF')", '01:27:36'],
    ["@formatDateTime('2018-03-15T13:27:36.5Z', 'HH:mm:ss.FFF')", '13:27:36.5'],
    ["@formatDateTime('2018-03-05T07:08:09Z', 'd/M/yy H:m:s')", '5/3/18 7:8:9'],
    ["@formatDateTime('2018-03-15T13:27:36Z', 'r')", 'Thu, 15 Mar 2018 13:27:36 GMT'],
    ["@formatDateTime('2018-03-15T13:27:36Z', 's')", '2018-03-15T13:27:36'],
    ["@formatDateTime('2018-03-15T13:27:36Z', 'g')", '3/15/2018 1:27 PM'],
    ["@formatDateTime('2018-03-15T13:27:36Z', 'M')", 'March 15'],
    ["@formatDateTime('2018-03-15T13:27:36Z', '\"Day\" d \\o\\f MMMM')", 'Day 15 of March'],
    ["@formatDateTime('2018-03-15T13:27:36+02:00')", '2018-03-15T11:27:36.0000000Z'],
    ["@formatDateTime('Thu, 15 Mar 2018 13:27:36 GMT')", '2018-03-15T13:27:36.0000000Z'],
    ["@formatDateTime('March 15, 2018 1:30 PM')", '2018-03-15T13:30:00.0000000'],
    ["@formatDateTime('2018-03-15T13:27:36.123456789Z')", '2018-03-15T13:27:36.1234568Z'],
    ["@parseDateTime('20/10/2014', 'fr-fr')", '2014-10-20T00:00:00.0000000'],
    ["@parseDateTime('20 octobre 2010', 'fr-FR')", '2010-10-20T00:00:00.0000000'],
    ["@parseDateTime('10/20/2014 15h', 'en-US', 'MM/dd/yyyy HH\\h')", '2014-10-20T15:00:00.0000000'],
    ["@parseDateTime('2020-01-02T03:04:05Z')", '2020-01-02T03:04:05.0000000Z'],
    ["@dateDifference('2018-07-30', '2015-02-08')", '-1268.00:00:00'],
    ["@dateDifference('2018-07-30T10:00:00', '2018-07-30T11:30:00.5')", '01:30:00.5000000'],
    ["@ticks('0001-01-01T00:00:00Z')", 0],
    ["@dayOfYear('2020-12-31')", 366],
  ]);

  it('uses the context clock', () => {
    expect(ev("@getPastTime(5, 'Day', 'D')", {}, '2018-02-01T00:00:00.0000000Z')).toBe('Saturday, January 27, 2018');
    expect(ev("@utcNow('U')", {}, '2025-09-25T05:18:31.3384797Z')).toBe('Thursday, September 25, 2025 5:18:31 AM');
    expect(ev("@utcNow('ddd, d MMM yyyy')", {}, '2025-09-25T05:18:31.3384797Z')).toBe('Thu, 25 Sep 2025');
  });

  it('errors', () => {
    expect(code("@formatDateTime('not a date')")).toBe('EXPRESSION_FUNCTION_ERROR');
    expect(code("@formatDateTime('2018-01-01', 'Q')")).toBe('EXPRESSION_FUNCTION_ERROR');
    expect(code("@formatDateTime('2018-01-01', 'yyyy', 'not a locale')")).toBe('EXPRESSION_FUNCTION_ERROR');
    expect(code("@convertTimeZone('2018-01-01T80:00:00.0000000Z', 'UTC', 'Pacific Standard Time', 'D')")).toBe(
      'EXPRESSION_FUNCTION_ERROR',
    );
    expect(code("@convertFromUtc('2018-01-01', 'Mars Standard Time')")).toBe('EXPRESSION_FUNCTION_ERROR');
    expect(code("@convertToUtc('2018-03-11T02:30:00', 'Pacific Standard Time')")).toBe('EXPRESSION_FUNCTION_ERROR');
    expect(code("@addToTime('2018-01-01', 1, 'Fortnight')")).toBe('EXPRESSION_FUNCTION_ERROR');
    expect(code("@addDays('9999-12-31', 1)")).toBe('EXPRESSION_FUNCTION_ERROR');
  });
});

describe('URI functions', () => {
  table([
    ["@uriHost('https://www.localhost.com:8080')", 'www.localhost.com'],
    ["@uriPath('https://www.contoso.com')", '/'],
    ["@uriPort('https://www.contoso.com')", 443],
    ["@uriPort('http://www.contoso.com')", 80],
    ["@uriQuery('https://www.contoso.com/a')", ''],
    ["@uriScheme('https://www.contoso.com/catalog/shownew.htm?date=today')", 'https'],
  ]);
  it('errors on relative URIs', () => {
    expect(code("@uriHost('/relative/path')")).toBe('EXPRESSION_FUNCTION_ERROR');
  });
});

describe('xpath', () => {
  const items =
    "<?xml version=\"1.0\"?><produce><item><name expired='true' price='12'>Gala</name><type>apple</type><count>20</count></item><item><name expired='false' price='40'>Honeycrisp</name><type>apple</type><count>10</count></item></produce>";
  const data: ContextData = { parameters: { items } };
  it('returns numbers, strings and node arrays', () => {
    expect(ev("@xpath(xml(parameters('items')), 'sum(/produce/item/count)')", data)).toBe(30);
    expect(ev("@xpath(xml(parameters('items')), 'count(//item)')", data)).toBe(2);
    expect(ev("@xpath(xml(parameters('items')), 'string(//item[2]/type)')", data)).toBe('apple');
    expect(ev("@xpath(xml(parameters('items')), '//name/@price')", data)).toEqual(['12', '40']);
    const nodes = ev("@xpath(xml(parameters('items')), '//name[@expired = ''true'']')", data) as unknown[];
    expect(nodes.map(text)).toEqual(['<name expired="true" price="12">Gala</name>']);
    expect(ev("@xpath(xml(parameters('items')), '//nothing')", data)).toEqual([]);
  });
  it('errors on invalid XPath', () => {
    expect(code("@xpath(xml(parameters('items')), '//[')", data)).toBe('EXPRESSION_FUNCTION_ERROR');
  });
});

describe('workflow functions', () => {
  it('reads form data and multipart bodies', () => {
    const data: ContextData = {
      actions: {
        Form: {
          outputs: {
            body: {
              '$content-type': 'application/x-www-form-urlencoded',
              $content: Buffer.from('a=1&b=x%20y&a=2').toString('base64'),
            },
          },
        },
        Multi: {
          outputs: {
            body: {
              '$content-type': 'multipart/form-data',
              $multipart: [{ headers: { 'Content-Disposition': 'form-data; name="f"' }, body: 'one' }],
            },
          },
        },
      },
    };
    expect(ev("@formDataValue('Form', 'b')", data)).toBe('x y');
    expect(ev("@formDataMultiValues('Form', 'a')", data)).toEqual(['1', '2']);
    expect(ev("@formDataValue('Form', 'missing')", data)).toBeNull();
    expect(code("@formDataValue('Form', 'a')", data)).toBe('EXPRESSION_FUNCTION_ERROR');
    expect(ev("@formDataValue('Multi', 'f')", data)).toBe('one');
    expect(ev("@multipartBody('Multi', 0)", data)).toBe('one');
    expect(code("@multipartBody('Multi', 3)", data)).toBe('EXPRESSION_FUNCTION_ERROR');
  });

  it('accepts deprecated aliases', () => {
    const data: ContextData = { actions: { A: { outputs: { body: 'b' } } }, trigger: { outputs: { body: 1 } } };
    expect(ev("@actionBody('A')", data)).toBe('b');
    expect(ev("@actionOutputs('A')", data)).toEqual({ body: 'b' });
    expect(ev('@triggers().outputs.body', data)).toBe(1);
    expect(ev("@decodeBase64('aGk=')")).toBe('hi');
    expect(ev("@encodeUriComponent('a b')")).toBe('a%20b');
    expect(ev("@decodeUriComponent('a%20b')")).toBe('a b');
  });
});
