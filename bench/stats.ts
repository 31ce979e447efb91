/**
 * Timing and summaries. Latencies are kept as raw samples so that p50/p95/p99 come from the
 * measurements themselves, never from an assumed distribution.
 */
import { performance } from 'node:perf_hooks';

export interface Latency {
  /** Number of timed runs. */
  n: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/** Nearest-rank percentile of `sorted` (ascending), `q` in (0, 1]. */
export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return sorted[rank - 1]!;
}

export function summarize(samples: readonly number[]): Latency {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    n: sorted.length,
    p50: percentile(sorted, 0.5),
    p95: percentile(sorted, 0.95),
    p99: percentile(sorted, 0.99),
    max: sorted.at(-1) ?? Number.NaN,
  };
}

/** Milliseconds that `work` took. */
export async function timed(work: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await work();
  return performance.now() - start;
}

/**
 * Times two competing ways of doing the same thing, alternating them run by run after a few
 * untimed warm-up runs, so that a burst of load from other processes on a shared machine falls
 * on both sides rather than on one.
 */
export async function compareLatency(
  subject: () => Promise<unknown>,
  baseline: () => Promise<unknown>,
  options: { runs: number; warmup?: number },
): Promise<{ subject: Latency; baseline: Latency }> {
  for (let i = 0; i < (options.warmup ?? 3); i += 1) {
    await subject();
    await baseline();
  }
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < options.runs; i += 1) {
    if (i % 2 === 0) {
      a.push(await timed(subject));
      b.push(await timed(baseline));
    } else {
      b.push(await timed(baseline));
      a.push(await timed(subject));
    }
  }
  return { subject: summarize(a), baseline: summarize(b) };
}

/** Rounds for display and for the JSON file: three significant digits are all that hold. */
export function round(value: number, digits = 3): number {
  if (!Number.isFinite(value) || value === 0) return value;
  const magnitude = Math.floor(Math.log10(Math.abs(value)));
  const factor = 10 ** Math.max(0, digits - 1 - magnitude);
  return Math.round(value * factor) / factor;
}
