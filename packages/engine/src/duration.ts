/**
 * ISO 8601 durations (`PnYnMnWnDTnHnMnS`, e.g. `PT10S`, `PT1H`, `P1D`) as used by action
 * timeouts, retry intervals, Until limits and Delay. Source: wdl-spec.md §4 (Timeouts).
 */
import { invalid } from '@patchbay/core';

const DURATION =
  /^(-)?P(?:(\d+(?:[.,]\d+)?)Y)?(?:(\d+(?:[.,]\d+)?)M)?(?:(\d+(?:[.,]\d+)?)W)?(?:(\d+(?:[.,]\d+)?)D)?(?:T(?:(\d+(?:[.,]\d+)?)H)?(?:(\d+(?:[.,]\d+)?)M)?(?:(\d+(?:[.,]\d+)?)S)?)?$/i;

/** Milliseconds per unit; months and years use 30 and 365 days (only `addDuration` is calendar-exact). */
const MS = {
  Y: 365 * 86_400_000,
  M: 30 * 86_400_000,
  W: 7 * 86_400_000,
  D: 86_400_000,
  h: 3_600_000,
  m: 60_000,
  s: 1000,
};

/**
 * Parses an ISO 8601 duration into milliseconds (years = 365 days, months = 30 days).
 * Throws `INVALID_DURATION` (invalid) for anything else; `field` names the place in the definition.
 */
export function parseDuration(text: unknown, field = 'duration'): number {
  if (typeof text !== 'string')
    throw invalid('INVALID_DURATION', `${field} must be an ISO 8601 duration such as PT10S`, { field, value: text });
  const m = DURATION.exec(text.trim());
  if (!m || text.trim() === 'P' || /T$/i.test(text.trim())) {
    throw invalid('INVALID_DURATION', `${field}: '${text}' is not an ISO 8601 duration such as PT10S`, {
      field,
      value: text,
    });
  }
  const n = (i: number): number => (m[i] ? Number(m[i]!.replace(',', '.')) : 0);
  const ms = n(2) * MS.Y + n(3) * MS.M + n(4) * MS.W + n(5) * MS.D + n(6) * MS.h + n(7) * MS.m + n(8) * MS.s;
  return Math.round(m[1] ? -ms : ms);
}

/** Units of Wait/Delay `interval.unit` (and `addToTime`). */
export type TimeUnit = 'Second' | 'Minute' | 'Hour' | 'Day' | 'Week' | 'Month' | 'Year';

/**
 * Adds `count` units to an instant (epoch ms), calendar-exact for months and years (UTC; the day
 * of month is clamped, e.g. Jan 31 + 1 month = Feb 28/29). Throws `INVALID_TIME_UNIT` for other units.
 */
export function addUnits(epochMs: number, count: number, unit: string): number {
  const u = unit.toLowerCase();
  switch (u) {
    case 'second':
      return epochMs + count * 1000;
    case 'minute':
      return epochMs + count * 60_000;
    case 'hour':
      return epochMs + count * 3_600_000;
    case 'day':
      return epochMs + count * 86_400_000;
    case 'week':
      return epochMs + count * 7 * 86_400_000;
    case 'month':
    case 'year': {
      const d = new Date(epochMs);
      const months = u === 'month' ? count : count * 12;
      const y = d.getUTCFullYear();
      const target = d.getUTCMonth() + months;
      const ty = y + Math.floor(target / 12);
      const tm = ((target % 12) + 12) % 12;
      const lastDay = new Date(Date.UTC(ty, tm + 1, 0)).getUTCDate();
      const day = Math.min(d.getUTCDate(), lastDay);
      return Date.UTC(ty, tm, day, d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds(), d.getUTCMilliseconds());
    }
    default:
      throw invalid(
        'INVALID_TIME_UNIT',
        `'${unit}' is not a time unit (Second, Minute, Hour, Day, Week, Month, Year)`,
        { unit },
      );
  }
}
