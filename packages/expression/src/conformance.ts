/**
 * The conformance runner: evaluates cases in the format of ../shared/conformance/README.md and
 * compares results. Pure (no I/O): the caller reads the file and supplies the clock.
 */
import { DOMParser } from '@xmldom/xmldom';
import { invalid, type PatchbayError } from '@patchbay/core';
import { compileExpression } from './compile.js';
import { contextFromData, type ContextData } from './context.js';
import { isExpressionError, ExpressionErrorCode } from './errors.js';
import { parseJson } from './json.js';
import { parseTimestamp } from './functions/datetime.js';
import {
  base64ToBytes,
  bytesToText,
  compareNumeric,
  isContentEnvelope,
  isNumeric,
  isObject,
  textToBytes,
} from './values.js';

/** One case of a conformance file (required and optional fields of the README). */
export interface ConformanceCase {
  id: string;
  expr: string;
  expect?: unknown;
  expectError?: boolean;
  source?: string;
  note?: string;
  context?: ContextData;
  compare?:
    'json-unordered' | 'json-parse-string' | 'xml' | 'xml-nodes' | 'binary-bytes' | 'normalize-whitespace' | string;
  expectBytesBase64?: string;
  nondeterministic?: boolean;
  expectPattern?: string;
  expectOneOf?: unknown[];
  assumeNow?: string;
  derived?: boolean;
  disputed?: boolean;
  docSays?: unknown;
  bigint?: boolean;
  powerAutomate?: boolean;
  notAnExpression?: boolean;
  binary?: boolean;
  [key: string]: unknown;
}

/** The outcome of one case. */
export interface ConformanceResult {
  id: string;
  status: 'passed' | 'failed' | 'skipped';
  /** The evaluated value (null when evaluation failed). */
  actual: unknown;
  /** The error raised, as `{code, message, details}`, or null. */
  error: { code: string; message: string; details?: unknown } | null;
  /** Why the case failed or was skipped. */
  reason?: string;
}

/** Options of {@link runConformance}. */
export interface ConformanceOptions {
  /** Clock (epoch ms) for cases without `assumeNow`; the runner itself never reads the clock. */
  now?: number;
  /** PRNG seed for `rand()` / `guid()` (default 1). */
  seed?: number;
  /** Also judge disputed cases instead of reporting them as skipped. */
  includeDisputed?: boolean;
}

// ----- reading case files -----------------------------------------------------------------------

/** The `compare` modes of the format. */
export const COMPARE_MODES = [
  'json-unordered',
  'json-parse-string',
  'xml',
  'xml-nodes',
  'binary-bytes',
  'normalize-whitespace',
] as const;

const BOOLEAN_FIELDS = [
  'expectError',
  'nondeterministic',
  'derived',
  'disputed',
  'bigint',
  'powerAutomate',
  'notAnExpression',
  'binary',
];
const STRING_FIELDS = ['id', 'expr', 'source', 'note', 'expectBytesBase64', 'expectPattern', 'assumeNow', 'confidence'];
const KNOWN_FIELDS = new Set([
  ...BOOLEAN_FIELDS,
  ...STRING_FIELDS,
  'expect',
  'context',
  'compare',
  'expectOneOf',
  'docSays',
  'seeAlso',
]);
const REQUIRED_FIELDS = ['id', 'expr', 'expect', 'expectError', 'source', 'note'];
/** `context` keys and their JSON type (`any` for records read as they are). */
const CONTEXT_FIELDS: Record<string, 'object' | 'string' | 'any'> = {
  parameters: 'object',
  variables: 'object',
  actions: 'object',
  trigger: 'any',
  item: 'any',
  items: 'object',
  iterationIndexes: 'object',
  results: 'object',
  workflow: 'any',
  action: 'any',
  callbackUrl: 'string',
};

function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  switch (typeof v) {
    case 'bigint':
    case 'number':
      return 'a number';
    case 'string':
      return 'a string';
    case 'boolean':
      return 'a boolean';
    default:
      return 'an object';
  }
}

function caseError(file: string, line: number, message: string, field?: string): PatchbayError {
  return invalid('CONFORMANCE_CASE_INVALID', `${file}:${line}: ${message}`, {
    file,
    line,
    ...(field === undefined ? {} : { field }),
  });
}

/**
 * Checks one case object against ../shared/conformance/README.md: the required fields (`id`,
 * `expr`, `expect`, `expectError`, `source`, `note`), the type of every field, no unknown field,
 * `compare` one of {@link COMPARE_MODES}, `expectPattern` a valid regular expression,
 * `assumeNow` a timestamp, `context` an object with the documented keys, `expectPattern` /
 * `expectOneOf` only with `nondeterministic: true` (which needs one of them or `assumeNow`),
 * `expectBytesBase64` with `compare: "binary-bytes"`, `docSays` with `disputed: true`.
 * Throws `CONFORMANCE_CASE_INVALID` naming the file, line and field.
 */
export function validateCase(value: unknown, file: string, line: number): ConformanceCase {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw caseError(file, line, `a case must be a JSON object, not ${jsonType(value)}`);
  const c = value as Record<string, unknown>;
  const id = typeof c['id'] === 'string' ? `case '${c['id']}': ` : '';
  const bad = (field: string, message: string): never => {
    throw caseError(file, line, `${id}field '${field}' ${message}`, field);
  };
  for (const f of REQUIRED_FIELDS) if (!Object.hasOwn(c, f)) bad(f, 'is required');
  for (const f of Object.keys(c)) if (!KNOWN_FIELDS.has(f)) bad(f, 'is not a field of the case format');
  for (const f of STRING_FIELDS)
    if (Object.hasOwn(c, f) && typeof c[f] !== 'string') bad(f, `must be a string, not ${jsonType(c[f])}`);
  for (const f of BOOLEAN_FIELDS)
    if (Object.hasOwn(c, f) && typeof c[f] !== 'boolean')
      bad(f, `must be true or false, not ${jsonType(c[f])}${typeof c[f] === 'string' ? ` ("${String(c[f])}")` : ''}`);
  if ((c['id'] as string).length === 0) bad('id', 'must not be empty');
  if (Object.hasOwn(c, 'compare') && !(COMPARE_MODES as readonly unknown[]).includes(c['compare']))
    bad('compare', `must be one of ${COMPARE_MODES.join(', ')}, not ${JSON.stringify(c['compare'])}`);
  if (Object.hasOwn(c, 'expectOneOf') && !Array.isArray(c['expectOneOf']))
    bad('expectOneOf', `must be an array, not ${jsonType(c['expectOneOf'])}`);
  if (Object.hasOwn(c, 'seeAlso') && typeof c['seeAlso'] !== 'string' && !Array.isArray(c['seeAlso']))
    bad('seeAlso', `must be a string or an array, not ${jsonType(c['seeAlso'])}`);
  if (typeof c['expectPattern'] === 'string') {
    try {
      new RegExp(c['expectPattern']);
    } catch (e) {
      bad('expectPattern', `is not a valid regular expression: ${(e as Error).message}`);
    }
  }
  if (typeof c['assumeNow'] === 'string' && !parseTimestamp(c['assumeNow']))
    bad('assumeNow', `is not a timestamp: ${JSON.stringify(c['assumeNow'])}`);
  for (const f of ['expectPattern', 'expectOneOf'])
    if (Object.hasOwn(c, f) && c['nondeterministic'] !== true) bad(f, 'needs "nondeterministic": true');
  if (c['nondeterministic'] === true && !['expectPattern', 'expectOneOf', 'assumeNow'].some((f) => Object.hasOwn(c, f)))
    bad('nondeterministic', 'needs expectPattern, expectOneOf or assumeNow');
  if (c['compare'] === 'binary-bytes' && !Object.hasOwn(c, 'expectBytesBase64'))
    bad('expectBytesBase64', 'is required when compare is binary-bytes');
  if (Object.hasOwn(c, 'expectBytesBase64') && c['compare'] !== 'binary-bytes')
    bad('expectBytesBase64', 'is only used with "compare": "binary-bytes"');
  if (Object.hasOwn(c, 'docSays') && c['disputed'] !== true) bad('docSays', 'is only used with "disputed": true');
  if (c['disputed'] === true && !Object.hasOwn(c, 'docSays')) bad('docSays', 'is required when disputed is true');
  if (Object.hasOwn(c, 'context')) {
    const ctx = c['context'];
    if (typeof ctx !== 'object' || ctx === null || Array.isArray(ctx))
      bad('context', `must be an object, not ${jsonType(ctx)}`);
    for (const [k, v] of Object.entries(ctx as Record<string, unknown>)) {
      const kind = CONTEXT_FIELDS[k];
      if (!kind) bad(`context.${k}`, `is not a context field (${Object.keys(CONTEXT_FIELDS).join(', ')})`);
      if (kind === 'object' && (typeof v !== 'object' || v === null || Array.isArray(v)))
        bad(`context.${k}`, `must be an object, not ${jsonType(v)}`);
      if (kind === 'string' && typeof v !== 'string') bad(`context.${k}`, `must be a string, not ${jsonType(v)}`);
    }
  }
  return c as ConformanceCase;
}

/**
 * Reads the text of a case file (JSON Lines, ../shared/conformance/README.md): blank lines are
 * skipped, a byte-order mark is ignored, every other line is one case checked by
 * {@link validateCase}; ids must be unique and the file must hold at least one case. 64-bit
 * integers are read exactly (`parseJson`). Throws `CONFORMANCE_CASE_INVALID` (category
 * `invalid`, CLI exit 2) naming `file:line` and the field.
 */
export function parseCaseFile(text: string, file: string): ConformanceCase[] {
  const cases: ConformanceCase[] = [];
  const seen = new Map<string, number>();
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i] ?? '';
    if (raw.trim().length === 0) continue;
    let value: unknown;
    try {
      value = parseJson(raw);
    } catch (e) {
      throw caseError(file, i + 1, `not valid JSON (${(e as Error).message})`);
    }
    const c = validateCase(value, file, i + 1);
    const first = seen.get(c.id);
    if (first !== undefined)
      throw caseError(file, i + 1, `case '${c.id}': field 'id' repeats the id of line ${first}`, 'id');
    seen.set(c.id, i + 1);
    cases.push(c);
  }
  if (cases.length === 0)
    throw invalid('CONFORMANCE_CASE_INVALID', `${file}: the file holds no case`, { file, line: lines.length });
  return cases;
}

// ----- comparison --------------------------------------------------------------------------------

/** True for an integer value: a whole JS number or a bigint. */
function isInteger(v: unknown): boolean {
  return typeof v === 'bigint' || (typeof v === 'number' && Number.isInteger(v));
}

/**
 * Numeric equality: exact when both values are integers (whole numbers and bigints, so `ticks`
 * results are compared digit for digit) or when either is a decimal; otherwise (a float with a
 * fraction on either side) within 4 ulps relative, as float results differ in the last bits
 * between implementations (`0.30000000000000004` vs `0.3`).
 */
function numbersEqual(a: unknown, b: unknown): boolean {
  if (!isNumeric(a) || !isNumeric(b)) return false;
  if (compareNumeric(a, b) === 0) return true;
  if ((isInteger(a) && isInteger(b)) || typeof a === 'object' || typeof b === 'object') return false;
  const x = Number(a);
  const y = Number(b);
  return (
    Number.isFinite(x) &&
    Number.isFinite(y) &&
    Math.abs(x - y) <= 4 * Number.EPSILON * Math.max(Math.abs(x), Math.abs(y))
  );
}

/** Deep equality of JSON values with numeric comparison; `ordered` also compares object key order. */
export function jsonEqual(a: unknown, b: unknown, ordered: boolean): boolean {
  if (a === undefined) a = null;
  if (b === undefined) b = null;
  if (isNumeric(a) || isNumeric(b)) return numbersEqual(a, b);
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return a === b;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => jsonEqual(x, b[i], ordered));
  }
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  if (ordered && ka.some((k, i) => k !== kb[i])) return false;
  return ka.every(
    (k) =>
      Object.hasOwn(b, k) && jsonEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], ordered),
  );
}

function xmlText(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (isContentEnvelope(v)) return bytesToText(base64ToBytes(v.$content));
  return undefined;
}

type XNode = {
  nodeType: number;
  nodeName: string;
  nodeValue: string | null;
  childNodes: ArrayLike<XNode>;
  attributes?: ArrayLike<XNode> & { length: number };
  namespaceURI?: string | null;
};

function canonical(node: XNode): string {
  if (node.nodeType === 3 || node.nodeType === 4)
    return (node.nodeValue ?? '').trim().replace(/[&<>]/g, (c) => `&#${c.charCodeAt(0)};`);
  if (node.nodeType === 9)
    return Array.from(node.childNodes)
      .filter((n) => n.nodeType === 1)
      .map(canonical)
      .join('');
  if (node.nodeType !== 1) return '';
  const attrs = Array.from(node.attributes ?? [])
    .map((a) => `${a.nodeName}="${a.nodeValue ?? ''}"`)
    .sort();
  const kids = Array.from(node.childNodes)
    .filter(
      (n) => n.nodeType === 1 || ((n.nodeType === 3 || n.nodeType === 4) && (n.nodeValue ?? '').trim().length > 0),
    )
    .map(canonical)
    .join('');
  return `<${node.nodeName}${attrs.length ? ' ' + attrs.join(' ') : ''}>${kids}</${node.nodeName}>`;
}

/** Canonical form of XML text (attribute order, declaration and insignificant white space ignored); undefined when not XML. */
export function canonicalXml(text: string): string | undefined {
  try {
    const doc = new DOMParser({
      onError: (level: string, msg: string) => {
        if (level !== 'warning') throw new Error(msg);
      },
    }).parseFromString(text, 'text/xml') as unknown as XNode;
    return canonical(doc);
  } catch {
    return undefined;
  }
}

function xmlEqual(actual: unknown, expected: unknown): boolean {
  const a = xmlText(actual);
  const e = xmlText(expected);
  if (a === undefined || e === undefined) return jsonEqual(actual, expected, false);
  const ca = a.trimStart().startsWith('<') ? canonicalXml(a) : undefined;
  const ce = e.trimStart().startsWith('<') ? canonicalXml(e) : undefined;
  if (ca === undefined || ce === undefined) return a === e;
  return ca === ce;
}

function bytesOf(v: unknown): Uint8Array | undefined {
  if (isContentEnvelope(v)) return base64ToBytes(v.$content);
  if (typeof v === 'string') return textToBytes(v);
  return undefined;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function binaryMatches(actual: unknown, expected: unknown): boolean {
  if (jsonEqual(actual, expected, false)) return true;
  if (!isContentEnvelope(actual) || typeof expected !== 'string') return false;
  return actual.$content === expected || bytesToText(base64ToBytes(actual.$content)) === expected;
}

function compare(c: ConformanceCase, actual: unknown): string | undefined {
  const expected = c.expect;
  if (c.nondeterministic) {
    if (typeof c.expectPattern === 'string') {
      const text = typeof actual === 'string' ? actual : JSON.stringify(actual);
      return new RegExp(c.expectPattern).test(text) ? undefined : `does not match /${c.expectPattern}/`;
    }
    if (Array.isArray(c.expectOneOf)) {
      return c.expectOneOf.some((x) => jsonEqual(actual, x, false)) ? undefined : 'is not one of the expected values';
    }
  }
  switch (c.compare) {
    case 'json-unordered':
      return jsonEqual(actual, expected, false) ? undefined : 'differs (key order ignored)';
    case 'json-parse-string': {
      if (typeof actual !== 'string') return 'is not a string';
      let parsed: unknown;
      try {
        parsed = parseJson(actual);
      } catch {
        return 'is not JSON text';
      }
      return jsonEqual(parsed, expected, false) ? undefined : 'differs after parsing the string as JSON';
    }
    case 'xml':
      return xmlEqual(actual, expected) ? undefined : 'differs as XML';
    case 'xml-nodes': {
      if (!Array.isArray(actual) || !Array.isArray(expected) || actual.length !== expected.length)
        return 'differs as a list of XML nodes';
      return actual.every((x, i) => xmlEqual(x, expected[i])) ? undefined : 'differs as a list of XML nodes';
    }
    case 'binary-bytes': {
      const bytes = bytesOf(actual);
      if (!bytes || typeof c.expectBytesBase64 !== 'string') return 'is not binary content';
      return sameBytes(bytes, base64ToBytes(c.expectBytesBase64)) ? undefined : 'has different bytes';
    }
    case 'normalize-whitespace': {
      const norm = (v: unknown): unknown => (typeof v === 'string' ? v.replace(/\s+/g, ' ').trim() : v);
      return jsonEqual(norm(actual), norm(expected), false) ? undefined : 'differs (white space normalised)';
    }
  }
  if (c.binary && binaryMatches(actual, expected)) return undefined;
  return jsonEqual(actual, expected, true) ? undefined : 'differs';
}

function errorJson(e: unknown): ConformanceResult['error'] {
  if (isObject(e) || e instanceof Error) {
    const err = e as { code?: unknown; message?: unknown; details?: unknown };
    return {
      code: typeof err.code === 'string' ? err.code : 'INTERNAL',
      message: String(err.message ?? e),
      details: err.details,
    };
  }
  return { code: 'INTERNAL', message: String(e) };
}

/** Runs one case. */
export function runCase(c: ConformanceCase, options: ConformanceOptions = {}): ConformanceResult {
  const skipped = c.disputed === true && !options.includeDisputed;
  let actual: unknown = null;
  let error: ConformanceResult['error'] = null;
  let typedError = false;
  try {
    const compiled = compileExpression(c.expr);
    const ctx = contextFromData(c.context ?? {}, {
      ...(typeof c.assumeNow === 'string' ? { assumeNow: c.assumeNow } : {}),
      ...(options.now !== undefined ? { now: options.now } : {}),
      seed: options.seed ?? 1,
    });
    actual = compiled.evaluate(ctx);
  } catch (e) {
    error = errorJson(e);
    typedError = isExpressionError(e) && (e as { code: string }).code !== ExpressionErrorCode.Internal;
  }
  let reason: string | undefined;
  if (c.expectError) {
    if (!error) reason = 'expected an error, but evaluation succeeded';
    else if (!typedError) reason = `expected an expression error, got ${error.code}`;
  } else if (error) {
    reason = `unexpected error ${error.code}: ${error.message}`;
  } else if (c.bigint === true && typeof c.expect === 'number' && !Number.isSafeInteger(c.expect)) {
    reason = `the bigint expectation ${c.expect} was read as a double and may have lost digits; read case files with parseJson`;
  } else {
    let diff: string | undefined;
    try {
      diff = compare(c, actual);
    } catch (e) {
      // a case that bypassed validateCase (e.g. an invalid expectPattern) fails instead of throwing
      diff = `could not be compared: ${(e as Error).message}`;
    }
    if (diff) reason = `result ${diff}`;
  }
  if (skipped) return { id: c.id, status: 'skipped', actual, error, reason: `disputed${reason ? ` (${reason})` : ''}` };
  return reason ? { id: c.id, status: 'failed', actual, error, reason } : { id: c.id, status: 'passed', actual, error };
}

/** Runs every case (pure: no I/O; the clock comes from `options.now`). */
export function runConformance(
  cases: readonly ConformanceCase[],
  options: ConformanceOptions = {},
): ConformanceResult[] {
  return cases.map((c) => runCase(c, options));
}

/** Counts results by status. */
export function summarize(results: readonly ConformanceResult[]): { passed: number; failed: number; skipped: number } {
  const s = { passed: 0, failed: 0, skipped: 0 };
  for (const r of results) s[r.status]++;
  return s;
}
