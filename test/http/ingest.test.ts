/**
 * Ingest over a real server: idempotent re-sends, atomic batches, and every limit answered with
 * its status and problem code.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { call, event, seedWorkspace, startServer, type Seeded, type Server } from './support.js';

let server: Server;
let ws: Seeded;
const EVENTS = '/api/v1/workspaces/acme/events';

/** Added to the server's clock, so a test can send "a second later" without waiting. */
let clockAhead = 0;

beforeAll(async () => {
  server = await startServer(
    { rateLimit: false },
    { clock: () => new Date(Date.now() + clockAhead) },
  );
  ws = await seedWorkspace(server, 'acme');
});

afterAll(async () => {
  await server.close();
});

async function head(): Promise<number> {
  return (await server.store.head('acme')).seq;
}

interface Problem {
  code: string;
  detail: string;
  issues: Array<{ index?: number; path: string; message: string }>;
}

interface Appended {
  events: Array<{ id: string; seq: number; hash: string; created: boolean }>;
}

describe('idempotent re-sends', () => {
  test('the same batch sent 3 times is stored once', async () => {
    const batch = { events: [event('idem-1'), event('idem-2'), event('idem-3')] };
    const before = await head();
    const answers = [];
    for (let i = 0; i < 3; i++) {
      answers.push(
        await call(server, 'POST', EVENTS, { as: { key: ws.keys.ingest }, body: batch }),
      );
    }
    expect(answers.map((a) => a.status)).toEqual([201, 200, 200]);
    const [first, ...rest] = answers.map((a) => a.body as Appended);
    expect(first!.events.every((e) => e.created)).toBe(true);
    for (const again of rest) {
      expect(again.events.map((e) => [e.id, e.seq, e.hash])).toEqual(
        first!.events.map((e) => [e.id, e.seq, e.hash]),
      );
      expect(again.events.every((e) => !e.created)).toBe(true);
    }
    expect(await head()).toBe(before + 3);
  });

  test('20 parallel sends of one event id store it once', async () => {
    const before = await head();
    const answers = await Promise.all(
      Array.from({ length: 20 }, () =>
        call(server, 'POST', EVENTS, { as: { key: ws.keys.ingest }, body: event('parallel-1') }),
      ),
    );
    expect(answers.filter((a) => a.status === 201)).toHaveLength(1);
    expect(answers.filter((a) => a.status === 200)).toHaveLength(19);
    const seqs = new Set(answers.map((a) => (a.body as Appended).events[0]!.seq));
    expect(seqs.size).toBe(1);
    expect(await head()).toBe(before + 1);
  });

  test('the same id with different content is a conflict and stores nothing', async () => {
    await call(server, 'POST', EVENTS, { as: { key: ws.keys.ingest }, body: event('conflict-1') });
    const before = await head();
    const answer = await call(server, 'POST', EVENTS, {
      as: { key: ws.keys.ingest },
      body: { events: [event('conflict-new'), event('conflict-1', { action: 'other.thing' })] },
    });
    expect(answer.status).toBe(409);
    expect((answer.body as { code: string }).code).toBe('event_id_conflict');
    expect(await head()).toBe(before);
  });
});

describe('re-sends of events the server completed', () => {
  /** The README's example: the server fills in occurred_at, category, operation, outcome. */
  const example = (id: string): Record<string, unknown> => ({
    id,
    action: 'job.created',
    actor: { type: 'user', id: 'u' },
  });

  async function stored(id: string): Promise<Record<string, unknown>> {
    const answer = await call(server, 'GET', `${EVENTS}/${id}`, { as: { key: ws.keys.read } });
    expect(answer.status).toBe(200);
    return answer.body as Record<string, unknown>;
  }

  test("the README's example sent twice, a second apart: 201, then 200 with the stored event", async () => {
    const first = await call(server, 'POST', EVENTS, {
      as: { key: ws.keys.ingest },
      body: example('readme-1'),
    });
    expect(first.status).toBe(201);
    const kept = await stored('readme-1');
    expect(kept['occurred_at']).toBe(kept['received_at']);
    clockAhead += 1000;
    const again = await call(server, 'POST', EVENTS, {
      as: { key: ws.keys.ingest },
      body: example('readme-1'),
    });
    expect(again.status).toBe(200);
    const [created] = (first.body as Appended).events;
    expect(again.body).toEqual({ events: [{ ...created, created: false }] });
    expect(await stored('readme-1')).toEqual(kept);
  });

  test('a field the sender set that differs is a 409 naming it, and stores nothing', async () => {
    await call(server, 'POST', EVENTS, { as: { key: ws.keys.ingest }, body: example('readme-2') });
    const before = await head();
    const answer = await call(server, 'POST', EVENTS, {
      as: { key: ws.keys.ingest },
      body: { ...example('readme-2'), occurred_at: '2026-05-12T09:30:00Z', outcome: 'failure' },
    });
    expect(answer.status).toBe(409);
    const problem = answer.body as { code: string; detail: string; issues: unknown[] };
    expect(problem.code).toBe('event_id_conflict');
    expect(problem.detail).toMatch(
      /^event id "readme-2" is already stored \(seq \d+\) with a different occurred_at and outcome$/,
    );
    expect(problem.issues).toEqual([
      {
        index: 0,
        path: '$.occurred_at',
        message: expect.stringMatching(/^differs from event "readme-2" as stored/),
      },
      {
        index: 0,
        path: '$.outcome',
        message: expect.stringMatching(/^differs from event "readme-2" as stored/),
      },
    ]);
    expect(await head()).toBe(before);
  });
});

describe('nothing is silently altered', () => {
  const minimal = (id: string, rest = ''): string =>
    `{"id":"${id}","action":"job.created","actor":{"type":"user","id":"u"}${rest}}`;

  async function post(
    body: string | Uint8Array<ArrayBuffer>,
  ): Promise<{ status: number; problem: Problem }> {
    const response = await fetch(`${server.url}${EVENTS}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ws.keys.ingest}`, 'content-type': 'application/json' },
      body,
    });
    return { status: response.status, problem: (await response.json()) as Problem };
  }

  async function stored(id: string): Promise<number> {
    return (await call(server, 'GET', `${EVENTS}/${id}`, { as: { key: ws.keys.read } })).status;
  }

  test('invalid UTF-8 is refused naming its byte offset, not stored as U+FFFD', async () => {
    const text = Buffer.from(minimal('utf8-1', ',"metadata":{"note":"caf#"}'));
    const at = text.indexOf('#');
    const body = Buffer.concat([
      text.subarray(0, at),
      Buffer.from([0xc3, 0x28]),
      text.subarray(at + 1),
    ]);
    const before = await head();
    const answer = await post(new Uint8Array(body));
    expect(answer.status).toBe(400);
    expect(answer.problem.code).toBe('invalid_utf8');
    expect(answer.problem.detail).toBe(
      `The JSON body is not valid UTF-8 at byte offset ${at} (bytes C3 28 22 7D)`,
    );
    expect(await head()).toBe(before);
    expect(await stored('utf8-1')).toBe(404);
  });

  test('a key twice in one object is refused naming its path, alone or in a batch', async () => {
    const before = await head();
    const single = await post(minimal('dup-1', ',"metadata":{"a":1,"b":{"c":1},"a":2}'));
    expect(single.status).toBe(400);
    expect(single.problem.code).toBe('json_duplicate_key');
    expect(single.problem.issues).toEqual([
      { path: '$.metadata.a', message: expect.stringContaining('appears twice') },
    ]);
    const batch = await post(
      `{"events":[${minimal('dup-2')},${minimal('dup-3', ',"outcome":"success","\\u006futcome":"failure"')}]}`,
    );
    expect(batch.status).toBe(400);
    expect(batch.problem.code).toBe('json_duplicate_key');
    expect(batch.problem.issues.map((issue) => issue.path)).toEqual(['$.events[1].outcome']);
    expect(await head()).toBe(before);
    expect(await stored('dup-1')).toBe(404);
  });

  test('an integer beyond ±(2^53 - 1) is refused naming its path; the largest safe one is kept', async () => {
    const before = await head();
    const big = await post(minimal('big-int-1', ',"metadata":{"n":[1,9007199254740993]}'));
    expect(big.status).toBe(400);
    expect(big.problem.code).toBe('json_unsafe_integer');
    expect(big.problem.detail).toContain('$.metadata.n[1] is the integer 9007199254740993');
    expect(big.problem.issues.map((issue) => issue.path)).toEqual(['$.metadata.n[1]']);
    expect(await head()).toBe(before);

    const safe = await post(minimal('big-int-2', ',"metadata":{"n":-9007199254740991}'));
    expect(safe.status).toBe(201);
    const kept = await call(server, 'GET', `${EVENTS}/big-int-2`, { as: { key: ws.keys.read } });
    expect(kept.text).toContain('"metadata":{"n":-9007199254740991}');
  });

  test('a grammar error names its byte offset and path; a byte order mark is skipped', async () => {
    const bad = await post('{"events":[{"id":"x",}]}');
    expect(bad.status).toBe(400);
    expect(bad.problem.code).toBe('bad_request');
    expect(bad.problem.detail).toBe(
      'The JSON body is not valid JSON: a key in quotes is expected, not "}" at byte offset 21 ($.events[0])',
    );
    const bom = await post(`\ufeff${minimal('bom-1')}`);
    expect(bom.status).toBe(201);
  });
});

describe('atomic batches', () => {
  test('one bad event stores nothing and the problem names its index and path', async () => {
    const before = await head();
    const answer = await call(server, 'POST', EVENTS, {
      as: { key: ws.keys.ingest },
      body: {
        events: [
          event('atomic-1'),
          event('atomic-2', { actor: { type: 'robot', id: 'r1' } }),
          event('atomic-3'),
        ],
      },
    });
    expect(answer.status).toBe(400);
    const problem = answer.body as { code: string; issues: Array<{ index: number; path: string }> };
    expect(problem.code).toBe('validation_failed');
    expect(problem.issues).toContainEqual(
      expect.objectContaining({ index: 1, path: '$.actor.type' }),
    );
    expect(await head()).toBe(before);
    const lookup = await call(server, 'GET', `${EVENTS}/atomic-1`, { as: { key: ws.keys.read } });
    expect(lookup.status).toBe(404);
  });
});

function nested(depth: number): unknown {
  let value: unknown = 'leaf';
  for (let i = 0; i < depth; i++) value = { n: value };
  return value;
}

describe('limits', () => {
  test('a body over 4 MiB is refused with 413', async () => {
    const answer = await call(server, 'POST', EVENTS, {
      as: { key: ws.keys.ingest },
      body: event('huge', { metadata: { blob: 'x'.repeat(4 * 1024 * 1024 + 10) } }),
    });
    expect(answer.status).toBe(413);
    expect((answer.body as { code: string }).code).toBe('payload_too_large');
  });

  test('a body nested deeper than the limit is refused before parsing', async () => {
    const deep = `${'{"n":'.repeat(100_000)}1${'}'.repeat(100_000)}`;
    const answer = await call(server, 'POST', EVENTS, { as: { key: ws.keys.ingest }, body: deep });
    expect(answer.status).toBe(400);
    expect((answer.body as { code: string }).code).toBe('json_too_deep');
  });

  test('an event nested 17 levels is json_too_deep, alone or in a batch; 16 is accepted', async () => {
    // The event object is level 1; metadata's value nested(16) holds levels 2 to 17.
    for (const body of [
      event('depth-17', { metadata: nested(16) }),
      { events: [event('depth-ok'), event('depth-17', { metadata: nested(16) })] },
    ]) {
      const tooDeep = await call(server, 'POST', EVENTS, { as: { key: ws.keys.ingest }, body });
      expect(tooDeep.status).toBe(400);
      expect((tooDeep.body as { code: string }).code).toBe('json_too_deep');
    }
    for (const body of [
      event('depth-16', { metadata: nested(15) }),
      { events: [event('depth-16b', { metadata: nested(15) })] },
    ]) {
      const deepest = await call(server, 'POST', EVENTS, { as: { key: ws.keys.ingest }, body });
      expect(deepest.status).toBe(201);
    }
  });

  test('a batch of 1,001 events is refused with 400 batch_too_large', async () => {
    const events = Array.from({ length: 1001 }, (_, i) => event(`big-${i}`));
    const answer = await call(server, 'POST', EVENTS, {
      as: { key: ws.keys.ingest },
      body: { events },
    });
    expect(answer.status).toBe(400);
    expect((answer.body as { code: string }).code).toBe('batch_too_large');
  });

  test('a key in the query string is refused, even a valid one', async () => {
    for (const name of ['api_key', 'key', 'token', 'access_token']) {
      const answer = await call(server, 'GET', `${EVENTS}?${name}=${ws.keys.read}`);
      expect(answer.status).toBe(401);
      expect((answer.body as { code: string }).code).toBe('key_in_query_string');
    }
  });

  test('a body that is not JSON, or not sent as JSON, is refused', async () => {
    const bad = await call(server, 'POST', EVENTS, {
      as: { key: ws.keys.ingest },
      body: '{"action":',
    });
    expect(bad.status).toBe(400);
    expect((bad.body as { code: string }).code).toBe('bad_request');
    const text = await call(server, 'POST', EVENTS, {
      as: { key: ws.keys.ingest },
      body: 'action=x',
      headers: { 'content-type': 'text/plain' },
    });
    expect(text.status).toBe(415);
    expect((text.body as { code: string }).code).toBe('unsupported_media_type');
  });

  test('an unknown route is a 404 problem with the request id', async () => {
    const answer = await call(server, 'GET', '/api/v1/nothing-here', {
      headers: { 'x-request-id': 'trace-abc.123' },
    });
    expect(answer.status).toBe(404);
    expect(answer.headers.get('x-request-id')).toBe('trace-abc.123');
    expect(answer.body).toMatchObject({ code: 'not_found', instance: 'trace-abc.123' });
  });

  test('an insane incoming request id is replaced', async () => {
    const answer = await call(server, 'GET', '/healthz', {
      headers: { 'x-request-id': 'bad id <script>' },
    });
    expect(answer.headers.get('x-request-id')).toMatch(/^req_[0-9A-Za-z]{20}$/);
  });

  test('when every append slot is taken, ingest answers 503 overloaded with Retry-After', async () => {
    const gate = server.app.trailkeep.appendGate;
    let held = 0;
    while (gate.tryAcquire()) held += 1;
    try {
      const answer = await call(server, 'POST', EVENTS, {
        as: { key: ws.keys.ingest },
        body: event('overloaded-1'),
      });
      expect(answer.status).toBe(503);
      expect(answer.headers.get('retry-after')).toBe('1');
      expect((answer.body as { code: string }).code).toBe('overloaded');
    } finally {
      for (let i = 0; i < held; i++) gate.release();
    }
    const retried = await call(server, 'POST', EVENTS, {
      as: { key: ws.keys.ingest },
      body: event('overloaded-1'),
    });
    expect(retried.status).toBe(201);
  });
});

describe('rate limit', () => {
  test('a key past its bucket gets 429 with Retry-After; other keys are unaffected', async () => {
    const limited = await startServer({ rateLimit: { burst: 3, ratePerSecond: 0.01 } });
    try {
      const seeded = await seedWorkspace(limited, 'acme');
      const statuses = [];
      for (let i = 0; i < 4; i++) {
        statuses.push(
          (await call(limited, 'GET', EVENTS, { as: { key: seeded.keys.read } })).status,
        );
      }
      expect(statuses).toEqual([200, 200, 200, 429]);
      const refused = await call(limited, 'GET', EVENTS, { as: { key: seeded.keys.read } });
      expect((refused.body as { code: string }).code).toBe('rate_limited');
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      const other = await call(limited, 'GET', EVENTS, { as: { key: seeded.keys.admin } });
      expect(other.status).toBe(200);
    } finally {
      await limited.close();
    }
  });
});
