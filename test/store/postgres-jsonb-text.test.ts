/**
 * jsonbText (src/store/postgres/jsonb-text.ts) prints exactly what the server prints for
 * `$1::jsonb::text`, over generated JSON: verify compares the metadata copy with it, so any
 * difference would be a false alarm (or a missed one).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JsonValue } from '../../src/core/json.js';
import { createPool, type Pool } from '../../src/store/postgres/driver.js';
import { jsonbText } from '../../src/store/postgres/jsonb-text.js';
import { createDatabase, usePostgres } from '../support/postgres.js';

let pool: Pool;
let release: () => Promise<void>;

beforeAll(async () => {
  const started = await usePostgres();
  release = started.release;
  pool = await createPool(await createDatabase(started.server, 'jsonb_text'));
});

afterAll(async () => {
  await pool.end();
  await release();
});

async function serverTexts(values: readonly JsonValue[]): Promise<string[]> {
  const result = await pool.query<{ text: string }>(
    'SELECT v::jsonb::text AS text FROM unnest($1::text[]) WITH ORDINALITY AS t (v, i) ORDER BY i',
    [values.map((value) => JSON.stringify(value))],
  );
  return result.rows.map((row) => row.text);
}

/** JSON without U+0000, which jsonb refuses (and Trailkeep never stores there). */
const json: fc.Arbitrary<JsonValue> = fc
  .jsonValue({ maxDepth: 3 })
  .filter((value) => !JSON.stringify(value).includes('\\u0000')) as fc.Arbitrary<JsonValue>;

const awkwardNumbers: fc.Arbitrary<JsonValue> = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(1e21, 1.5e-7, 5e-324, -1.7976931348623157e308, 0.1, -0, 123456789.125, 1e-7),
);

describe('jsonbText', () => {
  it('is the server text of generated values', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof(json, awkwardNumbers), { maxLength: 40 }),
        async (values) => {
          expect(values.map(jsonbText)).toEqual(await serverTexts(values));
        },
      ),
      { numRuns: 60 },
    );
  });

  it('orders keys as jsonb does: by UTF-8 length, then bytes', async () => {
    const value = { bb: 1, a: 2, é: 3, z: 4, '': 5, ü1: 6, aa: [{ y: null, x: true }] };
    expect(jsonbText(value)).toBe((await serverTexts([value]))[0]);
  });

  it('holds a U+0000 escape exactly where the JSON the writer stores does', () => {
    // verify takes a metadata copy to be NULL by this, the append path by JSON.stringify.
    const withNul = fc
      .jsonValue({ maxDepth: 2 })
      .map((v) => [v, 'a\u0000b', { 'k\u0000': '\\u0000' }]);
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue({ maxDepth: 3 }), withNul), (value) => {
        const json = value as JsonValue;
        expect(jsonbText(json).includes('\\u0000')).toBe(JSON.stringify(json).includes('\\u0000'));
      }),
    );
  });

  it('escapes as jsonb does', async () => {
    const value = { s: 'tab\tquote"slash\\nl\ncr\rbell\u0007del\u007f€😀' };
    expect(jsonbText(value)).toBe((await serverTexts([value]))[0]);
  });
});
