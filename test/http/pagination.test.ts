/**
 * A client following next_cursor to the end sees every matching event exactly once, newest
 * first by (occurred_at, seq), including events that share a timestamp; prev_cursor walks back.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { call, event, seedWorkspace, startServer, type Seeded, type Server } from './support.js';

let server: Server;
let ws: Seeded;

interface Page {
  events: Array<{ id: string; seq: number; occurred_at: string; action: string }>;
  next_cursor: string | null;
  prev_cursor: string | null;
  count: { value: number; capped: boolean };
}

const TOTAL = 240;

function actionOf(i: number): string {
  return ['job.created', 'job.deleted', 'INVITE_SENT', 'job.updated'][i % 4]!;
}

beforeAll(async () => {
  server = await startServer({ rateLimit: false });
  ws = await seedWorkspace(server, 'acme');
  // Sent out of time order, with many events sharing one timestamp, in batches of 60.
  const events = Array.from({ length: TOTAL }, (_, i) => {
    const minute = (i * 7) % 40;
    return event(`p-${i}`, {
      action: actionOf(i),
      occurred_at: new Date(Date.UTC(2026, 4, 12, 9, minute)).toISOString(),
    });
  });
  for (let i = 0; i < TOTAL; i += 60) {
    const answer = await call(server, 'POST', '/api/v1/workspaces/acme/events', {
      as: { key: ws.keys.ingest },
      body: { events: events.slice(i, i + 60) },
    });
    expect(answer.status).toBe(201);
  }
});

afterAll(async () => {
  await server.close();
});

async function walk(first: string): Promise<{ pages: Page[]; ids: string[] }> {
  const pages: Page[] = [];
  let path: string | null = first;
  while (path) {
    const answer = await call(server, 'GET', path, { as: { key: ws.keys.read } });
    expect(answer.status).toBe(200);
    const page = answer.body as Page;
    pages.push(page);
    path = page.next_cursor
      ? `/api/v1/workspaces/acme/events?cursor=${encodeURIComponent(page.next_cursor)}`
      : null;
    expect(pages.length).toBeLessThan(100);
  }
  return { pages, ids: pages.flatMap((p) => p.events.map((e) => e.id)) };
}

function expectedOrder(filter: (i: number) => boolean): string[] {
  const all = Array.from({ length: TOTAL }, (_, i) => i).filter(filter);
  // seq follows the sending order here, so (occurred_at desc, seq desc) = (minute desc, i desc).
  return all.sort((a, b) => ((b * 7) % 40) - ((a * 7) % 40) || b - a).map((i) => `p-${i}`);
}

test('following next_cursor through a filtered question yields each match once, in order', async () => {
  const { pages, ids } = await walk('/api/v1/workspaces/acme/events?q=action:job.*&limit=17');
  const expected = expectedOrder((i) => actionOf(i).startsWith('job.'));
  expect(ids).toEqual(expected);
  expect(new Set(ids).size).toBe(ids.length);
  expect(pages[0]!.count).toEqual({ value: expected.length, capped: false });
  expect(pages.at(-1)!.next_cursor).toBeNull();
});

test('plain filter parameters ask the same question as q', async () => {
  const { ids } = await walk(
    '/api/v1/workspaces/acme/events?action=job.created&action=job.deleted&limit=23',
  );
  expect(ids).toEqual(expectedOrder((i) => ['job.created', 'job.deleted'].includes(actionOf(i))));
});

test('prev_cursor walks back to the same pages', async () => {
  const first = await call(server, 'GET', '/api/v1/workspaces/acme/events?limit=10', {
    as: { key: ws.keys.read },
  });
  const page1 = first.body as Page;
  expect(page1.prev_cursor).toBeNull();
  const second = (
    await call(
      server,
      'GET',
      `/api/v1/workspaces/acme/events?cursor=${encodeURIComponent(page1.next_cursor!)}`,
      { as: { key: ws.keys.read } },
    )
  ).body as Page;
  const back = (
    await call(
      server,
      'GET',
      `/api/v1/workspaces/acme/events?cursor=${encodeURIComponent(second.prev_cursor!)}`,
      { as: { key: ws.keys.read } },
    )
  ).body as Page;
  expect(back.events.map((e) => e.id)).toEqual(page1.events.map((e) => e.id));
});

test('a query error names the offending term', async () => {
  const answer = await call(server, 'GET', '/api/v1/workspaces/acme/events?q=colour:red', {
    as: { key: ws.keys.read },
  });
  expect(answer.status).toBe(400);
  expect(answer.body).toMatchObject({ code: 'query_invalid' });
  expect((answer.body as { detail: string }).detail).toContain('colour');
});

test('limit outside 1..200 is refused with the parameter named', async () => {
  const answer = await call(server, 'GET', '/api/v1/workspaces/acme/events?limit=500', {
    as: { key: ws.keys.read },
  });
  expect(answer.status).toBe(400);
  expect(answer.body).toMatchObject({ code: 'bad_request', issues: [{ path: '$.limit' }] });
});
