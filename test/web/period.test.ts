import { describe, expect, it } from 'vitest';
import { PERIODS, boundDay, dayBound, periodOf, periodSince } from '../../web/src/query/period.js';

const now = new Date('2026-05-12T23:30:00.000Z');
const byId = (id: string) => PERIODS.find((p) => p.id === id)!;

describe('quick date ranges', () => {
  it('starts each period on its first whole UTC day', () => {
    expect(periodSince(byId('today'), now)).toBe('2026-05-12');
    expect(periodSince(byId('7d'), now)).toBe('2026-05-06');
    expect(periodSince(byId('30d'), now)).toBe('2026-04-13');
  });

  it('recognizes a period from the since and until values', () => {
    expect(periodOf(null, null, now)).toBe('any');
    expect(periodOf('2026-05-06', null, now)).toBe('7d');
    expect(periodOf('2026-05-12', null, now)).toBe('today');
    expect(periodOf('2026-05-06', '2026-05-12', now)).toBe('custom');
    expect(periodOf('2026-05-07', null, now)).toBe('custom');
    expect(periodOf(null, '2026-05-07', now)).toBe('custom');
  });
});

describe("days in the reader's zone", () => {
  // Berlin: +01:00 in winter, +02:00 in summer (the change on 2026-03-29 at 01:00 UTC).
  const berlin = (date: Date) =>
    date.getTime() >= Date.parse('2026-03-29T01:00:00Z') &&
    date.getTime() < Date.parse('2026-10-25T01:00:00Z')
      ? 120
      : 60;
  const newYork = () => -300;

  it('writes a day as the instants it starts and ends there', () => {
    expect(dayBound('2026-05-12', 'since', 'local', berlin)).toBe('2026-05-12T00:00:00.000+02:00');
    expect(dayBound('2026-05-12', 'until', 'local', berlin)).toBe('2026-05-12T23:59:59.999+02:00');
    expect(dayBound('2026-01-12', 'since', 'local', berlin)).toBe('2026-01-12T00:00:00.000+01:00');
    // The day of the change starts in winter time and ends in summer time.
    expect(dayBound('2026-03-29', 'since', 'local', berlin)).toBe('2026-03-29T00:00:00.000+01:00');
    expect(dayBound('2026-03-29', 'until', 'local', berlin)).toBe('2026-03-29T23:59:59.999+02:00');
    expect(dayBound('2026-05-12', 'since', 'local', newYork)).toBe('2026-05-12T00:00:00.000-05:00');
    expect(dayBound('2026-05-12', 'since', 'utc', berlin)).toBe('2026-05-12');
  });

  it('reads a bound back as the day it was picked on', () => {
    for (const day of ['2026-01-01', '2026-03-29', '2026-05-12', '2026-12-31']) {
      for (const edge of ['since', 'until'] as const) {
        for (const offsetOf of [berlin, newYork]) {
          expect(boundDay(dayBound(day, edge, 'local', offsetOf), 'local', offsetOf)).toBe(day);
        }
      }
    }
    expect(boundDay('2026-05-12', 'local', berlin)).toBe('2026-05-12');
    expect(boundDay('2026-05-12T09:30:00Z', 'utc', berlin)).toBe('2026-05-12');
  });

  it("starts periods on the reader's today", () => {
    // 23:30 UTC on May 12 is already May 13 in Berlin.
    expect(periodSince(byId('today'), now, 'local', berlin)).toBe('2026-05-13T00:00:00.000+02:00');
    expect(periodSince(byId('7d'), now, 'local', berlin)).toBe('2026-05-07T00:00:00.000+02:00');
    expect(periodOf('2026-05-07T00:00:00.000+02:00', null, now, 'local', berlin)).toBe('7d');
    expect(periodOf('2026-05-07', null, now, 'local', berlin)).toBe('custom');
  });
});
