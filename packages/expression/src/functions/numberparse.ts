/**
 * Lenient number parsing in the manner of .NET `double.Parse(s, NumberStyles.Any, culture)`,
 * which the runtime's `float()` and `isFloat()` use: white space around, a leading or trailing
 * sign or parentheses, group separators anywhere in the integer digits, a leading decimal point,
 * an exponent. Documented oddities hold: `float('12,3,4,5678')` = 12345678,
 * `float('1234567,8+')` = 12345678, `float('12345678.-')` = -12345678.
 */
import type { Culture } from './culture.js';

const SPACE_GROUPS = new Set([' ', '\u00a0', '\u202f']);

/** Parses `text`; returns undefined when it is not a number. `culture` undefined = invariant. */
export function parseDotNetNumber(text: string, culture?: Culture): number | undefined {
  const dec = culture?.decimal ?? '.';
  const group = culture?.group ?? ',';
  const isGroup = (ch: string): boolean => ch === group || (SPACE_GROUPS.has(group) && SPACE_GROUPS.has(ch));
  let s = text.trim();
  if (s.length === 0) return undefined;
  let negative = false;
  let signSeen = false;
  if (s.startsWith('(') && s.endsWith(')')) {
    negative = true;
    signSeen = true;
    s = s.slice(1, -1).trim();
  }
  const first = s[0];
  if (!signSeen && (first === '+' || first === '-' || first === '\u2212')) {
    negative = first !== '+';
    signSeen = true;
    s = s.slice(1).trimStart();
  }
  const last = s[s.length - 1];
  if (!signSeen && (last === '+' || last === '-' || last === '\u2212')) {
    negative = last !== '+';
    signSeen = true;
    s = s.slice(0, -1).trimEnd();
  }
  let intDigits = '';
  let fracDigits = '';
  let i = 0;
  let sawDigit = false;
  while (i < s.length) {
    const ch = s[i] as string;
    if (ch >= '0' && ch <= '9') {
      intDigits += ch;
      sawDigit = true;
      i++;
    } else if (sawDigit && isGroup(ch) && ch !== dec) {
      i++;
    } else break;
  }
  if (s.startsWith(dec, i)) {
    i += dec.length;
    while (i < s.length && (s[i] as string) >= '0' && (s[i] as string) <= '9') fracDigits += s[i++];
  }
  if (intDigits.length === 0 && fracDigits.length === 0) return undefined;
  let exp = '';
  if (i < s.length && (s[i] === 'e' || s[i] === 'E')) {
    let j = i + 1;
    if (s[j] === '+' || s[j] === '-') j++;
    const start = j;
    while (j < s.length && (s[j] as string) >= '0' && (s[j] as string) <= '9') j++;
    if (j === start) return undefined;
    exp = s.slice(i, j);
    i = j;
  }
  if (i !== s.length) return undefined;
  const v = Number(`${intDigits || '0'}.${fracDigits || '0'}${exp}`);
  return negative ? -v : v;
}
