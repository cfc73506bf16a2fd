/**
 * Conversion functions (wdl-spec §6 "Conversion"), URI parsing functions and the JSON/XML
 * manipulation functions. Binary results are content envelopes
 * `{"$content-type": "...", "$content": "<base64>"}`.
 */
import type { CallSite, FunctionDef } from './common.js';
import { argObject, argString, fail, optString, typeError } from './common.js';
import { DECIMAL_MAX_MANTISSA, DecimalOverflowError, WdlDecimal } from '../decimal.js';
import {
  base64ToBytes,
  bytesToBase64,
  bytesToText,
  cloneJson,
  isContentEnvelope,
  isObject,
  setKey,
  textToBytes,
  toText,
  type JsonObject,
} from '../values.js';
import { parseJson, JsonSyntaxError } from '../json.js';
import { ExpressionErrorCode } from '../errors.js';
import { parseDotNetNumber } from './numberparse.js';
import { resolveCulture } from './culture.js';
import { finiteResult, intResult } from './math.js';
import { evaluateXPath, isXmlEnvelope, jsonToXml, parseXml, xmlEnvelope, xmlTextOf, xmlToJson } from './xml.js';

const OCTET = 'application/octet-stream';

/** A binary content envelope. */
export function binaryEnvelope(bytes: Uint8Array, contentType = OCTET): { '$content-type': string; $content: string } {
  return { '$content-type': contentType, $content: bytesToBase64(bytes) };
}

/** Strict base64 decoding (.NET `Convert.FromBase64String`): white space allowed, padding required. */
function decodeBase64Strict(site: CallSite, text: string): Uint8Array {
  const s = text.replace(/[\s]/g, '');
  if (s.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(s))
    fail(site, `the value '${text.length > 60 ? text.slice(0, 60) + '…' : text}' is not a valid base64 string`);
  return base64ToBytes(s);
}

/** Bytes of a value given to an encoding function: strings as UTF-8, envelopes as their content. */
function bytesOf(site: CallSite, v: unknown, i: number): Uint8Array {
  if (typeof v === 'string') return textToBytes(v);
  if (isContentEnvelope(v)) return base64ToBytes(v.$content);
  if (v === null || v === undefined) return typeError(site, i, 'a string', v);
  return textToBytes(toText(v));
}

/** .NET `Uri.EscapeDataString`: everything except unreserved characters (A–Z a–z 0–9 - _ . ~) is percent-encoded (UTF-8, upper-case hex). */
export function escapeDataString(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

/** Lenient percent-decoding to bytes (.NET `Uri.UnescapeDataString`): invalid escapes are kept as they are. */
function unescapeToBytes(s: string): Uint8Array {
  const out: number[] = [];
  const enc = new TextEncoder();
  for (let i = 0; i < s.length; i++) {
    const c = s[i] as string;
    if (c === '%' && i + 2 < s.length + 0 && /^[0-9a-fA-F]{2}$/.test(s.slice(i + 1, i + 3))) {
      out.push(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      const cp = s.codePointAt(i) as number;
      const ch = String.fromCodePoint(cp);
      for (const b of enc.encode(ch)) out.push(b);
      if (cp > 0xffff) i++;
    }
  }
  return new Uint8Array(out);
}

/** Length of the valid UTF-8 sequence starting at `bytes[i]` (0 when it is not valid UTF-8). */
function utf8SequenceLength(bytes: number[], i: number): number {
  const b0 = bytes[i] as number;
  if (b0 < 0x80) return 1;
  let len: number;
  let min: number;
  if (b0 >= 0xc2 && b0 <= 0xdf) [len, min] = [2, 0x80];
  else if (b0 >= 0xe0 && b0 <= 0xef) [len, min] = [3, 0x800];
  else if (b0 >= 0xf0 && b0 <= 0xf4) [len, min] = [4, 0x10000];
  else return 0;
  if (i + len > bytes.length) return 0;
  let cp = b0 & (0xff >> (len + 1));
  for (let k = 1; k < len; k++) {
    const b = bytes[i + k] as number;
    if ((b & 0xc0) !== 0x80) return 0;
    cp = (cp << 6) | (b & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return len;
}

/**
 * .NET `Uri.UnescapeDataString`: `%XX` escapes are decoded as UTF-8; an escape that is not part of
 * a valid UTF-8 sequence (`%ff`, a lone `%C3`) and a `%` not followed by two hex digits are kept
 * as they are.
 */
export function unescapeDataString(s: string): string {
  let out = '';
  let i = 0;
  const n = s.length;
  const isEscape = (k: number): boolean => s.charCodeAt(k) === 37 && /^[0-9a-fA-F]{2}$/.test(s.slice(k + 1, k + 3));
  while (i < n) {
    if (!isEscape(i)) {
      const next = s.indexOf('%', i + 1);
      const end = next < 0 ? n : next;
      out += s.slice(i, end);
      i = end;
      continue;
    }
    // a run of escapes: decode its bytes, keeping the text of bytes that are not valid UTF-8
    const bytes: number[] = [];
    const start = i;
    while (i < n && isEscape(i)) {
      bytes.push(parseInt(s.slice(i + 1, i + 3), 16));
      i += 3;
    }
    for (let b = 0; b < bytes.length;) {
      const len = utf8SequenceLength(bytes, b);
      if (len === 0) {
        out += s.slice(start + b * 3, start + b * 3 + 3);
        b++;
      } else {
        out += bytesToText(new Uint8Array(bytes.slice(b, b + len)));
        b += len;
      }
    }
  }
  return out;
}

interface DataUri {
  mediaType: string;
  bytes: Uint8Array;
}

function parseDataUri(site: CallSite, uri: string): DataUri {
  const m = /^data:([^,]*?),(.*)$/is.exec(uri.trim());
  if (!m) return fail(site, `the value '${uri.length > 60 ? uri.slice(0, 60) + '…' : uri}' is not a valid data URI`);
  let meta = m[1] ?? '';
  const data = m[2] ?? '';
  let base64 = false;
  if (/;base64$/i.test(meta)) {
    base64 = true;
    meta = meta.slice(0, -7);
  }
  const mediaType = meta.length === 0 ? 'text/plain;charset=US-ASCII' : meta;
  const bytes = base64 ? decodeBase64Strict(site, decodeURIComponentSafe(data)) : unescapeToBytes(data);
  return { mediaType, bytes };
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function parseUri(site: CallSite, v: unknown): URL {
  const s = typeof v === 'string' ? v : typeError(site, 0, 'a string', v);
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    return fail(site, `the value '${s}' is not a valid absolute URI`);
  }
  return u;
}

/**
 * .NET `Uri.Host`: the host as written in the URI, IPv6 addresses in brackets (`[::1]`); for
 * `mailto:` the domain after the `@` (`mailto:a@b.com` → `b.com`), which the WHATWG parser leaves in
 * an opaque path.
 */
function uriHost(u: URL): string {
  if (u.protocol === 'mailto:' && u.hostname === '') {
    const address = decodeURIComponentSafe(u.pathname);
    const at = address.lastIndexOf('@');
    return at < 0 ? '' : address.slice(at + 1).toLowerCase();
  }
  return u.hostname;
}

const DEFAULT_PORTS: Record<string, number> = {
  http: 80,
  https: 443,
  ftp: 21,
  ws: 80,
  wss: 443,
  gopher: 70,
  ldap: 389,
  nntp: 119,
  telnet: 23,
  news: -1,
  file: -1,
  mailto: 25,
};

export const conversionFunctions: FunctionDef[] = [
  { name: 'array', group: 'conversion', min: 1, max: 1, pure: true, impl: (args) => [args[0] ?? null] },
  { name: 'createArray', group: 'conversion', min: 0, max: Infinity, pure: true, impl: (args) => args.slice() },
  {
    name: 'base64',
    group: 'conversion',
    min: 1,
    max: 1,
    pure: true,
    impl: (args, site) => bytesToBase64(bytesOf(site, args[0], 0)),
  },
  {
    name: 'base64ToString',
    aliases: ['decodeBase64'],
    group: 'conversion',
    min: 1,
    max: 1,
    pure: true,
    impl: (args, site) => bytesToText(decodeBase64Strict(site, argString(site, args, 0))),
  },
  {
    name: 'base64ToBinary',
    group: 'conversion',
    min: 1,
    max: 1,
    pure: true,
    impl: (args, site) => binaryEnvelope(decodeBase64Strict(site, argString(site, args, 0))),
  },
  {
    name: 'binary',
    group: 'conversion',
    min: 1,
    max: 1,
    pure: true,
    impl: (args, site) => binaryEnvelope(bytesOf(site, args[0], 0)),
  },
  {
    name: 'bool',
    group: 'conversion',
    min: 1,
    max: 1,
    pure: true,
    impl: (args, site) => {
      const v = args[0];
      if (typeof v === 'boolean') return v;
      if (typeof v === 'number') return v !== 0;
      if (typeof v === 'bigint') return v !== 0n;
      if (v instanceof WdlDecimal) return !v.isZero();
      if (typeof v === 'string') {
        const t = v.trim().toLowerCase();
        if (t === 'true') return true;
        if (t === 'false') return false;
        return fail(site, `the string '${v}' cannot be converted to a boolean; use 'true' or 'false'`);
      }
      return typeError(site, 0, 'a boolean, a number or a string', v);
    },
  },
  {
    name: 'dataUri',
    group: 'conversion',
    min: 1,
    max: 1,
    pure: true,
    impl: (args, site) => {
      const v = args[0];
      if (isContentEnvelope(v)) return `data:${v['$content-type'] ?? OCTET};base64,${v.$content}`;
      return 'data:text/plain;charset=utf-8;base64,' + bytesToBase64(bytesOf(site, v, 0));
    },
  },
  {
    name: 'dataUriToBinary',
    aliases: ['decodeDataUri'],
    group: 'conversion',
    min: 1,
    max: 1,
    pure: true,
    impl: (args, site) => {
      const d = parseDataUri(site, argString(site, args, 0));
      return binaryEnvelope(d.bytes, d.mediaType);
    },
  },
  {
    name: 'dataUriToString',
    group: 'conversion',
    min: 1,
    max: 1,
    pure: true,
    impl: (args, site) => bytesToText(parseDataUri(site, argString(site, args, 0)).bytes),
  },
  {
    name: 'decimal',
    group: 'conversion',
    min: 1,
    max: 1,
    pure: true,
    impl: (args, site) => {
      const v = args[0];
      if (v instanceof WdlDecimal) return v;
      if (typeof v === 'bigint') return WdlDecimal.fromBigInt(v);
      let d: WdlDecimal | undefined;
      if (typeof v === 'number') {
        if (!Number.isFinite(v)) fail(site, `${v} cannot be converted to a decimal`);
        d = WdlDecimal.fromNumber(v);
      } else if (typeof v === 'string') {
        d = /[eE]/.test(v) ? undefined : WdlDecimal.parse(v);
        if (!d) fail(site, `the string '${v}' is not a valid decimal number`);
      } else return typeError(site, 0, 'a string or a number', v);
      try {
        return d.fitted();
      } catch (e) {
        if (!(e instanceof DecimalOverflowError)) throw e;
        return fail(
          site,
          `the value '${String(v)}' is outside the decimal range ±${DECIMAL_MAX_MANTISSA}`,
          ExpressionErrorCode.Overflow,
        );
      }
    },
  },
  {
    name: 'float',
    group: 'conversion',
    min: 1,
    max: 2,
    pure: true,
    float: 'always',
    impl: (args, site) => {
      const v = args[0];
      if (typeof v === 'number') return v;
      if (typeof v === 'bigint') return Number(v);
      if (v instanceof WdlDecimal) return v.toNumber();
      if (typeof v !== 'string') return typeError(site, 0, 'a string or a number', v);
      const locale = optString(site, args, 1);
      const culture = locale === undefined ? undefined : resolveCulture(site, locale);
      const n = parseDotNetNumber(v, culture);
      if (n === undefined || Number.isNaN(n)) fail(site, `the string '${v}' is not a valid floating-point number`);
      return finiteResult(site, n);
    },
  },
  {
    name: 'int',
    group: 'conversion',
    min: 1,
    max: 1,
    pure: true,
    impl: (args, site) => {
      const v = args[0];
      if (typeof v === 'number') {
        if (!Number.isInteger(v))
          fail(site, `the value ${v} is not a whole number and cannot be converted to an integer`);
        return v;
      }
      if (typeof v === 'bigint') return v;
      if (v instanceof WdlDecimal) {
        const w = v.toBigIntIfWhole();
        if (w === undefined)
          fail(site, `the value ${v.toString()} is not a whole number and cannot be converted to an integer`);
        return intResult(site, w);
      }
      if (typeof v !== 'string') return typeError(site, 0, 'a string or a number', v);
      const t = v.trim();
      if (!/^[+-]?\d+$/.test(t)) fail(site, `the string '${v}' is not a valid integer`);
      return intResult(site, BigInt(t));
    },
  },
  {
    name: 'json',
    group: 'conversion',
    min: 1,
    max: 1,
    pure: true,
    impl: (args, site) => {
      let v = args[0];
      if (v === null || v === undefined) return {};
      if (isXmlEnvelope(v)) return xmlToJson(parseXml(site, xmlTextOf(site, v, 0)));
      // other content (text/plain, application/json bodies the runtime did not parse): its text
      if (isContentEnvelope(v)) v = bytesToText(base64ToBytes(v.$content));
      if (typeof v === 'string') {
        try {
          return parseJson(v);
        } catch (e) {
          if (e instanceof JsonSyntaxError) {
            if (e.overflow)
              fail(
                site,
                `the JSON text has a number outside the double range (${e.message})`,
                ExpressionErrorCode.Overflow,
              );
            const trimmed = v.trimStart();
            if (trimmed.startsWith('<'))
              fail(site, `the string is XML, not JSON; use json(xml(...)) to convert XML (${e.message})`);
            fail(site, `the string is not valid JSON: ${e.message}`);
          }
          throw e;
        }
      }
      return cloneJson(v);
    },
  },
  { name: 'string', group: 'conversion', min: 1, max: 1, pure: true, impl: (args) => toText(args[0]) },
  {
    name: 'uriComponent',
    aliases: ['encodeUriComponent'],
    group: 'conversion',
    min: 1,
    max: 1,
    pure: true,
    impl: (args, site) => {
      const v = args[0];
      if (v === null || v === undefined) return typeError(site, 0, 'a string', v);
      return escapeDataString(typeof v === 'string' ? v : toText(v));
    },
  },
  {
    name: 'uriComponentToString',
    aliases: ['decodeUriComponent'],
    group: 'conversion',
    min: 1,
    max: 1,
    pure: true,
    impl: (args, site) => unescapeDataString(argString(site, args, 0)),
  },
  {
    name: 'uriComponentToBinary',
    group: 'conversion',
    min: 1,
    max: 1,
    pure: true,
    impl: (args, site) => binaryEnvelope(unescapeToBytes(argString(site, args, 0))),
  },
  {
    name: 'xml',
    group: 'conversion',
    min: 1,
    max: 1,
    pure: true,
    impl: (args, site) => {
      const v = args[0];
      if (typeof v === 'string') {
        parseXml(site, v);
        return xmlEnvelope(v);
      }
      if (isXmlEnvelope(v)) return v;
      if (isContentEnvelope(v)) {
        const text = xmlTextOf(site, v, 0);
        parseXml(site, text);
        return xmlEnvelope(text);
      }
      if (Array.isArray(v))
        return fail(site, 'a JSON array cannot be converted to XML; wrap it in an object with one root property');
      if (isObject(v)) return xmlEnvelope(jsonToXml(site, v));
      return typeError(site, 0, 'a string or an object', v);
    },
  },
  // URI parsing
  {
    name: 'uriHost',
    group: 'uri',
    min: 1,
    max: 1,
    pure: true,
    impl: (args, site) => uriHost(parseUri(site, args[0])),
  },
  {
    name: 'uriPath',
    group: 'uri',
    min: 1,
    max: 1,
    pure: true,
    impl: (args, site) => parseUri(site, args[0]).pathname || '/',
  },
  {
    name: 'uriPathAndQuery',
    group: 'uri',
    min: 1,
    max: 1,
    pure: true,
    impl: (args, site) => {
      const u = parseUri(site, args[0]);
      return (u.pathname || '/') + u.search;
    },
  },
  {
    name: 'uriPort',
    group: 'uri',
    min: 1,
    max: 1,
    pure: true,
    impl: (args, site) => {
      const u = parseUri(site, args[0]);
      if (u.port) return Number(u.port);
      return DEFAULT_PORTS[u.protocol.replace(/:$/, '')] ?? -1;
    },
  },
  { name: 'uriQuery', group: 'uri', min: 1, max: 1, pure: true, impl: (args, site) => parseUri(site, args[0]).search },
  {
    name: 'uriScheme',
    group: 'uri',
    min: 1,
    max: 1,
    pure: true,
    impl: (args, site) => parseUri(site, args[0]).protocol.replace(/:$/, ''),
  },
  // manipulation
  {
    name: 'coalesce',
    group: 'manipulation',
    min: 1,
    max: Infinity,
    pure: true,
    impl: (args) => {
      for (const v of args) if (v !== null && v !== undefined) return v;
      return null;
    },
  },
  {
    name: 'addProperty',
    group: 'manipulation',
    min: 3,
    max: 3,
    pure: true,
    impl: (args, site) => {
      const obj = argObject(site, args, 0);
      const name = argString(site, args, 1);
      if (Object.hasOwn(obj, name)) fail(site, `the property '${name}' already exists; use setProperty to change it`);
      const out: JsonObject = { ...obj };
      setKey(out, name, args[2] ?? null);
      return out;
    },
  },
  {
    name: 'setProperty',
    group: 'manipulation',
    min: 3,
    max: 3,
    pure: true,
    impl: (args, site) => {
      const obj = argObject(site, args, 0);
      const name = argString(site, args, 1);
      const out: JsonObject = {};
      for (const k of Object.keys(obj)) setKey(out, k, obj[k]);
      setKey(out, name, args[2] ?? null);
      return out;
    },
  },
  {
    name: 'removeProperty',
    group: 'manipulation',
    min: 2,
    max: 2,
    pure: true,
    impl: (args, site) => {
      const obj = argObject(site, args, 0);
      const name = argString(site, args, 1);
      const out: JsonObject = {};
      for (const k of Object.keys(obj)) if (k !== name) setKey(out, k, obj[k]);
      return out;
    },
  },
  {
    name: 'xpath',
    group: 'manipulation',
    min: 2,
    max: 2,
    pure: true,
    impl: (args, site) => evaluateXPath(site, xmlTextOf(site, args[0], 0), argString(site, args, 1)),
  },
];
