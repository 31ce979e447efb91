/**
 * `since` and `until` values. A date (`2026-05-12`) means that whole day in UTC; a full ISO time
 * must carry a zone, because a bare local time means something different on every machine that
 * reads it. Bounds come out in `toISOString()` form so stores and the evaluator compare them as
 * text; `until` is stored exclusive (the first instant no longer included).
 */
import type { Rejection } from './query-error.js';
import { TrailkeepError } from '../errors.js';

export type TimeBound = 'since' | 'until';

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(?:([Zz])|([+-])(\d{2}):(\d{2}))?$/;
const DAY_MS = 86_400_000;
const FOUR_DIGIT_YEAR_ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

const FORMAT_HINT =
  'write YYYY-MM-DD (a whole day in UTC) or a full ISO time with a zone, as in 2026-05-12T09:30:00Z';

function daysInMonth(year: number, month: number): number {
  const date = new Date(0);
  date.setUTCFullYear(year, month, 0);
  return date.getUTCDate();
}

/** Milliseconds since the epoch of a UTC calendar time (years 0-99 are not shifted to 19xx). */
function utcMillis(y: number, mo: number, d: number, h = 0, mi = 0, s = 0, ms = 0): number {
  const date = new Date(0);
  date.setUTCFullYear(y, mo - 1, d);
  date.setUTCHours(h, mi, s, ms);
  return date.getTime();
}

function validDay(y: number, mo: number, d: number): boolean {
  return mo >= 1 && mo <= 12 && d >= 1 && d <= daysInMonth(y, mo);
}

function toBound(millis: number, value: string): string | Rejection {
  const iso = new Date(millis).toISOString();
  if (!FOUR_DIGIT_YEAR_ISO.test(iso)) {
    return {
      problem: `Time out of range ${JSON.stringify(value)}`,
      hint: 'times must fall between the years 0000 and 9999',
    };
  }
  return iso;
}

/** The bound a value stands for: `since` inclusive, `until` exclusive, in toISOString form. */
export function parseTimeBound(value: string, bound: TimeBound): string | Rejection {
  const invalid: Rejection = {
    problem: `Invalid date ${JSON.stringify(value)}`,
    hint: FORMAT_HINT,
  };
  const date = DATE.exec(value);
  if (date !== null) {
    const [y, mo, d] = [Number(date[1]), Number(date[2]), Number(date[3])];
    if (!validDay(y, mo, d)) return invalid;
    const start = utcMillis(y, mo, d);
    return toBound(bound === 'since' ? start : start + DAY_MS, value);
  }
  const m = DATE_TIME.exec(value);
  if (m === null) return invalid;
  const [y, mo, d, h, mi, s] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i] ?? '0')) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (!validDay(y, mo, d) || h > 23 || mi > 59 || s > 59) return invalid;
  if (m[8] === undefined && m[9] === undefined) {
    return {
      problem: `Missing time zone in ${JSON.stringify(value)}`,
      hint: 'add Z for UTC or an offset such as +02:00',
    };
  }
  const offsetHours = Number(m[10] ?? '0');
  const offsetMinutes = Number(m[11] ?? '0');
  if (offsetHours > 23 || offsetMinutes > 59) return invalid;
  const fraction = m[7] ?? '';
  const ms = Number(fraction.slice(0, 3).padEnd(3, '0'));
  // Events carry milliseconds: a finer `since` starts at the next whole millisecond, a finer
  // `until` still includes the millisecond it falls in.
  const finer = /[1-9]/.test(fraction.slice(3));
  const sign = m[9] === '-' ? -1 : 1;
  const local = utcMillis(y, mo, d, h, mi, s, ms);
  const instant = local - sign * (offsetHours * 60 + offsetMinutes) * 60_000;
  return toBound(bound === 'since' ? instant + (finer ? 1 : 0) : instant + 1, value);
}

/**
 * The shortest text that `parseTimeBound` reads back as the same bound: a date when the bound
 * falls on a UTC midnight, else the full time (for `until`, the last included millisecond).
 */
export function formatTimeBound(iso: string, bound: TimeBound): string {
  const millis = Date.parse(iso);
  if (!FOUR_DIGIT_YEAR_ISO.test(iso) || Number.isNaN(millis)) {
    throw new TrailkeepError(
      'query_invalid',
      `Cannot print ${bound} ${JSON.stringify(iso)}: expected an ISO time in toISOString form`,
    );
  }
  const midnight = iso.endsWith('T00:00:00.000Z');
  if (bound === 'since') return midnight ? iso.slice(0, 10) : iso;
  const last = new Date(millis - (midnight ? DAY_MS : 1)).toISOString();
  if (!FOUR_DIGIT_YEAR_ISO.test(last)) {
    throw new TrailkeepError(
      'query_invalid',
      `Cannot print until ${JSON.stringify(iso)}: out of range`,
    );
  }
  return midnight ? last.slice(0, 10) : last;
}
