/**
 * Culture data (the .NET `CultureInfo` the Logic Apps runtime uses for `formatDateTime`,
 * `parseDateTime`, `formatNumber`, `float`, `isFloat`): month and day names, date/time patterns,
 * number symbols and currency. `en-US` (the documented default) is written out to match .NET
 * exactly; other cultures are derived from the ICU data of Node's `Intl`.
 */
import type { CallSite } from './common.js';
import { fail } from './common.js';

/** Culture data used by the formatting and parsing functions. */
export interface Culture {
  /** Canonical BCP 47 tag (`en-US`), or `''` for the invariant culture. */
  name: string;
  /** Tag passed to Intl (`en-US` for the invariant culture). */
  intl: string;
  monthNames: string[];
  monthGenitive: string[];
  monthAbbr: string[];
  dayNames: string[];
  dayAbbr: string[];
  am: string;
  pm: string;
  /** .NET custom patterns of the standard formats d, D, t, T, M, Y. */
  shortDate: string;
  longDate: string;
  shortTime: string;
  longTime: string;
  monthDay: string;
  yearMonth: string;
  dateSeparator: string;
  timeSeparator: string;
  /** Order of day, month and year in numeric dates (for parsing). */
  dateOrder: 'MDY' | 'DMY' | 'YMD';
  decimal: string;
  group: string;
  minus: string;
  /** ISO 4217 code of the culture's currency (undefined for the invariant culture). */
  currency?: string;
}

const EN_US: Culture = {
  name: 'en-US',
  intl: 'en-US',
  monthNames: [
    'January',
    'February',
    'March',
    'April',
    'May',
    'June',
    'July',
    'August',
    'September',
    'October',
    'November',
    'December',
  ],
  monthGenitive: [
    'January',
    'February',
    'March',
    'April',
    'May',
    'June',
    'July',
    'August',
    'September',
    'October',
    'November',
    'December',
  ],
  monthAbbr: ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'],
  dayNames: ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'],
  dayAbbr: ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'],
  am: 'AM',
  pm: 'PM',
  shortDate: 'M/d/yyyy',
  longDate: 'dddd, MMMM d, yyyy',
  shortTime: 'h:mm tt',
  longTime: 'h:mm:ss tt',
  monthDay: 'MMMM d',
  yearMonth: 'MMMM yyyy',
  dateSeparator: '/',
  timeSeparator: ':',
  dateOrder: 'MDY',
  decimal: '.',
  group: ',',
  minus: '-',
  currency: 'USD',
};

/** The invariant culture (.NET `CultureInfo.InvariantCulture`). */
export const INVARIANT: Culture = {
  ...EN_US,
  name: '',
  shortDate: 'MM/dd/yyyy',
  longDate: 'dddd, dd MMMM yyyy',
  shortTime: 'HH:mm',
  longTime: 'HH:mm:ss',
  monthDay: 'MMMM dd',
  yearMonth: 'yyyy MMMM',
  currency: undefined,
};

/** The default culture of the date and number functions (docs: "If unspecified, the value is en-us"). */
export const DEFAULT_CULTURE = EN_US;

/** Currency of a region (ISO 3166 → ISO 4217), for `formatNumber(x, 'C')`. Common regions only; others fall back to the region's Intl data or USD. */
const REGION_CURRENCY: Record<string, string> = {
  US: 'USD',
  GB: 'GBP',
  IE: 'EUR',
  FR: 'EUR',
  DE: 'EUR',
  ES: 'EUR',
  IT: 'EUR',
  NL: 'EUR',
  BE: 'EUR',
  AT: 'EUR',
  PT: 'EUR',
  FI: 'EUR',
  GR: 'EUR',
  LU: 'EUR',
  SK: 'EUR',
  SI: 'EUR',
  EE: 'EUR',
  LV: 'EUR',
  LT: 'EUR',
  MT: 'EUR',
  CY: 'EUR',
  HR: 'EUR',
  IS: 'ISK',
  NO: 'NOK',
  SE: 'SEK',
  DK: 'DKK',
  CH: 'CHF',
  LI: 'CHF',
  PL: 'PLN',
  CZ: 'CZK',
  HU: 'HUF',
  RO: 'RON',
  BG: 'BGN',
  RU: 'RUB',
  UA: 'UAH',
  TR: 'TRY',
  IL: 'ILS',
  SA: 'SAR',
  AE: 'AED',
  EG: 'EGP',
  ZA: 'ZAR',
  NG: 'NGN',
  KE: 'KES',
  MA: 'MAD',
  IN: 'INR',
  PK: 'PKR',
  CN: 'CNY',
  HK: 'HKD',
  TW: 'TWD',
  JP: 'JPY',
  KR: 'KRW',
  SG: 'SGD',
  MY: 'MYR',
  TH: 'THB',
  ID: 'IDR',
  PH: 'PHP',
  VN: 'VND',
  AU: 'AUD',
  NZ: 'NZD',
  CA: 'CAD',
  MX: 'MXN',
  BR: 'BRL',
  AR: 'ARS',
  CL: 'CLP',
  CO: 'COP',
  PE: 'PEN',
};

const cultures = new Map<string, Culture>();
cultures.set('en-us', EN_US);
cultures.set('', INVARIANT);

const JAN_5_2018 = Date.UTC(2018, 0, 5, 9, 4, 7);

function fmtParts(locale: string, options: Intl.DateTimeFormatOptions, ms: number): Intl.DateTimeFormatPart[] {
  return new Intl.DateTimeFormat(locale, { timeZone: 'UTC', ...options }).formatToParts(new Date(ms));
}

function clean(s: string): string {
  return s.replace(/[\u202f\u00a0]/g, ' ');
}

function quote(literal: string): string {
  return literal.length === 0 ? '' : "'" + clean(literal).replaceAll("'", "''") + "'";
}

/** Converts Intl parts of a sample date (Friday 5 Jan 2018, 09:04:07) to a .NET custom pattern. */
function partsToPattern(parts: Intl.DateTimeFormatPart[]): string {
  const twelveHour = parts.some((x) => x.type === 'dayPeriod');
  let p = '';
  for (const part of parts) {
    switch (part.type) {
      case 'year':
        p += 'yyyy';
        break;
      case 'month':
        p += /^\d+$/.test(part.value) ? (part.value.length === 2 ? 'MM' : 'M') : 'MMMM';
        break;
      case 'day':
        p += part.value.length === 2 ? 'dd' : 'd';
        break;
      case 'weekday':
        p += 'dddd';
        break;
      case 'hour':
        p += (twelveHour ? 'h' : 'H').repeat(part.value.length === 2 ? 2 : 1);
        break;
      case 'minute':
        p += 'mm';
        break;
      case 'second':
        p += 'ss';
        break;
      case 'dayPeriod':
        p += 'tt';
        break;
      case 'literal':
        p += quote(part.value);
        break;
      default:
        p += quote(part.value);
    }
  }
  return p;
}

function names(
  locale: string,
  options: Intl.DateTimeFormatOptions,
  dates: number[],
  type: Intl.DateTimeFormatPartTypes,
): string[] {
  return dates.map((ms) => clean(fmtParts(locale, options, ms).find((p) => p.type === type)?.value ?? ''));
}

function buildCulture(tag: string): Culture {
  const months = Array.from({ length: 12 }, (_, i) => Date.UTC(2018, i, 15));
  const days = Array.from({ length: 7 }, (_, i) => Date.UTC(2018, 0, 7 + i)); // 7 Jan 2018 is a Sunday
  const monthNames = names(tag, { month: 'long' }, months, 'month');
  const monthGenitive = names(tag, { month: 'long', day: 'numeric' }, months, 'month');
  const monthAbbr = names(tag, { month: 'short' }, months, 'month');
  const dayNames = names(tag, { weekday: 'long' }, days, 'weekday');
  const dayAbbr = names(tag, { weekday: 'short' }, days, 'weekday');
  const am = clean(
    fmtParts(tag, { hour: 'numeric', hour12: true }, Date.UTC(2018, 0, 5, 1)).find((p) => p.type === 'dayPeriod')
      ?.value ?? 'AM',
  );
  const pm = clean(
    fmtParts(tag, { hour: 'numeric', hour12: true }, Date.UTC(2018, 0, 5, 13)).find((p) => p.type === 'dayPeriod')
      ?.value ?? 'PM',
  );
  const numericDate = fmtParts(tag, { year: 'numeric', month: 'numeric', day: 'numeric' }, JAN_5_2018);
  const order = numericDate
    .filter((p) => p.type === 'day' || p.type === 'month' || p.type === 'year')
    .map((p) => (p.type === 'day' ? 'D' : p.type === 'month' ? 'M' : 'Y'))
    .join('');
  const dateOrder: Culture['dateOrder'] = order === 'DMY' ? 'DMY' : order.startsWith('Y') ? 'YMD' : 'MDY';
  const sep = clean(numericDate.find((p) => p.type === 'literal')?.value ?? '/');
  const shortTimeParts = fmtParts(tag, { timeStyle: 'short' }, JAN_5_2018);
  const timeSep = clean(shortTimeParts.find((p) => p.type === 'literal')?.value ?? ':');
  const num = new Intl.NumberFormat(tag).formatToParts(-1234567.5);
  const region = new Intl.Locale(tag).maximize().region;
  return {
    name: tag,
    intl: tag,
    monthNames,
    monthGenitive,
    monthAbbr,
    dayNames,
    dayAbbr,
    am,
    pm,
    shortDate: partsToPattern(numericDate),
    longDate: partsToPattern(fmtParts(tag, { dateStyle: 'full' }, JAN_5_2018)),
    shortTime: partsToPattern(shortTimeParts),
    longTime: partsToPattern(fmtParts(tag, { timeStyle: 'medium' }, JAN_5_2018)),
    monthDay: partsToPattern(fmtParts(tag, { month: 'long', day: 'numeric' }, JAN_5_2018)),
    yearMonth: partsToPattern(fmtParts(tag, { month: 'long', year: 'numeric' }, JAN_5_2018)),
    dateSeparator: sep.trim() || sep,
    timeSeparator: timeSep.trim() || ':',
    dateOrder,
    decimal: num.find((p) => p.type === 'decimal')?.value ?? '.',
    group: clean(num.find((p) => p.type === 'group')?.value ?? ','),
    minus: num.find((p) => p.type === 'minusSign')?.value ?? '-',
    currency: (region && REGION_CURRENCY[region]) ?? 'USD',
  };
}

/**
 * Resolves a locale argument (`en-us`, `fr-FR`, `is-IS`) to culture data. Undefined → the
 * default culture (en-US); `''` → invariant. An invalid or unknown locale is an error, as in
 * the runtime ("the provided locale isn't valid").
 */
export function resolveCulture(site: CallSite, locale: string | undefined): Culture {
  if (locale === undefined) return DEFAULT_CULTURE;
  const key = locale.toLowerCase();
  const hit = cultures.get(key);
  if (hit) return hit;
  let tag: string | undefined;
  try {
    tag = Intl.getCanonicalLocales(locale)[0];
  } catch {
    tag = undefined;
  }
  if (
    !tag ||
    Intl.DateTimeFormat.supportedLocalesOf([tag]).length === 0 ||
    !new Intl.Locale(tag).language ||
    tag.length < 2
  ) {
    return fail(site, `the provided locale '${locale}' isn't valid or doesn't have an associated culture`);
  }
  const culture = buildCulture(tag);
  if (cultures.size > 500) cultures.clear();
  cultures.set(key, culture);
  return culture;
}
