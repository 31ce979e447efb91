/**
 * Date filters in the zone the table shows. The query language reads `since:YYYY-MM-DD` as that
 * whole UTC day, so in UTC a day is written as itself; in the reader's own zone it is written as
 * the instants that day starts and ends there, with their offset
 * (`since:2026-05-12T00:00:00.000+02:00`, `until:2026-05-12T23:59:59.999+02:00`), which the
 * server reads exactly. "Last 7 days" is today and the six days before it, in that zone.
 */
import type { ZoneChoice } from '../time-zone.js';

export interface Period {
  readonly id: string;
  readonly label: string;
  /** Whole days covered, today included. */
  readonly days: number;
}

export const PERIODS: readonly Period[] = [
  { id: 'today', label: 'Today', days: 1 },
  { id: '7d', label: 'Last 7 days', days: 7 },
  { id: '30d', label: 'Last 30 days', days: 30 },
  { id: '90d', label: 'Last 90 days', days: 90 },
];

/** Minutes east of UTC at an instant; the reader's zone unless a test gives another. */
export type OffsetOf = (date: Date) => number;
const readerOffset: OffsetOf = (date) => -date.getTimezoneOffset();

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;
const pad = (n: number, width = 2) => String(n).padStart(width, '0');

function offsetText(minutes: number): string {
  const sign = minutes < 0 ? '-' : '+';
  const size = Math.abs(minutes);
  return `${sign}${pad(Math.floor(size / 60))}:${pad(size % 60)}`;
}

/** The query value for a whole day as a since or until bound, in the chosen zone. */
export function dayBound(
  day: string,
  edge: 'since' | 'until',
  zone: ZoneChoice,
  offsetOf: OffsetOf = readerOffset,
): string {
  const match = DAY.exec(day);
  if (zone === 'utc' || match === null) return day;
  const time = edge === 'since' ? '00:00:00.000' : '23:59:59.999';
  // The offset in force at that wall time: found from the UTC reading, then corrected once
  // (a day that starts in one offset and ends in another, around a DST change, gets each own).
  const wall = Date.parse(`${day}T${time}Z`);
  const first = offsetOf(new Date(wall));
  const offset = offsetOf(new Date(wall - first * 60_000));
  return `${day}T${time}${offsetText(offset)}`;
}

/** The day a date control shows for a since/until value, in the chosen zone. */
export function boundDay(
  value: string,
  zone: ZoneChoice,
  offsetOf: OffsetOf = readerOffset,
): string {
  if (zone === 'utc' || DAY.test(value)) return value.slice(0, 10);
  const at = Date.parse(value);
  if (Number.isNaN(at)) return value.slice(0, 10);
  const local = new Date(at + offsetOf(new Date(at)) * 60_000);
  return local.toISOString().slice(0, 10);
}

/** Today's date in the zone, minus some days (calendar days, so DST changes do not matter). */
function dayInZone(now: Date, daysBack: number, zone: ZoneChoice, offsetOf: OffsetOf): string {
  const shift = zone === 'utc' ? 0 : offsetOf(now);
  const today = new Date(now.getTime() + shift * 60_000);
  const day = new Date(
    Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate() - daysBack),
  );
  return day.toISOString().slice(0, 10);
}

/** The `since` value of a period ending today. */
export function periodSince(
  period: Period,
  now: Date,
  zone: ZoneChoice = 'utc',
  offsetOf: OffsetOf = readerOffset,
): string {
  return dayBound(dayInZone(now, period.days - 1, zone, offsetOf), 'since', zone, offsetOf);
}

/**
 * Which quick range the since/until values are: 'any' when neither is set, a period id when
 * `since` is that period's first day and `until` is open, else 'custom'.
 */
export function periodOf(
  since: string | null,
  until: string | null,
  now: Date,
  zone: ZoneChoice = 'utc',
  offsetOf: OffsetOf = readerOffset,
): string {
  if (since === null && until === null) return 'any';
  if (until !== null || since === null) return 'custom';
  return (
    PERIODS.find((period) => periodSince(period, now, zone, offsetOf) === since)?.id ?? 'custom'
  );
}
