/**
 * Date-time values, parsing and .NET formatting for the date functions.
 *
 * A timestamp is `{ms, frac, kind}`: epoch milliseconds, the extra 100-ns ticks inside that
 * millisecond (0–9999, so seven fractional digits are exact), and the .NET `DateTimeKind`
 * (`utc` when the text had `Z`/`GMT`/an offset, else `unspecified`). Range 0001-01-01 to
 * 9999-12-31 like .NET `DateTime`.
 *
 * Formats: .NET standard format strings (d D f F g G M m O o R r s t T u U Y y) and custom
 * patterns (yyyy MM dd HH hh mm ss f…fffffff F…FFFFFFF tt ddd dddd MMM MMMM K z zz zzz g,
 * quoted literals, `\x` escapes, `%x`), per the .NET "Standard/Custom date and time format
 * strings" documentation.
 */
import type { CallSite } from './common.js';
import { fail, typeError } from './common.js';
import type { Culture } from './culture.js';
import { DEFAULT_CULTURE } from './culture.js';

/** A timestamp (see module doc). */
export interface DateTimeValue {
  ms: number;
  frac: number;
  kind: 'utc' | 'unspecified';
}

export const MS_PER_DAY = 86_400_000;
/** Milliseconds from 0001-01-01T00:00:00 to the Unix epoch. */
export const EPOCH_OFFSET_MS = 62_135_596_800_000;
export const MIN_MS = -EPOCH_OFFSET_MS;
export const MAX_MS = 253_402_300_799_999;

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
export function daysFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** Civil date of a day number (inverse of {@link daysFromCivil}). */
export function civilFromDays(z: number): { y: number; m: number; d: number } {
  z += 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp + (mp < 10 ? 3 : -9);
  return { y: yoe + era * 400 + (m <= 2 ? 1 : 0), m, d };
}

export function isLeap(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

export function daysInMonth(y: number, m: number): number {
  return m === 2 ? (isLeap(y) ? 29 : 28) : ([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1] ?? 30);
}

/** Broken-down fields of a timestamp. */
export interface Fields {
  y: number;
  m: number;
  d: number;
  h: number;
  mi: number;
  s: number;
  /** Sub-second part in 100-ns ticks (0–9,999,999). */
  ticks: number;
  /** Day of week, Sunday = 0. */
  dow: number;
}

export function fieldsOf(v: DateTimeValue): Fields {
  const days = Math.floor(v.ms / MS_PER_DAY);
  let rest = v.ms - days * MS_PER_DAY;
  const { y, m, d } = civilFromDays(days);
  const h = Math.floor(rest / 3_600_000);
  rest -= h * 3_600_000;
  const mi = Math.floor(rest / 60_000);
  rest -= mi * 60_000;
  const s = Math.floor(rest / 1000);
  rest -= s * 1000;
  return { y, m, d, h, mi, s, ticks: rest * 10_000 + v.frac, dow: (((days + 4) % 7) + 7) % 7 };
}

/** Builds a timestamp from fields; returns undefined when a field is out of range. */
export function fromFields(
  y: number,
  m: number,
  d: number,
  h: number,
  mi: number,
  s: number,
  ticks: number,
  kind: DateTimeValue['kind'],
): DateTimeValue | undefined {
  if (
    y < 1 ||
    y > 9999 ||
    m < 1 ||
    m > 12 ||
    d < 1 ||
    d > daysInMonth(y, m) ||
    h < 0 ||
    h > 23 ||
    mi < 0 ||
    mi > 59 ||
    s < 0 ||
    s > 59
  )
    return undefined;
  if (ticks < 0 || ticks >= 10_000_000) return undefined;
  const ms = daysFromCivil(y, m, d) * MS_PER_DAY + h * 3_600_000 + mi * 60_000 + s * 1000 + Math.floor(ticks / 10_000);
  return { ms, frac: ticks % 10_000, kind };
}

/** Checks the .NET DateTime range. */
export function checked(site: CallSite, v: DateTimeValue): DateTimeValue {
  if (!(v.ms >= MIN_MS && v.ms <= MAX_MS) || !Number.isFinite(v.ms)) {
    fail(site, 'the resulting timestamp is outside the range 0001-01-01 to 9999-12-31');
  }
  return v;
}

/** A timestamp from epoch milliseconds (fractions of a millisecond kept to 100 ns). */
export function fromEpochMs(ms: number, kind: DateTimeValue['kind'] = 'utc'): DateTimeValue {
  const whole = Math.floor(ms);
  return { ms: whole, frac: Math.min(9999, Math.round((ms - whole) * 10_000)), kind };
}

/** A UTC timestamp from .NET ticks (100-ns units since 0001-01-01), exact. */
export function fromTicks(ticks: bigint): DateTimeValue {
  const ms = ticks / 10_000n;
  return { ms: Number(ms) - EPOCH_OFFSET_MS, frac: Number(ticks - ms * 10_000n), kind: 'utc' };
}

/** 100-ns ticks since 0001-01-01 (.NET `DateTime.Ticks`). */
export function ticksOf(v: DateTimeValue): bigint {
  return (BigInt(v.ms) + BigInt(EPOCH_OFFSET_MS)) * 10_000n + BigInt(v.frac);
}

// ---------------------------------------------------------------------------------------------
// Parsing

function digitAt(s: string, i: number): number {
  const c = s.charCodeAt(i) - 48;
  return c >= 0 && c <= 9 ? c : -1;
}

function num(s: string, i: number, n: number): number {
  let v = 0;
  for (let k = 0; k < n; k++) {
    const c = digitAt(s, i + k);
    if (c < 0) return -1;
    v = v * 10 + c;
  }
  return v;
}

/** Parses fraction digits (any count) to 100-ns ticks, rounding beyond seven digits. */
function fracTicks(digits: string): number {
  return fracTicksAt(digits, 0, digits.length);
}

/** Fraction digits `s[start, end)` to 100-ns ticks (seven digits; the eighth rounds). */
function fracTicksAt(s: string, start: number, end: number): number {
  let t = 0;
  let k = 0;
  for (let i = start; i < end && k < 7; i++, k++) t = t * 10 + (s.charCodeAt(i) - 48);
  for (; k < 7; k++) t *= 10;
  if (end - start > 7 && s.charCodeAt(start + 7) - 48 >= 5) t += 1;
  return t;
}

/** Applies an offset (minutes east of UTC) to a wall-clock value, giving a UTC timestamp. */
function withOffset(v: DateTimeValue, offsetMin: number): DateTimeValue {
  return { ms: v.ms - offsetMin * 60_000, frac: v.frac, kind: 'utc' };
}

/**
 * Fast path for ISO 8601 (`yyyy-MM-dd[Thh:mm[:ss[.f…]]][Z|±hh:mm|±hhmm|±hh]`, `T` or space).
 * Returns undefined when the text is not in that shape.
 */
export function parseIso(s: string): DateTimeValue | undefined {
  const n = s.length;
  if (n < 10 || s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45) return undefined;
  const y = num(s, 0, 4);
  const mo = num(s, 5, 2);
  const d = num(s, 8, 2);
  if (y < 0 || mo < 0 || d < 0) return undefined;
  let i = 10;
  let h = 0;
  let mi = 0;
  let sec = 0;
  let ticks = 0;
  if (i < n && (s.charCodeAt(i) === 84 || s.charCodeAt(i) === 116 || s.charCodeAt(i) === 32)) {
    i++;
    h = num(s, i, 2);
    if (h < 0 || s.charCodeAt(i + 2) !== 58) return undefined;
    mi = num(s, i + 3, 2);
    if (mi < 0) return undefined;
    i += 5;
    if (i < n && s.charCodeAt(i) === 58) {
      sec = num(s, i + 1, 2);
      if (sec < 0) return undefined;
      i += 3;
      if (i < n && (s.charCodeAt(i) === 46 || s.charCodeAt(i) === 44)) {
        const start = ++i;
        while (i < n && digitAt(s, i) >= 0) i++;
        if (i === start) return undefined;
        ticks = fracTicksAt(s, start, i);
      }
    }
  }
  let offsetMin: number | undefined;
  if (i < n) {
    const c = s.charCodeAt(i);
    if ((c === 90 || c === 122) && i === n - 1) {
      offsetMin = 0;
      i++;
    } else if (c === 43 || c === 45) {
      const oh = num(s, i + 1, 2);
      if (oh < 0) return undefined;
      let om = 0;
      let j = i + 3;
      if (j < n && s.charCodeAt(j) === 58) {
        om = num(s, j + 1, 2);
        j += 3;
      } else if (j < n) {
        om = num(s, j, 2);
        j += 2;
      }
      if (om < 0 || om > 59 || oh * 60 + om > MAX_OFFSET_MIN) return undefined;
      offsetMin = (c === 45 ? -1 : 1) * (oh * 60 + om);
      i = j;
    }
  }
  if (i !== n) return undefined;
  const v = fromFieldsRounded(y, mo, d, h, mi, sec, ticks, 'unspecified');
  if (!v) return undefined;
  return offsetMin === undefined ? v : withOffset(v, offsetMin);
}

/** Largest UTC offset .NET accepts (`DateTimeOffset`: ±14:00), in minutes. */
export const MAX_OFFSET_MIN = 14 * 60;

/**
 * {@link fromFields} for parsed text whose fraction was rounded to seven digits: a fraction that
 * rounded up to a whole second (`10:30:00.99999999` → `10:30:01`) carries into the seconds, as
 * .NET's parser does. Undefined when a field is out of range or the carry leaves 9999-12-31.
 */
function fromFieldsRounded(
  y: number,
  m: number,
  d: number,
  h: number,
  mi: number,
  s: number,
  ticks: number,
  kind: DateTimeValue['kind'],
): DateTimeValue | undefined {
  if (ticks < 10_000_000) return fromFields(y, m, d, h, mi, s, ticks, kind);
  const v = fromFields(y, m, d, h, mi, s, ticks - 10_000_000, kind);
  if (!v || v.ms + 1000 > MAX_MS) return undefined;
  return { ms: v.ms + 1000, frac: v.frac, kind };
}

interface Token {
  t: 'num' | 'word' | 'sep';
  v: string;
}

function tokenize(s: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i] as string;
    if (/\d/.test(c)) {
      let j = i;
      while (j < s.length && /\d/.test(s[j] as string)) j++;
      out.push({ t: 'num', v: s.slice(i, j) });
      i = j;
    } else if (/\p{L}/u.test(c)) {
      let j = i;
      while (j < s.length && /[\p{L}\p{M}.]/u.test(s[j] as string)) j++;
      out.push({ t: 'word', v: s.slice(i, j) });
      i = j;
    } else if (/\s/.test(c)) {
      i++;
    } else {
      out.push({ t: 'sep', v: c });
      i++;
    }
  }
  return out;
}

function norm(w: string): string {
  return w
    .toLowerCase()
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/\.$/, '');
}

const EN_MONTHS = DEFAULT_CULTURE.monthNames.map(norm);
const EN_MONTH_ABBR = DEFAULT_CULTURE.monthAbbr.map(norm);
const EN_DAYS = DEFAULT_CULTURE.dayNames.map(norm);
const EN_DAY_ABBR = DEFAULT_CULTURE.dayAbbr.map(norm);
const FILLER = new Set([
  'de',
  'del',
  'of',
  'the',
  'le',
  'la',
  'den',
  'der',
  'el',
  'at',
  'um',
  'a',
  'à',
  'o',
  'do',
  'da',
  'di',
  'van',
  'y',
]);

function monthOf(word: string, c: Culture): number {
  const w = norm(word);
  for (const list of [c.monthNames, c.monthGenitive, c.monthAbbr]) {
    const i = list.findIndex((m) => norm(m) === w);
    if (i >= 0) return i + 1;
  }
  let i = EN_MONTHS.indexOf(w);
  if (i < 0) i = EN_MONTH_ABBR.indexOf(w);
  if (i < 0 && w === 'sept') i = 8;
  return i + 1;
}

function isDayName(word: string, c: Culture): boolean {
  const w = norm(word);
  return (
    c.dayNames.some((d) => norm(d) === w) ||
    c.dayAbbr.some((d) => norm(d) === w) ||
    EN_DAYS.includes(w) ||
    EN_DAY_ABBR.includes(w)
  );
}

function expandYear(text: string): number {
  const y = Number(text);
  if (text.length > 2) return y;
  return y <= 49 ? 2000 + y : 1900 + y;
}

/**
 * Lenient parse in the manner of .NET `DateTime.Parse` for a culture: ISO 8601, numeric dates in
 * the culture's order (`03/15/2018`, `15/03/2018`), month and day names (`March 15, 2018`,
 * `martes 20 octubre 2020`, RFC 1123 `Thu, 15 Mar 2018 13:27:36 GMT`), optional time with
 * seconds, fraction and AM/PM, and `Z`/`GMT`/`UTC`/offset suffixes (converted to UTC).
 * Returns undefined when the text is not a timestamp.
 */
export function parseTimestamp(text: string, culture: Culture = DEFAULT_CULTURE): DateTimeValue | undefined {
  const iso = parseIso(text);
  if (iso) return iso;
  const s = text.trim();
  if (s.length === 0 || s.length > 100) return undefined;
  const tokens = tokenize(s);
  const dateNums: string[] = [];
  let month = 0;
  let h = -1;
  let mi = 0;
  let sec = 0;
  let ticks = 0;
  let pm: boolean | undefined;
  let offsetMin: number | undefined;
  for (let i = 0; i < tokens.length; i++) {
    const tok = tokens[i] as Token;
    const next = tokens[i + 1];
    if (tok.t === 'num') {
      if (h < 0 && next && next.t === 'sep' && next.v === ':' && tokens[i + 2]?.t === 'num') {
        h = Number(tok.v);
        mi = Number(tokens[i + 2]?.v);
        i += 2;
        if (tokens[i + 1]?.v === ':' && tokens[i + 2]?.t === 'num') {
          sec = Number(tokens[i + 2]?.v);
          i += 2;
          if ((tokens[i + 1]?.v === '.' || tokens[i + 1]?.v === ',') && tokens[i + 2]?.t === 'num') {
            ticks = fracTicks(tokens[i + 2]?.v ?? '');
            i += 2;
          }
        }
        continue;
      }
      dateNums.push(tok.v);
      continue;
    }
    if (tok.t === 'word') {
      const w = norm(tok.v);
      if (w === 'am' || w === 'a.m' || norm(culture.am) === w) {
        pm = false;
        continue;
      }
      if (w === 'pm' || w === 'p.m' || norm(culture.pm) === w) {
        pm = true;
        continue;
      }
      if ((w === 'z' || w === 'gmt' || w === 'utc') && offsetMin === undefined) {
        offsetMin = 0;
        continue;
      }
      if (w === 't' && h < 0) continue;
      const m = monthOf(tok.v, culture);
      if (m > 0 && month === 0) {
        month = m;
        continue;
      }
      if (isDayName(tok.v, culture) || FILLER.has(w)) continue;
      return undefined;
    }
    // separators
    if (
      (tok.v === '+' || tok.v === '-') &&
      h >= 0 &&
      next?.t === 'num' &&
      offsetMin === undefined &&
      dateNums.length >= 2
    ) {
      const digits = next.v;
      let oh: number;
      let om = 0;
      if (digits.length === 4) {
        oh = Number(digits.slice(0, 2));
        om = Number(digits.slice(2));
        i += 1;
      } else {
        oh = Number(digits);
        i += 1;
        if (tokens[i + 1]?.v === ':' && tokens[i + 2]?.t === 'num') {
          om = Number(tokens[i + 2]?.v);
          i += 2;
        }
      }
      if (om > 59 || oh * 60 + om > MAX_OFFSET_MIN) return undefined;
      offsetMin = (tok.v === '-' ? -1 : 1) * (oh * 60 + om);
      continue;
    }
    if ('/-.,'.includes(tok.v) || tok.v === culture.dateSeparator) continue;
    return undefined;
  }
  let y: number;
  let mo: number;
  let d: number;
  if (month > 0) {
    mo = month;
    if (dateNums.length !== 2) return undefined;
    const [a, b] = dateNums as [string, string];
    if (a.length >= 3 || (b.length <= 2 && Number(a) > 31)) {
      y = expandYear(a);
      d = Number(b);
    } else {
      d = Number(a);
      y = expandYear(b);
    }
  } else if (dateNums.length === 3) {
    const [a, b, c] = dateNums as [string, string, string];
    if (a.length >= 3) {
      y = Number(a);
      mo = Number(b);
      d = Number(c);
    } else if (culture.dateOrder === 'DMY') {
      d = Number(a);
      mo = Number(b);
      y = expandYear(c);
    } else if (culture.dateOrder === 'YMD') {
      y = expandYear(a);
      mo = Number(b);
      d = Number(c);
    } else {
      mo = Number(a);
      d = Number(b);
      y = expandYear(c);
    }
  } else if (dateNums.length === 2 && (dateNums[0] as string).length === 4) {
    y = Number(dateNums[0]);
    mo = Number(dateNums[1]);
    d = 1;
  } else {
    return undefined;
  }
  if (h < 0) h = 0;
  if (pm !== undefined) {
    if (h < 1 || h > 12) return undefined;
    if (pm && h < 12) h += 12;
    if (!pm && h === 12) h = 0;
  }
  const v = fromFieldsRounded(y, mo, d, h, mi, sec, ticks, 'unspecified');
  if (!v) return undefined;
  return offsetMin === undefined ? v : withOffset(v, offsetMin);
}

/** Parses a timestamp argument or raises the runtime's error. */
export function argTimestamp(site: CallSite, value: unknown, index: number): DateTimeValue {
  if (typeof value !== 'string') return typeError(site, index, 'a string that contains a timestamp', value);
  const v = parseTimestamp(value);
  if (!v)
    fail(
      site,
      `the value '${value}' provided for the timestamp is not valid. The timestamp must be in ISO 8601 format or another format the en-US culture accepts`,
    );
  return v;
}

// ---------------------------------------------------------------------------------------------
// Formatting

type FormatToken =
  | { k: 'lit'; v: string }
  | { k: 'd' | 'f' | 'F' | 'g' | 'h' | 'H' | 'K' | 'm' | 'M' | 's' | 't' | 'y' | 'z'; n: number }
  | { k: 'datesep' | 'timesep' };

const STANDARD = 'dDfFgGmMoOrRsStTuUyY';

function expandStandard(
  site: CallSite | undefined,
  f: string,
  c: Culture,
): { pattern: string; utc: boolean; invariant: boolean } {
  switch (f) {
    case 'd':
      return { pattern: c.shortDate, utc: false, invariant: false };
    case 'D':
      return { pattern: c.longDate, utc: false, invariant: false };
    case 'f':
      return { pattern: `${c.longDate} ${c.shortTime}`, utc: false, invariant: false };
    case 'F':
      return { pattern: `${c.longDate} ${c.longTime}`, utc: false, invariant: false };
    case 'g':
      return { pattern: `${c.shortDate} ${c.shortTime}`, utc: false, invariant: false };
    case 'G':
      return { pattern: `${c.shortDate} ${c.longTime}`, utc: false, invariant: false };
    case 'm':
    case 'M':
      return { pattern: c.monthDay, utc: false, invariant: false };
    case 'o':
    case 'O':
      return { pattern: "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fffffffK", utc: false, invariant: true };
    case 'r':
    case 'R':
      return { pattern: "ddd, dd MMM yyyy HH':'mm':'ss 'GMT'", utc: false, invariant: true };
    case 's':
      return { pattern: "yyyy'-'MM'-'dd'T'HH':'mm':'ss", utc: false, invariant: true };
    case 'S':
      break;
    case 't':
      return { pattern: c.shortTime, utc: false, invariant: false };
    case 'T':
      return { pattern: c.longTime, utc: false, invariant: false };
    case 'u':
      return { pattern: "yyyy'-'MM'-'dd HH':'mm':'ss'Z'", utc: false, invariant: true };
    case 'U':
      return { pattern: `${c.longDate} ${c.longTime}`, utc: true, invariant: false };
    case 'y':
    case 'Y':
      return { pattern: c.yearMonth, utc: false, invariant: false };
  }
  if (site) fail(site, `the format '${f}' is not a valid standard date and time format specifier`);
  throw new Error(`invalid standard format ${f}`);
}

function tokenizeFormat(site: CallSite | undefined, pattern: string): FormatToken[] {
  const out: FormatToken[] = [];
  let lit = '';
  const flush = (): void => {
    if (lit) out.push({ k: 'lit', v: lit });
    lit = '';
  };
  let i = 0;
  while (i < pattern.length) {
    const ch = pattern[i] as string;
    if (ch === "'" || ch === '"') {
      const end = pattern.indexOf(ch, i + 1);
      if (end < 0) {
        if (site) fail(site, `the format '${pattern}' has an unterminated quoted string`);
        throw new Error('unterminated quote');
      }
      lit += pattern.slice(i + 1, end);
      i = end + 1;
      continue;
    }
    if (ch === '\\') {
      if (i + 1 >= pattern.length) {
        if (site) fail(site, `the format '${pattern}' ends with an escape character`);
        throw new Error('dangling escape');
      }
      lit += pattern[i + 1];
      i += 2;
      continue;
    }
    if (ch === '%') {
      // .NET: '%c' formats the single character c as a custom format; '%' at the end or '%%' is a FormatException
      const next = pattern[i + 1];
      if (next === undefined || next === '%') {
        if (site) fail(site, `the format '${pattern}' has a '%' that is not followed by a format character`);
        throw new Error('dangling %');
      }
      flush();
      out.push(...tokenizeFormat(site, next));
      i += 2;
      continue;
    }
    if (ch === ':' || ch === '/') {
      flush();
      out.push({ k: ch === ':' ? 'timesep' : 'datesep' });
      i++;
      continue;
    }
    if ('dfFghHKmMstyz'.includes(ch)) {
      let j = i;
      while (j < pattern.length && pattern[j] === ch) j++;
      const n = j - i;
      if ((ch === 'f' || ch === 'F') && n > 7) {
        if (site) fail(site, `the format '${pattern}' has more than seven '${ch}' specifiers`);
        throw new Error('too many f');
      }
      flush();
      out.push({ k: ch as 'd', n });
      i = j;
      continue;
    }
    lit += ch;
    i++;
  }
  flush();
  return out;
}

interface CompiledFormat {
  tokens: FormatToken[];
  utc: boolean;
  culture: Culture;
  genitive: boolean;
}

const formatCache = new Map<string, CompiledFormat>();

/** Compiles a format string for a culture (cached). Invalid formats raise the runtime's error. */
export function compileDateFormat(site: CallSite | undefined, format: string, culture: Culture): CompiledFormat {
  const key = culture.name + '\u0000' + format;
  const hit = formatCache.get(key);
  if (hit) return hit;
  let pattern = format;
  let utc = false;
  let c = culture;
  if (format.length === 1) {
    if (!STANDARD.includes(format) || format === 'S') {
      if (site) fail(site, `the format '${format}' is not a valid standard date and time format specifier`);
      throw new Error('invalid format');
    }
    const std = expandStandard(site, format, culture);
    pattern = std.pattern;
    utc = std.utc;
    if (std.invariant) c = DEFAULT_CULTURE;
  }
  if (format.length === 0) {
    if (site) fail(site, 'the format must not be empty');
    throw new Error('empty format');
  }
  const tokens = tokenizeFormat(site, pattern);
  const genitive = tokens.some((t) => t.k === 'd' && t.n <= 2);
  const compiled = { tokens, utc, culture: c, genitive };
  if (formatCache.size > 2000) formatCache.clear();
  formatCache.set(key, compiled);
  return compiled;
}

function pad(n: number, width: number): string {
  const s = String(n);
  return s.length >= width ? s : '0'.repeat(width - s.length) + s;
}

/** Formats a timestamp with a compiled format. */
export function formatWith(v: DateTimeValue, f: CompiledFormat): string {
  const x = fieldsOf(v);
  const c = f.culture;
  let out = '';
  for (const t of f.tokens) {
    switch (t.k) {
      case 'lit':
        out += t.v;
        break;
      case 'datesep':
        out += c.dateSeparator;
        break;
      case 'timesep':
        out += c.timeSeparator;
        break;
      case 'd':
        out += t.n === 1 ? String(x.d) : t.n === 2 ? pad(x.d, 2) : t.n === 3 ? c.dayAbbr[x.dow] : c.dayNames[x.dow];
        break;
      case 'f':
        out += pad(x.ticks, 7).slice(0, t.n);
        break;
      case 'F': {
        const digits = pad(x.ticks, 7).slice(0, t.n).replace(/0+$/, '');
        if (digits.length === 0 && out.endsWith('.')) out = out.slice(0, -1);
        out += digits;
        break;
      }
      case 'g':
        out += 'A.D.';
        break;
      case 'h': {
        const h12 = x.h % 12 === 0 ? 12 : x.h % 12;
        out += t.n === 1 ? String(h12) : pad(h12, 2);
        break;
      }
      case 'H':
        out += t.n === 1 ? String(x.h) : pad(x.h, 2);
        break;
      case 'K':
        for (let k = 0; k < t.n; k++) out += v.kind === 'utc' ? 'Z' : '';
        break;
      case 'm':
        out += t.n === 1 ? String(x.mi) : pad(x.mi, 2);
        break;
      case 'M':
        out +=
          t.n === 1
            ? String(x.m)
            : t.n === 2
              ? pad(x.m, 2)
              : t.n === 3
                ? c.monthAbbr[x.m - 1]
                : (f.genitive ? c.monthGenitive : c.monthNames)[x.m - 1];
        break;
      case 's':
        out += t.n === 1 ? String(x.s) : pad(x.s, 2);
        break;
      case 't': {
        const designator = x.h < 12 ? c.am : c.pm;
        out += t.n === 1 ? designator.slice(0, 1) : designator;
        break;
      }
      case 'y':
        out += t.n === 1 ? String(x.y % 100) : t.n === 2 ? pad(x.y % 100, 2) : pad(x.y, t.n);
        break;
      case 'z':
        out += t.n === 1 ? '+0' : t.n === 2 ? '+00' : '+00:00';
        break;
    }
  }
  return out;
}

/**
 * Formats a timestamp with a .NET format string (default `o`) in a culture (default en-US).
 * Raises the runtime's error for an invalid format.
 */
export function formatDateTimeValue(
  site: CallSite | undefined,
  v: DateTimeValue,
  format: string | undefined,
  culture: Culture = DEFAULT_CULTURE,
): string {
  if (format === undefined || format === 'o' || format === 'O') return formatRoundTrip(v);
  return formatWith(v, site ? siteFormat(site, format, culture) : compileDateFormat(site, format, culture));
}

/** The compiled format for a call site, memoised on the site (no lookup when the format and culture are the same as last time). */
export function siteFormat(site: CallSite, format: string, culture: Culture): CompiledFormat {
  const m = site.memo;
  if (m && m.key1 === format && m.key2 === culture) return m.value as CompiledFormat;
  const compiled = compileDateFormat(site, format, culture);
  site.memo = { key1: format, key2: culture, value: compiled };
  return compiled;
}

/** The `o` format: `yyyy-MM-ddTHH:mm:ss.fffffff` plus `Z` for UTC values. */
export function formatRoundTrip(v: DateTimeValue): string {
  const x = fieldsOf(v);
  return `${pad(x.y, 4)}-${pad(x.m, 2)}-${pad(x.d, 2)}T${pad(x.h, 2)}:${pad(x.mi, 2)}:${pad(x.s, 2)}.${pad(x.ticks, 7)}${v.kind === 'utc' ? 'Z' : ''}`;
}

/**
 * Formats a JS instant (epoch milliseconds) the way `utcNow()` does: ISO 8601 with seven
 * fractional digits and `Z`, e.g. `2025-09-25T05:18:31.3380000Z`.
 */
export function formatInstant(epochMs: number): string {
  return formatRoundTrip(fromEpochMs(epochMs, 'utc'));
}

// ---------------------------------------------------------------------------------------------
// Exact parsing with a format (parseDateTime with a format argument)

function matchName(s: string, i: number, names: string[]): { index: number; len: number } | undefined {
  let best: { index: number; len: number } | undefined;
  const rest = norm(s.slice(i));
  names.forEach((name, index) => {
    const n = norm(name);
    if (n.length > 0 && rest.startsWith(n) && (!best || n.length > best.len)) best = { index, len: n.length };
  });
  if (!best) return undefined;
  // map the normalized length back onto the source text (names may carry accents / trailing dots)
  let len = 0;
  let consumed = 0;
  while (consumed < best.len && i + len < s.length) {
    const part = norm(s.slice(i, i + len + 1));
    consumed = part.length;
    len++;
  }
  if (s[i + len] === '.') len++;
  return { index: best.index, len };
}

/** Parses `text` exactly against a .NET format (standard or custom). Returns undefined on mismatch. */
export function parseExact(site: CallSite, text: string, format: string, culture: Culture): DateTimeValue | undefined {
  const f = compileDateFormat(site, format, culture);
  const c = f.culture;
  const s = text;
  let i = 0;
  let y = 1;
  let mo = 1;
  let d = 1;
  let h = 0;
  let mi = 0;
  let sec = 0;
  let ticks = 0;
  let pm: boolean | undefined;
  let hour12 = false;
  let offsetMin: number | undefined;
  let utcKind = false;
  const readNum = (min: number, max: number): number => {
    let j = i;
    while (j < s.length && j - i < max && digitAt(s, j) >= 0) j++;
    if (j - i < min) return -1;
    const v = Number(s.slice(i, j));
    i = j;
    return v;
  };
  for (const t of f.tokens) {
    switch (t.k) {
      case 'lit':
        for (const ch of t.v) {
          if (/\s/.test(ch)) {
            while (i < s.length && /\s/.test(s[i] as string)) i++;
          } else if ((s[i] ?? '').toLowerCase() === ch.toLowerCase()) i++;
          else return undefined;
        }
        break;
      case 'datesep':
        if (s.startsWith(c.dateSeparator, i)) i += c.dateSeparator.length;
        else return undefined;
        break;
      case 'timesep':
        if (s.startsWith(c.timeSeparator, i)) i += c.timeSeparator.length;
        else return undefined;
        break;
      case 'd':
        if (t.n <= 2) {
          d = readNum(t.n, 2);
          if (d < 0) return undefined;
        } else {
          const m = matchName(s, i, t.n === 3 ? c.dayAbbr : c.dayNames);
          if (!m) return undefined;
          i += m.len;
        }
        break;
      case 'M':
        if (t.n <= 2) {
          mo = readNum(t.n, 2);
          if (mo < 0) return undefined;
        } else {
          const m =
            matchName(s, i, t.n === 3 ? c.monthAbbr : f.genitive ? c.monthGenitive : c.monthNames) ??
            matchName(s, i, c.monthNames);
          if (!m) return undefined;
          mo = m.index + 1;
          i += m.len;
        }
        break;
      case 'y': {
        const v = t.n <= 2 ? readNum(t.n === 1 ? 1 : 2, 2) : readNum(t.n, Math.max(t.n, 4));
        if (v < 0) return undefined;
        y = t.n <= 2 ? (v <= 49 ? 2000 + v : 1900 + v) : v;
        break;
      }
      case 'H':
        h = readNum(t.n, 2);
        if (h < 0) return undefined;
        break;
      case 'h':
        h = readNum(t.n, 2);
        hour12 = true;
        if (h < 0) return undefined;
        break;
      case 'm':
        mi = readNum(t.n, 2);
        if (mi < 0) return undefined;
        break;
      case 's':
        sec = readNum(t.n, 2);
        if (sec < 0) return undefined;
        break;
      case 'f':
      case 'F': {
        const start = i;
        while (i < s.length && i - start < t.n && digitAt(s, i) >= 0) i++;
        if (t.k === 'f' && i - start !== t.n) return undefined;
        ticks = i > start ? fracTicks(s.slice(start, i)) : 0;
        break;
      }
      case 't': {
        const rest = s.slice(i).toLowerCase();
        const am = c.am.toLowerCase();
        const pmT = c.pm.toLowerCase();
        if (t.n === 1 ? rest.startsWith(am.slice(0, 1)) : rest.startsWith(am)) {
          pm = false;
          i += t.n === 1 ? 1 : am.length;
        } else if (t.n === 1 ? rest.startsWith(pmT.slice(0, 1)) : rest.startsWith(pmT)) {
          pm = true;
          i += t.n === 1 ? 1 : pmT.length;
        } else return undefined;
        break;
      }
      case 'K':
      case 'z': {
        if (s[i] === 'Z' || s[i] === 'z') {
          utcKind = true;
          i++;
          break;
        }
        const m = /^([+-])(\d{1,2})(?::?(\d{2}))?/.exec(s.slice(i));
        if (!m) {
          if (t.k === 'K') break;
          return undefined;
        }
        if (Number(m[3] ?? 0) > 59 || Number(m[2]) * 60 + Number(m[3] ?? 0) > MAX_OFFSET_MIN) return undefined;
        offsetMin = (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3] ?? 0));
        i += m[0].length;
        break;
      }
      case 'g':
        while (i < s.length && /[A-Za-z.]/.test(s[i] as string)) i++;
        break;
    }
  }
  while (i < s.length && /\s/.test(s[i] as string)) i++;
  if (i !== s.length) return undefined;
  if (pm !== undefined || hour12) {
    if (h < 1 || h > 12) return undefined;
    if (pm && h < 12) h += 12;
    if (pm === false && h === 12) h = 0;
  }
  const v = fromFields(y, mo, d, h, mi, sec, ticks, utcKind ? 'utc' : 'unspecified');
  if (!v) return undefined;
  return offsetMin === undefined ? v : withOffset(v, offsetMin);
}

/** Adds calendar months, clamping the day (.NET `AddMonths`). */
export function addMonths(v: DateTimeValue, months: number): DateTimeValue {
  const x = fieldsOf(v);
  const total = x.y * 12 + (x.m - 1) + months;
  const y = Math.floor(total / 12);
  const m = total - y * 12 + 1;
  const d = Math.min(x.d, daysInMonth(y, m));
  const dayMs = v.ms - Math.floor(v.ms / MS_PER_DAY) * MS_PER_DAY;
  return { ms: daysFromCivil(y, m, d) * MS_PER_DAY + dayMs, frac: v.frac, kind: v.kind };
}
