/**
 * Security finding: a crafted event rewrote other tenants' future events, or stopped all ingest.
 * A change field `__proto__.email` was accepted, and the entity-state builder then followed it
 * onto Object.prototype when anyone opened the entity's history: events of every other
 * workspace sent without an email, a time or an outcome were sealed with the attacker's (and
 * verified). An object-valued variant sent validation's `for…in` into endless recursion, so
 * every ingest answered 500 until a restart.
 *
 * Everything here runs on a real SQLite file behind a real server on 127.0.0.1, with two
 * workspaces in one process, which is what the attack needs.
 */
import { describe, expect, it } from 'vitest';
import { canonicalJsonReference } from '../../src/core/canonical.js';
import { toDraft } from '../../src/core/draft.js';
import type { EventInput } from '../../src/core/event.js';
import { call, type Credential } from './support.js';
import { expectPrototypesUntouched, sealedBody, useTwoTenants } from './prototype-support.js';

const t = useTwoTenants();

const ingestA = (): Credential => ({ key: t.a.keys.ingest });
const readA = (): Credential => ({ key: t.a.keys.read });

/** The exact payload of the report. */
const POISON = {
  action: 'job.updated',
  actor: { type: 'user', id: 'x' },
  targets: [{ type: 'job', id: 'pp' }],
  changes: [
    { field: '__proto__.email', new: 'mallory@evil.example' },
    { field: '__proto__.occurred_at', new: '2001-01-01T00:00:00.000Z' },
  ],
};

/** An event of workspace B without email, time, outcome, context or metadata. */
async function sendPlainEventOfB(id: string): Promise<void> {
  const sent = {
    id,
    action: 'invoice.paid',
    actor: { type: 'user', id: 'bob' },
    targets: [{ type: 'invoice', id: 'inv_1' }],
  };
  const response = await call(t.server, 'POST', `/api/v1/workspaces/${t.b.workspace}/events`, {
    as: { key: t.b.keys.ingest },
    body: sent,
  });
  expect(response.status).toBe(201);
  const sealed = await sealedBody(t.server, t.b, id);
  expect(sealed.text).toBe(
    canonicalJsonReference({
      action: 'invoice.paid',
      actor: { id: 'bob', type: 'user' },
      category: 'general',
      changes: [],
      context: {},
      id,
      metadata: {},
      occurred_at: sealed.parsed.received_at,
      operation: 'other',
      outcome: 'success',
      received_at: sealed.parsed.received_at,
      seq: sealed.parsed.seq,
      targets: [{ id: 'inv_1', type: 'invoice' }],
      workspace: t.b.workspace,
    }),
  );
}

describe('the reported payload', () => {
  it('is refused with 400 forbidden_key naming the path, and B’s next event is stored as sent', async () => {
    const response = await call(t.server, 'POST', `/api/v1/workspaces/${t.a.workspace}/events`, {
      as: ingestA(),
      body: POISON,
    });
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const problem = response.body as { code: string; detail: string; issues: unknown[] };
    expect(problem.code).toBe('forbidden_key');
    expect(problem.detail).toMatch(/^event 0: \$\.changes\[0\]\.field "__proto__\.email"/);
    expect(problem.issues).toEqual([
      expect.objectContaining({ index: 0, path: '$.changes[0].field' }),
      expect.objectContaining({ index: 0, path: '$.changes[1].field' }),
    ]);
    // Nothing was stored, so nothing can be replayed.
    const history = await call(
      t.server,
      'GET',
      `/api/v1/workspaces/${t.a.workspace}/entities/job/pp/history`,
      { as: readA() },
    );
    expect(history.status).toBe(404);
    expectPrototypesUntouched(t.before);
    await sendPlainEventOfB('evt_b_after_payload');
    expectPrototypesUntouched(t.before);
  });

  it('is refused in every spelling: constructor.prototype, nested keys, escaped keys', async () => {
    const bodies: Array<[string, string]> = [
      [
        '{"action":"job.updated","actor":{"type":"user","id":"x"},"changes":[{"field":"constructor.prototype.outcome","new":"failure"}]}',
        'event 0: $.changes[0].field',
      ],
      [
        '{"action":"job.updated","actor":{"type":"user","id":"x"},"changes":[{"field":"a.prototype","new":1}]}',
        'event 0: $.changes[0].field',
      ],
      [
        '{"action":"job.updated","actor":{"type":"user","id":"x"},"metadata":{"constructor":{"prototype":{"x":1}}}}',
        '$.metadata.constructor',
      ],
      [
        '{"action":"job.updated","actor":{"type":"user","id":"x"},"after":{"a":{"__proto__":{"email":"m@e.x"}}}}',
        '$.after.a.__proto__',
      ],
      [
        '{"action":"job.updated","actor":{"type":"user","id":"x"},"context":{"\\u005f_proto__":{"ip":"10.6.6.6"}}}',
        '$.context.__proto__',
      ],
      [
        '{"events":[{"action":"a","actor":{"type":"user","id":"x"}},{"action":"b","actor":{"type":"user","id":"x","prototype":1}}]}',
        'event 1: $.actor.prototype',
      ],
      [
        '{"action":"job.updated","actor":{"type":"user","id":"x"},"category":"Constructor"}',
        'event 0: $.category',
      ],
    ];
    for (const [body, path] of bodies) {
      const response = await call(t.server, 'POST', `/api/v1/workspaces/${t.a.workspace}/events`, {
        as: ingestA(),
        body,
      });
      expect({ body, status: response.status }).toEqual({ body, status: 400 });
      const problem = response.body as {
        code: string;
        issues: Array<{ index?: number; path: string }>;
      };
      expect({ body, code: problem.code }).toEqual({ body, code: 'forbidden_key' });
      // Inside a batch, each issue names its event, as validation's issues do.
      const where = problem.issues.map(({ index, path: at }) =>
        index === undefined ? at : `event ${index}: ${at}`,
      );
      expect(where).toContain(path);
    }
    expectPrototypesUntouched(t.before);
  });

  it('cannot stop ingest with an object-valued pollution: every later ingest still answers 201', async () => {
    const response = await call(t.server, 'POST', `/api/v1/workspaces/${t.a.workspace}/events`, {
      as: ingestA(),
      body: {
        action: 'job.updated',
        actor: { type: 'user', id: 'x' },
        targets: [{ type: 'job', id: 'loop' }],
        changes: [{ field: '__proto__.loop', new: { deeper: {} } }],
      },
    });
    expect(response.status).toBe(400);
    await call(t.server, 'GET', `/api/v1/workspaces/${t.a.workspace}/entities/job/loop/history`, {
      as: readA(),
    });
    expectPrototypesUntouched(t.before);
    await sendPlainEventOfB('evt_b_after_loop');
  });
});

describe('events stored before the refusal existed', () => {
  it('are replayed by history and entity export without touching any prototype', async () => {
    // As if written by an older Trailkeep (or copied in with `trailkeep copy`): the store
    // seals what it is given, so the poison reaches the log without validation.
    const legacy: EventInput = {
      id: 'evt_legacy_poison',
      action: 'job.updated',
      actor: { type: 'user', id: 'x' },
      targets: [{ type: 'job', id: 'legacy' }],
      changes: [
        { field: '__proto__.email', new: 'mallory@evil.example' },
        { field: '__proto__.occurred_at', new: '2001-01-01T00:00:00.000Z' },
        { field: 'constructor.prototype.outcome', new: 'failure' },
        { field: '__proto__.loop', new: { deeper: {} } },
      ],
    };
    const draft = toDraft(legacy, {
      workspace: t.a.workspace,
      id: 'unused',
      receivedAt: new Date().toISOString(),
      settings: {},
    });
    await t.server.store.append(t.a.workspace, [draft]);

    const history = await call(
      t.server,
      'GET',
      `/api/v1/workspaces/${t.a.workspace}/entities/job/legacy/history`,
      { as: readA() },
    );
    expectPrototypesUntouched(t.before);
    expect(history.status).toBe(200);
    // The reserved names are ordinary members of the rebuilt state, shown as stored.
    expect(JSON.parse(history.text).state).toEqual(
      JSON.parse(
        '{"__proto__":{"email":"mallory@evil.example","occurred_at":"2001-01-01T00:00:00.000Z","loop":{"deeper":{}}},"constructor":{"prototype":{"outcome":"failure"}}}',
      ),
    );

    for (const format of ['json', 'ndjson', 'csv']) {
      const exported = await call(
        t.server,
        'GET',
        `/api/v1/workspaces/${t.a.workspace}/export?type=entities&target_type=job&format=${format}`,
        { as: readA() },
      );
      expect(exported.status).toBe(200);
      expect(exported.text).toContain('mallory@evil.example');
      expectPrototypesUntouched(t.before);
    }

    const verified = await call(t.server, 'GET', `/api/v1/workspaces/${t.a.workspace}/verify`, {
      as: readA(),
    });
    expect((verified.body as { ok: boolean }).ok).toBe(true);
    await sendPlainEventOfB('evt_b_after_legacy');
    expectPrototypesUntouched(t.before);
  });
});

describe('query names', () => {
  it.each([
    ['q=constructor:x', 'Unknown key "constructor"'],
    ['q=__proto__:x', 'Unknown key "__proto__"'],
    ['q=meta.__proto__:x', 'Reserved metadata key "__proto__"'],
    ['q=meta.constructor:x', 'Reserved metadata key "constructor"'],
    ['constructor=x', 'Unknown parameter "constructor"'],
    ['__proto__=x', 'Unknown parameter "__proto__"'],
    ['__proto__=x&__proto__=y', 'Unknown parameter "__proto__"'],
    ['meta.prototype=x', 'Reserved metadata key "prototype"'],
  ])('?%s is a 400 query_invalid (%s), never a 500 or a filter dropped', async (query, says) => {
    for (const path of ['events', 'export', 'export/count']) {
      const response = await call(
        t.server,
        'GET',
        `/api/v1/workspaces/${t.a.workspace}/${path}?${query}`,
        { as: readA() },
      );
      expect({ path, status: response.status }).toEqual({ path, status: 400 });
      const problem = response.body as { code: string; detail: string };
      expect(problem.code).toBe('query_invalid');
      expect(problem.detail).toContain(says);
    }
  });
});
