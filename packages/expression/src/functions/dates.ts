/**
 * Date and time functions (wdl-spec §6 "Date and time"). Timestamps are strings (ISO 8601 or
 * en-US text); results are strings in the `o` format (`yyyy-MM-ddTHH:mm:ss.fffffffK`, `Z` only
 * for UTC input) unless a format is given. The current time comes from `ctx.nowTicks()` when the context has it (exact to 100 ns), else `ctx.now()`.
 */
import type { CallSite, FunctionDef } from './common.js';
import type { ExpressionContext } from '../contract.js';
import { argInt, argNumber, argString, fail, optString } from './common.js';
import { resolveCulture, DEFAULT_CULTURE } from './culture.js';
import {
  addMonths,
  argTimestamp,
  checked,
  siteFormat,
  daysFromCivil,
  fieldsOf,
  formatDateTimeValue,
  formatRoundTrip,
  formatWith,
  fromEpochMs,
  fromTicks,
  MS_PER_DAY,
  parseExact,
  parseTimestamp,
  ticksOf,
  type DateTimeValue,
} from './datetime.js';
import { localToUtc, offsetAt, resolveZone } from './timezones.js';
import { ExpressionErrorCode } from '../errors.js';

/** Formats a result with an optional format argument at `i` (default `o`). Precompiles constant formats. */
function output(site: CallSite, v: DateTimeValue, args: unknown[], i: number): string {
  const format = optString(site, args, i);
  if (format === undefined) return formatRoundTrip(v);
  return formatDateTimeValue(site, v, format, DEFAULT_CULTURE);
}

function addMs(site: CallSite, v: DateTimeValue, deltaMs: number): DateTimeValue {
  return checked(site, { ms: v.ms + deltaMs, frac: v.frac, kind: v.kind });
}

function addUnits(site: CallSite, v: DateTimeValue, interval: number, unit: string): DateTimeValue {
  switch (unit.toLowerCase()) {
    case 'second':
      return addMs(site, v, interval * 1000);
    case 'minute':
      return addMs(site, v, interval * 60_000);
    case 'hour':
      return addMs(site, v, interval * 3_600_000);
    case 'day':
      return addMs(site, v, interval * MS_PER_DAY);
    case 'week':
      return addMs(site, v, interval * 7 * MS_PER_DAY);
    case 'month':
      return checked(site, addMonths(v, interval));
    case 'year':
      return checked(site, addMonths(v, interval * 12));
    default:
      return fail(site, `the time unit '${unit}' is not valid; use Second, Minute, Hour, Day, Week, Month or Year`);
  }
}

/** The amount argument of addDays/addHours/…: integers, or floats (rounded to the millisecond like .NET). */
function amount(site: CallSite, args: unknown[], i: number): number {
  const v = args[i];
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  return argNumber(site, args, i);
}

function addFn(name: string, unitMs: number): FunctionDef {
  return {
    name,
    group: 'date',
    min: 2,
    max: 3,
    pure: true,
    impl: (args, site) => {
      const v = argTimestamp(site, args[0], 0);
      return output(site, addMs(site, v, Math.round(amount(site, args, 1) * unitMs)), args, 2);
    },
  };
}

/** The context's clock: exact ticks when the context has `nowTicks()`, else `now()` in epoch ms. */
function now(site: CallSite, ctx: ExpressionContext): DateTimeValue {
  if (typeof ctx.nowTicks === 'function') {
    const t = ctx.nowTicks();
    if (typeof t !== 'bigint') fail(site, 'the context returned a clock that is not a bigint of ticks');
    return checked(site, fromTicks(t));
  }
  return checked(site, fromEpochMs(ctx.now(), 'utc'));
}

function zoneArg(site: CallSite, args: unknown[], i: number): string {
  return resolveZone(site, argString(site, args, i));
}

/** The TimeSpan text of `ticks` (.NET `TimeSpan.ToString()` "c": `[-][d.]hh:mm:ss[.fffffff]`). */
export function timeSpanText(ticks: bigint): string {
  const neg = ticks < 0n;
  let t = neg ? -ticks : ticks;
  const frac = t % 10_000_000n;
  t /= 10_000_000n;
  const s = t % 60n;
  t /= 60n;
  const m = t % 60n;
  t /= 60n;
  const h = t % 24n;
  const d = t / 24n;
  const p2 = (x: bigint): string => x.toString().padStart(2, '0');
  return `${neg ? '-' : ''}${d > 0n ? `${d}.` : ''}${p2(h)}:${p2(m)}:${p2(s)}${frac > 0n ? '.' + frac.toString().padStart(7, '0') : ''}`;
}

export const dateFunctions: FunctionDef[] = [
  addFn('addDays', MS_PER_DAY),
  addFn('addHours', 3_600_000),
  addFn('addMinutes', 60_000),
  addFn('addSeconds', 1000),
  {
    name: 'addToTime',
    group: 'date',
    min: 3,
    max: 4,
    pure: true,
    impl: (args, site) =>
      output(
        site,
        addUnits(site, argTimestamp(site, args[0], 0), argInt(site, args, 1), argString(site, args, 2)),
        args,
        3,
      ),
  },
  {
    name: 'subtractFromTime',
    group: 'date',
    min: 3,
    max: 4,
    pure: true,
    impl: (args, site) =>
      output(
        site,
        addUnits(site, argTimestamp(site, args[0], 0), -argInt(site, args, 1), argString(site, args, 2)),
        args,
        3,
      ),
  },
  {
    name: 'getFutureTime',
    group: 'date',
    min: 2,
    max: 3,
    impl: (args, site, ctx) =>
      output(site, addUnits(site, now(site, ctx), argInt(site, args, 0), argString(site, args, 1)), args, 2),
  },
  {
    name: 'getPastTime',
    group: 'date',
    min: 2,
    max: 3,
    impl: (args, site, ctx) =>
      output(site, addUnits(site, now(site, ctx), -argInt(site, args, 0), argString(site, args, 1)), args, 2),
  },
  {
    name: 'utcNow',
    group: 'date',
    min: 0,
    max: 1,
    impl: (args, site, ctx) => output(site, now(site, ctx), args, 0),
  },
  {
    name: 'startOfDay',
    group: 'date',
    min: 1,
    max: 2,
    pure: true,
    impl: (args, site) => {
      const v = argTimestamp(site, args[0], 0);
      return output(site, { ms: Math.floor(v.ms / MS_PER_DAY) * MS_PER_DAY, frac: 0, kind: v.kind }, args, 1);
    },
  },
  {
    name: 'startOfHour',
    group: 'date',
    min: 1,
    max: 2,
    pure: true,
    impl: (args, site) => {
      const v = argTimestamp(site, args[0], 0);
      return output(site, { ms: Math.floor(v.ms / 3_600_000) * 3_600_000, frac: 0, kind: v.kind }, args, 1);
    },
  },
  {
    name: 'startOfMonth',
    group: 'date',
    min: 1,
    max: 2,
    pure: true,
    impl: (args, site) => {
      const v = argTimestamp(site, args[0], 0);
      const x = fieldsOf(v);
      const dayStart = Math.floor(v.ms / MS_PER_DAY) * MS_PER_DAY;
      return output(site, { ms: dayStart - (x.d - 1) * MS_PER_DAY, frac: 0, kind: v.kind }, args, 1);
    },
  },
  {
    name: 'dayOfMonth',
    group: 'date',
    min: 1,
    max: 1,
    pure: true,
    impl: (args, site) => fieldsOf(argTimestamp(site, args[0], 0)).d,
  },
  {
    name: 'dayOfWeek',
    group: 'date',
    min: 1,
    max: 1,
    pure: true,
    impl: (args, site) => fieldsOf(argTimestamp(site, args[0], 0)).dow,
  },
  {
    name: 'dayOfYear',
    group: 'date',
    min: 1,
    max: 1,
    pure: true,
    impl: (args, site) => {
      const v = argTimestamp(site, args[0], 0);
      const x = fieldsOf(v);
      return Math.floor(v.ms / MS_PER_DAY) - daysFromCivil(x.y, 1, 1) + 1;
    },
  },
  {
    name: 'formatDateTime',
    group: 'date',
    min: 1,
    max: 3,
    pure: true,
    impl: (args, site) => {
      const v = argTimestamp(site, args[0], 0);
      const format = optString(site, args, 1);
      const locale = optString(site, args, 2);
      const culture = locale === undefined ? DEFAULT_CULTURE : resolveCulture(site, locale);
      if (format === undefined) return formatRoundTrip(v);
      return formatWith(v, siteFormat(site, format, culture));
    },
  },
  {
    name: 'parseDateTime',
    group: 'date',
    min: 1,
    max: 3,
    pure: true,
    impl: (args, site) => {
      const text = argString(site, args, 0);
      const locale = optString(site, args, 1);
      const format = optString(site, args, 2);
      const culture = locale === undefined ? DEFAULT_CULTURE : resolveCulture(site, locale);
      const v = format === undefined ? parseTimestamp(text, culture) : parseExact(site, text, format, culture);
      if (!v)
        fail(
          site,
          `the string '${text}' could not be parsed as a timestamp${format === undefined ? '' : ` with the format '${format}'`} in the culture '${culture.name || 'invariant'}'`,
        );
      return formatRoundTrip(v);
    },
  },
  {
    name: 'convertTimeZone',
    group: 'date',
    min: 3,
    max: 4,
    pure: true,
    impl: (args, site) => {
      const v = argTimestamp(site, args[0], 0);
      const src = zoneArg(site, args, 1);
      const dst = zoneArg(site, args, 2);
      const utc = localToUtc(site, src, v.ms);
      return output(site, checked(site, { ms: utc + offsetAt(dst, utc), frac: v.frac, kind: 'unspecified' }), args, 3);
    },
  },
  {
    name: 'convertFromUtc',
    group: 'date',
    min: 2,
    max: 3,
    pure: true,
    impl: (args, site) => {
      const v = argTimestamp(site, args[0], 0);
      const dst = zoneArg(site, args, 1);
      return output(
        site,
        checked(site, { ms: v.ms + offsetAt(dst, v.ms), frac: v.frac, kind: 'unspecified' }),
        args,
        2,
      );
    },
  },
  {
    name: 'convertToUtc',
    group: 'date',
    min: 2,
    max: 3,
    pure: true,
    impl: (args, site) => {
      const v = argTimestamp(site, args[0], 0);
      const src = zoneArg(site, args, 1);
      return output(site, checked(site, { ms: localToUtc(site, src, v.ms), frac: v.frac, kind: 'utc' }), args, 2);
    },
  },
  {
    name: 'dateDifference',
    group: 'date',
    min: 2,
    max: 2,
    pure: true,
    impl: (args, site) =>
      timeSpanText(ticksOf(argTimestamp(site, args[1], 1)) - ticksOf(argTimestamp(site, args[0], 0))),
  },
  {
    name: 'ticks',
    group: 'date',
    min: 1,
    max: 1,
    pure: true,
    impl: (args, site) => {
      const t = ticksOf(argTimestamp(site, args[0], 0));
      return t <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(t) : t;
    },
  },
];

export { ExpressionErrorCode };
