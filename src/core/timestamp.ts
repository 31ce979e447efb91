/**
 * ISO 8601 timestamps as events carry them: always with a zone (`Z` or `±hh:mm`), fractional
 * seconds up to nanoseconds. Stored times are normalized to UTC with milliseconds, so they sort
 * as text in every engine.
 */

const TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

function daysInMonth(year: number, month: number): number {
  if (month === 2) {
    const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
    return leap ? 29 : 28;
  }
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/**
 * The instant a zoned ISO 8601 timestamp names, or undefined when the text is not one (no zone,
 * impossible date such as February 30, leap second, more than 9 fractional digits). Digits past
 * the millisecond are truncated, not rounded, so the stored time never moves into the future.
 */
export function parseTimestamp(text: string): Date | undefined {
  return canonicalInstant(text) ?? parseZoned(text);
}

/**
 * The instant of a timestamp already in the stored form (`toISOString()`'s
 * `YYYY-MM-DDTHH:MM:SS.mmmZ`, what most senders send), or undefined for anything else. The
 * round trip through the built-in parser is exact only for that form and a real date (V8 reads
 * February 30 as March 2, which then fails the comparison), and costs a fraction of the regex.
 */
function canonicalInstant(text: string): Date | undefined {
  if (text.length !== 24 || text.charCodeAt(23) !== 90 /* Z */) return undefined;
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) return undefined;
  const date = new Date(ms);
  return date.toISOString() === text ? date : undefined;
}

function parseZoned(text: string): Date | undefined {
  const m = TIMESTAMP.exec(text);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const millis = Number((m[7] ?? '').padEnd(3, '0').slice(0, 3));
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  let offsetMinutes = 0;
  if (m[8] === undefined) {
    const offHours = Number(m[10]);
    const offMinutes = Number(m[11]);
    if (offHours > 23 || offMinutes > 59) return undefined;
    offsetMinutes = (m[9] === '-' ? -1 : 1) * (offHours * 60 + offMinutes);
  }
  // setUTCFullYear rather than Date.UTC, which maps years 0..99 onto 1900..1999.
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, millis);
  return new Date(date.getTime() - offsetMinutes * 60_000);
}

/** `2026-05-12T11:30:00.123456+02:00` -> `2026-05-12T09:30:00.123Z`; undefined if invalid. */
export function normalizeTimestamp(text: string): string | undefined {
  return canonicalInstant(text) === undefined ? parseZoned(text)?.toISOString() : text;
}
