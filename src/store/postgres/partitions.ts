/**
 * Monthly partitions of the events table. Migrations create the months around "now"; appends
 * and imports create the months of late or early events on demand, before their transaction,
 * through `trailkeep_ensure_month` (a SECURITY DEFINER function, so a least-privilege service
 * role that cannot run DDL can still get its partition). A DEFAULT partition catches anything
 * else, so an insert never fails for want of a partition.
 */
import type { Queryable } from './driver.js';

/** `2026-05-12T09:30:00.000Z` -> `2026-05-01`: the first day (UTC) of the event's month. */
export function monthOf(isoTime: string): string {
  const date = new Date(isoTime);
  if (Number.isNaN(date.getTime())) throw new RangeError(`not a timestamp: ${isoTime}`);
  const year = date.getUTCFullYear();
  const month = date.getUTCMonth() + 1;
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-01`;
}

/** The first days of the months from `before` months before `now`'s month to `after` after it. */
export function monthsAround(now: Date, before: number, after: number): string[] {
  const months: string[] = [];
  for (let offset = -before; offset <= after; offset += 1) {
    const day = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + offset, 1));
    months.push(monthOf(day.toISOString()));
  }
  return months;
}

/**
 * Remembers the months this process has already ensured, so the common case (an event of the
 * current month) costs no round trip at all.
 */
export class PartitionKeeper {
  private readonly known = new Set<string>();

  async ensureFor(db: Queryable, isoTimes: Iterable<string>): Promise<void> {
    const missing = new Set<string>();
    for (const time of isoTimes) {
      const month = monthOf(time);
      if (!this.known.has(month)) missing.add(month);
    }
    if (missing.size === 0) return;
    await this.ensureMonths(db, [...missing]);
  }

  async ensureMonths(db: Queryable, months: readonly string[]): Promise<void> {
    for (const month of [...months].sort()) {
      await db.query('SELECT trailkeep_ensure_month($1::date)', [month]);
      this.known.add(month);
    }
  }
}
