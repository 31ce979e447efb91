/**
 * Whatever text a person types as a search, on either engine the answer is a page or a
 * `query_invalid` error: never an engine error (SQLite FTS5 "unterminated string" for a NUL,
 * PostgreSQL refusing a NUL in text, a LIKE pattern that does not parse...), and a page is
 * exactly what the in-memory evaluator says matches. Arbitrary strings go in as the `q` text,
 * as `actor:`/`target:` values and as plain HTTP filter parameters.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isTrailkeepError } from '../../src/core/errors.js';
import { matchesFilter } from '../../src/core/query/evaluate.js';
import { formatValue } from '../../src/core/query/print.js';
import { LogService, type QueryRequest } from '../../src/service/log-service.js';
import { openStore } from '../../src/store/open.js';
import type { Store } from '../../src/store/store.js';
import { createDatabase, usePostgres } from '../support/postgres.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Characters that trip query syntaxes: FTS5 and LIKE specials, quotes, controls, surrogates. */
const nasty = fc.oneof(
  fc.constantFrom(
    '"',
    "'",
    '\\',
    '%',
    '_',
    '*',
    ':',
    '-',
    ' ',
    '(',
    ')',
    '^',
    'NEAR',
    'AND',
    'OR',
    '\u0000',
    '\u0001',
    '\t',
    '\u007f',
    '\u0085',
    '\ud800',
    '\udfff',
    '\ufffd',
    'é',
    '😀',
    'al',
    'ex',
  ),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
);
const letters = fc.string({
  unit: fc.constantFrom('a', 'l', 'e', 'x', 'K', '@', '.'),
  maxLength: 5,
});
/** Mostly one odd character among plain letters (each syntax gets its own chance), else chaos. */
const text = fc.oneof(
  { weight: 3, arbitrary: fc.tuple(letters, nasty, letters).map((parts) => parts.join('')) },
  { weight: 1, arbitrary: fc.string({ unit: nasty, minLength: 1, maxLength: 10 }) },
);

const asRequest = fc.constantFrom<(value: string) => QueryRequest>(
  (value) => ({ q: value }),
  (value) => ({ q: `actor:${formatValue(value)}` }),
  (value) => ({ q: `-target:${formatValue(value)} ${formatValue(value)}` }),
  (value) => ({ params: { actor: value } }),
  (value) => ({ params: { target: [value, 'payments'] } }),
  (value) => ({ q: `email:${formatValue(value)}`, params: { username: value } }),
);

const stores: Array<{ name: string; open: () => Promise<Store> }> = [];
const dir = mkdtempSync(join(tmpdir(), 'trailkeep-query-input-'));
let releasePostgres: (() => Promise<void>) | undefined;
let postgresUrl: string | undefined;

stores.push({ name: 'sqlite', open: () => openStore(`sqlite:${join(dir, 'q.db')}`) });
stores.push({
  name: 'postgres',
  open: () => {
    if (postgresUrl === undefined) throw new Error('the PostgreSQL test server did not start');
    return openStore(postgresUrl);
  },
});

beforeAll(async () => {
  const { server, release } = await usePostgres();
  releasePostgres = release;
  postgresUrl = await createDatabase(server, 'query_input');
});

afterAll(async () => {
  await releasePostgres?.();
  rmSync(dir, { recursive: true, force: true });
});

for (const { name, open } of stores) {
  describe(name, () => {
    let store: Store;
    let log: LogService;

    beforeAll(async () => {
      store = await open();
      log = await LogService.open(store);
      await store.createWorkspace({ id: 'acme', name: 'Acme', settings: {} });
      await log.ingest('acme', {
        events: ['alex@acme.test', 'Alex "Q" Kim', 'a%b_c\\d', 'Zoë 😀'].map((actor, i) => ({
          id: `e${i}`,
          action: 'job.created',
          occurred_at: '2026-05-12T09:30:00.000Z',
          actor: { type: 'user', id: `u${i}`, name: actor, email: `u${i}@acme.test` },
          targets: [{ type: 'repo', id: `r${i}`, name: i === 0 ? 'payments' : actor }],
        })),
      });
    });

    afterAll(async () => {
      await store?.close();
    });

    it('answers any typed text with the right page or query_invalid, never an engine error', async () => {
      const all = (await log.query('acme', {})).events;
      await fc.assert(
        fc.asyncProperty(text, asRequest, async (value, ask) => {
          const request = ask(value);
          let page: Awaited<ReturnType<LogService['query']>>;
          try {
            page = await log.query('acme', { ...request, withCount: true });
          } catch (error) {
            if (isTrailkeepError(error) && error.code === 'query_invalid') return;
            throw error;
          }
          // A result must be the answer to the question asked, not to a changed one (a NUL
          // cut a bound string short and matched everything).
          const filter = log.resolveFilter('acme', request);
          const expected = all.filter((event) => matchesFilter(filter, event)).map((e) => e.id);
          expect(page.events.map((e) => e.id)).toEqual(expected);
          expect(page.count?.value).toBe(expected.length);
        }),
        { numRuns: 300 },
      );
    });
  });
}
