/**
 * String functions (wdl-spec §6 "String"; expression-functions-reference.md). String functions
 * accept only strings (`toLower(null)` is an argument type error), except `concat`, which
 * stringifies its arguments like interpolation does.
 */
import type { FunctionDef, CallSite } from './common.js';
import { argInt, argString, fail, optString, typeError } from './common.js';
import { toText } from '../values.js';
import { formatNumberValue } from './numberformat.js';
import { resolveCulture } from './culture.js';
import { parseDotNetNumber } from './numberparse.js';
import { ExpressionErrorCode } from '../errors.js';
import { MAX_STRING_RESULT, stringTooLong } from '../limits.js';

export { MAX_STRING_RESULT };

/** Raises EXPRESSION_LIMIT_EXCEEDED when a string result of `length` characters would be over the limit. */
export function checkLength(site: CallSite, length: number): void {
  if (length > MAX_STRING_RESULT)
    throw stringTooLong({ fn: site.fn, position: site.position, expression: site.expression }, length);
}

/** Case-insensitive (ordinal ignore case) lower-casing used by indexOf/startsWith/…; keeps string length. */
function fold(s: string): string {
  const l = s.toLowerCase();
  return l.length === s.length ? l : s;
}

function nthIndexOf(text: string, search: string, n: number): number {
  const t = fold(text);
  const s = fold(search);
  if (n > 0) {
    let idx = -1;
    for (let k = 0; k < n; k++) {
      idx = t.indexOf(s, idx + 1);
      if (idx < 0) return -1;
    }
    return idx;
  }
  let idx = t.length;
  for (let k = 0; k < -n; k++) {
    if (idx - 1 < 0) return -1;
    idx = t.lastIndexOf(s, idx - 1);
    if (idx < 0) return -1;
  }
  return idx;
}

function guidFormat(site: CallSite, g: string, format: string): string {
  const hex = g.replaceAll('-', '').toLowerCase();
  if (!/^[0-9a-f]{32}$/.test(hex)) fail(site, `the context returned an invalid GUID '${g}'`);
  const d = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  switch (format) {
    case 'D':
    case 'd':
      return d;
    case 'N':
    case 'n':
      return hex;
    case 'B':
    case 'b':
      return `{${d}}`;
    case 'P':
    case 'p':
      return `(${d})`;
    case 'X':
    case 'x': {
      const bytes = hex.slice(16).match(/../g) ?? [];
      return `{0x${hex.slice(0, 8)},0x${hex.slice(8, 12)},0x${hex.slice(12, 16)},{${bytes.map((b) => '0x' + b).join(',')}}}`;
    }
    default:
      return fail(site, `the format '${format}' is not valid; use one of N, D, B, P, X`);
  }
}

export const stringFunctions: FunctionDef[] = [
  {
    name: 'concat',
    group: 'string',
    min: 1,
    max: Infinity,
    pure: true,
    impl: (args, site) => {
      let s = '';
      for (let i = 0; i < args.length; i++) {
        const v = args[i];
        s += typeof v === 'string' ? v : toText(v);
        checkLength(site, s.length);
      }
      return s;
    },
  },
  {
    name: 'length',
    group: 'string',
    min: 1,
    max: 1,
    pure: true,
    impl: (args, site) => {
      const v = args[0];
      if (typeof v === 'string') return v.length;
      if (Array.isArray(v)) return v.length;
      return typeError(site, 0, 'an array or a string', v);
    },
  },
  {
    name: 'indexOf',
    group: 'string',
    min: 2,
    max: 2,
    pure: true,
    impl: (args, site) => fold(argString(site, args, 0)).indexOf(fold(argString(site, args, 1))),
  },
  {
    name: 'lastIndexOf',
    group: 'string',
    min: 2,
    max: 2,
    pure: true,
    impl: (args, site) => {
      const text = argString(site, args, 0);
      const search = argString(site, args, 1);
      if (search.length === 0) return text.length === 0 ? 0 : text.length - 1;
      if (text.length === 0) return -1;
      return fold(text).lastIndexOf(fold(search));
    },
  },
  {
    name: 'nthIndexOf',
    group: 'string',
    min: 3,
    max: 3,
    pure: true,
    impl: (args, site) => {
      const text = argString(site, args, 0);
      const search = argString(site, args, 1);
      const n = argInt(site, args, 2);
      if (n === 0) fail(site, 'the occurrence must not be 0');
      if (search.length === 0) return n > 0 ? Math.min(n - 1, text.length) : Math.max(text.length + n, -1);
      return nthIndexOf(text, search, n);
    },
  },
  {
    name: 'startsWith',
    group: 'string',
    min: 2,
    max: 2,
    pure: true,
    impl: (args, site) => fold(argString(site, args, 0)).startsWith(fold(argString(site, args, 1))),
  },
  {
    name: 'endsWith',
    group: 'string',
    min: 2,
    max: 2,
    pure: true,
    impl: (args, site) => fold(argString(site, args, 0)).endsWith(fold(argString(site, args, 1))),
  },
  {
    name: 'replace',
    group: 'string',
    min: 3,
    max: 3,
    pure: true,
    impl: (args, site) => {
      const text = argString(site, args, 0);
      const old = argString(site, args, 1);
      const rep = args[2] === null ? '' : argString(site, args, 2);
      if (old.length === 0) fail(site, 'the string to replace must not be empty');
      if (rep.length > old.length) {
        // the length of the result is known before it is built: refuse it before building it
        let count = 0;
        for (let i = text.indexOf(old); i >= 0; i = text.indexOf(old, i + old.length)) count++;
        checkLength(site, text.length + count * (rep.length - old.length));
      }
      return text.split(old).join(rep);
    },
  },
  {
    name: 'substring',
    group: 'string',
    min: 2,
    max: 3,
    pure: true,
    impl: (args, site) => {
      const text = argString(site, args, 0);
      const start = argInt(site, args, 1);
      if (start < 0) fail(site, `the start index ${start} must be zero or greater`);
      if (start > text.length)
        fail(site, `the start index ${start} must be less than or equal to the length of the string (${text.length})`);
      if (args.length < 3 || args[2] === null) return text.slice(start);
      const len = argInt(site, args, 2);
      if (len < 0) fail(site, `the length ${len} must be zero or greater`);
      if (start + len > text.length) {
        fail(
          site,
          `the sum of the start index (${start}) and the length (${len}) must be less than or equal to the length of the string (${text.length})`,
        );
      }
      return text.slice(start, start + len);
    },
  },
  {
    name: 'slice',
    group: 'string',
    min: 2,
    max: 3,
    pure: true,
    impl: (args, site) => {
      const text = argString(site, args, 0);
      const len = text.length;
      let start = argInt(site, args, 1);
      let end = args.length < 3 || args[2] === null ? len : argInt(site, args, 2);
      if (start < 0) start = Math.max(0, len + start);
      if (end < 0) end = Math.max(0, len + end);
      if (end > len) end = len;
      if (start >= len || end <= start) return '';
      return text.slice(start, end);
    },
  },
  {
    name: 'split',
    group: 'string',
    min: 2,
    max: 2,
    pure: true,
    impl: (args, site) => {
      const text = argString(site, args, 0);
      const delim = argString(site, args, 1);
      if (delim.length === 0) return [text];
      return text.split(delim);
    },
  },
  {
    name: 'toLower',
    group: 'string',
    min: 1,
    max: 1,
    pure: true,
    impl: (args, site) => argString(site, args, 0).toLowerCase(),
  },
  {
    name: 'toUpper',
    group: 'string',
    min: 1,
    max: 1,
    pure: true,
    impl: (args, site) => argString(site, args, 0).toUpperCase(),
  },
  { name: 'trim', group: 'string', min: 1, max: 1, pure: true, impl: (args, site) => argString(site, args, 0).trim() },
  {
    name: 'guid',
    group: 'string',
    min: 0,
    max: 1,
    impl: (args, site, ctx) => {
      const format = optString(site, args, 0) ?? 'D';
      if (format.length !== 1) fail(site, `the format '${format}' is not valid; use one of N, D, B, P, X`);
      return guidFormat(site, ctx.newGuid(), format);
    },
  },
  {
    name: 'formatNumber',
    group: 'string',
    min: 2,
    max: 3,
    pure: true,
    impl: (args, site) => {
      const v = args[0];
      if (typeof v !== 'number' && typeof v !== 'bigint' && !(typeof v === 'object' && v !== null && 'mantissa' in v)) {
        typeError(site, 0, 'an integer or a decimal number', v);
      }
      const format = argString(site, args, 1);
      const culture = resolveCulture(site, optString(site, args, 2));
      return formatNumberValue(site, v as number, format, culture, site.floatArgs[0] === true);
    },
  },
  {
    name: 'isInt',
    group: 'string',
    min: 1,
    max: 1,
    pure: true,
    impl: (args, site) => {
      const s = argString(site, args, 0);
      return (
        /^\s*[+-]?\d+\s*$/.test(s) &&
        (() => {
          const b = BigInt(s.trim());
          return b >= -9223372036854775808n && b <= 9223372036854775807n;
        })()
      );
    },
  },
  {
    name: 'isFloat',
    group: 'string',
    min: 1,
    max: 2,
    pure: true,
    impl: (args, site) => {
      const s = argString(site, args, 0);
      const locale = optString(site, args, 1);
      const culture = locale === undefined ? undefined : resolveCulture(site, locale);
      const v = parseDotNetNumber(s, culture);
      return v !== undefined && Number.isFinite(v);
    },
  },
];

export { ExpressionErrorCode };
