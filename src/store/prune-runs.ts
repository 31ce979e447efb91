/** A pruning run as both engines store it: its ranges and holds as JSON text. */
import type { PruneRun } from './store.js';

export const RUN_COLUMNS = 'run, at, cutoff, policy_days, ranges, count, holds';

export interface RunRow {
  run: string;
  at: string;
  cutoff: string;
  policy_days: number;
  ranges: string;
  /** PostgreSQL hands a bigint back as text. */
  count: number | string;
  holds: string;
}

export function runOf(row: RunRow): PruneRun {
  return {
    run: row.run,
    at: row.at,
    cutoff: row.cutoff,
    policy_days: row.policy_days,
    ranges: JSON.parse(row.ranges) as [number, number][],
    count: Number(row.count),
    holds: JSON.parse(row.holds) as string[],
  };
}
