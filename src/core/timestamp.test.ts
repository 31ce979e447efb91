import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { normalizeTimestamp, parseTimestamp } from './timestamp.js';

describe('timestamps', () => {
  it.each([
    ['2026-05-12T09:30:00Z', '2026-05-12T09:30:00.000Z'],
    ['2026-05-12T09:30:00.1Z', '2026-05-12T09:30:00.100Z'],
    ['2026-05-12T09:30:00.123999999Z', '2026-05-12T09:30:00.123Z'],
    ['2026-05-12T11:30:00.5+02:00', '2026-05-12T09:30:00.500Z'],
    ['2026-05-12T00:15:00-05:30', '2026-05-12T05:45:00.000Z'],
    ['2024-02-29T23:59:59z', '2024-02-29T23:59:59.000Z'],
    ['0050-01-01T00:00:00Z', '0050-01-01T00:00:00.000Z'],
  ])('normalizes %s to %s', (text, iso) => {
    expect(normalizeTimestamp(text)).toBe(iso);
  });

  it.each([
    '2026-05-12T09:30:00',
    '2026-05-12 09:30:00Z',
    '2026-05-12T09:30Z',
    '2026-13-01T00:00:00Z',
    '2025-02-29T00:00:00Z',
    '2026-04-31T00:00:00Z',
    '2026-05-12T24:00:00Z',
    '2026-05-12T23:59:60Z',
    '2026-05-12T09:30:00.1234567890Z',
    '2026-05-12T09:30:00+24:00',
    '2026-05-12T09:30:00+0200',
    '1778578200000',
  ])('rejects %s', (text) => {
    expect(parseTimestamp(text)).toBeUndefined();
  });

  it('reads the stored form by its fast path exactly as by the full grammar', () => {
    const instants = fc.date({
      min: new Date('0000-01-01T00:00:00.000Z'),
      max: new Date('9999-12-31T23:59:59.999Z'),
      noInvalidDate: true,
    });
    fc.assert(
      fc.property(instants, (date) => {
        const text = date.toISOString();
        expect(parseTimestamp(text)?.getTime()).toBe(date.getTime());
        expect(normalizeTimestamp(text)).toBe(text);
        // The same instant written with an offset goes through the grammar and agrees.
        const shifted = new Date(date.getTime() + 90 * 60_000).toISOString().slice(0, 23);
        if (!shifted.startsWith('+') && !shifted.startsWith('-')) {
          expect(parseTimestamp(`${shifted}+01:30`)?.getTime()).toBe(date.getTime());
        }
      }),
      { numRuns: 500 },
    );
    for (const text of [
      '2026-02-30T00:00:00.000Z',
      '2026-02-28T24:00:00.000Z',
      '2026-13-01T00:00:00.000Z',
      '+12026-05-01T10:00:00.00Z',
      '2026-05-01T10:00:60.000Z',
    ]) {
      expect(parseTimestamp(text), text).toBeUndefined();
      expect(normalizeTimestamp(text), text).toBeUndefined();
    }
  });
});
