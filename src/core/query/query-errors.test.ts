import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isTrailkeepError, type TrailkeepError } from '../errors.js';
import { fieldTerm, queryAst, wordTerm } from './ast.js';
import { normalizeQuery, parseFilter } from './normalize.js';
import { filterFromParams } from './params.js';

const KNOWN_KEYS =
  'known keys: action, category, actor, actor_type, username, email, target_type, target_id, ' +
  'target, ip, outcome, operation, id, request_id, since, until, is, meta.KEY (aliases: ' +
  'resource_type, ' +
  'resource_id, resource_target, crud, date_from, date_to, build_reason)';
const DATE_HINT =
  'write YYYY-MM-DD (a whole day in UTC) or a full ISO time with a zone, as in 2026-05-12T09:30:00Z';

const CONTROL_HINT =
  'a query cannot hold control characters (tabs and line breaks only separate terms); remove it';
const SURROGATE_HINT = 'half of a UTF-16 pair is not valid Unicode, and no stored text holds one';

function failure(run: () => unknown): TrailkeepError {
  try {
    run();
  } catch (error) {
    if (isTrailkeepError(error)) return error;
    throw error;
  }
  throw new Error('expected a query_invalid error');
}

interface FailureCase {
  input: string;
  message: string;
  position: number;
  term: string;
}

const FAILURES: FailureCase[] = [
  // syntax
  {
    input: 'action:job.created foo:bar',
    message: `Unknown key "foo" at position 19 (term "foo:bar"); ${KNOWN_KEYS}`,
    position: 19,
    term: 'foo:bar',
  },
  {
    input: 'x -Foo:"a b"',
    message: `Unknown key "Foo" at position 2 (term "-Foo:\\"a b\\""); ${KNOWN_KEYS}`,
    position: 2,
    term: '-Foo:"a b"',
  },
  {
    input: 'action:a actor:"alex',
    message: 'Unterminated quote at position 15 (term "actor:\\"alex"); close it with "',
    position: 15,
    term: 'actor:"alex',
  },
  {
    input: 'action:',
    message: 'Empty value for "action" at position 0 (term "action:")',
    position: 0,
    term: 'action:',
  },
  {
    input: 'x meta.note:',
    message:
      'Empty value for "meta.note" at position 2 (term "meta.note:"); to match an empty text write meta.note:""',
    position: 2,
    term: 'meta.note:',
  },
  {
    input: ':foo',
    message:
      'Missing key at position 0 (term ":foo"); write key:value, or quote a word that contains ":"',
    position: 0,
    term: ':foo',
  },
  {
    input: 'meta:x',
    message: 'Missing metadata key at position 0 (term "meta:x"); write meta.KEY:value',
    position: 0,
    term: 'meta:x',
  },
  {
    input: 'meta.a/b:x',
    message:
      'Invalid metadata key "a/b" at position 0 (term "meta.a/b:x"); use 1 to 64 letters, digits, "_" or "-"',
    position: 0,
    term: 'meta.a/b:x',
  },
  {
    input: 'meta.__proto__:x',
    message:
      'Reserved metadata key "__proto__" at position 0 (term "meta.__proto__:x"); "__proto__", "constructor" and "prototype" are reserved and cannot be used as names',
    position: 0,
    term: 'meta.__proto__:x',
  },
  {
    input: 'x constructor:1',
    message:
      'Unknown key "constructor" at position 2 (term "constructor:1"); known keys: action, category, actor, actor_type, username, email, target_type, target_id, target, ip, outcome, operation, id, request_id, since, until, is, meta.KEY (aliases: resource_type, resource_id, resource_target, crud, date_from, date_to, build_reason)',
    position: 2,
    term: 'constructor:1',
  },
  {
    input: 'a - b',
    message:
      'A lone "-" at position 2 (term "-"); a "-" negates the term glued to it; to search for "-" itself, quote it: "-"',
    position: 2,
    term: '-',
  },
  {
    input: 'action:ab"c"',
    message:
      'Unexpected quote at position 9 (term "action:ab\\"c\\""); quote a whole value or word, as in actor:"Alex Kim"',
    position: 9,
    term: 'action:ab"c"',
  },
  {
    input: 'ab"c d"',
    message:
      'Unexpected quote at position 2 (term "ab\\"c"); quote a whole value or word, as in actor:"Alex Kim"',
    position: 2,
    term: 'ab"c',
  },
  {
    input: '"ab"c',
    message:
      'Unexpected "c" after the closing quote at position 4 (term "\\"ab\\"c"); separate terms with a space, and write a quote inside a quoted value as \\"',
    position: 4,
    term: '"ab"c',
  },
  {
    input: 'target:"a\\nb" x',
    message:
      'Unknown escape "\\\\n" at position 9 (term "target:\\"a\\\\nb\\""); inside quotes only \\" and \\\\ are escapes',
    position: 9,
    term: 'target:"a\\nb"',
  },
  // characters no query may hold, quoted or not, in a word, a key or a value
  {
    input: 'alex\u0000smith',
    message: `Control character U+0000 at position 4 (term "alex\\u0000smith"); ${CONTROL_HINT}`,
    position: 4,
    term: 'alex\u0000smith',
  },
  {
    input: 'x actor:"ab\u0000c"',
    message: `Control character U+0000 at position 11 (term "actor:\\"ab\\u0000c\\""); ${CONTROL_HINT}`,
    position: 11,
    term: 'actor:"ab\u0000c"',
  },
  {
    input: 'target:"a\tb"',
    message: `Control character U+0009 at position 9 (term "target:\\"a\\tb\\""); ${CONTROL_HINT}`,
    position: 9,
    term: 'target:"a\tb"',
  },
  {
    input: '-meta.note:"line\nbreak"',
    message: `Control character U+000A at position 16 (term "-meta.note:\\"line\\nbreak\\""); ${CONTROL_HINT}`,
    position: 16,
    term: '-meta.note:"line\nbreak"',
  },
  {
    input: 'ok since:2026\u007f',
    message: `Control character U+007F at position 13 (term "since:2026\\u007f"); ${CONTROL_HINT}`,
    position: 13,
    term: 'since:2026\u007f',
  },
  {
    input: 'act\u0085or:x',
    message: `Control character U+0085 at position 3 (term "act\\u0085or:x"); ${CONTROL_HINT}`,
    position: 3,
    term: 'act\u0085or:x',
  },
  {
    input: 'actor:ab\ud800c',
    message: `Lone surrogate U+D800 at position 8 (term "actor:ab\\ud800c"); ${SURROGATE_HINT}`,
    position: 8,
    term: 'actor:ab\ud800c',
  },
  {
    input: '"\udc00"',
    message: `Lone surrogate U+DC00 at position 1 (term "\\"\\udc00\\""); ${SURROGATE_HINT}`,
    position: 1,
    term: '"\udc00"',
  },
  // values
  {
    input: 'action:"job created"',
    message:
      'Invalid action "job created" at position 0 (term "action:\\"job created\\""); use letters, digits and ._:- (with * as a wildcard), 1 to 128 characters',
    position: 0,
    term: 'action:"job created"',
  },
  {
    input: `action:${'a'.repeat(129)}`,
    message: `Invalid action "${'a'.repeat(129)}" at position 0 (term "action:${'a'.repeat(129)}"); use letters, digits and ._:- (with * as a wildcard), 1 to 128 characters`,
    position: 0,
    term: `action:${'a'.repeat(129)}`,
  },
  {
    input: `target_id:${'x'.repeat(513)}`,
    message: `Value too long (513 characters) at position 0 (term "target_id:${'x'.repeat(513)}"); at most 512 characters`,
    position: 0,
    term: `target_id:${'x'.repeat(513)}`,
  },
  {
    input: 'category:""',
    message: 'Empty value for "category" at position 0 (term "category:\\"\\"")',
    position: 0,
    term: 'category:""',
  },
  {
    input: 'a ""',
    message: 'Empty search word at position 2 (term "\\"\\"")',
    position: 2,
    term: '""',
  },
  {
    input: 'actor_type:robot',
    message:
      'Unknown actor_type "robot" at position 0 (term "actor_type:robot"); expected one of: user, agent, api_token, automation, system',
    position: 0,
    term: 'actor_type:robot',
  },
  {
    input: 'outcome:maybe',
    message:
      'Unknown outcome "maybe" at position 0 (term "outcome:maybe"); expected one of: success, failure',
    position: 0,
    term: 'outcome:maybe',
  },
  {
    input: 'crud:upsert',
    message:
      'Unknown operation "upsert" at position 0 (term "crud:upsert"); expected one of: create, read, update, delete, other',
    position: 0,
    term: 'crud:upsert',
  },
  ...['10.0.0.0/33', '300.1.1.1', 'example.com', '10.1'].map((value) => ({
    input: `ip:${value}`,
    message: `Invalid IP address or CIDR range "${value}" at position 0 (term "ip:${value}"); write an address (203.0.113.7, 2001:db8::1) or a range (10.0.0.0/8, 2001:db8::/32)`,
    position: 0,
    term: `ip:${value}`,
  })),
  {
    input: 'is:admin',
    message:
      'Unknown value "admin" for "is" at position 0 (term "is:admin"); the only one is is:system (system and automation actors); negate it with -is:system',
    position: 0,
    term: 'is:admin',
  },
  // time
  ...['2026-02-30', 'yesterday', '2026-5-1', '2026-05-12T24:00Z', '2026-05-12T10:00+25:00'].map(
    (value) => ({
      input: `since:${value}`,
      message: `Invalid date "${value}" at position 0 (term "since:${value}"); ${DATE_HINT}`,
      position: 0,
      term: `since:${value}`,
    }),
  ),
  {
    input: 'date_to:2026-05-12T09:30',
    message:
      'Missing time zone in "2026-05-12T09:30" at position 0 (term "date_to:2026-05-12T09:30"); add Z for UTC or an offset such as +02:00',
    position: 0,
    term: 'date_to:2026-05-12T09:30',
  },
  {
    input: '-since:2026-05-12',
    message:
      '"since" cannot be negated at position 0 (term "-since:2026-05-12"); to ask for earlier events use until:',
    position: 0,
    term: '-since:2026-05-12',
  },
  {
    input: 'since:2026-05-12 date_from:2026-05-13',
    message:
      '"since" is given twice at position 17 (term "date_from:2026-05-13"); a time range has one start',
    position: 17,
    term: 'date_from:2026-05-13',
  },
  {
    input: 'until:2026-05-12 since:2026-05-13',
    message:
      'Empty time range: since 2026-05-13 is after until 2026-05-12 at position 17 (term "since:2026-05-13"); since must come before until',
    position: 17,
    term: 'since:2026-05-13',
  },
  {
    input: 'until:9999-12-31',
    message:
      'Time out of range "9999-12-31" at position 0 (term "until:9999-12-31"); times must fall between the years 0000 and 9999',
    position: 0,
    term: 'until:9999-12-31',
  },
];

describe('query failures', () => {
  it.each(FAILURES)('$input', ({ input, message, position, term }) => {
    const error = failure(() => parseFilter(input));
    expect(error.code).toBe('query_invalid');
    expect(error.status).toBe(400);
    expect(error.message).toBe(message);
    expect(error.extra).toEqual({ position, term });
  });

  it('refuses a control character or a lone surrogate in any term, and only there', () => {
    const bad = fc.oneof(
      fc.integer({ min: 0, max: 0x1f }).filter((c) => ![9, 10, 11, 12, 13].includes(c)),
      fc.integer({ min: 0x7f, max: 0x9f }),
      fc.integer({ min: 0xd800, max: 0xdfff }),
    );
    const safe = fc.string({
      unit: fc.constantFrom('a', 'Z', '.', 'é', '😀', ':', '*'),
      maxLength: 6,
    });
    fc.assert(
      fc.property(
        safe,
        bad,
        safe,
        fc.constantFrom(
          ['', ''],
          ['actor:', ''],
          ['target:"', '"'],
          ['-', ''],
          ['x -meta.k:"', '" y'],
          ['"', '"'],
        ),
        (before, unit, after, [prefix, suffix]) => {
          const text = `${prefix}${before}${String.fromCharCode(unit)}${after}${suffix}`;
          const error = failure(() => parseFilter(text));
          expect(error.message).toMatch(/^(Control character|Lone surrogate) U\+[0-9A-F]{4} at/);
          expect(error.extra['position']).toBe(prefix.length + before.length);
        },
      ),
      { numRuns: 300 },
    );
    // Whitespace control characters between terms still only separate them.
    expect(parseFilter('a\tb\nc\r\nd').clauses[0]?.values).toEqual(['a', 'b', 'c', 'd']);
    expect(parseFilter('\ud83d\ude00').clauses[0]?.values).toEqual(['😀']);
  });

  it('refuses the same characters in HTTP parameters and in trees built without text', () => {
    expect(failure(() => filterFromParams({ actor: 'ab\u0000c' })).message).toBe(
      `Control character U+0000 in parameter "actor" (value "ab\\u0000c"); ${CONTROL_HINT}`,
    );
    expect(failure(() => filterFromParams({ 'meta.note': ['ok', '\u009b'] })).extra).toEqual({
      parameter: 'meta.note',
      value: '\u009b',
    });
    expect(
      failure(() => normalizeQuery(queryAst([wordTerm('x\udfffy', { position: 2 })]))).message,
    ).toBe(`Lone surrogate U+DFFF at position 2 (term "x\\udfffy"); ${SURROGATE_HINT}`);
  });

  it('quotes canonical terms when normalizing a tree without its source text', () => {
    const ast = queryAst([
      wordTerm('ok'),
      fieldTerm('outcome', 'maybe', { position: 3, negated: true }),
    ]);
    expect(failure(() => normalizeQuery(ast)).message).toBe(
      'Unknown outcome "maybe" at position 3 (term "-outcome:maybe"); expected one of: success, failure',
    );
  });
});
