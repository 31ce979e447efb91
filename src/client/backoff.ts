/**
 * When to try again: exponential back-off with full jitter (each wait is uniform in
 * [0, min(maxMs, baseMs * 2^attempt)]), so that many senders recovering from the same outage do
 * not arrive in step; a server's `Retry-After` replaces the computed wait.
 */

export interface RetryOptions {
  /** First back-off ceiling in milliseconds (default 100). */
  baseMs: number;
  /** Largest back-off ceiling in milliseconds (default 30,000). */
  maxMs: number;
  /**
   * Attempts per batch before giving up on it (reported as `delivery_failed`). Absent: retry
   * for as long as the client runs, which is what an audit trail usually wants.
   */
  maxAttempts?: number;
}

export const DEFAULT_RETRY: RetryOptions = Object.freeze({ baseMs: 100, maxMs: 30_000 });

/**
 * The wait before retry number `attempt` (0 for the first retry). `random` returns a number in
 * [0, 1) and is a parameter so that tests can pin it.
 */
export function backoffDelay(
  attempt: number,
  retry: Pick<RetryOptions, 'baseMs' | 'maxMs'>,
  random: () => number = Math.random,
): number {
  // 2^attempt overflows to Infinity long after the cap applies; min() keeps the result finite.
  const ceiling = Math.min(retry.maxMs, retry.baseMs * 2 ** Math.min(attempt, 52));
  return Math.floor(random() * ceiling);
}

/**
 * Milliseconds to wait according to a `Retry-After` header: delta-seconds (`"3"`) or an HTTP
 * date (`"Wed, 21 Oct 2026 07:28:00 GMT"`), relative to `nowMs`. Undefined when the header is
 * absent or unreadable, so that the caller falls back to its back-off.
 */
export function parseRetryAfter(
  header: string | null | undefined,
  nowMs: number,
): number | undefined {
  if (header === null || header === undefined) return undefined;
  const text = header.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  if (!/[a-z]/i.test(text)) return undefined;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}
