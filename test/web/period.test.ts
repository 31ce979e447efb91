import { describe, expect, it } from 'vitest';
import { PERIODS, periodOf, periodSince } from '../../web/src/query/period.js';

const now = new Date('2026-05-12T23:30:00.000Z');
const byId = (id: string) => PERIODS.find((p) => p.id === id)!;

describe('quick date ranges', () => {
  it('starts each period on its first whole UTC day', () => {
    expect(periodSince(byId('today'), now)).toBe('2026-05-12');
    expect(periodSince(byId('7d'), now)).toBe('2026-05-06');
    expect(periodSince(byId('30d'), now)).toBe('2026-04-13');
  });

  it('recognizes a period from the since and until values', () => {
    expect(periodOf(null, null, now)).toBe('any');
    expect(periodOf('2026-05-06', null, now)).toBe('7d');
    expect(periodOf('2026-05-12', null, now)).toBe('today');
    expect(periodOf('2026-05-06', '2026-05-12', now)).toBe('custom');
    expect(periodOf('2026-05-07', null, now)).toBe('custom');
    expect(periodOf(null, '2026-05-07', now)).toBe('custom');
  });
});
