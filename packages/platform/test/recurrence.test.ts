/**
 * Recurrence occurrences (issue 9 item 3): frequencies, intervals, start times with and without
 * an offset, Windows and IANA time zones across daylight saving changes, schedule hours, minutes,
 * week days, month days and monthly occurrences, end times; invalid recurrences are refused with
 * the field named. The Week example is the corpus flow "Is it Patch Tuesday".
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseRecurrence, Recurrence, recurrenceTrigger, resolveTimeZone } from '@patchbay/platform';
import { CORPUS_DIR } from '../../../test-support/shared.js';

const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());
const t = (s: string) => Date.parse(s);

/** The first `n` occurrences strictly after `after`. */
function firstN(rec: Recurrence, after: number, n: number): string[] {
  const out: string[] = [];
  let cur = after;
  for (let i = 0; i < n; i++) {
    const next = rec.next(cur);
    if (next === undefined) break;
    out.push(iso(next)!);
    cur = next;
  }
  return out;
}

describe('recurrence', () => {
  it('Second/Minute/Hour: every interval from the start time (or the anchor)', () => {
    const anchor = t('2024-05-01T10:00:00.250Z');
    const everySecond = new Recurrence(parseRecurrence({ recurrence: { frequency: 'Second', interval: 1 } }), anchor);
    expect(firstN(everySecond, anchor, 3)).toEqual([
      '2024-05-01T10:00:01.250Z',
      '2024-05-01T10:00:02.250Z',
      '2024-05-01T10:00:03.250Z',
    ]);
    expect(iso(everySecond.latest(t('2024-05-01T10:00:05.000Z')))).toBe('2024-05-01T10:00:04.250Z');
    expect(everySecond.latest(anchor - 1)).toBeUndefined();
    const quarter = new Recurrence(
      parseRecurrence({
        type: 'Recurrence',
        recurrence: { frequency: 'minute', interval: 15, startTime: '2024-01-01T00:00:30Z' },
      }),
      anchor,
    );
    expect(firstN(quarter, t('2023-12-31T00:00:00Z'), 2)).toEqual([
      '2024-01-01T00:00:30.000Z',
      '2024-01-01T00:15:30.000Z',
    ]);
    expect(iso(quarter.next(anchor))).toBe('2024-05-01T10:00:30.000Z');
    expect(iso(quarter.next(t('2024-05-01T10:00:30.000Z')))).toBe('2024-05-01T10:15:30.000Z');
  });

  it('Day with a Windows time zone and schedule hours/minutes, across the spring DST change', () => {
    const spec = parseRecurrence({
      recurrence: {
        frequency: 'Day',
        interval: 1,
        timeZone: 'W. Europe Standard Time',
        startTime: '2024-03-29T00:00:00',
        schedule: { hours: ['9', '17'], minutes: [30] },
      },
    });
    expect(spec.zone).toBe('Europe/Berlin');
    const rec = new Recurrence(spec, 0);
    expect(firstN(rec, t('2024-03-28T00:00:00Z'), 6)).toEqual([
      '2024-03-29T08:30:00.000Z',
      '2024-03-29T16:30:00.000Z',
      '2024-03-30T08:30:00.000Z',
      '2024-03-30T16:30:00.000Z',
      '2024-03-31T07:30:00.000Z', // CEST from 31 March: 09:30 local is 07:30 UTC
      '2024-03-31T15:30:00.000Z',
    ]);
    expect(iso(rec.latest(t('2024-03-31T10:00:00Z')))).toBe('2024-03-31T07:30:00.000Z');
  });

  it('Week (corpus "Is it Patch Tuesday"): Tuesdays 08:00 Central time, start instant with Z, DST respected', () => {
    const file = join(
      CORPUS_DIR,
      'solutions/unpacked/patch-tuesday/Workflows/IsitPatchTuesday-1E7C5C7B-0884-EE11-8179-000D3A5A8520.json',
    );
    const flow = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    const rt = recurrenceTrigger(flow)!;
    expect(rt.name).toBe('Recurrence');
    const rec = new Recurrence(parseRecurrence(rt.trigger), 0);
    expect(firstN(rec, t('2023-11-01T00:00:00Z'), 2)).toEqual(['2023-11-21T14:00:00.000Z', '2023-11-28T14:00:00.000Z']);
    expect(iso(rec.next(t('2024-03-06T00:00:00Z')))).toBe('2024-03-12T13:00:00.000Z'); // CDT since 10 March
    expect(iso(rec.latest(t('2024-03-12T12:59:59Z')))).toBe('2024-03-05T14:00:00.000Z');
  });

  it('Week every other week on two days; a schedule without a start time fires on the hour', () => {
    const rec = new Recurrence(
      parseRecurrence({
        recurrence: {
          frequency: 'Week',
          interval: 2,
          startTime: '2024-01-01T06:00:00Z',
          schedule: { weekDays: ['Monday', 'Friday'] },
        },
      }),
      0,
    );
    expect(firstN(rec, t('2023-12-31T00:00:00Z'), 4)).toEqual([
      '2024-01-01T06:00:00.000Z',
      '2024-01-05T06:00:00.000Z',
      '2024-01-15T06:00:00.000Z',
      '2024-01-19T06:00:00.000Z',
    ]);
    const noStart = new Recurrence(
      parseRecurrence({
        recurrence: { frequency: 'Week', interval: 1, schedule: { weekDays: ['Monday'], hours: ['6'] } },
      }),
      t('2024-05-01T13:47:12Z'),
    );
    expect(firstN(noStart, t('2024-05-01T13:47:12Z'), 2)).toEqual([
      '2024-05-06T06:00:00.000Z',
      '2024-05-13T06:00:00.000Z',
    ]);
  });

  it('Month: month days counted from the end, monthly occurrences, end time', () => {
    const last = new Recurrence(
      parseRecurrence({
        recurrence: {
          frequency: 'Month',
          interval: 1,
          startTime: '2024-01-15T12:00:00Z',
          schedule: { monthDays: [-1] },
        },
      }),
      0,
    );
    expect(firstN(last, t('2024-01-01T00:00:00Z'), 3)).toEqual([
      '2024-01-31T12:00:00.000Z',
      '2024-02-29T12:00:00.000Z',
      '2024-03-31T12:00:00.000Z',
    ]);
    const firstMonday = new Recurrence(
      parseRecurrence({
        recurrence: {
          frequency: 'Month',
          interval: 1,
          startTime: '2024-01-10T09:00:00',
          timeZone: 'UTC',
          endTime: '2024-04-01T00:00:00',
          schedule: {
            monthlyOccurrences: [
              { day: 'Monday', occurrence: 1 },
              { day: 'Friday', occurrence: -1 },
            ],
          },
        },
      }),
      0,
    );
    expect(firstN(firstMonday, t('2024-01-01T00:00:00Z'), 10)).toEqual([
      '2024-01-26T09:00:00.000Z',
      '2024-02-05T09:00:00.000Z',
      '2024-02-23T09:00:00.000Z',
      '2024-03-04T09:00:00.000Z',
      '2024-03-29T09:00:00.000Z',
    ]);
  });

  it('wall-clock times in a DST gap fire just after it; ambiguous ones fire once, at the first occurrence', () => {
    const rec = new Recurrence(
      parseRecurrence({
        recurrence: {
          frequency: 'Day',
          interval: 1,
          timeZone: 'Pacific Standard Time',
          startTime: '2024-03-09T00:00:00',
          schedule: { hours: [2], minutes: [30] },
        },
      }),
      0,
    );
    expect(firstN(rec, t('2024-03-09T00:00:00Z'), 3)).toEqual([
      '2024-03-09T10:30:00.000Z',
      '2024-03-10T10:30:00.000Z',
      '2024-03-11T09:30:00.000Z',
    ]);
    const fall = new Recurrence(
      parseRecurrence({
        recurrence: {
          frequency: 'Day',
          interval: 1,
          timeZone: 'America/Los_Angeles',
          startTime: '2024-11-02T00:00:00',
          schedule: { hours: [1], minutes: [30] },
        },
      }),
      0,
    );
    expect(firstN(fall, t('2024-11-02T12:00:00Z'), 2)).toEqual([
      '2024-11-03T08:30:00.000Z',
      '2024-11-04T09:30:00.000Z',
    ]);
  });

  it('refuses invalid recurrences, naming the field', () => {
    expect(() => parseRecurrence({ recurrence: { frequency: 'Fortnight', interval: 1 } })).toThrow(
      expect.objectContaining({ code: 'RECURRENCE_INVALID', details: { field: 'recurrence.frequency' } }),
    );
    expect(() => parseRecurrence({ recurrence: { frequency: 'Day', interval: 0 } })).toThrow(
      expect.objectContaining({ details: { field: 'recurrence.interval' } }),
    );
    expect(() =>
      parseRecurrence({ recurrence: { frequency: 'Day', interval: 1, timeZone: 'Mars Standard Time' } }),
    ).toThrow(expect.objectContaining({ details: { field: 'recurrence.timeZone' } }));
    expect(() =>
      parseRecurrence({ recurrence: { frequency: 'Day', interval: 1, schedule: { hours: ['25'] } } }),
    ).toThrow(expect.objectContaining({ details: { field: 'recurrence.schedule.hours' } }));
    expect(() =>
      parseRecurrence({ recurrence: { frequency: 'Week', interval: 1, schedule: { weekDays: ['Someday'] } } }),
    ).toThrow(expect.objectContaining({ details: { field: 'recurrence.schedule.weekDays' } }));
    expect(resolveTimeZone('tokyo standard time')).toBe('Asia/Tokyo');
    expect(resolveTimeZone('Europe/Paris')).toBe('Europe/Paris');
  });
});
