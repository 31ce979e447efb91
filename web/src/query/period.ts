/**
 * Quick date ranges. The query language reads `since:YYYY-MM-DD` as that whole UTC day, so
 * "Last 7 days" is today and the six UTC days before it.
 */

export interface Period {
  readonly id: string;
  readonly label: string;
  /** Whole UTC days covered, today included. */
  readonly days: number;
}

export const PERIODS: readonly Period[] = [
  { id: 'today', label: 'Today (UTC)', days: 1 },
  { id: '7d', label: 'Last 7 days', days: 7 },
  { id: '30d', label: 'Last 30 days', days: 30 },
  { id: '90d', label: 'Last 90 days', days: 90 },
];

/** The `since` day of a period ending today (UTC). */
export function periodSince(period: Period, now: Date): string {
  const start = new Date(now.getTime() - (period.days - 1) * 86_400_000);
  return start.toISOString().slice(0, 10);
}

/**
 * Which quick range the since/until values are: 'any' when neither is set, a period id when
 * `since` is that period's first day and `until` is open, else 'custom'.
 */
export function periodOf(since: string | null, until: string | null, now: Date): string {
  if (since === null && until === null) return 'any';
  if (until !== null || since === null) return 'custom';
  return PERIODS.find((period) => periodSince(period, now) === since)?.id ?? 'custom';
}
