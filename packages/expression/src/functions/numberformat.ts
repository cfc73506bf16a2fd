/**
 * `formatNumber(number, format, locale?)`: .NET numeric format strings — standard (`C2`, `D5`,
 * `E3`, `F2`, `G`, `N2`, `P1`, `R`, `X8`, `B`) and custom (`#,##0.00`, `0.###`, `(###) ###-####`,
 * `0.00E+00`, `#,##0,,` scaling, `%`, `‰`, `;` sections, quoted literals, `\` escapes), per the
 * .NET "Standard/Custom numeric format strings" documentation. Culture symbols come from
 * {@link Culture}; currency, percent and grouped layouts from Intl (ICU, as .NET on Linux).
 * Rounding works on the exact value (half away from zero), as .NET Core does.
 */
import type { CallSite } from './common.js';
import { fail } from './common.js';
import type { Culture } from './culture.js';
import { WdlDecimal } from '../decimal.js';
import { formatDouble } from '../values.js';
import { ExpressionErrorCode } from '../errors.js';

/** An exact non-negative decimal: `mant × 10^-scale`, plus the sign. */
interface Exact {
  neg: boolean;
  mant: bigint;
  scale: number;
}

function exactOf(v: number | bigint | WdlDecimal): Exact {
  if (typeof v === 'bigint') return { neg: v < 0n, mant: v < 0n ? -v : v, scale: 0 };
  if (v instanceof WdlDecimal)
    return { neg: v.mantissa < 0n, mant: v.mantissa < 0n ? -v.mantissa : v.mantissa, scale: v.scale };
  const neg = v < 0 || Object.is(v, -0);
  const a = Math.abs(v);
  if (Number.isInteger(a)) return { neg, mant: BigInt(a), scale: 0 };
  // exact binary expansion: a = m × 2^e
  const buf = new DataView(new ArrayBuffer(8));
  buf.setFloat64(0, a);
  const hi = buf.getUint32(0);
  const lo = buf.getUint32(4);
  const expBits = (hi >>> 20) & 0x7ff;
  let m = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let e: number;
  if (expBits === 0) e = -1074;
  else {
    m |= 1n << 52n;
    e = expBits - 1075;
  }
  if (e >= 0) return { neg, mant: m << BigInt(e), scale: 0 };
  return { neg, mant: m * 5n ** BigInt(-e), scale: -e };
}

/** Rounds to `scale` fractional digits, half away from zero. */
function roundTo(x: Exact, scale: number): Exact {
  if (x.scale <= scale) return { neg: x.neg, mant: x.mant * 10n ** BigInt(scale - x.scale), scale };
  const d = 10n ** BigInt(x.scale - scale);
  let q = x.mant / d;
  if ((x.mant % d) * 2n >= d) q += 1n;
  return { neg: x.neg, mant: q, scale };
}

/** Integer and fraction digit strings of an exact value (fraction has exactly `scale` digits). */
function split(x: Exact): { int: string; frac: string } {
  let s = x.mant.toString();
  if (x.scale === 0) return { int: s, frac: '' };
  if (s.length <= x.scale) s = '0'.repeat(x.scale - s.length + 1) + s;
  return { int: s.slice(0, s.length - x.scale), frac: s.slice(s.length - x.scale) };
}

function group(int: string, sep: string): string {
  let out = '';
  for (let i = 0; i < int.length; i++) {
    if (i > 0 && (int.length - i) % 3 === 0) out += sep;
    out += int[i];
  }
  return out;
}

function exactText(x: Exact): string {
  const { int, frac } = split(x);
  return (x.neg ? '-' : '') + int + (frac ? '.' + frac : '');
}

function isIntegral(v: number | bigint | WdlDecimal, isFloat: boolean): boolean {
  if (typeof v === 'bigint') return true;
  if (v instanceof WdlDecimal) return false;
  return Number.isInteger(v) && !isFloat;
}

/**
 * Currency symbols that differ between ICU (Node) and the documented runtime results:
 * `formatNumber(17.35, 'C2', 'is-IS')` is documented as `17,35 kr` (ICU writes `kr.`).
 */
const CURRENCY_SYMBOL_OVERRIDES: Record<string, string> = { 'is-IS': 'kr' };

function intlFormat(locale: string, options: Intl.NumberFormatOptions, x: Exact | number): string {
  const nf = new Intl.NumberFormat(locale, options);
  const value = typeof x === 'number' ? x : exactText(x);
  const parts = (nf.formatToParts as (v: string | number) => Intl.NumberFormatPart[])(value);
  const symbol = CURRENCY_SYMBOL_OVERRIDES[locale];
  // ICU writes no-break spaces where the documented .NET results show plain spaces
  return parts
    .map((p) => (p.type === 'currency' && symbol ? symbol : p.value.replace(/[\u00a0\u202f]/g, ' ')))
    .join('');
}

/** Significant-digit rounding: returns digits (no leading zeros) and the decimal exponent of the first digit. */
function significant(x: Exact, digits: number): { d: string; exp: number } {
  if (x.mant === 0n) return { d: '0', exp: 0 };
  const s = x.mant.toString();
  const exp = s.length - 1 - x.scale;
  const r = roundTo(x, digits - 1 - exp);
  let rs = r.mant.toString();
  let e2 = exp;
  if (rs.length > digits) {
    // rounding carried into a new digit (9.99 → 10.0)
    rs = rs.slice(0, digits);
    e2 += 1;
  }
  return { d: rs, exp: e2 };
}

function exponentText(exp: number, letter: string, minDigits: number, alwaysSign: boolean): string {
  const sign = exp < 0 ? '-' : alwaysSign ? '+' : '';
  return letter + sign + String(Math.abs(exp)).padStart(minDigits, '0');
}

function formatStandard(
  site: CallSite,
  v: number | bigint | WdlDecimal,
  letter: string,
  precisionText: string,
  c: Culture,
  isFloat: boolean,
): string {
  const p = precisionText === '' ? undefined : Number(precisionText);
  const x = exactOf(v);
  const upper = letter === letter.toUpperCase();
  const minus = c.minus;
  switch (letter.toUpperCase()) {
    case 'C': {
      if (!c.currency) {
        const r = roundTo(x, p ?? 2);
        const { int, frac } = split(r);
        return (r.neg && r.mant !== 0n ? minus : '') + '¤' + group(int, c.group) + (frac ? c.decimal + frac : '');
      }
      const base = new Intl.NumberFormat(c.intl, { style: 'currency', currency: c.currency }).resolvedOptions();
      const digits = p ?? base.maximumFractionDigits ?? 2;
      return intlFormat(
        c.intl,
        { style: 'currency', currency: c.currency, minimumFractionDigits: digits, maximumFractionDigits: digits },
        roundTo(x, digits),
      );
    }
    case 'D': {
      if (!isIntegral(v, isFloat)) fail(site, `the format '${letter}${precisionText}' is only valid for integers`);
      const digits = x.mant.toString().padStart(p ?? 0, '0');
      return (x.neg && x.mant !== 0n ? minus : '') + digits;
    }
    case 'E': {
      const digits = p ?? 6;
      const { d, exp } = significant(x, digits + 1);
      const mant = d.slice(0, 1) + (digits > 0 ? c.decimal + d.slice(1).padEnd(digits, '0') : '');
      return (x.neg && x.mant !== 0n ? minus : '') + mant + exponentText(exp, upper ? 'E' : 'e', 3, true);
    }
    case 'F':
    case 'N': {
      const digits = p ?? 2;
      const r = roundTo(x, digits);
      const { int, frac } = split(r);
      const body = (letter.toUpperCase() === 'N' ? group(int, c.group) : int) + (frac ? c.decimal + frac : '');
      return (r.neg && r.mant !== 0n ? minus : '') + body;
    }
    case 'P': {
      const digits = p ?? 2;
      const hundred: Exact = { neg: x.neg, mant: x.mant * 100n, scale: x.scale };
      const r = roundTo(hundred, digits);
      return intlFormat(
        c.intl,
        { style: 'percent', minimumFractionDigits: digits, maximumFractionDigits: digits },
        { neg: r.neg, mant: r.mant, scale: r.scale + 2 },
      );
    }
    case 'G':
    case 'R': {
      if (p === undefined || p === 0 || letter.toUpperCase() === 'R') {
        if (typeof v === 'bigint') return (v < 0n ? minus : '') + x.mant.toString();
        if (v instanceof WdlDecimal) return v.toString().replace('.', c.decimal).replace('-', minus);
        const t = Number.isSafeInteger(v) ? String(v) : formatDouble(v);
        return t
          .replace('.', c.decimal)
          .replace('-', minus)
          .replace('E', upper ? 'E' : 'e');
      }
      const { d, exp } = significant(x, p);
      const trimmed = d.replace(/0+$/, '') || '0';
      let body: string;
      if (exp >= p || exp < -5) {
        body =
          trimmed.slice(0, 1) +
          (trimmed.length > 1 ? c.decimal + trimmed.slice(1) : '') +
          exponentText(exp, upper ? 'E' : 'e', 2, true);
      } else if (exp >= 0) {
        const intPart = trimmed.slice(0, exp + 1).padEnd(exp + 1, '0');
        const fracPart = trimmed.slice(exp + 1);
        body = intPart + (fracPart ? c.decimal + fracPart : '');
      } else {
        body = '0' + c.decimal + '0'.repeat(-exp - 1) + trimmed;
      }
      return (x.neg && x.mant !== 0n ? minus : '') + body;
    }
    case 'X':
    case 'B': {
      if (!isIntegral(v, isFloat)) fail(site, `the format '${letter}${precisionText}' is only valid for integers`);
      let n = typeof v === 'bigint' ? v : BigInt(v as number);
      if (n < 0n) n = (1n << 64n) + n;
      let text = n.toString(letter.toUpperCase() === 'X' ? 16 : 2);
      if (letter === 'X') text = text.toUpperCase();
      return text.padStart(p ?? 0, '0');
    }
  }
  return fail(site, `the format '${letter}${precisionText}' is not a valid numeric format`);
}

// ----- custom formats --------------------------------------------------------------------------

interface Section {
  chars: string[];
}

function splitSections(format: string): Section[] {
  const sections: Section[] = [{ chars: [] }];
  let i = 0;
  while (i < format.length) {
    const ch = format[i] as string;
    const cur = sections[sections.length - 1] as Section;
    if (ch === '\\' && i + 1 < format.length) {
      cur.chars.push(ch + format[i + 1]);
      i += 2;
    } else if (ch === "'" || ch === '"') {
      const end = format.indexOf(ch, i + 1);
      const stop = end < 0 ? format.length : end + 1;
      cur.chars.push(format.slice(i, stop));
      i = stop;
    } else if (ch === ';') {
      sections.push({ chars: [] });
      i++;
    } else {
      cur.chars.push(ch);
      i++;
    }
  }
  return sections;
}

function literalOf(tok: string): string {
  if (tok.startsWith('\\')) return tok.slice(1);
  if (tok.startsWith("'") || tok.startsWith('"'))
    return tok.slice(1, tok.endsWith(tok[0] as string) && tok.length > 1 ? -1 : undefined);
  return tok;
}

function formatCustomSection(x: Exact, sec: Section, c: Culture, withSign: boolean): string {
  const toks = sec.chars;
  // analyse
  let pointIdx = -1;
  let expIdx = -1;
  let percent = 0;
  let permille = 0;
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i] as string;
    if (t === '0' || t === '#') continue;
    if (t === '.' && pointIdx < 0 && expIdx < 0) pointIdx = i;
    else if (
      (t === 'E' || t === 'e') &&
      expIdx < 0 &&
      (toks[i + 1] === '0' || ((toks[i + 1] === '+' || toks[i + 1] === '-') && toks[i + 2] === '0'))
    ) {
      expIdx = i;
    } else if (t === '%') percent++;
    else if (t === '‰') permille++;
  }
  const intEnd = pointIdx >= 0 ? pointIdx : expIdx >= 0 ? expIdx : toks.length;
  // grouping and scaling commas in the integer part
  let grouping = false;
  let scaleCommas = 0;
  for (let i = 0; i < intEnd; i++) {
    if (toks[i] !== ',') continue;
    let j = i + 1;
    while (j < intEnd && toks[j] === ',') j++;
    const phAfter = toks.slice(j, intEnd).some((t) => t === '0' || t === '#');
    const phBefore = toks.slice(0, i).some((t) => t === '0' || t === '#');
    if (phAfter && phBefore) grouping = true;
    else if (phBefore && !phAfter) scaleCommas += j - i;
    i = j - 1;
  }
  const intPh = toks.slice(0, intEnd).filter((t) => t === '0' || t === '#');
  const firstZero = intPh.indexOf('0');
  const minInt = firstZero < 0 ? 0 : intPh.length - firstZero;
  const fracEnd = expIdx >= 0 ? expIdx : toks.length;
  const fracPh = pointIdx >= 0 ? toks.slice(pointIdx + 1, fracEnd).filter((t) => t === '0' || t === '#') : [];
  const lastZeroFrac = fracPh.lastIndexOf('0');
  // scale the value
  let v: Exact = { ...x };
  const shift = percent * 2 + permille * 3 - scaleCommas * 3;
  if (shift > 0) v = { ...v, mant: v.mant * 10n ** BigInt(shift) };
  else if (shift < 0) v = { ...v, scale: v.scale - shift };
  let expText = '';
  if (expIdx >= 0) {
    let j = expIdx + 1;
    let alwaysSign = false;
    if (toks[j] === '+') {
      alwaysSign = true;
      j++;
    } else if (toks[j] === '-') j++;
    let expDigits = 0;
    while (toks[j] === '0') {
      expDigits++;
      j++;
    }
    const intDigits = Math.max(1, intPh.length);
    let exp = 0;
    if (v.mant !== 0n) {
      const sd = significant(v, intDigits + fracPh.length);
      exp = sd.exp - (intDigits - 1);
      v = { neg: v.neg, mant: BigInt(sd.d), scale: sd.d.length - 1 - sd.exp + exp };
    }
    expText =
      (toks[expIdx] as string) +
      (exp < 0 ? '-' : alwaysSign ? '+' : '') +
      String(Math.abs(exp)).padStart(expDigits, '0');
  }
  const r = roundTo(v, fracPh.length);
  let { int, frac } = split(r);
  int = int.replace(/^0+/, '');
  if (int.length < minInt) int = int.padStart(minInt, '0');
  // fraction: drop optional trailing zeros
  let keep = frac.length;
  while (keep > lastZeroFrac + 1 && frac[keep - 1] === '0') keep--;
  frac = frac.slice(0, keep);
  const isZero = r.mant === 0n;
  // emit integer part: distribute digits over placeholders right to left
  const intToks = toks.slice(0, intEnd);
  const phPositions = intToks.map((t, i) => (t === '0' || t === '#' ? i : -1)).filter((i) => i >= 0);
  const hasLiteralInside =
    phPositions.length > 0 &&
    intToks
      .slice(phPositions[0], (phPositions[phPositions.length - 1] as number) + 1)
      .some((t) => t !== '0' && t !== '#' && t !== ',');
  let out = '';
  if (!hasLiteralInside) {
    const digits = grouping ? group(int, c.group) : int;
    let emitted = false;
    for (let i = 0; i < intToks.length; i++) {
      const t = intToks[i] as string;
      if (t === '0' || t === '#') {
        if (!emitted) {
          out += digits;
          emitted = true;
        }
      } else if (t === ',') {
        // grouping / scaling marker
      } else out += literalFor(t, c);
    }
    if (!emitted && phPositions.length > 0) out += digits;
  } else {
    const assigned = new Map<number, string>();
    let d = int.length - 1;
    for (let k = phPositions.length - 1; k >= 0; k--) {
      const pos = phPositions[k] as number;
      if (k === 0) {
        assigned.set(pos, d >= 0 ? int.slice(0, d + 1) : intToks[pos] === '0' ? '0' : '');
      } else {
        assigned.set(pos, d >= 0 ? (int[d] as string) : intToks[pos] === '0' ? '0' : '');
        d--;
      }
    }
    for (let i = 0; i < intToks.length; i++) {
      const t = intToks[i] as string;
      if (t === '0' || t === '#') out += assigned.get(i) ?? '';
      else if (t !== ',') out += literalFor(t, c);
    }
  }
  if (pointIdx >= 0) {
    let fi = 0;
    let fracOut = '';
    for (let i = pointIdx + 1; i < fracEnd; i++) {
      const t = toks[i] as string;
      if (t === '0' || t === '#') {
        fracOut += frac[fi] ?? '';
        fi++;
      } else if (t !== ',') fracOut += literalFor(t, c);
    }
    if (frac.length > 0 || fracOut.length > 0) out += c.decimal + fracOut;
  }
  if (expIdx >= 0) {
    out += expText;
    let j = expIdx + 1;
    while (toks[j] === '+' || toks[j] === '-' || toks[j] === '0') j++;
    for (; j < toks.length; j++) out += literalFor(toks[j] as string, c);
  } else if (pointIdx >= 0) {
    // literals after the fraction were emitted in the loop above
  }
  return (withSign && r.neg && !isZero ? c.minus : '') + out;
}

function literalFor(t: string, _c: Culture): string {
  if (t === '%') return '%';
  if (t === '‰') return '‰';
  return literalOf(t);
}

function formatCustom(v: number | bigint | WdlDecimal, format: string, c: Culture): string {
  const sections = splitSections(format);
  const x = exactOf(v);
  const isZeroValue = x.mant === 0n;
  if (sections.length === 1) return formatCustomSection(x, sections[0] as Section, c, true);
  if (isZeroValue && sections.length >= 3 && (sections[2] as Section).chars.length > 0)
    return formatCustomSection({ ...x, neg: false }, sections[2] as Section, c, false);
  if (x.neg && (sections[1] as Section).chars.length > 0)
    return formatCustomSection({ ...x, neg: false }, sections[1] as Section, c, false);
  return formatCustomSection({ ...x, neg: x.neg }, sections[0] as Section, c, true);
}

/** Formats a number with a .NET numeric format string in a culture. */
export function formatNumberValue(
  site: CallSite,
  v: number | bigint | WdlDecimal,
  format: string,
  c: Culture,
  isFloat: boolean,
): string {
  if (typeof v === 'number' && !Number.isFinite(v))
    fail(site, `the value ${String(v)} is not a finite number`, ExpressionErrorCode.Overflow);
  const m = /^([A-Za-z])(\d{0,2})$/.exec(format);
  if (m) return formatStandard(site, v, m[1] as string, m[2] as string, c, isFloat);
  if (format.length === 0) return formatStandard(site, v, 'G', '', c, isFloat);
  return formatCustom(v, format, c);
}
