import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ACTOR_TYPES, OPERATIONS, OUTCOMES } from '../event.js';
import { isReservedKey } from '../safe-keys.js';
import { fieldTerm, queryAst, wordTerm, type QueryAst, type QueryTerm } from './ast.js';
import { QUERY_KEYS } from './keys.js';
import { normalizeQuery, parseFilter } from './normalize.js';
import { parseQuery } from './parse.js';
import { printFilter, printQuery } from './print.js';

/** Characters that stress quoting: separators, quotes, escapes, dashes, unicode. */
const weirdChar = fc.oneof(
  fc.constantFrom(
    ' ',
    ':',
    '"',
    '\\',
    '-',
    '*',
    '\t',
    '\n',
    '\u00a0',
    '\u2028',
    'é',
    'İ',
    '😀',
    'a',
    'Z',
  ),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
);
const weirdString = (minLength = 0) => fc.string({ unit: weirdChar, minLength, maxLength: 12 });
// Reserved names are refused as metadata keys (src/core/safe-keys.ts).
const metaKey = fc.stringMatching(/^[A-Za-z0-9_-]{1,12}$/).filter((key) => !isReservedKey(key));
const randomCase = (value: string) =>
  fc
    .array(fc.boolean(), { minLength: value.length, maxLength: value.length })
    .map((flags) => [...value].map((ch, i) => (flags[i] ? ch.toUpperCase() : ch)).join(''));

const anyTerm: fc.Arbitrary<QueryTerm> = fc.oneof(
  fc
    .record({
      key: fc.constantFrom(...QUERY_KEYS),
      metaKey,
      value: weirdString(),
      negated: fc.boolean(),
    })
    .map(({ key, metaKey, value, negated }) =>
      fieldTerm(key, value, key === 'meta' ? { metaKey, negated } : { negated }),
    ),
  fc
    .record({ value: weirdString(), negated: fc.boolean() })
    .map(({ value, negated }) => wordTerm(value, { negated })),
);

const withoutPositions = (ast: QueryAst) =>
  ast.terms.map(({ position: _position, ...rest }) => rest);

/** Values each key accepts, with the quirks normalization must absorb (case, CIDR spelling). */
const validFieldTerm: fc.Arbitrary<QueryTerm> = fc
  .tuple(
    fc.oneof(
      fc.stringMatching(/^[A-Za-z0-9._:*-]{1,24}$/).map((v) => ['action', v] as const),
      ...(
        ['category', 'actor', 'username', 'email', 'target_type', 'target_id', 'target'] as const
      ).map((key) => weirdString(1).map((v) => [key, v] as const)),
      fc
        .constantFrom(...ACTOR_TYPES)
        .chain(randomCase)
        .map((v) => ['actor_type', v] as const),
      fc
        .constantFrom(...OUTCOMES)
        .chain(randomCase)
        .map((v) => ['outcome', v] as const),
      fc
        .constantFrom(...OPERATIONS)
        .chain(randomCase)
        .map((v) => ['operation', v] as const),
      fc.constant(['is', 'System'] as const),
      fc
        .oneof(
          fc.ipV4(),
          fc.ipV6(),
          fc.tuple(fc.ipV4(), fc.integer({ min: 0, max: 32 })).map(([a, b]) => `${a}/${b}`),
          fc.tuple(fc.ipV6(), fc.integer({ min: 0, max: 128 })).map(([a, b]) => `${a}/${b}`),
        )
        .map((v) => ['ip', v] as const),
    ),
    fc.boolean(),
  )
  .map(([[key, value], negated]) => fieldTerm(key, value, { negated }));

const validTerm: fc.Arbitrary<QueryTerm> = fc.oneof(
  validFieldTerm,
  fc
    .record({ metaKey, value: weirdString(), negated: fc.boolean() })
    .map(({ metaKey, value, negated }) => fieldTerm('meta', value, { metaKey, negated })),
  fc
    .record({ value: weirdString(1), negated: fc.boolean() })
    .map(({ value, negated }) => wordTerm(value, { negated })),
);

const instant = fc.date({
  min: new Date('1970-01-01T00:00:00.000Z'),
  max: new Date('2200-12-31T00:00:00.000Z'),
  noInvalidDate: true,
});

/** A time written as a date, a UTC time or a time with an offset. */
function writeTime(date: Date, style: 'date' | 'utc' | 'offset'): string {
  const iso = date.toISOString();
  if (style === 'date') return iso.slice(0, 10);
  if (style === 'utc') return iso;
  const shifted = new Date(date.getTime() + 90 * 60_000).toISOString();
  return `${shifted.slice(0, 23)}+01:30`;
}

const timeStyle = fc.constantFrom<'date' | 'utc' | 'offset'>('date', 'utc', 'offset');

/** An optional, never-empty time range (since written before until, or not). */
const timeTerms: fc.Arbitrary<QueryTerm[]> = fc
  .record({
    a: instant,
    b: instant,
    sinceStyle: timeStyle,
    untilStyle: timeStyle,
    which: fc.constantFrom('none', 'since', 'until', 'both'),
  })
  .map(({ a, b, sinceStyle, untilStyle, which }) => {
    const [from, to] = a <= b ? [a, b] : [b, a];
    const terms: QueryTerm[] = [];
    if (which === 'since' || which === 'both')
      terms.push(fieldTerm('since', writeTime(from, sinceStyle)));
    if (which === 'until' || which === 'both')
      terms.push(fieldTerm('until', writeTime(to, untilStyle)));
    return terms;
  });

const validAst: fc.Arbitrary<QueryAst> = fc
  .tuple(fc.array(validTerm, { maxLength: 8 }), timeTerms)
  .map(([terms, time]) => queryAst([...time, ...terms]));

describe('round trips', () => {
  it('parseQuery(printQuery(ast)) gives the same terms back, whatever the values', () => {
    fc.assert(
      fc.property(fc.array(anyTerm, { maxLength: 8 }), (terms) => {
        const ast = queryAst(terms);
        expect(withoutPositions(parseQuery(printQuery(ast)))).toStrictEqual(withoutPositions(ast));
      }),
      { numRuns: 500 },
    );
  });

  it('positions point at each term in the printed text', () => {
    fc.assert(
      fc.property(fc.array(anyTerm, { maxLength: 6 }), (terms) => {
        const text = printQuery(queryAst(terms));
        const parsed = parseQuery(text);
        const printed = parsed.terms.map((term) => printQuery(queryAst([term])));
        parsed.terms.forEach((term, i) => {
          expect(text.slice(term.position, term.position + printed[i]!.length)).toBe(printed[i]);
        });
      }),
      { numRuns: 200 },
    );
  });

  it('normalizeQuery(parseQuery(printFilter(f))) deep-equals f', () => {
    fc.assert(
      fc.property(validAst, (ast) => {
        const filter = normalizeQuery(ast);
        const text = printFilter(filter);
        expect(parseFilter(text)).toStrictEqual(filter);
        expect(printFilter(parseFilter(text))).toBe(text);
      }),
      { numRuns: 500 },
    );
  });

  it('term order and repetition do not change the Filter', () => {
    fc.assert(
      fc.property(validAst, fc.integer(), (ast, seed) => {
        const terms = [...ast.terms];
        const shuffled = terms
          .map((term, i) => ({ term, rank: (i * 7919 + seed) % 101 }))
          .sort((x, y) => x.rank - y.rank)
          .map(({ term }) => term);
        const repeated = [
          ...shuffled,
          ...shuffled.filter((t) => t.kind !== 'field' || (t.key !== 'since' && t.key !== 'until')),
        ];
        expect(normalizeQuery(queryAst(repeated))).toStrictEqual(normalizeQuery(ast));
      }),
      { numRuns: 300 },
    );
  });
});
