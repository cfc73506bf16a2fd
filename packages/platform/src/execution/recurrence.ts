/**
 * Recurrence triggers (wdl-spec §2 "Recurrence"): when a schedule fires. Pure: no clock, no I/O;
 * time zones come from Node's ICU through `offsetAt` of @patchbay/expression, Windows zone names
 * through its `WINDOWS_ZONES` (CLDR windowsZones).
 *
 * Rules (docs/operations.md, "Schedules"):
 * - `frequency` Second, Minute, Hour: occurrences are `origin + k × interval` in absolute time
 *   (`schedule` is ignored, as in Logic Apps). The origin is `startTime`, else the schedule's
 *   anchor (when Patchbay first saw the flow On).
 * - Day, Week, Month: calendar periods in the time zone (UTC when none), counted from the origin's
 *   day / week (weeks start on Monday) / month; in each period every listed day (Week `weekDays`,
 *   Month `monthDays` (negative counts from the month's end) and `monthlyOccurrences`), at every
 *   `hours` × `minutes` (missing hours/minutes: those of `startTime`, else 0; seconds: those of
 *   `startTime`, else 0). Without a schedule the time of day is the origin's.
 * - Never before the origin, never after `endTime`.
 * - `startTime` with `Z` or an offset is that instant; without, it is a wall-clock time in
 *   `timeZone`. A wall-clock time that does not exist (spring-forward gap) fires at the same
 *   instant one offset earlier (i.e. just after the gap); an ambiguous one (fall-back) fires once,
 *   at its first occurrence.
 */
import { invalid } from '@patchbay/core';
import { WINDOWS_ZONES, offsetAt } from '@patchbay/expression';

/** Recurrence frequencies. */
export type Frequency = 'Second' | 'Minute' | 'Hour' | 'Day' | 'Week' | 'Month';

/** A validated recurrence. */
export interface RecurrenceSpec {
  frequency: Frequency;
  interval: number;
  /** Start instant (epoch ms), when `startTime` was given. */
  startMs?: number;
  /** Wall-clock fields of `startTime` in the zone (hour, minute, second), when given. */
  startClock?: { hour: number; minute: number; second: number };
  endMs?: number;
  /** IANA zone (Windows names resolved); `UTC` when none. */
  zone: string;
  hours?: number[];
  minutes?: number[];
  /** 0 = Monday … 6 = Sunday. */
  weekDays?: number[];
  monthDays?: number[];
  monthlyOccurrences?: Array<{ day: number; occurrence: number }>;
}

const FREQUENCIES: Record<string, Frequency> = {
  second: 'Second',
  minute: 'Minute',
  hour: 'Hour',
  day: 'Day',
  week: 'Week',
  month: 'Month',
};
/** Interval ranges (wdl-spec §2). */
const MAX_INTERVAL: Record<Frequency, number> = {
  Second: 9_999_999,
  Minute: 72_000,
  Hour: 12_000,
  Day: 500,
  Week: 71,
  Month: 16,
};
const DAY_NAMES = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'];
const DAY_MS = 86_400_000;
const UNIT_MS: Partial<Record<Frequency, number>> = { Second: 1000, Minute: 60_000, Hour: 3_600_000 };

const windowsLower = new Map(Object.entries(WINDOWS_ZONES).map(([k, v]) => [k.toLowerCase(), v]));

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Resolves a Windows time zone id (case-insensitive, e.g. `W. Europe Standard Time`) or an IANA
 * name to an IANA zone; undefined when unknown.
 */
export function resolveTimeZone(name: string): string | undefined {
  const w = windowsLower.get(name.trim().toLowerCase());
  if (w) return w;
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: name.trim() }).resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
}

/** Converts a wall-clock time (given as if UTC, ms) in `zone` to the instant; see the module rules for gaps and overlaps. */
export function zonedToUtc(localMs: number, zone: string): number {
  const before = offsetAt(zone, localMs - DAY_MS);
  const after = offsetAt(zone, localMs + DAY_MS);
  let best: number | undefined;
  for (const off of before === after ? [before] : [before, after]) {
    const utc = localMs - off;
    if (offsetAt(zone, utc) === off && (best === undefined || utc < best)) best = utc;
  }
  return best ?? localMs - before;
}

/** The wall-clock time (as if UTC, ms) of an instant in `zone`. */
export function utcToZoned(utcMs: number, zone: string): number {
  return utcMs + offsetAt(zone, utcMs);
}

function intList(v: unknown, field: string, min: number, max: number): number[] | undefined {
  if (v === undefined || v === null) return undefined;
  const arr = Array.isArray(v) ? v : [v];
  if (arr.length === 0) return undefined;
  const out = arr.map((x) => {
    const n = typeof x === 'string' && x.trim() !== '' ? Number(x) : x;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max || (min < 0 && n === 0)) {
      throw invalid(
        'RECURRENCE_INVALID',
        `recurrence.schedule.${field} must hold integers from ${min} to ${max} (got ${JSON.stringify(x)})`,
        {
          field: `recurrence.schedule.${field}`,
        },
      );
    }
    return n;
  });
  return [...new Set(out)].sort((a, b) => a - b);
}

function dayIndex(v: unknown, field: string): number {
  const i = typeof v === 'string' ? DAY_NAMES.indexOf(v.trim().toLowerCase()) : -1;
  if (i < 0)
    throw invalid(
      'RECURRENCE_INVALID',
      `recurrence.schedule.${field} must name days Monday … Sunday (got ${JSON.stringify(v)})`,
      {
        field: `recurrence.schedule.${field}`,
      },
    );
  return i;
}

/** Parses an ISO 8601 date-time; `hasZone` when it carries `Z` or an offset. */
function parseDateTime(text: string, field: string): { wallMs: number; hasZone: boolean; offsetMs: number } {
  const m = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,7}))?)?(Z|[+-]\d{2}:?\d{2})?$/i.exec(
    text.trim(),
  );
  if (!m)
    throw invalid(
      'RECURRENCE_INVALID',
      `recurrence.${field} must be an ISO 8601 date and time such as 2024-01-31T09:00:00 (got ${text})`,
      {
        field: `recurrence.${field}`,
      },
    );
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  const ms = frac ? Math.floor(Number(`0.${frac}`) * 1000) : 0;
  const wallMs = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s ?? 0), ms);
  if (Number.isNaN(wallMs))
    throw invalid('RECURRENCE_INVALID', `recurrence.${field} is not a valid date (got ${text})`, {
      field: `recurrence.${field}`,
    });
  let offsetMs = 0;
  if (zone && zone.toUpperCase() !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    offsetMs = sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))) * 60_000;
  }
  return { wallMs, hasZone: zone !== undefined, offsetMs };
}

/**
 * Validates a Recurrence trigger definition (`{type: 'Recurrence', recurrence: {...}}`, or the
 * `recurrence` object itself) and returns its spec.
 *
 * @throws RECURRENCE_INVALID (invalid) naming the field.
 */
export function parseRecurrence(trigger: unknown): RecurrenceSpec {
  const r = isObject(trigger) && isObject(trigger.recurrence) ? trigger.recurrence : trigger;
  if (!isObject(r))
    throw invalid('RECURRENCE_INVALID', 'the trigger has no recurrence object', { field: 'recurrence' });
  const frequency = FREQUENCIES[String(r.frequency ?? '').toLowerCase()];
  if (!frequency)
    throw invalid(
      'RECURRENCE_INVALID',
      `recurrence.frequency must be Second, Minute, Hour, Day, Week or Month (got ${String(r.frequency)})`,
      {
        field: 'recurrence.frequency',
      },
    );
  const interval = r.interval === undefined ? 1 : Number(r.interval);
  if (!Number.isInteger(interval) || interval < 1 || interval > MAX_INTERVAL[frequency]) {
    throw invalid(
      'RECURRENCE_INVALID',
      `recurrence.interval must be an integer from 1 to ${MAX_INTERVAL[frequency]} for ${frequency} (got ${String(r.interval)})`,
      {
        field: 'recurrence.interval',
      },
    );
  }
  let zone = 'UTC';
  if (typeof r.timeZone === 'string' && r.timeZone.trim() !== '') {
    const z = resolveTimeZone(r.timeZone);
    if (!z)
      throw invalid(
        'RECURRENCE_INVALID',
        `recurrence.timeZone '${r.timeZone}' is not a Windows time zone id or an IANA zone`,
        {
          field: 'recurrence.timeZone',
        },
      );
    zone = z;
  }
  const spec: RecurrenceSpec = { frequency, interval, zone };
  const instant = (text: string, field: string): { ms: number; wallMs: number } => {
    const t = parseDateTime(text, field);
    if (t.hasZone) {
      const ms = t.wallMs - t.offsetMs;
      return { ms, wallMs: utcToZoned(ms, zone) };
    }
    return { ms: zonedToUtc(t.wallMs, zone), wallMs: t.wallMs };
  };
  if (typeof r.startTime === 'string' && r.startTime.trim() !== '') {
    const s = instant(r.startTime, 'startTime');
    spec.startMs = s.ms;
    const d = new Date(s.wallMs);
    spec.startClock = { hour: d.getUTCHours(), minute: d.getUTCMinutes(), second: d.getUTCSeconds() };
  }
  if (typeof r.endTime === 'string' && r.endTime.trim() !== '') spec.endMs = instant(r.endTime, 'endTime').ms;
  const sched = isObject(r.schedule) ? r.schedule : undefined;
  if (sched && (frequency === 'Day' || frequency === 'Week' || frequency === 'Month')) {
    const hours = intList(sched.hours, 'hours', 0, 23);
    const minutes = intList(sched.minutes, 'minutes', 0, 59);
    if (hours) spec.hours = hours;
    if (minutes) spec.minutes = minutes;
    if (frequency === 'Week' && sched.weekDays !== undefined && sched.weekDays !== null) {
      const days = (Array.isArray(sched.weekDays) ? sched.weekDays : [sched.weekDays]).map((d) =>
        dayIndex(d, 'weekDays'),
      );
      if (days.length > 0) spec.weekDays = [...new Set(days)].sort((a, b) => a - b);
    }
    if (frequency === 'Month') {
      const monthDays = intList(sched.monthDays, 'monthDays', -31, 31);
      if (monthDays) spec.monthDays = monthDays;
      if (Array.isArray(sched.monthlyOccurrences) && sched.monthlyOccurrences.length > 0) {
        spec.monthlyOccurrences = sched.monthlyOccurrences.map((o, i) => {
          const occ = isObject(o) ? Number(o.occurrence) : NaN;
          if (!Number.isInteger(occ) || occ === 0 || occ < -5 || occ > 5)
            throw invalid(
              'RECURRENCE_INVALID',
              `recurrence.schedule.monthlyOccurrences[${i}].occurrence must be 1 … 5 or -1 … -5`,
              {
                field: `recurrence.schedule.monthlyOccurrences[${i}]`,
              },
            );
          return { day: dayIndex(isObject(o) ? o.day : undefined, `monthlyOccurrences[${i}].day`), occurrence: occ };
        });
      }
    }
  }
  return spec;
}

/** Calendar helpers on wall-clock ms (as if UTC). */
function dayStart(wallMs: number): number {
  return Math.floor(wallMs / DAY_MS) * DAY_MS;
}
/** 0 = Monday … 6 = Sunday. */
function weekday(wallMs: number): number {
  return (new Date(wallMs).getUTCDay() + 6) % 7;
}
function monthIndex(wallMs: number): number {
  const d = new Date(wallMs);
  return d.getUTCFullYear() * 12 + d.getUTCMonth();
}
function daysInMonth(mIndex: number): number {
  return new Date(Date.UTC(Math.floor(mIndex / 12), (mIndex % 12) + 1, 0)).getUTCDate();
}
function monthDayMs(mIndex: number, day: number): number {
  return Date.UTC(Math.floor(mIndex / 12), mIndex % 12, day);
}

/** Occurrences of one recurrence, relative to an origin. */
export class Recurrence {
  private readonly origin: number;
  private readonly originWall: number;
  private readonly times: number[];

  /**
   * @param spec the parsed recurrence
   * @param anchorMs origin of recurrences without `startTime` (epoch ms): when the schedule started.
   */
  constructor(
    readonly spec: RecurrenceSpec,
    anchorMs: number,
  ) {
    this.origin = spec.startMs ?? anchorMs;
    this.originWall = utcToZoned(this.origin, spec.zone);
    const o = new Date(this.originWall);
    const clock = spec.startClock;
    const hours = spec.hours ?? [clock ? clock.hour : o.getUTCHours()];
    const minutes = spec.minutes ?? [clock ? clock.minute : spec.hours ? 0 : o.getUTCMinutes()];
    const second = clock?.second ?? (spec.hours || spec.minutes ? 0 : o.getUTCSeconds());
    const times: number[] = [];
    for (const h of hours) for (const m of minutes) times.push(((h * 60 + m) * 60 + second) * 1000);
    this.times = times.sort((a, b) => a - b);
  }

  private get periodMs(): number | undefined {
    const unit = UNIT_MS[this.spec.frequency];
    return unit === undefined ? undefined : unit * this.spec.interval;
  }

  private inRange(t: number): boolean {
    return t >= this.origin && (this.spec.endMs === undefined || t <= this.spec.endMs);
  }

  /** Wall-clock day starts (ms) of the days of period `p`, ascending. */
  private periodDays(p: number): number[] {
    const { frequency, interval } = this.spec;
    const originDay = dayStart(this.originWall);
    if (frequency === 'Day') return [originDay + p * interval * DAY_MS];
    if (frequency === 'Week') {
      const weekStart = originDay - weekday(this.originWall) * DAY_MS + p * interval * 7 * DAY_MS;
      const days = this.spec.weekDays ?? [weekday(this.originWall)];
      return days.map((d) => weekStart + d * DAY_MS);
    }
    const m = monthIndex(this.originWall) + p * interval;
    const len = daysInMonth(m);
    const out = new Set<number>();
    const monthDays =
      this.spec.monthDays ?? (this.spec.monthlyOccurrences ? [] : [new Date(this.originWall).getUTCDate()]);
    for (const d of monthDays) {
      const day = d > 0 ? d : len + 1 + d;
      if (day >= 1 && day <= len) out.add(monthDayMs(m, day));
    }
    for (const o of this.spec.monthlyOccurrences ?? []) {
      const first = monthDayMs(m, 1);
      const firstMatch = 1 + ((o.day - weekday(first) + 7) % 7);
      const matches: number[] = [];
      for (let d = firstMatch; d <= len; d += 7) matches.push(d);
      const day = o.occurrence > 0 ? matches[o.occurrence - 1] : matches[matches.length + o.occurrence];
      if (day !== undefined) out.add(monthDayMs(m, day));
    }
    return [...out].sort((a, b) => a - b);
  }

  /** Occurrence instants of period `p`, ascending (before range filtering). */
  private periodInstants(p: number): number[] {
    const out: number[] = [];
    for (const day of this.periodDays(p)) for (const t of this.times) out.push(zonedToUtc(day + t, this.spec.zone));
    return out.sort((a, b) => a - b);
  }

  /** Index of the calendar period holding wall-clock time `wallMs` (may be negative). */
  private periodOf(wallMs: number): number {
    const { frequency, interval } = this.spec;
    const originDay = dayStart(this.originWall);
    if (frequency === 'Day') return Math.floor((dayStart(wallMs) - originDay) / DAY_MS / interval);
    if (frequency === 'Week') {
      const ws = (x: number): number => dayStart(x) - weekday(x) * DAY_MS;
      return Math.floor((ws(wallMs) - ws(this.originWall)) / (7 * DAY_MS) / interval);
    }
    return Math.floor((monthIndex(wallMs) - monthIndex(this.originWall)) / interval);
  }

  /** The first occurrence strictly after `afterMs`, or undefined when there is none (ended). */
  next(afterMs: number): number | undefined {
    const period = this.periodMs;
    let t: number | undefined;
    if (period !== undefined) {
      t =
        afterMs < this.origin ? this.origin : this.origin + (Math.floor((afterMs - this.origin) / period) + 1) * period;
    } else {
      // One period before covers occurrences whose local day differs from the instant's.
      const start = Math.max(0, this.periodOf(utcToZoned(Math.max(afterMs, this.origin), this.spec.zone)) - 1);
      for (let p = start; p < start + 2000 && t === undefined; p++) {
        t = this.periodInstants(p).find((x) => x > afterMs && x >= this.origin);
      }
    }
    return t !== undefined && this.inRange(t) ? t : undefined;
  }

  /** The last occurrence at or before `atMs`, or undefined when none is. */
  latest(atMs: number): number | undefined {
    const limit = this.spec.endMs !== undefined ? Math.min(atMs, this.spec.endMs) : atMs;
    if (limit < this.origin) return undefined;
    const period = this.periodMs;
    if (period !== undefined) return this.origin + Math.floor((limit - this.origin) / period) * period;
    const start = this.periodOf(utcToZoned(limit, this.spec.zone)) + 1;
    for (let p = start; p >= 0 && p > start - 2000; p--) {
      const hit = this.periodInstants(p)
        .filter((x) => x <= limit && x >= this.origin)
        .pop();
      if (hit !== undefined) return hit;
    }
    return undefined;
  }
}
