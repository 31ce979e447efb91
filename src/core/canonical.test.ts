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

  it('refuses values JSON cannot hold', () => {
    expect(() => canonicalJson(Number.NaN)).toThrow(TypeError);
    expect(() => canonicalJson(undefined)).toThrow(TypeError);
  });
});
