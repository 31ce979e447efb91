/**
 * Query-ish input over HTTP on both engines: whatever is sent in a URL, the answer is a result
 * or a precise 4xx, never a 500 from an engine, a cut export or a silently changed question.
 * Each row below was a 500, a cut stream or a silent change before it was fixed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, usePostgres } from '../support/postgres.js';
import { call, event, seedWorkspace, startServer, type Seeded, type Server } from './support.js';

interface Case {
  path: string;
  status: number;
  code?: string;
  /** Members the problem (or body) must have. */
  body?: Record<string, unknown>;
  /** Only where it was broken (SQLite already answered these). */
  only?: 'postgres';
}

const CASES: Case[] = [
  // A NUL ended SQLite's FTS5 phrase ("unterminated string") and PostgreSQL refuses it.
  {
    path: 'events?q=abc%00def',
    status: 400,
    code: 'query_invalid',
    body: { position: 3, term: 'abc\u0000def' },
  },
  {
    path: 'events?q=actor%3A%22alex%01%22',
    status: 400,
    code: 'query_invalid',
    body: { position: 11 },
  },
  {
    path: 'events?actor=ab%00c',
    status: 400,
    code: 'query_invalid',
    body: { parameter: 'actor', value: 'ab\u0000c' },
  },
  { path: 'events?meta.note=%C2%85', status: 400, code: 'query_invalid' },
  // A malformed escape was searched for as literal text.
  { path: 'events?q=%ED%A0%80', status: 400, code: 'bad_request' },
  { path: 'events?actor=%FF%FE', status: 400, code: 'bad_request' },
  // `1e400` passed the schema as Infinity and silently became the default page size.
  { path: 'events?limit=1e400', status: 400, code: 'bad_request' },
  { path: 'actors?limit=Infinity', status: 400, code: 'bad_request' },
  // PostgreSQL has no year 0000 (it is 1 BC there): a 500 before.
  { path: 'events?until=0000-01-02', status: 200, body: { events: [] }, only: 'postgres' },
  { path: 'events?q=since%3A0000-01-02&count=false', status: 200, only: 'postgres' },
  // Path segments with control characters reached PostgreSQL (500).
  { path: 'events/a%00b', status: 400, code: 'bad_request' },
  { path: 'entities/job/a%00b/history', status: 400, code: 'bad_request' },
  // Exports: refused before the first byte, not a 200 with a header row and a cut stream.
  { path: 'export?q=abc%00def', status: 400, code: 'query_invalid' },
  {
    path: 'export?type=entities&target_type=jo%00b',
    status: 400,
    code: 'query_invalid',
    body: { parameter: 'target_type' },
  },
  { path: 'export/count?type=entities&target_type=jo%00b', status: 400, code: 'query_invalid' },
  // Past the integers the engines bind exactly: a 500 before.
  { path: 'export?limit=1e20', status: 400, code: 'bad_request' },
  { path: 'export/count?limit=1e400', status: 400, code: 'bad_request' },
  // Facets are not filtered: a filter sent to them was silently ignored.
  { path: 'facets?q=action%3Ajob.created', status: 400, code: 'bad_request' },
];

for (const engine of ['sqlite', 'postgres'] as const) {
  describe(engine, () => {
    let server: Server;
    let seeded: Seeded;
    let release: (() => Promise<void>) | undefined;

    beforeAll(async () => {
      let db: string | undefined;
      if (engine === 'postgres') {
        const pg = await usePostgres();
        release = pg.release;
        db = await createDatabase(pg.server, 'bad_input');
      }
      server = await startServer({ rateLimit: false, ...(db === undefined ? {} : { db }) });
      seeded = await seedWorkspace(server, 'acme');
      const answer = await call(server, 'POST', '/api/v1/workspaces/acme/events', {
        as: { key: seeded.keys.ingest },
        body: {
          events: [
            event('e1', { actor: { type: 'user', id: 'alex@acme.test', name: 'Alex Kim' } }),
            event('e2', { occurred_at: '2026-05-12T10:00:00.000Z' }),
          ],
        },
      });
      expect(answer.status).toBe(201);
    });

    afterAll(async () => {
      await server?.close();
      await release?.();
    });

    it.each(CASES.filter((c) => c.only === undefined || c.only === engine))(
      '$path -> $status $code',
      async ({ path, status, code, body }) => {
        const answer = await call(server, 'GET', `/api/v1/workspaces/acme/${path}`, {
          as: { key: seeded.keys.read },
        });
        expect({ status: answer.status, text: answer.text.slice(0, 300) }).toMatchObject({
          status,
        });
        if (code !== undefined) {
          expect(answer.headers.get('content-type')).toMatch(/^application\/problem\+json/);
          expect(answer.body).toMatchObject({ code, status });
        }
        if (body !== undefined) expect(answer.body).toMatchObject(body);
      },
    );
  });
}
