/**
 * The value model of evaluated expressions (docs/expressions.md §Values):
 *
 * - JSON values: `null`, booleans, strings, arrays, plain objects, numbers.
 * - Integers are JS numbers when they are safe integers, `bigint` when they need the rest of
 *   the 64-bit range (`ticks()`, big `int()` results, integer arithmetic beyond 2^53).
 * - Floats are JS numbers. Whether an integral number is an integer or a float (`5` vs `5.0`) is
 *   decided at compile time from literals and function result types; at run time a number with
 *   a fraction is a float and a whole number is an integer.
 * - `decimal()` values are {@link WdlDecimal}; they become plain numbers when they leave an
 *   expression.
 * - Binary and XML content are the runtime's envelopes
 *   `{"$content-type": "...", "$content": "<base64>"}`.
 */
import { WdlDecimal } from './decimal.js';

/** A plain JSON object (not an array, not null, not a decimal). */
export type JsonObject = Record<string, unknown>;

/** True for a plain object value (JSON object). */
export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof WdlDecimal);
}

/** True for numbers, bigints and decimals. */
export function isNumeric(v: unknown): v is number | bigint | WdlDecimal {
  return typeof v === 'number' || typeof v === 'bigint' || v instanceof WdlDecimal;
}

/** True for an integer value (a whole JS number or a bigint). */
export function isIntegerValue(v: unknown): v is number | bigint {
  return (typeof v === 'number' && Number.isInteger(v)) || typeof v === 'bigint';
}

/** The WDL type name of a value, as used in error messages (`Null`, `Integer`, `Float`, `String`, …). */
export function typeName(v: unknown): string {
  if (v === null || v === undefined) return 'Null';
  switch (typeof v) {
    case 'boolean':
      return 'Boolean';
    case 'string':
      return 'String';
    case 'bigint':
      return 'Integer';
    case 'number':
      return Number.isInteger(v) ? 'Integer' : 'Float';
    default:
      if (Array.isArray(v)) return 'Array';
      if (v instanceof WdlDecimal) return 'Decimal';
      return 'Object';
  }
}

/** Sets `obj[key] = value`, also for the key `__proto__` (as an own data property). */
export function setKey(obj: JsonObject, key: string, value: unknown): void {
  if (key === '__proto__')
    Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  else obj[key] = value;
}

/** True when `obj` has the own property `key`. */
export function hasKey(obj: JsonObject, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(obj, key);
}

/** A deep copy of a JSON value (arrays and plain objects are copied; other values shared). */
export function cloneJson<T>(v: T): T {
  if (typeof v !== 'object' || v === null || v instanceof WdlDecimal) return v;
  if (Array.isArray(v)) {
    const out = new Array(v.length);
    for (let i = 0; i < v.length; i++) out[i] = cloneJson(v[i]);
    return out as T;
  }
  const out: JsonObject = {};
  for (const k of Object.keys(v)) setKey(out, k, cloneJson((v as JsonObject)[k]));
  return out as T;
}

/** Replaces decimals inside a value by JS numbers (the boundary rule for results). */
export function decimalsToNumbers(v: unknown): unknown {
  if (v instanceof WdlDecimal) return v.toNumber();
  if (typeof v !== 'object' || v === null) return v;
  if (Array.isArray(v)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < v.length; i++) {
      const c = decimalsToNumbers(v[i]);
      if (c !== v[i]) (out ??= v.slice())[i] = c;
    }
    return out ?? v;
  }
  let out: JsonObject | undefined;
  for (const k of Object.keys(v)) {
    const old = (v as JsonObject)[k];
    const c = decimalsToNumbers(old);
    if (c !== old) setKey((out ??= { ...(v as JsonObject) }), k, c);
  }
  return out ?? v;
}

/**
 * Formats a double the way .NET Core formats `double.ToString()` in the invariant culture:
 * shortest round-trip digits, scientific notation (`1E+15`, `1E-05`) outside 1e-5 ≤ |x| < 1e15.
 */
export function formatDouble(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return 'Infinity';
  if (n === -Infinity) return '-Infinity';
  if (n === 0) return Object.is(n, -0) ? '-0' : '0';
  const abs = Math.abs(n);
  if (abs >= 1e-5 && abs < 1e15) {
    const s = String(n);
    if (!s.includes('e')) return s;
    // JS switches to exponent form below 1e-6; expand it.
    return expandExponent(s);
  }
  const e = n.toExponential(); // d.ddde±x
  const [mant, exp] = e.split('e') as [string, string];
  const expNum = Number(exp);
  const expText = String(Math.abs(expNum)).padStart(2, '0');
  return `${mant}E${expNum < 0 ? '-' : '+'}${expText}`;
}

function expandExponent(s: string): string {
  const [mant, exp] = s.split('e') as [string, string];
  const neg = mant.startsWith('-');
  const digits = mant.replace('-', '').replace('.', '');
  const pointPos =
    (mant.replace('-', '').indexOf('.') < 0 ? mant.replace('-', '').length : mant.replace('-', '').indexOf('.')) +
    Number(exp);
  let out: string;
  if (pointPos <= 0) out = '0.' + '0'.repeat(-pointPos) + digits;
  else if (pointPos >= digits.length) out = digits + '0'.repeat(pointPos - digits.length);
  else out = digits.slice(0, pointPos) + '.' + digits.slice(pointPos);
  return (neg ? '-' : '') + out;
}

/** Invariant text of a numeric value: integers in full, floats per {@link formatDouble}, decimals exact. */
export function numberText(v: number | bigint | WdlDecimal): string {
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof WdlDecimal) return v.toString();
  if (Number.isSafeInteger(v)) return Object.is(v, -0) ? '0' : String(v);
  return formatDouble(v);
}

/** True for a binary/XML content envelope `{"$content-type", "$content"}`. */
export function isContentEnvelope(v: unknown): v is { '$content-type'?: string; $content: string } {
  return isObject(v) && typeof v['$content'] === 'string' && ('$content-type' in v || Object.keys(v).length === 1);
}

const utf8 = new TextDecoder('utf-8');

/** Decodes base64 text to bytes (lenient about missing padding and white space). */
export function base64ToBytes(b64: string): Uint8Array {
  return new Uint8Array(Buffer.from(b64, 'base64'));
}

/** Encodes bytes as base64. */
export function bytesToBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/** UTF-8 text of bytes. */
export function bytesToText(bytes: Uint8Array): string {
  return utf8.decode(bytes);
}

/** UTF-8 bytes of text. */
export function textToBytes(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, 'utf8'));
}

/**
 * The `string()` conversion, also used for interpolation, `concat` and `join`: null → `""`,
 * booleans → `True`/`False` (the .NET text; see docs/expressions.md, disputed §10.1), numbers in
 * the invariant culture, content envelopes → their decoded UTF-8 text, objects and arrays →
 * compact JSON.
 */
export function toText(v: unknown): string {
  if (v === null || v === undefined) return '';
  switch (typeof v) {
    case 'string':
      return v;
    case 'boolean':
      return v ? 'True' : 'False';
    case 'number':
    case 'bigint':
      return numberText(v);
    default:
      if (v instanceof WdlDecimal) return v.toString();
      if (isContentEnvelope(v)) return bytesToText(base64ToBytes(v.$content));
      return jsonText(v);
  }
}

/**
 * Compact JSON text (Json.NET `Formatting.None` style): numbers formatted as .NET does, bigints
 * and decimals exact, `undefined` properties skipped.
 */
export function jsonText(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v);
    case 'boolean':
      return v ? 'true' : 'false';
    case 'number':
      return Number.isFinite(v) ? numberText(v) : JSON.stringify(formatDouble(v));
    case 'bigint':
      return v.toString();
    default: {
      if (v instanceof WdlDecimal) return v.toString();
      if (Array.isArray(v)) {
        let s = '[';
        for (let i = 0; i < v.length; i++) s += (i ? ',' : '') + jsonText(v[i] === undefined ? null : v[i]);
        return s + ']';
      }
      let s = '{';
      let first = true;
      for (const k of Object.keys(v as object)) {
        const x = (v as JsonObject)[k];
        if (x === undefined || typeof x === 'function') continue;
        s += (first ? '' : ',') + JSON.stringify(k) + ':' + jsonText(x);
        first = false;
      }
      return s + '}';
    }
  }
}

/**
 * JSON text of a result for output (CLI, run history): like `JSON.stringify` with `indent`, but
 * bigints are written exactly as JSON numbers and decimals as their exact digits.
 */
export function toJsonText(v: unknown, indent = 0): string {
  if (indent <= 0) return jsonTextPlain(v);
  return jsonTextIndented(v, ' '.repeat(indent), '');
}

function jsonTextPlain(v: unknown): string {
  if (v === undefined) return 'null';
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof WdlDecimal) return v.toString();
  if (typeof v === 'number') return Number.isFinite(v) ? JSON.stringify(v) : 'null';
  if (typeof v !== 'object' || v === null) return JSON.stringify(v);
  if (Array.isArray(v)) return '[' + v.map(jsonTextPlain).join(',') + ']';
  const parts: string[] = [];
  for (const k of Object.keys(v)) {
    const x = (v as JsonObject)[k];
    if (x === undefined || typeof x === 'function') continue;
    parts.push(JSON.stringify(k) + ':' + jsonTextPlain(x));
  }
  return '{' + parts.join(',') + '}';
}

function jsonTextIndented(v: unknown, step: string, pad: string): string {
  if (typeof v !== 'object' || v === null || v instanceof WdlDecimal) return jsonTextPlain(v);
  const inner = pad + step;
  if (Array.isArray(v)) {
    if (v.length === 0) return '[]';
    return '[\n' + v.map((x) => inner + jsonTextIndented(x, step, inner)).join(',\n') + '\n' + pad + ']';
  }
  const keys = Object.keys(v).filter((k) => (v as JsonObject)[k] !== undefined);
  if (keys.length === 0) return '{}';
  return (
    '{\n' +
    keys
      .map((k) => inner + JSON.stringify(k) + ': ' + jsonTextIndented((v as JsonObject)[k], step, inner))
      .join(',\n') +
    '\n' +
    pad +
    '}'
  );
}

/** Compares two numeric values: -1, 0, 1 (NaN compares as 0 with itself only). */
export function compareNumeric(a: number | bigint | WdlDecimal, b: number | bigint | WdlDecimal): number {
  if (typeof a === 'number' && typeof b === 'number') return a < b ? -1 : a > b ? 1 : 0;
  if (a instanceof WdlDecimal || b instanceof WdlDecimal) {
    const da = toDecimal(a);
    const db = toDecimal(b);
    if (da && db) return da.compare(db);
    const na = Number(a instanceof WdlDecimal ? a.toNumber() : a);
    const nb = Number(b instanceof WdlDecimal ? b.toNumber() : b);
    return na < nb ? -1 : na > nb ? 1 : 0;
  }
  // bigint with number or bigint
  if (typeof a === 'number' && !Number.isInteger(a)) {
    const nb = Number(b);
    return a < nb ? -1 : a > nb ? 1 : 0;
  }
  if (typeof b === 'number' && !Number.isInteger(b)) {
    const na = Number(a);
    return na < b ? -1 : na > b ? 1 : 0;
  }
  if (typeof a === 'number' && !Number.isFinite(a)) return a > 0 ? 1 : -1;
  if (typeof b === 'number' && !Number.isFinite(b)) return b > 0 ? -1 : 1;
  const ba = BigInt(a as number | bigint);
  const bb = BigInt(b as number | bigint);
  return ba < bb ? -1 : ba > bb ? 1 : 0;
}

/** Converts a numeric value to a decimal (undefined for non-finite numbers). */
export function toDecimal(v: number | bigint | WdlDecimal): WdlDecimal | undefined {
  if (v instanceof WdlDecimal) return v;
  if (typeof v === 'bigint') return WdlDecimal.fromBigInt(v);
  if (!Number.isFinite(v)) return undefined;
  return WdlDecimal.fromNumber(v);
}

/**
 * `equals()` semantics: deep equality; integers, floats and decimals compare by value; strings
 * are case-sensitive; object key order is irrelevant; null equals `""` (the documented rule that
 * comparisons treat null as an empty string); otherwise values of different types are never
 * equal (`equals(1, true)` and `equals('1', 1)` are false).
 */
export function valuesEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === undefined) a = null;
  if (b === undefined) b = null;
  if (a === null) return b === null || b === '';
  if (b === null) return a === '';
  if (isNumeric(a)) return isNumeric(b) && compareNumeric(a, b) === 0;
  if (typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!valuesEqual(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b) || b instanceof WdlDecimal) return false;
  const ka = Object.keys(a as object);
  const kb = Object.keys(b as object);
  if (ka.length !== kb.length) return false;
  for (const k of ka) {
    if (!hasKey(b as JsonObject, k)) return false;
    if (!valuesEqual((a as JsonObject)[k], (b as JsonObject)[k])) return false;
  }
  return true;
}

export { WdlDecimal };
