/** The pure helpers both engines share: LIKE patterns and the ingest-path IP key. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ipaddrKey, ipKey } from '../../src/core/ip.js';
import { globMatches } from '../../src/core/query/evaluate.js';
import { escapeLike, globToLike } from '../../src/store/sql-shared.js';

/** LIKE semantics with `ESCAPE '\'`, case-sensitive, as a reference for the patterns. */
function likeMatches(pattern: string, text: string): boolean {
  let source = '';
  for (let i = 0; i < pattern.length; i += 1) {
    const char = pattern[i]!;
    if (char === '\\') {
      i += 1;
      source += (pattern[i] ?? '').replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    } else if (char === '%') source += '[\\s\\S]*';
    else if (char === '_') source += '[\\s\\S]';
    else source += char.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`).test(text);
}

describe('globToLike', () => {
  const cases: [string, string][] = [
    ['job.*', 'job.%'],
    ['*_created', '%\\_created'],
    ['100%', '100\\%'],
    ['a\\b*', 'a\\\\b%'],
    ['exact', 'exact'],
  ];
  for (const [glob, like] of cases) {
    it(`turns ${glob} into ${like}`, () => expect(globToLike(glob)).toBe(like));
  }

  it('matches exactly what the evaluator glob matches', () => {
    const alphabet = fc.constantFrom('a', 'b', '_', '%', '\\', '.', '*');
    fc.assert(
      fc.property(fc.string({ unit: alphabet }), fc.string({ unit: alphabet }), (glob, text) => {
        const plain = text.replace(/\*/g, '');
        expect(likeMatches(globToLike(glob), plain)).toBe(globMatches(glob, plain));
      }),
    );
  });

  it('escapeLike makes any text match only itself', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (text, other) => {
        expect(likeMatches(escapeLike(text), text)).toBe(true);
        if (other !== text) expect(likeMatches(escapeLike(text), other)).toBe(false);
      }),
    );
  });
});

describe('ipKey fast path', () => {
  it('agrees with ipKey on IPv4 addresses and near misses', () => {
    const octet = fc.oneof(
      fc.integer({ min: 0, max: 300 }).map(String),
      fc.constantFrom('00', '01', '007', '', '1a'),
    );
    fc.assert(
      fc.property(fc.array(octet, { minLength: 3, maxLength: 5 }), (parts) => {
        const text = parts.join('.');
        expect(ipKey(text)).toBe(ipaddrKey(text));
      }),
      { numRuns: 2000 },
    );
  });

  it('agrees with ipKey on IPv6 and other text', () => {
    for (const text of ['2001:db8::1', '::ffff:10.9.9.9', '::1', 'not an ip', '', '1.2.3.4 ']) {
      expect(ipKey(text)).toBe(ipaddrKey(text));
    }
    fc.assert(
      fc.property(fc.ipV4(), (text) => {
        expect(ipKey(text)).toBe(ipaddrKey(text));
      }),
    );
    fc.assert(
      fc.property(fc.ipV6(), (text) => {
        expect(ipKey(text)).toBe(ipaddrKey(text));
      }),
    );
  });
});
