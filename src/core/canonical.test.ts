import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson, canonicalJsonReference } from './canonical.js';

describe('canonicalJson (RFC 8785)', () => {
  it('gives the same text as the reference implementation for any JSON value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(canonicalJson(value)).toBe(canonicalJsonReference(value));
      }),
      { numRuns: 2000 },
    );
  });

  it('sorts keys by UTF-16 code units and serialises numbers as ECMAScript does', () => {
    const value = { '\u20ac': 'Euro', '\r': 'CR', '1': 'one', '\ud83d\ude00': 'smile', ö: 1e21 };
    expect(canonicalJson(value)).toBe(canonicalJsonReference(value));
    expect(canonicalJson({ b: [1, -0, 0.1, 1e-7], a: { d: true, c: null } })).toBe(
      '{"a":{"c":null,"d":true},"b":[1,0,0.1,1e-7]}',
    );
  });

  it('agrees with the reference on every path of the fast writer', () => {
    const cases: unknown[] = [
      { b: 1, a: { d: [{ z: 1, y: 2 }], c: 'x' } }, // unsorted at every level
      { a: 1, b: { c: [1, { d: 2 }] } }, // already sorted: no copy is made
      { b: 1, '10': 'ten', '9': 'nine', '01': 'zero-one' }, // integer-like keys
      JSON.parse('{"__proto__":{"x":1},"a":2}') as unknown, // an own "__proto__" member
      { when: new Date(0), a: 1 }, // toJSON
      [{ b: 1, a: 2 }, null, 'x', -0, 1e21],
      { a: undefined, b: [undefined] },
    ];
    for (const value of cases) expect(canonicalJson(value)).toBe(canonicalJsonReference(value));
    fc.assert(
      fc.property(
        fc.dictionary(
          fc.constantFrom('a', 'b', '0', '7', '12', '__proto__', 'Z', 'é'),
          fc.jsonValue(),
        ),
        (value) => {
          expect(canonicalJson(value)).toBe(canonicalJsonReference(value));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('refuses values JSON cannot hold', () => {
    expect(() => canonicalJson(Number.NaN)).toThrow(TypeError);
    expect(() => canonicalJson(undefined)).toThrow(TypeError);
  });
});
