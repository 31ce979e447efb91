import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backoffDelay, parseRetryAfter } from '../../src/client/backoff.js';

describe('backoffDelay (full jitter)', () => {
  it('stays within [0, min(maxMs, baseMs * 2^attempt)]', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2000 }),
        fc.integer({ min: 1, max: 5000 }),
        fc.integer({ min: 1, max: 120_000 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (attempt, baseMs, maxMs, r) => {
          const delay = backoffDelay(attempt, { baseMs, maxMs }, () => r);
          const ceiling = Math.min(maxMs, baseMs * 2 ** attempt);
          expect(Number.isInteger(delay)).toBe(true);
          expect(delay).toBeGreaterThanOrEqual(0);
          expect(delay).toBeLessThanOrEqual(ceiling);
        },
      ),
    );
  });

  it('doubles the ceiling per attempt until maxMs', () => {
    const top = () => 0.999_999;
    expect(backoffDelay(0, { baseMs: 100, maxMs: 1000 }, top)).toBe(99);
    expect(backoffDelay(1, { baseMs: 100, maxMs: 1000 }, top)).toBe(199);
    expect(backoffDelay(3, { baseMs: 100, maxMs: 1000 }, top)).toBe(799);
    expect(backoffDelay(4, { baseMs: 100, maxMs: 1000 }, top)).toBe(999);
    expect(backoffDelay(10_000, { baseMs: 100, maxMs: 1000 }, top)).toBe(999);
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-05-12T09:30:00.000Z');

  it.each([
    ['0', 0],
    ['3', 3000],
    [' 120 ', 120_000],
    ['Tue, 12 May 2026 09:30:05 GMT', 5000],
    // A date in the past means "now".
    ['Tue, 12 May 2026 09:29:00 GMT', 0],
  ])('reads %j as %i ms', (header, ms) => {
    expect(parseRetryAfter(header, now)).toBe(ms);
  });

  it.each([null, undefined, '', '-1', '1.5', 'soon', 'Tue, 99 Foo'])('ignores %j', (header) => {
    expect(parseRetryAfter(header, now)).toBeUndefined();
  });
});
