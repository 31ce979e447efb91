import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  checkCursor,
  cursorFilter,
  decodeCursor,
  encodeCursor,
  type CursorPayload,
} from './cursor.js';
import { isTrailkeepError } from './errors.js';
import { parseFilter } from './query/normalize.js';
import { printFilter } from './query/print.js';
import { createHmac } from 'node:crypto';

const key = new Uint8Array(32).fill(7);
const otherKey = new Uint8Array(32).fill(8);

const payload: CursorPayload = {
  v: 1,
  workspace: 'acme',
  query: printFilter(parseFilter('action:job.* since:2026-05-01')),
  direction: 'older',
  position: { occurred_at: '2026-05-12T09:30:00.000Z', seq: 42 },
  limit: 50,
};

function cursorError(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (isTrailkeepError(error) && error.code === 'cursor_invalid') return error.message;
    throw error;
  }
  throw new Error('expected cursor_invalid');
}

/** A token signed with `key` over an arbitrary JSON body, as a server with other rules might. */
function signed(body: unknown, signingKey = key): string {
  const part = Buffer.from(JSON.stringify(body)).toString('base64url');
  return `${part}.${createHmac('sha256', signingKey).update(part).digest('base64url')}`;
}

const MALFORMED =
  'The cursor is malformed; pass next_cursor or prev_cursor exactly as a previous page returned it';
const ALTERED =
  'The cursor was not issued by this server or was altered; start again from the first page';

describe('cursors', () => {
  it('round-trips any payload', () => {
    const payloads = fc.record({
      v: fc.constant(1 as const),
      workspace: fc.string({ minLength: 1, maxLength: 20, unit: 'binary' }),
      query: fc.string({ maxLength: 60, unit: 'binary' }),
      direction: fc.constantFrom('older' as const, 'newer' as const),
      position: fc.record({
        occurred_at: fc
          .date({ min: new Date(0), max: new Date('9999-12-31T00:00:00Z'), noInvalidDate: true })
          .map((d) => d.toISOString()),
        seq: fc.nat(),
      }),
      limit: fc.integer({ min: 1, max: 10_000 }),
    });
    fc.assert(
      fc.property(payloads, (p) => {
        const token = encodeCursor(p, key);
        expect(token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
        // fc.record builds null-prototype objects, so compare by value, not prototype.
        expect(decodeCursor(token, key)).toEqual(p);
      }),
      { numRuns: 300 },
    );
  });

  it('rejects any single-character change', () => {
    const token = encodeCursor(payload, key);
    const replacement = fc.constantFrom(
      ...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ %',
    );
    fc.assert(
      fc.property(fc.nat({ max: token.length - 1 }), replacement, (index, ch) => {
        fc.pre(token[index] !== ch);
        const altered = token.slice(0, index) + ch + token.slice(index + 1);
        expect([MALFORMED, ALTERED]).toContain(cursorError(() => decodeCursor(altered, key)));
      }),
      { numRuns: 1000 },
    );
    for (let i = 0; i < token.length; i++) {
      const dropped = token.slice(0, i) + token.slice(i + 1);
      expect([MALFORMED, ALTERED]).toContain(cursorError(() => decodeCursor(dropped, key)));
    }
  });

  it('names what is wrong', () => {
    const token = encodeCursor(payload, key);
    expect(cursorError(() => decodeCursor('', key))).toBe(MALFORMED);
    expect(cursorError(() => decodeCursor('abc', key))).toBe(MALFORMED);
    expect(cursorError(() => decodeCursor(`${token}.x`, key))).toBe(MALFORMED);
    expect(cursorError(() => decodeCursor(token, otherKey))).toBe(ALTERED);
    // A widened question under the original signature.
    const forged = Buffer.from(JSON.stringify({ ...payload, query: '' })).toString('base64url');
    expect(cursorError(() => decodeCursor(`${forged}.${token.split('.')[1]}`, key))).toBe(ALTERED);
    expect(cursorError(() => decodeCursor(signed(payload, otherKey), key))).toBe(ALTERED);
    expect(cursorError(() => decodeCursor(signed({ ...payload, v: 2 }), key))).toBe(
      'The cursor has version 2, which this server does not support (it reads version 1); start again from the first page',
    );
    expect(cursorError(() => decodeCursor(signed([1]), key))).toBe(
      'The cursor is malformed: its content is not an object',
    );
    expect(cursorError(() => decodeCursor(signed({ ...payload, extra: 1 }), key))).toBe(
      'The cursor is malformed: it has unknown fields',
    );
  });

  it.each([
    ['workspace', { workspace: '' }],
    ['query', { query: 7 }],
    ['direction', { direction: 'sideways' }],
    ['position', { position: null }],
    ['position.occurred_at', { position: { occurred_at: '2026-05-12', seq: 1 } }],
    ['position.seq', { position: { occurred_at: '2026-05-12T09:30:00.000Z', seq: 1.5 } }],
    ['limit', { limit: 0 }],
  ])('checks the type of %s', (field, change) => {
    expect(cursorError(() => decodeCursor(signed({ ...payload, ...change }), key))).toBe(
      `The cursor is malformed: field "${field}" is not valid`,
    );
  });

  it('refuses a short signing key', () => {
    expect(() => encodeCursor(payload, new Uint8Array(8))).toThrow(
      'The cursor signing key has 8 bytes; it needs at least 16',
    );
  });

  it('belongs to one workspace and one question', () => {
    const decoded = decodeCursor(encodeCursor(payload, key), key);
    expect(() => checkCursor(decoded, { workspace: 'acme' })).not.toThrow();
    // The same question written differently is the same question.
    const same = parseFilter('date_from:2026-05-01 ACTION:job.*');
    expect(() => checkCursor(decoded, { workspace: 'acme', query: same })).not.toThrow();
    expect(cursorError(() => checkCursor(decoded, { workspace: 'globex' }))).toBe(
      'The cursor belongs to another workspace; start again from the first page',
    );
    expect(
      cursorError(() =>
        checkCursor(decoded, { workspace: 'acme', query: parseFilter('action:job.*') }),
      ),
    ).toBe('The cursor belongs to a different question; drop q or the cursor');
    expect(cursorFilter(decoded)).toStrictEqual(parseFilter('action:job.* since:2026-05-01'));
  });
});
