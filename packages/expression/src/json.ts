/**
 * A JSON parser that keeps 64-bit integers exact: integers outside the safe range become
 * `bigint` (as Json.NET reads them as `long`), everything else is as `JSON.parse`, except that a
 * number outside the double range (`1e400`) is an error (JsonSyntaxError with `overflow`) rather
 * than Infinity. Used by
 * `json()` and by the conformance runner to read case files exactly (`ticks` results exceed 2^53).
 * Depth is capped (design §6: JSON depth and size capped).
 */

/** Maximum nesting depth accepted by {@link parseJson}. */
export const MAX_JSON_DEPTH = 512;

/** A JSON syntax error with the offset where it was detected. */
export class JsonSyntaxError extends Error {
  constructor(
    message: string,
    readonly position: number,
    /** True when the text is well-formed but a number is outside the double range (`1e400`). */
    readonly overflow = false,
  ) {
    super(`${message} at position ${position}`);
    this.name = 'JsonSyntaxError';
  }
}

const INT64_MAX = 9223372036854775807n;
const INT64_MIN = -9223372036854775808n;

/** Parses JSON text. Throws {@link JsonSyntaxError}. */
export function parseJson(text: string): unknown {
  let i = 0;
  const n = text.length;
  const ws = (): void => {
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 32 || c === 9 || c === 10 || c === 13) i++;
      else break;
    }
  };
  const fail = (msg: string): never => {
    throw new JsonSyntaxError(msg, i);
  };
  const parseString = (): string => {
    i++; // opening quote
    let out = '';
    let start = i;
    for (;;) {
      if (i >= n) fail('Unterminated string');
      const c = text.charCodeAt(i);
      if (c === 34) {
        out += text.slice(start, i);
        i++;
        return out;
      }
      if (c === 92) {
        out += text.slice(start, i);
        const e = text[i + 1];
        switch (e) {
          case '"':
            out += '"';
            break;
          case '\\':
            out += '\\';
            break;
          case '/':
            out += '/';
            break;
          case 'b':
            out += '\b';
            break;
          case 'f':
            out += '\f';
            break;
          case 'n':
            out += '\n';
            break;
          case 'r':
            out += '\r';
            break;
          case 't':
            out += '\t';
            break;
          case 'u': {
            const hex = text.slice(i + 2, i + 6);
            if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail('Invalid unicode escape');
            out += String.fromCharCode(parseInt(hex, 16));
            i += 4;
            break;
          }
          default:
            fail('Invalid escape');
        }
        i += 2;
        start = i;
        continue;
      }
      if (c < 32) fail('Control character in string');
      i++;
    }
  };
  const parseNumber = (): number | bigint => {
    const start = i;
    if (text[i] === '-') i++;
    if (text[i] === '0') i++;
    else if (text[i] !== undefined && text[i]! >= '1' && text[i]! <= '9')
      while (i < n && text[i]! >= '0' && text[i]! <= '9') i++;
    else fail('Invalid number');
    let isInt = true;
    if (text[i] === '.') {
      isInt = false;
      i++;
      const s = i;
      while (i < n && text[i]! >= '0' && text[i]! <= '9') i++;
      if (i === s) fail('Invalid number');
    }
    if (text[i] === 'e' || text[i] === 'E') {
      isInt = false;
      i++;
      if (text[i] === '+' || text[i] === '-') i++;
      const s = i;
      while (i < n && text[i]! >= '0' && text[i]! <= '9') i++;
      if (i === s) fail('Invalid number');
    }
    const raw = text.slice(start, i);
    const v = Number(raw);
    // ±Infinity is not a JSON value (JSON.parse would give Infinity for 1e400): refused
    if (!Number.isFinite(v)) {
      const shown = raw.length > 40 ? raw.slice(0, 40) + '…' : raw;
      throw new JsonSyntaxError(`Number ${shown} is outside the double range`, start, true);
    }
    if (isInt && !Number.isSafeInteger(v)) {
      const b = BigInt(raw);
      if (b >= INT64_MIN && b <= INT64_MAX) return b;
    }
    return v === 0 && isInt ? 0 : v;
  };
  const parseValue = (depth: number): unknown => {
    if (depth > MAX_JSON_DEPTH) fail(`Nesting deeper than ${MAX_JSON_DEPTH}`);
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const obj: Record<string, unknown> = {};
      ws();
      if (text[i] === '}') {
        i++;
        return obj;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail('Expected a property name');
        const key = parseString();
        ws();
        if (text[i] !== ':') fail("Expected ':'");
        i++;
        const value = parseValue(depth + 1);
        if (key === '__proto__')
          Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
        else obj[key] = value;
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return obj;
        }
        fail("Expected ',' or '}'");
      }
    }
    if (c === '[') {
      i++;
      const arr: unknown[] = [];
      ws();
      if (text[i] === ']') {
        i++;
        return arr;
      }
      for (;;) {
        arr.push(parseValue(depth + 1));
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return arr;
        }
        fail("Expected ',' or ']'");
      }
    }
    if (c === '"') return parseString();
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return parseNumber();
    if (text.startsWith('true', i)) {
      i += 4;
      return true;
    }
    if (text.startsWith('false', i)) {
      i += 5;
      return false;
    }
    if (text.startsWith('null', i)) {
      i += 4;
      return null;
    }
    return fail(i >= n ? 'Unexpected end of JSON' : `Unexpected character '${c}'`);
  };
  const value = parseValue(0);
  ws();
  if (i < n) fail('Unexpected text after the JSON value');
  return value;
}
