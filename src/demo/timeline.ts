/**
 * When demo events happen: `count` instants spread over the `days` before `now`, denser in the
 * team's working hours and on weekdays, in increasing order. Each instant is the inverse of the
 * activity curve's cumulative weight at quantile (i + jitter) / count, which keeps them sorted
 * without holding them in memory and costs O(1) per event (the bucket pointer only moves forward).
 */
import type { Random } from './random.js';

const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;

export interface TimelineOptions {
  /** Milliseconds since the epoch; every instant is strictly before it. */
  now: number;
  days: number;
  count: number;
  /** The team's offset from UTC in hours, so that its working day is where its people are. */
  utcOffsetHours: number;
}

/** How busy one local hour of the day is, relative to a weekday morning. */
function hourWeight(localHour: number): number {
  if (localHour >= 9 && localHour < 12) return 1;
  if (localHour >= 13 && localHour < 18) return 0.9;
  if (localHour === 12) return 0.6;
  if (localHour === 8 || localHour === 18) return 0.45;
  if (localHour >= 19 && localHour < 23) return 0.15;
  // Automation keeps a trickle going through the night.
  return 0.04;
}

export class Timeline {
  private readonly start: number;
  private readonly count: number;
  private readonly weights: Float64Array;
  /** cumulative[b] = total weight of buckets before b; cumulative[buckets] = the total. */
  private readonly cumulative: Float64Array;
  private bucket = 0;
  private index = 0;

  constructor(
    private readonly rng: Random,
    options: TimelineOptions,
  ) {
    if (!(options.days > 0)) throw new RangeError(`days must be positive, got ${options.days}`);
    const buckets = Math.max(1, Math.ceil(options.days * 24));
    this.start = options.now - buckets * HOUR_MS;
    this.count = options.count;
    this.weights = new Float64Array(buckets);
    this.cumulative = new Float64Array(buckets + 1);
    for (let b = 0; b < buckets; b++) {
      const local = new Date(this.start + b * HOUR_MS + options.utcOffsetHours * HOUR_MS);
      const weekday = local.getUTCDay();
      const weekend = weekday === 0 || weekday === 6 ? 0.12 : 1;
      const weight = hourWeight(local.getUTCHours()) * weekend;
      this.weights[b] = weight;
      this.cumulative[b + 1] = (this.cumulative[b] as number) + weight;
    }
  }

  /** The next instant in milliseconds; call at most `count` times. */
  next(): number {
    const total = this.cumulative[this.cumulative.length - 1] as number;
    const target = ((this.index + this.rng.next()) / this.count) * total;
    this.index++;
    const last = this.weights.length - 1;
    while (this.bucket < last && (this.cumulative[this.bucket + 1] as number) <= target) {
      this.bucket++;
    }
    const into =
      (target - (this.cumulative[this.bucket] as number)) / (this.weights[this.bucket] as number);
    const at = Math.floor(this.start + (this.bucket + Math.min(into, 1)) * HOUR_MS);
    // Rounding at the very end must never reach `now`.
    return Math.min(at, this.start + (last + 1) * HOUR_MS - 1);
  }
}
