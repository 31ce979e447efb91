import { describe, expect, it } from 'vitest';
import { monthOf, monthsAround } from './partitions.js';

describe('monthly partitions', () => {
  it('puts an event in the UTC month of its occurred_at', () => {
    expect(monthOf('2026-05-12T09:30:00.000Z')).toBe('2026-05-01');
    expect(monthOf('2026-05-31T23:59:59.999Z')).toBe('2026-05-01');
    expect(monthOf('2026-06-01T00:00:00.000Z')).toBe('2026-06-01');
  });

  it('lists the months around now across year ends', () => {
    expect(monthsAround(new Date('2026-01-15T00:00:00.000Z'), 2, 1)).toEqual([
      '2025-11-01',
      '2025-12-01',
      '2026-01-01',
      '2026-02-01',
    ]);
  });
});
