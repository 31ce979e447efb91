/**
 * No name a sender chooses can reach a prototype, whatever the path: arbitrary key paths, with
 * `__proto__`, `constructor` and `prototype` at any depth of `changes[].field`, `before`/`after`,
 * `metadata` and `context`, go from workspace A through ingest (over HTTP, or in process as the
 * CLI and the SDK's server-side callers do) -> entity history -> entity export -> verify -> export,
 * in one process that also serves workspace B. After every step no built-in prototype has
 * changed, and each event of B is sealed byte for byte as B sent it, defaults included.
 *
 * The oracle is independent of the code under test: an event of A is refused with
 * `forbidden_key` exactly when one of its keys, or one segment of one of its change fields, is
 * a reserved name; otherwise it is stored.
 */
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { canonicalJsonReference } from '../../src/core/canonical.js';
import { isTrailkeepError } from '../../src/core/errors.js';
import { call } from './support.js';
import {
  expectPrototypesUntouched,
  restorePrototypes,
  sealedBody,
  useTwoTenants,
} from './prototype-support.js';

const RESERVED = ['__proto__', 'constructor', 'prototype'] as const;

const t = useTwoTenants();

/**
 * A JSON value as text, objects given as entry lists: the sender's bytes, parsed on arrival
 * into own members (as JSON.parse does for `"__proto__"`), never assigned in this process.
 */
type Tree = string | number | boolean | null | { entries: Array<[string, Tree]> };

function jsonText(tree: Tree): string {
  if (tree === null || typeof tree !== 'object') return JSON.stringify(tree);
  const members = tree.entries.map(([key, value]) => `${JSON.stringify(key)}:${jsonText(value)}`);
  return `{${members.join(',')}}`;
}

/**
 * Names the poisoned paths of the report use, harmless ones, and any small name; the reserved
 * ones only when `poison` is on, so that about half of A's events are clean and get stored.
 */
function segment(poison: boolean): fc.Arbitrary<string> {
  const harmless = fc.oneof(
    fc.constantFrom('email', 'occurred_at', 'outcome', 'ip', 'status'),
    fc.stringMatching(/^[a-z_]{1,8}$/),
  );
  return poison ? fc.oneof(fc.constantFrom(...RESERVED), harmless) : harmless;
}

function tree(name: fc.Arbitrary<string>): fc.Arbitrary<Tree> {
  return fc.letrec<{ tree: Tree }>((tie) => ({
    tree: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      fc.oneof(fc.string({ maxLength: 6 }), fc.integer(), fc.boolean(), fc.constant(null)),
      fc
        .uniqueArray(fc.tuple(name, tie('tree')), { maxLength: 3, selector: ([key]) => key })
        .map((entries) => ({ entries })),
    ),
  })).tree;
}

function object(name: fc.Arbitrary<string>): fc.Arbitrary<Tree> {
  return fc
    .uniqueArray(fc.tuple(name, tree(name)), { maxLength: 3, selector: ([key]) => key })
    .map((entries): Tree => ({ entries }));
}

/** Known context members, plus (when poisoning) now and then a reserved one holding anything. */
function context(poison: boolean): fc.Arbitrary<Tree> {
  return fc
    .record(
      {
        ip: fc.constantFrom('10.6.6.6', '2001:db8::1'),
        user_agent: fc.constantFrom('curl/8', 'Mallory'),
        reserved: poison
          ? fc.tuple(fc.constantFrom(...RESERVED), tree(segment(true)))
          : fc.constant(undefined),
      },
      { requiredKeys: [] },
    )
    .map(({ ip, user_agent, reserved }): Tree => {
      const entries: Array<[string, Tree]> = [];
      if (ip !== undefined) entries.push(['ip', ip]);
      if (user_agent !== undefined) entries.push(['user_agent', user_agent]);
      if (reserved !== undefined) entries.push(reserved);
      return { entries };
    });
}

interface EventOfA {
  text: string;
  poisoned: boolean;
  overHttp: boolean;
}

const eventOfA: fc.Arbitrary<EventOfA> = fc
  .boolean()
  .chain((poison) => {
    const name = segment(poison);
    const changeField = fc.array(name, { minLength: 1, maxLength: 4 }).map((s) => s.join('.'));
    return fc.record({
      diff: fc.oneof(
        fc
          .uniqueArray(fc.tuple(changeField, tree(name)), {
            minLength: 1,
            maxLength: 3,
            selector: ([field]) => field,
          })
          .map((changes) => ({ changes })),
        fc.record({ before: object(name), after: object(name) }),
      ),
      metadata: fc.option(object(name), { nil: undefined }),
      context: fc.option(context(poison), { nil: undefined }),
      overHttp: fc.boolean(),
    });
  })
  .map(({ diff, metadata, context: ctx, overHttp }) => {
    const members = [
      '"action":"job.updated"',
      '"actor":{"type":"user","id":"mallory"}',
      '"targets":[{"type":"job","id":"pp"}]',
    ];
    let poisoned = false;
    if ('changes' in diff) {
      for (const [field, value] of diff.changes) {
        poisoned ||= field.split('.').some(isReserved) || holdsReserved(value);
      }
      const changes = diff.changes.map(
        ([field, value]) => `{"field":${JSON.stringify(field)},"new":${jsonText(value)}}`,
      );
      members.push(`"changes":[${changes.join(',')}]`);
    } else {
      poisoned ||= holdsReserved(diff.before) || holdsReserved(diff.after);
      members.push(`"before":${jsonText(diff.before)}`, `"after":${jsonText(diff.after)}`);
    }
    for (const [name, value] of [
      ['metadata', metadata],
      ['context', ctx],
    ] as const) {
      if (value === undefined) continue;
      poisoned ||= holdsReserved(value);
      members.push(`"${name}":${jsonText(value)}`);
    }
    return { text: `{${members.join(',')}}`, poisoned, overHttp };
  });

function holdsReserved(value: Tree): boolean {
  return (
    value !== null &&
    typeof value === 'object' &&
    value.entries.some(([key, member]) => isReserved(key) || holdsReserved(member))
  );
}

function isReserved(name: string): boolean {
  return (RESERVED as readonly string[]).includes(name);
}

/** B's event: every optional member a pollution could lend is left out now and then. */
type OptionalOfB = typeof eventOfB extends fc.Arbitrary<infer T> ? T : never;

const eventOfB = fc.record(
  {
    email: fc.constant('bob@b.example'),
    name: fc.constant('Bob'),
    occurred_at: fc.constant('2026-05-12T09:30:00.000Z'),
    outcome: fc.constant('failure' as const),
    ip: fc.constant('192.0.2.1'),
    category: fc.constant('billing'),
    operation: fc.constant('create' as const),
    metadata: fc.constant({ plan: 'pro' }),
    changes: fc.constant([{ field: 'status', old: 'open', new: 'paid' }]),
  },
  { requiredKeys: [] },
);

let run = 0;

/** Ingests A's event by the chosen transport; true when it was stored. */
async function ingestA(event: EventOfA): Promise<boolean> {
  if (event.overHttp) {
    const response = await call(t.server, 'POST', `/api/v1/workspaces/${t.a.workspace}/events`, {
      as: { key: t.a.keys.ingest },
      body: event.text,
    });
    if (response.status === 201) return true;
    expect({ status: response.status, body: response.body }).toMatchObject({
      status: 400,
      body: { code: 'forbidden_key' },
    });
    return false;
  }
  try {
    await t.server.log.ingest(t.a.workspace, JSON.parse(event.text));
    return true;
  } catch (error) {
    if (!isTrailkeepError(error)) throw error;
    expect({ code: error.code, detail: error.message }).toMatchObject({ code: 'forbidden_key' });
    return false;
  }
}

it('no key path reaches a prototype, and B’s events are sealed exactly as sent', async () => {
  await fc.assert(
    fc.asyncProperty(eventOfA, eventOfB, async (sentByA, optional) => {
      try {
        await pipeline(sentByA, optional);
      } finally {
        // A failing run must not leave the next one (or a shrink) a polluted process.
        restorePrototypes(t.before);
      }
    }),
    { numRuns: 100 },
  );
});

async function pipeline(sentByA: EventOfA, optional: OptionalOfB): Promise<void> {
  run += 1;
  const stored = await ingestA(sentByA);
  expect({ stored, event: sentByA.text }).toEqual({
    stored: !sentByA.poisoned,
    event: sentByA.text,
  });
  expectPrototypesUntouched(t.before);

  const readA = { as: { key: t.a.keys.read } };
  const history = await call(
    t.server,
    'GET',
    `/api/v1/workspaces/${t.a.workspace}/entities/job/pp/history`,
    readA,
  );
  expect([200, 404]).toContain(history.status);
  expectPrototypesUntouched(t.before);

  const entities = await call(
    t.server,
    'GET',
    `/api/v1/workspaces/${t.a.workspace}/export?type=entities&target_type=job&format=json`,
    readA,
  );
  expect(entities.status).toBe(200);
  expectPrototypesUntouched(t.before);

  const id = `evt_b_${run}`;
  const actor: Record<string, string> = { type: 'user', id: 'bob' };
  if (optional.email !== undefined) actor['email'] = optional.email;
  if (optional.name !== undefined) actor['name'] = optional.name;
  const sentByB: Record<string, unknown> = {
    id,
    action: 'invoice.paid',
    actor,
    targets: [{ type: 'invoice', id: 'inv_1' }],
  };
  if (optional.occurred_at !== undefined) sentByB['occurred_at'] = optional.occurred_at;
  if (optional.outcome !== undefined) sentByB['outcome'] = optional.outcome;
  if (optional.ip !== undefined) sentByB['context'] = { ip: optional.ip };
  if (optional.category !== undefined) sentByB['category'] = optional.category;
  if (optional.operation !== undefined) sentByB['operation'] = optional.operation;
  if (optional.metadata !== undefined) sentByB['metadata'] = optional.metadata;
  if (optional.changes !== undefined) sentByB['changes'] = optional.changes;
  const ingested = await call(t.server, 'POST', `/api/v1/workspaces/${t.b.workspace}/events`, {
    as: { key: t.b.keys.ingest },
    body: sentByB,
  });
  expect(ingested.status).toBe(201);
  expectPrototypesUntouched(t.before);

  for (const ws of [t.a, t.b]) {
    const verified = await call(t.server, 'GET', `/api/v1/workspaces/${ws.workspace}/verify`, {
      as: { key: ws.keys.read },
    });
    expect(verified.body).toMatchObject({ ok: true });
  }
  expectPrototypesUntouched(t.before);

  const sealed = await sealedBody(t.server, t.b, id);
  expectPrototypesUntouched(t.before);
  // What a clean process seals for what B sent: its members, and the documented defaults
  // for the ones it left out; nothing else.
  const expected = {
    action: 'invoice.paid',
    actor,
    category: optional.category ?? 'general',
    changes: optional.changes ?? [],
    context: optional.ip === undefined ? {} : { ip: optional.ip },
    id,
    metadata: optional.metadata ?? {},
    occurred_at: optional.occurred_at ?? sealed.parsed.received_at,
    operation: optional.operation ?? 'other',
    outcome: optional.outcome ?? 'success',
    received_at: sealed.parsed.received_at,
    seq: sealed.parsed.seq,
    targets: [{ id: 'inv_1', type: 'invoice' }],
    workspace: t.b.workspace,
  };
  expect(sealed.text).toBe(canonicalJsonReference(expected));
}
