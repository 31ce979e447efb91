/**
 * A standing, seeded and bounded fuzz of what strangers control over HTTP: event bodies (as
 * values and as raw bytes), query text, query parameter names and cursors, against one real
 * server with two workspaces. Whatever comes in, the server must answer below 500, keep
 * answering, store nothing when it refuses, leave `Object.prototype` alone, never let one
 * workspace's input change another's, and `verify` must pass at the end.
 *
 * The seed is fixed so a failure reproduces; `TRAILKEEP_FUZZ_SEED` picks another one (a CI run
 * with a random seed prints it on failure). Every past finding stays as a fixed case in
 * `fuzz-corpus.json`, replayed before the random cases.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { call, event, seedWorkspace, startServer, type Seeded, type Server } from './support.js';

const SEED = Number(process.env['TRAILKEEP_FUZZ_SEED'] ?? 20261203);
const A = 'fuzz-a';
const B = 'fuzz-b';

let server: Server;
let a: Seeded;
let b: Seeded;
/** Object.prototype as it was before any request: nothing may add to or change it. */
const prototypeBefore = new Map(
  Object.getOwnPropertyNames(Object.prototype).map((name) => [
    name,
    Object.getOwnPropertyDescriptor(Object.prototype, name),
  ]),
);

/** A control event of workspace B: what B sends, and what it must be stored as, every time. */
const CONTROL = {
  action: 'member.invited',
  actor: { type: 'user', id: 'b_owner' },
  targets: [{ type: 'user', id: 'b_member' }],
};

beforeAll(async () => {
  server = await startServer({ rateLimit: false });
  a = await seedWorkspace(server, A);
  b = await seedWorkspace(server, B);
  // Some history to page through, follow cursors over and export.
  const batch = Array.from({ length: 40 }, (_, i) =>
    event(`seed-${i}`, {
      action: i % 2 ? 'job.updated' : 'job.created',
      actor: { type: 'user', id: `u${i % 5}`, email: `u${i % 5}@example.com` },
      targets: [{ type: 'job', id: `job_${i % 7}`, name: `Job ${i % 7}` }],
      context: { ip: `203.0.113.${i}` },
      changes: [{ field: 'state', old: 'queued', new: 'running' }],
    }),
  );
  for (const ws of [a, b]) {
    const sent = await call(server, 'POST', `/api/v1/workspaces/${ws.workspace}/events`, {
      as: { key: ws.keys.ingest },
      body: { events: batch },
    });
    expect(sent.status, sent.text).toBe(201);
  }
});

afterAll(async () => {
  await server?.close();
});

async function head(workspace: string): Promise<number> {
  return (await server.store.head(workspace)).seq;
}

function expectPrototypeUntouched(): void {
  const now = Object.getOwnPropertyNames(Object.prototype);
  expect(now.filter((name) => !prototypeBefore.has(name))).toEqual([]);
  for (const name of now) {
    expect(Object.getOwnPropertyDescriptor(Object.prototype, name)).toEqual(
      prototypeBefore.get(name),
    );
  }
}

interface Answer {
  status: number;
  text: string;
}

/** One raw request; a transport error (the server hung up or died) is reported as status 0. */
async function send(
  method: string,
  path: string,
  key: string,
  body?: string | Uint8Array,
): Promise<Answer> {
  try {
    const response = await fetch(`${server.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${key}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: body as BodyInit }),
      signal: AbortSignal.timeout(30_000),
    });
    return { status: response.status, text: await response.text() };
  } catch (error) {
    return { status: 0, text: String(error) };
  }
}

/** The refusal must be a problem document, not a bare 4xx or a stack trace. */
function expectClearAnswer(answer: Answer, what: string): void {
  expect(answer.status, `${what} -> ${answer.status} ${answer.text.slice(0, 300)}`).toBeGreaterThan(
    0,
  );
  expect(answer.status, `${what} -> ${answer.text.slice(0, 300)}`).toBeLessThan(500);
  if (answer.status >= 400) {
    const problem = JSON.parse(answer.text) as { type?: unknown; title?: unknown; code?: unknown };
    expect(typeof problem.code, `${what}: ${answer.text.slice(0, 300)}`).toBe('string');
    expect(answer.text).not.toMatch(/\n\s+at .+:\d+:\d+/); // no stack frames
  }
}

/** POSTs a body to A; on a refusal neither workspace may have grown. */
async function postToA(body: string | Uint8Array, what: string): Promise<Answer> {
  const [headA, headB] = [await head(A), await head(B)];
  const answer = await send('POST', `/api/v1/workspaces/${A}/events`, a.keys.ingest, body);
  expectClearAnswer(answer, what);
  expect(await head(B), `${what} wrote into workspace B`).toBe(headB);
  if (answer.status >= 400) expect(await head(A), `${what} stored on a refusal`).toBe(headA);
  return answer;
}

/**
 * Percent-encodes every UTF-16 code unit sequence, lone surrogates too (as the three bytes a
 * WTF-8 encoder writes), which encodeURIComponent refuses: a client can send those bytes.
 */
function percentEncode(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const point = text.codePointAt(i)!;
    if (point > 0xffff) i++;
    const bytes =
      point >= 0xd800 && point <= 0xdfff
        ? [0xe0 | (point >> 12), 0x80 | ((point >> 6) & 0x3f), 0x80 | (point & 0x3f)]
        : [...Buffer.from(String.fromCodePoint(point), 'utf8')];
    out += bytes.map((b) => `%${b.toString(16).padStart(2, '0').toUpperCase()}`).join('');
  }
  return out;
}

// --- JSON text with exact control over keys (duplicates, __proto__) and number spellings ---

type Json =
  | { kind: 'raw'; text: string }
  | { kind: 'array'; items: Json[] }
  | { kind: 'object'; entries: Array<[string, Json]> };

function render(value: Json): string {
  switch (value.kind) {
    case 'raw':
      return value.text;
    case 'array':
      return `[${value.items.map(render).join(',')}]`;
    case 'object':
      return `{${value.entries.map(([k, v]) => `${JSON.stringify(k)}:${render(v)}`).join(',')}}`;
  }
}

const NASTY_KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'valueOf',
  'hasOwnProperty',
  '__defineGetter__',
  'length',
  '',
  ' ',
  'a.b',
  '.',
  '..',
  '0',
  '-1',
  'id',
  'action',
  'actor',
  'targets',
  'changes',
  'field',
  'old',
  'new',
  'before',
  'after',
  'metadata',
  'context',
  'ip',
  'email',
  'occurred_at',
  'outcome',
  'seq',
  'hash',
  'workspace',
];

/** Strings with every kind of trouble: control characters, lone surrogates, long runs. */
const nastyString = fc.oneof(
  fc.constantFrom(...NASTY_KEYS),
  fc.string({ unit: 'binary', maxLength: 24 }),
  fc.string({ unit: 'grapheme', maxLength: 12 }),
  fc.constantFrom('\u0000', '\ud800', '\udfff', 'a\u0000b', '\u202e', '\u2028', 'é', '😀'),
  fc
    .array(fc.constantFrom(...NASTY_KEYS), { minLength: 1, maxLength: 5 })
    .map((parts) => parts.join('.')),
);

const rawNumber = fc.oneof(
  fc.constantFrom(
    '9007199254740993',
    '-9007199254740993',
    '1e400',
    '-0',
    '0.1e-400',
    '123456789012345678901234567890',
    '1E+2',
    '0',
  ),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => JSON.stringify(n)),
  fc.bigInt().map(String),
);

const jsonLeaf: fc.Arbitrary<Json> = fc.oneof(
  nastyString.map((s) => ({ kind: 'raw' as const, text: JSON.stringify(s) })),
  rawNumber.map((text) => ({ kind: 'raw' as const, text })),
  fc.constantFrom('true', 'false', 'null').map((text) => ({ kind: 'raw' as const, text })),
);

const { json } = fc.letrec<{ json: Json }>((tie) => ({
  json: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    jsonLeaf,
    fc.array(tie('json'), { maxLength: 4 }).map((items) => ({ kind: 'array' as const, items })),
    fc
      .array(fc.tuple(nastyString, tie('json')), { maxLength: 5 })
      .map((entries) => ({ kind: 'object' as const, entries })),
  ),
}));

const str = (s: string): Json => ({ kind: 'raw', text: JSON.stringify(s) });
const obj = (entries: Array<[string, Json]>): Json => ({ kind: 'object', entries });

/** Mostly harmless values and names, sometimes nasty ones: most events get deep into storing. */
const plainJson: fc.Arbitrary<Json> = fc
  .jsonValue({ maxDepth: 3 })
  .map((value) => ({ kind: 'raw' as const, text: JSON.stringify(value) }));
const value = fc.oneof({ weight: 12, arbitrary: plainJson }, { weight: 1, arbitrary: json });
const name = fc.oneof(
  { weight: 12, arbitrary: fc.stringMatching(/^[a-z][a-z0-9_]{0,10}$/) },
  { weight: 1, arbitrary: nastyString },
);
const members = (max: number) =>
  fc.oneof(
    { weight: 3, arbitrary: fc.array(fc.tuple(name, value), { maxLength: max }) },
    { weight: 1, arbitrary: fc.array(fc.tuple(nastyString, json), { maxLength: max }) },
  );

/** A mostly valid event with some members replaced, added or repeated: reaches deep code. */
const nearlyValidEvent: fc.Arbitrary<Json> = fc
  .record({
    extra: fc.oneof(
      { weight: 4, arbitrary: fc.constant([] as Array<[string, Json]>) },
      { weight: 1, arbitrary: fc.array(fc.tuple(nastyString, json), { maxLength: 2 }) },
    ),
    replace: fc.oneof(
      { weight: 4, arbitrary: fc.constant(undefined) },
      fc.tuple(
        fc.constantFrom(
          'action',
          'actor',
          'targets',
          'changes',
          'before',
          'after',
          'metadata',
          'context',
          'occurred_at',
          'outcome',
          'id',
        ),
        json,
      ),
    ),
    changes: fc.array(fc.record({ field: name, old: value, new: value, withOld: fc.boolean() }), {
      maxLength: 3,
    }),
    before: fc.option(members(4)),
    after: fc.option(members(4)),
    metadata: fc.option(members(4)),
    context: fc.option(members(3), { freq: 3 }),
    targetId: name,
  })
  .map(({ extra, replace, changes, before, after, metadata, context, targetId }) => {
    const entries: Array<[string, Json]> = [
      ['action', str('job.updated')],
      [
        'actor',
        obj([
          ['type', str('user')],
          ['id', str('x')],
        ]),
      ],
      [
        'targets',
        {
          kind: 'array',
          items: [
            obj([
              ['type', str('job')],
              ['id', str(targetId)],
            ]),
          ],
        },
      ],
    ];
    if (changes.length > 0) {
      entries.push([
        'changes',
        {
          kind: 'array',
          items: changes.map((c) =>
            obj([
              ['field', str(c.field)],
              ...(c.withOld ? [['old', c.old] as [string, Json]] : []),
              ['new', c.new],
            ]),
          ),
        },
      ]);
    } else if (before && after) {
      entries.push(['before', obj(before)], ['after', obj(after)]);
    }
    if (metadata) entries.push(['metadata', obj(metadata)]);
    if (context) entries.push(['context', obj(context)]);
    if (replace) {
      // In place: a repeated key is refused before anything else would see the new value.
      const at = entries.findIndex(([key]) => key === replace[0]);
      if (at >= 0) entries[at] = replace;
      else entries.push(replace);
    }
    entries.push(...extra);
    return obj(entries);
  });

const eventBody: fc.Arbitrary<string> = fc.oneof(
  { weight: 5, arbitrary: nearlyValidEvent.map(render) },
  {
    weight: 3,
    arbitrary: fc
      .array(nearlyValidEvent, { minLength: 1, maxLength: 4 })
      .map((events) => render(obj([['events', { kind: 'array', items: events }]]))),
  },
  { weight: 1, arbitrary: json.map(render) },
);

describe('fixed cases: every past finding', () => {
  interface Case {
    name: string;
    method: 'POST' | 'GET';
    path: string;
    /** The body as text, or as base64 when it is not valid UTF-8. */
    body?: string;
    body_base64?: string;
    status: number;
  }
  const here = dirname(fileURLToPath(import.meta.url));
  const corpus = JSON.parse(readFileSync(join(here, 'fuzz-corpus.json'), 'utf8')) as {
    cases: Case[];
  };

  test.each(corpus.cases.map((c) => [c.name, c] as const))('%s', async (name, c) => {
    const path = c.path.replaceAll('{ws}', A);
    const body = c.body_base64 !== undefined ? Buffer.from(c.body_base64, 'base64') : c.body;
    const answer =
      c.method === 'POST' ? await postToA(body ?? '', name) : await send('GET', path, a.keys.read);
    expectClearAnswer(answer, name);
    expect(answer.status, `${name}: ${answer.text.slice(0, 300)}`).toBe(c.status);
    // A refused poison event may not have reached any state builder: open the history anyway.
    const history = await send(
      'GET',
      `/api/v1/workspaces/${A}/entities/job/pp/history`,
      a.keys.read,
    );
    expectClearAnswer(history, `${name}: history`);
    expectPrototypeUntouched();
  });
});

describe('random cases', () => {
  test('event bodies: no 5xx, nothing stored on a refusal, no prototype reached', async () => {
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(eventBody, async (body) => {
        const answer = await postToA(body, `POST ${body.slice(0, 200)}`);
        if (process.env['FUZZ_DEBUG'] && answer.status >= 400)
          console.log(answer.text.slice(0, 250));
        if (answer.status < 300) {
          accepted++;
          // Rebuild the entity state, the path that once wrote onto Object.prototype.
          const parsed = JSON.parse(answer.text) as { events: Array<{ id: string }> };
          for (const { id } of parsed.events) {
            const stored = await send(
              'GET',
              `/api/v1/workspaces/${A}/events/${encodeURIComponent(id)}`,
              a.keys.read,
            );
            expectClearAnswer(stored, `GET event ${id}`);
            const target = (
              JSON.parse(stored.text) as { targets?: Array<{ type: string; id: string }> }
            ).targets?.[0];
            if (!target) continue;
            const history = await send(
              'GET',
              `/api/v1/workspaces/${A}/entities/${encodeURIComponent(target.type)}/${encodeURIComponent(target.id)}/history`,
              a.keys.read,
            );
            expectClearAnswer(history, `history of ${target.type}/${target.id}`);
          }
        }
        expectPrototypeUntouched();
      }),
      { seed: SEED, numRuns: 1200 },
    );
    // The fuzz must exercise the storing path too, not only refusals.
    expect(accepted).toBeGreaterThan(100);
  });

  test('raw bytes as a body: refused clearly, nothing stored', async () => {
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 64 }),
      // Valid event text with one byte broken: invalid UTF-8, a NUL, a cut.
      fc
        .tuple(nearlyValidEvent.map(render), fc.nat(), fc.integer({ min: 0, max: 255 }))
        .map(([text, at, byte]) => {
          const encoded = Buffer.from(text, 'utf8');
          const copy = Uint8Array.from(encoded);
          copy[at % copy.length] = byte;
          return copy;
        }),
    );
    await fc.assert(
      fc.asyncProperty(bytes, async (body) => {
        await postToA(body, `POST bytes ${Buffer.from(body).toString('base64')}`);
      }),
      { seed: SEED, numRuns: 400 },
    );
    expectPrototypeUntouched();
  });

  const QUERY_WORDS = [
    'actor:',
    'action:',
    'target:',
    'target_type:',
    'email:',
    'ip:',
    'since:',
    'until:',
    'outcome:',
    'category:',
    'is:',
    'meta.',
    'metadata.__proto__:',
    'constructor:',
    '__proto__:',
    'OR',
    'AND',
    'NOT',
    '-',
    '(',
    ')',
    '"',
    '\\',
    '*',
    ':',
    ' ',
    '\u0000',
    '\u001f',
    '\u007f',
    '\u0085',
    '\ud800',
    'job 7',
    'u1@',
    '203.0.113.0/24',
    '2026-05-12',
    '-7d',
  ];
  const queryText = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 40 }),
    fc
      .array(fc.oneof(fc.constantFrom(...QUERY_WORDS), fc.string({ maxLength: 6 })), {
        maxLength: 12,
      })
      .map((words) => words.join('')),
  );

  test('query text on pages, counts and exports: no 5xx, never a cut stream', async () => {
    await fc.assert(
      fc.asyncProperty(
        queryText,
        fc.constantFrom('events', 'export', 'export-ndjson'),
        async (q, where) => {
          const path =
            where === 'events'
              ? `/api/v1/workspaces/${A}/events?q=${percentEncode(q)}`
              : `/api/v1/workspaces/${A}/export?format=${where === 'export' ? 'csv' : 'ndjson'}&q=${percentEncode(q)}`;
          const answer = await send('GET', path, a.keys.read);
          expectClearAnswer(answer, `GET ${path}`);
        },
      ),
      { seed: SEED, numRuns: 700 },
    );
  });

  test('query parameter names and values: no 5xx, no prototype reached', async () => {
    const name = fc.oneof(
      fc.constantFrom(
        '__proto__',
        'constructor',
        'prototype',
        'meta.__proto__',
        'meta.constructor',
        '__proto__[x]',
        'q[]',
        'limit',
        'cursor',
        'actor',
        'action',
        'since',
      ),
      fc.string({ maxLength: 10 }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(name, fc.string({ unit: 'binary', maxLength: 12 })), {
          minLength: 1,
          maxLength: 4,
        }),
        fc.constantFrom('events', 'export'),
        async (pairs, where) => {
          const search = pairs.map(([k, v]) => `${percentEncode(k)}=${percentEncode(v)}`).join('&');
          const answer = await send(
            'GET',
            `/api/v1/workspaces/${A}/${where}?${search}`,
            a.keys.read,
          );
          expectClearAnswer(answer, `GET ${where}?${search}`);
          expectPrototypeUntouched();
        },
      ),
      { seed: SEED, numRuns: 400 },
    );
  });

  test('cursors: forged, foreign and random bytes are refused clearly', async () => {
    const first = await call(server, 'GET', `/api/v1/workspaces/${A}/events?limit=5`, {
      as: { key: a.keys.read },
    });
    const real = (first.body as { next_cursor: string }).next_cursor;
    expect(typeof real).toBe('string');
    const cursor = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 80 }),
      fc.uint8Array({ maxLength: 90 }).map((bytes) => Buffer.from(bytes).toString('base64url')),
      fc
        .tuple(fc.nat(), fc.string({ minLength: 1, maxLength: 3 }))
        .map(([at, s]) => real.slice(0, at % real.length) + s + real.slice((at % real.length) + 1)),
    );
    await fc.assert(
      fc.asyncProperty(cursor, fc.boolean(), async (c, withQuery) => {
        const path = `/api/v1/workspaces/${A}/events?cursor=${percentEncode(c)}${withQuery ? '&q=actor%3Au1' : ''}`;
        const answer = await send('GET', path, a.keys.read);
        expectClearAnswer(answer, `GET ${path}`);
      }),
      { seed: SEED, numRuns: 400 },
    );
    // A cursor of A is refused in B, and cannot widen B's view.
    const foreign = await send(
      'GET',
      `/api/v1/workspaces/${B}/events?cursor=${encodeURIComponent(real)}`,
      b.keys.read,
    );
    expect(foreign.status).toBe(400);
  });
});

describe('after the fuzz', () => {
  test('the server still answers, both chains verify, and B stores exactly what B sends', async () => {
    const health = await send('GET', '/healthz', '');
    expect(health.status).toBe(200);
    for (const ws of [a, b]) {
      const report = await call(server, 'GET', `/api/v1/workspaces/${ws.workspace}/verify`, {
        as: { key: ws.keys.read },
      });
      expect(report.status).toBe(200);
      expect((report.body as { ok: boolean }).ok, report.text).toBe(true);
    }
    const sent = await call(server, 'POST', `/api/v1/workspaces/${B}/events`, {
      as: { key: b.keys.ingest },
      body: { ...CONTROL, occurred_at: '2026-06-01T00:00:00.000Z' },
    });
    expect(sent.status).toBe(201);
    const id = (sent.body as { events: Array<{ id: string }> }).events[0]!.id;
    const stored = await call(server, 'GET', `/api/v1/workspaces/${B}/events/${id}`, {
      as: { key: b.keys.read },
    });
    const got = stored.body as Record<string, unknown>;
    expect(got['actor']).toEqual(CONTROL.actor);
    expect(got['targets']).toEqual(CONTROL.targets);
    expect(got['occurred_at']).toBe('2026-06-01T00:00:00.000Z');
    expect(got['context'] ?? {}).toEqual({});
    expect(got['metadata'] ?? {}).toEqual({});
    expectPrototypeUntouched();
  });
});
