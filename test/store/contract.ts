/**
 * The one Store contract suite. Every engine's test file calls `runStoreContract` with a way to
 * open its store; a test an engine cannot pass is named in `skip` with the reason. Each test
 * makes its own workspaces with unique ids, so one store instance serves the whole suite and
 * the tests never see each other's rows.
 *
 * Filter results are compared with `matchesFilter` (src/core/query/evaluate.ts), the reference
 * meaning of a Filter, over a generated data set that mixes the naming styles of real products.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/core/canonical.js';
import { eventHash, hashLink, sealBatch, type HashedBody } from '../../src/core/chain.js';
import { indexedColumns } from '../../src/core/columns.js';
import { firstDifference } from '../../src/core/derived.js';
import { TrailkeepError } from '../../src/core/errors.js';
import {
  EMPTY_HEAD,
  ZERO_HASH,
  type Actor,
  type EventDraft,
  type StoredEvent,
  type Target,
} from '../../src/core/event.js';
import type { JsonObject } from '../../src/core/json.js';
import { matchesFilter } from '../../src/core/query/evaluate.js';
import {
  MATCH_ALL,
  type Clause,
  type ClauseKey,
  type Filter,
} from '../../src/core/query/filter.js';
import { ChainVerifier, type VerifyProblem } from '../../src/core/verify.js';
import type { ChainRow, Store, StoredText } from '../../src/store/store.js';
import { streamEvents } from '../../src/store/stored-text.js';
import { retentionContract } from './retention-contract.js';
import { treeContract } from './tree-contract.js';
import { witnessContract } from './witness-contract.js';

export interface StoreContractOptions {
  name: string;
  open: () => Promise<Store>;
  /** Test name -> why this engine skips it. */
  skip?: Record<string, string>;
}

// ---------------------------------------------------------------------------------------------
// Data

const BASE_MS = Date.parse('2026-05-12T09:00:00.000Z');

let workspaceCounter = 0;
function uniqueWorkspaceId(label: string): string {
  workspaceCounter += 1;
  return `${label}-${workspaceCounter}-${randomUUID().slice(0, 8)}`;
}

function iso(offsetMinutes: number): string {
  return new Date(BASE_MS + offsetMinutes * 60_000).toISOString();
}

/** A complete, valid draft; override any field. */
export function makeDraft(workspace: string, overrides: Partial<EventDraft> = {}): EventDraft {
  return {
    id: `evt_${randomUUID()}`,
    workspace,
    action: 'job.created',
    occurred_at: iso(0),
    received_at: iso(1),
    actor: { type: 'user', id: 'u_1', name: 'Alex Kim', email: 'alex@example.com' },
    targets: [{ type: 'job', id: 'j1', name: 'Nightly build' }],
    category: 'jobs',
    outcome: 'success',
    operation: 'create',
    changes: [],
    context: {},
    metadata: {},
    ...overrides,
  };
}

/** A small deterministic PRNG (mulberry32), so a failing data set can be reproduced. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ACTIONS = [
  'job.created',
  'Job.Updated',
  'job.deleted',
  'REPOSITORY_RUN_CLAIM',
  'MEMBERSHIP_DEFAULTED',
  'delete',
  'create',
  'login',
  'member.role_changed',
  'x_y%z',
  'xxyyz',
];
const CATEGORIES = ['jobs', 'Members', 'auth_tokens', 'workspace'];
const ACTORS: Actor[] = [
  { type: 'user', id: 'u_1', name: 'Alex Kim', email: 'alex@example.com' },
  { type: 'user', id: 'u_1', name: 'Alex K.', email: 'alex@example.com' },
  { type: 'user', id: 'u_2', name: 'Zoë Ünal', email: 'ZOE@Example.com' },
  { type: 'agent', id: 'agent_7', name: 'Claude' },
  { type: 'automation', id: 'ci-bot' },
  { type: 'system', id: 'system' },
  { type: 'api_token', id: 'tok_ABC', name: 'Deploy key' },
];
const TARGETS: Target[] = [
  { type: 'job', id: 'j1', name: 'Nightly build' },
  { type: 'job', id: 'j2' },
  { type: 'user', id: 'U_456', name: 'sam@example.com' },
  { type: 'API token', id: 'tok_9', name: 'CI token' },
  { type: 'workspace_build', id: 'wb_1' },
];
const IPS = ['203.0.113.7', '203.0.113.200', '10.1.2.3', '2001:db8::1', '::ffff:10.9.9.9'];
const METADATA: JsonObject[] = [
  {},
  { build_reason: 'autostart' },
  { build_reason: 'initiator', n: 5 },
  { n: 1.5, flag: true },
  { flag: false, 'a.b': 'dot' },
  { 'q"k': 'quoted', nested: { n: 5 } },
  // The spelling of a context field, elsewhere: request_id: must not match it.
  { request_id: 'req_1', note: '"request_id":"req_2"' },
];

function pick<T>(next: () => number, items: readonly T[]): T {
  return items[Math.floor(next() * items.length)]!;
}

/**
 * `count` drafts in arrival order. Times come from a small set (many equal timestamps) and are
 * shuffled against arrival, so seq order is not time order (late arrivals).
 */
export function generateDrafts(workspace: string, count: number, seed = 7): EventDraft[] {
  const next = random(seed);
  return Array.from({ length: count }, (_, index) => {
    const targetCount = Math.floor(next() * 3);
    const targets = Array.from({ length: targetCount }, () => pick(next, TARGETS));
    const ip = next() < 0.2 ? undefined : pick(next, IPS);
    return makeDraft(workspace, {
      id: `evt_${seed}_${index}`,
      action: pick(next, ACTIONS),
      occurred_at: iso(Math.floor(next() * 60)),
      received_at: iso(100 + index),
      actor: pick(next, ACTORS),
      targets,
      category: pick(next, CATEGORIES),
      outcome: next() < 0.2 ? 'failure' : 'success',
      operation: pick(next, ['create', 'read', 'update', 'delete', 'other'] as const),
      context: ip === undefined ? {} : { ip, request_id: `req_${index}` },
      metadata: pick(next, METADATA),
    });
  });
}

function newestFirst(events: readonly StoredEvent[]): StoredEvent[] {
  return [...events].sort((a, b) =>
    a.occurred_at === b.occurred_at ? b.seq - a.seq : a.occurred_at < b.occurred_at ? 1 : -1,
  );
}

function ids(events: readonly StoredEvent[]): string[] {
  return events.map((e) => e.id);
}

function clause(
  key: ClauseKey,
  values: string[],
  options: { negated?: boolean; metaKey?: string } = {},
): Clause {
  return {
    key,
    values,
    negated: options.negated ?? false,
    ...(options.metaKey === undefined ? {} : { metaKey: options.metaKey }),
  };
}

function where(...clauses: Clause[]): Filter {
  return { clauses };
}

/** One case per filter family and the awkward corners of each (case, escaping, negation). */
export const FILTER_CASES: Record<string, Filter> = {
  everything: MATCH_ALL,
  'time range': { since: iso(10), until: iso(30), clauses: [] },
  'action exact': where(clause('action', ['job.created'])),
  'action of another case': where(clause('action', ['job.updated'])),
  'action glob': where(clause('action', ['job.*'])),
  'action with LIKE wildcards taken literally': where(clause('action', ['x_y%z'])),
  'action glob with a literal underscore': where(clause('action', ['x_*'])),
  'action OR action': where(clause('action', ['delete', 'login'])),
  'not action glob': where(clause('action', ['job.*'], { negated: true })),
  category: where(clause('category', ['members'])),
  'actor substring of email': where(clause('actor', ['alex@'])),
  'actor substring of id': where(clause('actor', ['ci-bot'])),
  'actor substring with non-ASCII letters': where(clause('actor', ['ünal'])),
  actor_type: where(clause('actor_type', ['agent'])),
  'actor substring of a given type': where(
    clause('actor', ['alex@']),
    clause('actor_type', ['user', 'agent']),
  ),
  'actor substring and a type it never has': where(
    clause('actor', ['alex@']),
    clause('actor_type', ['automation']),
  ),
  'actor substring and not a type': where(
    clause('actor', ['e']),
    clause('actor_type', ['user'], { negated: true }),
  ),
  'bare word of a given actor type': where(
    clause('text', ['alex']),
    clause('actor_type', ['user']),
  ),
  'actor_type OR': where(clause('actor_type', ['agent', 'api_token'])),
  username: where(clause('username', ['alex kim'])),
  email: where(clause('email', ['zoe@example.com'])),
  'target kind': where(clause('target_type', ['api token'])),
  'target kind + id': where(clause('target_type', ['job']), clause('target_id', ['j1'])),
  'target id is case-sensitive': where(clause('target_id', ['u_456'])),
  'target id exact': where(clause('target_id', ['U_456'])),
  'target name': where(clause('target', ['nightly build'])),
  'not target kind': where(clause('target_type', ['job'], { negated: true })),
  'ip CIDR v4': where(clause('ip', ['203.0.113.0/24'])),
  'ip single address': where(clause('ip', ['203.0.113.7/32'])),
  'ip CIDR covers mapped v4': where(clause('ip', ['10.0.0.0/8'])),
  'ip CIDR v6': where(clause('ip', ['2001:db8::/32'])),
  'not ip (no address matches)': where(clause('ip', ['10.0.0.0/8'], { negated: true })),
  outcome: where(clause('outcome', ['failure'])),
  operation: where(clause('operation', ['delete'])),
  'is:system': where(clause('system', ['true'])),
  '-is:system': where(clause('system', ['true'], { negated: true })),
  'meta string': where(clause('meta', ['autostart'], { metaKey: 'build_reason' })),
  'meta number': where(clause('meta', ['5'], { metaKey: 'n' })),
  'meta decimal': where(clause('meta', ['1.5'], { metaKey: 'n' })),
  'meta boolean': where(clause('meta', ['true'], { metaKey: 'flag' })),
  'meta key with a dot': where(clause('meta', ['dot'], { metaKey: 'a.b' })),
  'meta key with a quote': where(clause('meta', ['quoted'], { metaKey: 'q"k' })),
  'meta object never matches': where(clause('meta', ['{"n":5}'], { metaKey: 'nested' })),
  'not meta': where(clause('meta', ['autostart'], { metaKey: 'build_reason', negated: true })),
  'text in action': where(clause('text', ['role_'])),
  'text in target name': where(clause('text', ['nightly'])),
  'three filters': {
    since: iso(5),
    clauses: [
      clause('action', ['job.*']),
      clause('outcome', ['success']),
      clause('actor_type', ['user', 'agent']),
    ],
  },
  'no match': where(clause('action', ['nothing.matches'])),
  'event id': where(clause('id', ['evt_7_3', 'evt_7_250', 'evt_7_nope'])),
  'event id is case-sensitive': where(clause('id', ['EVT_7_3'])),
  'not event id': where(clause('id', ['evt_7_3'], { negated: true })),
  'request id': where(clause('request_id', ['req_1', 'req_2', 'req_17'])),
  'request id with the other filters': where(
    clause('request_id', ['req_1', 'req_2', 'req_17', 'req_30', 'req_31']),
    clause('outcome', ['success']),
  ),
};

// ---------------------------------------------------------------------------------------------
// Suite

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

async function rejection(promise: Promise<unknown>): Promise<TrailkeepError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof TrailkeepError) return error;
    throw error;
  }
  throw new Error('expected the promise to reject with a TrailkeepError');
}

export function runStoreContract(options: StoreContractOptions): void {
  describe(`Store contract: ${options.name}`, () => {
    let store: Store;
    beforeAll(async () => {
      store = await options.open();
    });
    afterAll(async () => {
      await store?.close();
    });

    function test(name: string, body: () => Promise<void>): void {
      const reason = options.skip?.[name];
      if (reason === undefined) it(name, body);
      else it.skip(`${name} (skipped: ${reason})`, body);
    }

    async function workspace(label = 'ws'): Promise<string> {
      const id = uniqueWorkspaceId(label);
      await store.createWorkspace({ id, name: `Workspace ${label}`, settings: {} });
      return id;
    }

    async function seeded(count: number, seed = 7): Promise<{ ws: string; events: StoredEvent[] }> {
      const ws = await workspace('data');
      const drafts = generateDrafts(ws, count, seed);
      const events: StoredEvent[] = [];
      for (let i = 0; i < drafts.length; i += 100) {
        const appended = await store.append(ws, drafts.slice(i, i + 100));
        events.push(...appended.map((a) => a.event));
      }
      return { ws, events };
    }

    describe('workspaces', () => {
      test('creates, reads, lists and updates workspaces', async () => {
        const id = uniqueWorkspaceId('meta');
        const created = await store.createWorkspace({
          id,
          name: 'Acme',
          settings: { categories: [] },
          created_at: '2026-01-02T03:04:05.000Z',
        });
        expect(created).toEqual({
          id,
          name: 'Acme',
          settings: { categories: [] },
          created_at: '2026-01-02T03:04:05.000Z',
        });
        expect(await store.getWorkspace(id)).toEqual(created);
        expect((await store.listWorkspaces()).map((w) => w.id)).toContain(id);
        await store.updateWorkspaceSettings(id, { schemas: { user: { email: 'track' } } });
        expect((await store.getWorkspace(id))?.settings).toEqual({
          schemas: { user: { email: 'track' } },
        });
        expect(await store.getWorkspace(uniqueWorkspaceId('missing'))).toBeUndefined();
      });

      test('refuses a duplicate workspace id and settings for an unknown one', async () => {
        const id = await workspace();
        expect((await rejection(store.createWorkspace({ id, name: 'x', settings: {} }))).code).toBe(
          'already_exists',
        );
        const missing = uniqueWorkspaceId('missing');
        expect((await rejection(store.updateWorkspaceSettings(missing, {}))).code).toBe(
          'workspace_not_found',
        );
      });
    });

    describe('append', () => {
      test('gives gapless seqs from 1 and links every event to the one before', async () => {
        const ws = await workspace();
        const first = await store.append(ws, [makeDraft(ws), makeDraft(ws)]);
        const second = await store.append(ws, [makeDraft(ws), makeDraft(ws), makeDraft(ws)]);
        const events = [...first, ...second].map((a) => a.event);
        expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
        expect([...first, ...second].every((a) => a.created)).toBe(true);
        expect(events[0]!.prev_hash).toBe(ZERO_HASH);
        events.forEach((event, i) => {
          expect(eventHash(event)).toBe(event.hash);
          if (i > 0) expect(event.prev_hash).toBe(events[i - 1]!.hash);
        });
        expect(await store.head(ws)).toEqual({ seq: 5, hash: events[4]!.hash });
        for (const event of events) expect(await store.getEvent(ws, event.id)).toEqual(event);
      });

      test('keeps every field of the draft exactly', async () => {
        const ws = await workspace();
        const draft = makeDraft(ws, {
          targets: [
            { type: 'user', id: 'U_456', name: 'sam@example.com' },
            { type: 'job', id: 'j9' },
          ],
          changes: [
            { field: 'role', old: 'member', new: 'admin' },
            { field: 'password', secret: true },
          ],
          context: { ip: '203.0.113.7', user_agent: 'Mozilla/5.0', request_id: 'req_1' },
          metadata: { build_reason: 'autostart', nested: { list: [1, 'two', null] } },
        });
        const [appended] = await store.append(ws, [draft]);
        const { seq, prev_hash: _prev, hash: _hash, ...rest } = appended!.event;
        expect(seq).toBe(1);
        expect(rest).toEqual(draft);
        expect(await store.getEvent(ws, draft.id)).toEqual(appended!.event);
      });

      test('an idempotent re-send returns the stored events with created false', async () => {
        const ws = await workspace();
        const drafts = [makeDraft(ws), makeDraft(ws)];
        const first = await store.append(ws, drafts);
        const again = await store.append(
          ws,
          drafts.map((d) => ({ ...d, received_at: iso(500) })),
        );
        expect(again.map((a) => a.created)).toEqual([false, false]);
        expect(again.map((a) => a.event)).toEqual(first.map((a) => a.event));
        expect((await store.head(ws)).seq).toBe(2);
      });

      test('a re-send is compared only on what its sender set, and gets the stored event', async () => {
        const ws = await workspace();
        // As ingest makes it from {id, action, actor}: every other field filled by the server.
        const first = makeDraft(ws, { targets: [], sent: { fields: [] } });
        const [stored] = await store.append(ws, [first]);
        expect(stored!.event).not.toHaveProperty('sent');
        expect(eventHash(stored!.event)).toBe(stored!.event.hash);
        const later = { occurred_at: iso(60_000), received_at: iso(60_000), category: 'builds' };
        const again = await store.append(ws, [{ ...first, ...later }]);
        expect(again).toEqual([{ event: stored!.event, created: false }]);
        expect(await store.getEvent(ws, first.id)).toEqual(stored!.event);

        const error = await rejection(
          store.append(ws, [{ ...first, ...later, sent: { fields: ['occurred_at', 'category'] } }]),
        );
        expect(error.code).toBe('event_id_conflict');
        expect(error.message).toBe(
          `event id "${first.id}" is already stored (seq 1) with a different occurred_at and category`,
        );
        expect((await store.head(ws)).seq).toBe(1);
      });

      test('a batch mixing stored and new ids appends only the new ones', async () => {
        const ws = await workspace();
        const old = makeDraft(ws);
        await store.append(ws, [old]);
        const fresh = makeDraft(ws);
        const result = await store.append(ws, [old, fresh]);
        expect(result.map((r) => [r.created, r.event.seq])).toEqual([
          [false, 1],
          [true, 2],
        ]);
      });

      test('a repeated id inside one batch is stored once', async () => {
        const ws = await workspace();
        const draft = makeDraft(ws);
        const result = await store.append(ws, [draft, makeDraft(ws), draft]);
        expect(result.map((r) => r.created)).toEqual([true, true, false]);
        expect(result[2]!.event).toEqual(result[0]!.event);
        expect(await store.count(ws, MATCH_ALL, 100)).toBe(2);
      });

      test('the same id with different content is a conflict and stores nothing', async () => {
        const ws = await workspace();
        const stored = makeDraft(ws);
        await store.append(ws, [stored]);
        const head = await store.head(ws);
        const innocent = makeDraft(ws);
        const error = await rejection(
          store.append(ws, [innocent, { ...stored, action: 'job.deleted' }]),
        );
        expect(error.code).toBe('event_id_conflict');
        expect(error.issues).toEqual([{ index: 1, path: '$.action', message: expect.any(String) }]);
        expect(await store.head(ws)).toEqual(head);
        expect(await store.count(ws, MATCH_ALL, 100)).toBe(1);
        expect(await store.getEvent(ws, innocent.id)).toBeUndefined();
      });

      test('the same id twice in one batch with different content stores nothing', async () => {
        const ws = await workspace();
        const draft = makeDraft(ws);
        const error = await rejection(
          store.append(ws, [draft, makeDraft(ws), { ...draft, outcome: 'failure' }]),
        );
        expect(error.code).toBe('event_id_conflict');
        expect(error.issues.map((i) => [i.index, i.path])).toEqual([[2, '$.outcome']]);
        expect(await store.head(ws)).toEqual(EMPTY_HEAD);
      });

      test('a failing batch is atomic: nothing of it is stored', async () => {
        const ws = await workspace();
        await store.append(ws, [makeDraft(ws)]);
        const before = await store.head(ws);
        const good = makeDraft(ws);
        // A draft sealed for another workspace can never be stored here.
        const wrong = makeDraft(uniqueWorkspaceId('other'));
        await expect(store.append(ws, [good, wrong])).rejects.toBeInstanceOf(TrailkeepError);
        expect(await store.head(ws)).toEqual(before);
        expect(await store.getEvent(ws, good.id)).toBeUndefined();
        expect((await store.facets(ws)).actions).toEqual([{ value: 'job.created', count: 1 }]);
      });

      test('an unknown workspace is refused on write and empty on read', async () => {
        const missing = uniqueWorkspaceId('missing');
        const error = await rejection(store.append(missing, [makeDraft(missing)]));
        expect(error.code).toBe('workspace_not_found');
        expect(await store.head(missing)).toEqual(EMPTY_HEAD);
        expect(await store.page(missing, MATCH_ALL, { limit: 10, direction: 'older' })).toEqual([]);
        expect(await store.count(missing, MATCH_ALL, 10)).toBe(0);
        expect(await store.getEvent(missing, 'evt_1')).toBeUndefined();
        expect(await collect(store.scanChain(missing, 1))).toEqual([]);
      });

      test('an empty batch appends nothing', async () => {
        const ws = await workspace();
        expect(await store.append(ws, [])).toEqual([]);
        expect(await store.head(ws)).toEqual(EMPTY_HEAD);
      });
    });

    describe('isolation between workspaces', () => {
      test('no read returns or counts the other workspace rows', async () => {
        const a = await workspace('iso-a');
        const b = await workspace('iso-b');
        // Same event ids, same actors and targets in both.
        await store.append(a, generateDrafts(a, 30, 11));
        await store.append(b, generateDrafts(b, 12, 11));
        const sharedId = 'evt_11_0';
        expect((await store.getEvent(a, sharedId))?.workspace).toBe(a);
        expect((await store.getEvent(b, sharedId))?.workspace).toBe(b);
        for (const [ws, size] of [
          [a, 30],
          [b, 12],
        ] as const) {
          const page = await store.page(ws, MATCH_ALL, { limit: 100, direction: 'older' });
          expect(page).toHaveLength(size);
          expect(page.every((e) => e.workspace === ws)).toBe(true);
          expect(await store.count(ws, MATCH_ALL, 1000)).toBe(size);
          expect(await store.count(ws, where(clause('actor', ['alex'])), 1000)).toBe(
            page.filter((e) => matchesFilter(where(clause('actor', ['alex'])), e)).length,
          );
          const streamed = await collect(streamEvents(store, ws, MATCH_ALL, { order: 'oldest' }));
          expect(streamed.every((e) => e.workspace === ws)).toBe(true);
          const chain = await collect(store.scanChain(ws, 1));
          expect(chain).toHaveLength(size);
          const facets = await store.facets(ws);
          expect(facets.actions.reduce((sum, f) => sum + f.count, 0)).toBe(size);
          expect(facets.actors.reduce((sum, f) => sum + f.count, 0)).toBe(size);
          const history = await store.entityEvents(ws, 'job', 'j1');
          expect(history.every((e) => e.workspace === ws)).toBe(true);
          expect((await store.head(ws)).seq).toBe(size);
        }
      });
    });

    describe('pages', () => {
      test('are newest first by occurred_at, then seq, whatever the arrival order', async () => {
        const ws = await workspace();
        const drafts = [
          makeDraft(ws, { occurred_at: iso(10) }),
          makeDraft(ws, { occurred_at: iso(30) }),
          makeDraft(ws, { occurred_at: iso(10) }),
          makeDraft(ws, { occurred_at: iso(5) }), // late arrival
          makeDraft(ws, { occurred_at: iso(30) }),
        ];
        const stored = (await store.append(ws, drafts)).map((a) => a.event);
        const page = await store.page(ws, MATCH_ALL, { limit: 10, direction: 'older' });
        expect(page.map((e) => e.seq)).toEqual([5, 2, 3, 1, 4]);
        expect(ids(page)).toEqual(ids(newestFirst(stored)));
      });

      test('a keyset walk sees every event once, older to the end and newer back', async () => {
        const { ws, events } = await seeded(137, 3);
        const expected = ids(newestFirst(events));
        const walked: StoredEvent[] = [];
        let position = undefined as StoredEvent | undefined;
        for (;;) {
          const page = await store.page(ws, MATCH_ALL, {
            limit: 10,
            direction: 'older',
            ...(position === undefined
              ? {}
              : { position: { occurred_at: position.occurred_at, seq: position.seq } }),
          });
          walked.push(...page);
          if (page.length < 10) break;
          position = page.at(-1);
        }
        expect(ids(walked)).toEqual(expected);

        // Back from the oldest event: each page is the closest 10 newer ones, newest first.
        const back: string[][] = [];
        let oldest = walked.at(-1)!;
        for (;;) {
          const page = await store.page(ws, MATCH_ALL, {
            limit: 10,
            direction: 'newer',
            position: { occurred_at: oldest.occurred_at, seq: oldest.seq },
          });
          if (page.length === 0) break;
          back.unshift(ids(page));
          oldest = page[0]!;
        }
        expect(back.flat()).toEqual(expected.slice(0, -1));
      });

      test('a filtered keyset walk matches the reference evaluator', async () => {
        const { ws, events } = await seeded(200, 5);
        const filter = where(clause('action', ['job.*']), clause('target_type', ['job']));
        const expected = ids(newestFirst(events.filter((e) => matchesFilter(filter, e))));
        const walked: string[] = [];
        let position: StoredEvent | undefined;
        do {
          const page = await store.page(ws, filter, {
            limit: 7,
            direction: 'older',
            ...(position === undefined
              ? {}
              : { position: { occurred_at: position.occurred_at, seq: position.seq } }),
          });
          walked.push(...ids(page));
          position = page.length === 7 ? page.at(-1) : undefined;
        } while (position !== undefined);
        expect(walked).toEqual(expected);
      });
    });

    describe('filters match the reference evaluator', () => {
      let data: { ws: string; events: StoredEvent[] };
      beforeAll(async () => {
        data = await seeded(400, 7);
      });
      for (const [name, filter] of Object.entries(FILTER_CASES)) {
        test(`filter: ${name}`, async () => {
          const expected = newestFirst(data.events.filter((e) => matchesFilter(filter, e)));
          const page = await store.page(data.ws, filter, { limit: 1000, direction: 'older' });
          expect(ids(page)).toEqual(ids(expected));
          expect(await store.count(data.ws, filter, 10_000)).toBe(expected.length);
        });
      }

      test('the data set exercises every filter case', () => {
        // Guards the cases above against passing vacuously on an unlucky data set.
        const empty = Object.entries(FILTER_CASES)
          .filter(([, filter]) => !data.events.some((e) => matchesFilter(filter, e)))
          .map(([name]) => name);
        expect(empty.sort()).toEqual(
          [
            'actor substring and a type it never has',
            'event id is case-sensitive',
            'meta object never matches',
            'no match',
            'target id is case-sensitive',
          ].sort(),
        );
        return Promise.resolve();
      });
    });

    describe('count', () => {
      test('stops at the cap', async () => {
        const { ws } = await seeded(50, 9);
        expect(await store.count(ws, MATCH_ALL, 10)).toBe(10);
        expect(await store.count(ws, MATCH_ALL, 50)).toBe(50);
        expect(await store.count(ws, MATCH_ALL, 10_001)).toBe(50);
      });
    });

    describe('facets', () => {
      test('count actions, categories, actor types, target types, outcomes and actors', async () => {
        const { ws, events } = await seeded(120, 13);
        const facets = await store.facets(ws);
        const tally = (values: string[]): Map<string, number> => {
          const counts = new Map<string, number>();
          for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
          return counts;
        };
        const asMap = (list: { value: string; count: number }[]): Map<string, number> =>
          new Map(list.map((f) => [f.value, f.count]));
        expect(asMap(facets.actions)).toEqual(tally(events.map((e) => e.action)));
        expect(asMap(facets.categories)).toEqual(tally(events.map((e) => e.category)));
        expect(asMap(facets.actor_types)).toEqual(tally(events.map((e) => e.actor.type)));
        expect(asMap(facets.outcomes)).toEqual(tally(events.map((e) => e.outcome)));
        // A target type counts the events that have at least one target of that type.
        expect(asMap(facets.target_types)).toEqual(
          tally(events.flatMap((e) => [...new Set(e.targets.map((t) => t.type))])),
        );
        const actorCounts = tally(events.map((e) => `${e.actor.type}/${e.actor.id}`));
        expect(new Map(facets.actors.map((a) => [`${a.type}/${a.id}`, a.count]))).toEqual(
          actorCounts,
        );
        for (const list of [facets.actions, facets.actors]) {
          const counts = list.map((f) => f.count);
          expect(counts).toEqual([...counts].sort((x, y) => y - x));
        }
        const zoe = facets.actors.find((a) => a.id === 'u_2');
        expect(zoe).toMatchObject({ type: 'user', name: 'Zoë Ünal', email: 'ZOE@Example.com' });
      });
    });

    describe('stream', () => {
      let data: { ws: string; events: StoredEvent[] };
      beforeAll(async () => {
        // More than one internal batch, so batch boundaries are crossed.
        data = await seeded(2345, 17);
      });

      test('yields every event newest first or oldest first', async () => {
        const newest = ids(newestFirst(data.events));
        expect(
          ids(await collect(streamEvents(store, data.ws, MATCH_ALL, { order: 'newest' }))),
        ).toEqual(newest);
        expect(
          ids(await collect(streamEvents(store, data.ws, MATCH_ALL, { order: 'oldest' }))),
        ).toEqual([...newest].reverse());
      });

      test('honours limit and filters', async () => {
        const filter = where(clause('outcome', ['success']), clause('action', ['job.*']));
        const expected = ids(newestFirst(data.events.filter((e) => matchesFilter(filter, e))));
        expect(
          ids(
            await collect(streamEvents(store, data.ws, filter, { order: 'newest', limit: 1500 })),
          ),
        ).toEqual(expected.slice(0, 1500));
        expect(
          ids(
            await collect(streamEvents(store, data.ws, MATCH_ALL, { order: 'oldest', limit: 3 })),
          ),
        ).toEqual(ids(newestFirst(data.events)).reverse().slice(0, 3));
      });

      test('streamText yields the same events as stored text, in bounded batches', async () => {
        const filter = where(clause('outcome', ['success']));
        const batches: (readonly StoredText[])[] = await collect(
          store.streamText(data.ws, filter, { order: 'newest', limit: 2000 }),
        );
        const expected = newestFirst(data.events.filter((e) => matchesFilter(filter, e))).slice(
          0,
          2000,
        );
        expect(batches.length).toBeGreaterThan(1);
        expect(batches.every((b) => b.length > 0 && b.length <= 1000)).toBe(true);
        const texts = batches.flat();
        expect(texts.map((t) => JSON.parse(t.body) as { id: string }).map((b) => b.id)).toEqual(
          ids(expected),
        );
        texts.forEach((text, i) => {
          const { prev_hash, hash, ...body } = expected[i]!;
          // The exact text the hash covers, not a re-encoding of it.
          expect(text).toMatchObject({ body: canonicalJson(body), prev_hash, hash });
          expect(hashLink(text.prev_hash, text.body)).toBe(text.hash);
        });
        const oldest = await collect(store.streamText(data.ws, MATCH_ALL, { order: 'oldest' }));
        expect(oldest.flat().map((t) => t.hash)).toEqual(
          newestFirst(data.events)
            .reverse()
            .map((e) => e.hash),
        );
      });

      test('scanChain returns raw rows in seq order whose columns agree with the body', async () => {
        const rows: ChainRow[] = await collect(store.scanChain(data.ws, 1));
        expect(rows.map((r) => r.seq)).toEqual(data.events.map((e) => e.seq));
        let previous = ZERO_HASH;
        rows.forEach((row, i) => {
          const event = data.events[i]!;
          const { prev_hash: _p, hash: _h, ...body } = event;
          expect(row.body).toBe(canonicalJson(body));
          expect(row.id).toBe(event.id);
          expect(row.prev_hash).toBe(previous);
          expect(row.hash).toBe(hashLink(row.prev_hash, row.body));
          expect(row.columns).toEqual(indexedColumns(JSON.parse(row.body) as typeof body));
          previous = row.hash;
        });
        const tail = await collect(store.scanChain(data.ws, 2000));
        expect(tail.map((r) => r.seq)).toEqual(data.events.slice(1999).map((e) => e.seq));
      });

      test('scanChain rows carry the derived rows the engine derives from their body', async () => {
        const rows: ChainRow[] = await collect(store.scanChain(data.ws, 1));
        for (const row of rows) {
          const body = JSON.parse(row.body) as HashedBody;
          const expected = store.derived.eventRows(body);
          const stored = row.derived?.rows ?? [];
          expect(
            stored.map((r) => r.table),
            `seq ${row.seq}`,
          ).toEqual(expected.map((r) => r.table));
          expected.forEach((want, i) => {
            expect(Object.keys(want.columns).length).toBeGreaterThan(0);
            expect(firstDifference(want, stored[i]!), `seq ${row.seq}`).toBeUndefined();
          });
        }
      });
    });

    describe('entity history', () => {
      test('lists events naming the entity in any target position, oldest first', async () => {
        const ws = await workspace();
        const job = { type: 'job', id: 'J-1' };
        const other = { type: 'job', id: 'J-2' };
        const appended = await store.append(ws, [
          makeDraft(ws, { occurred_at: iso(20), targets: [job] }),
          makeDraft(ws, { occurred_at: iso(5), targets: [other, job] }),
          makeDraft(ws, { occurred_at: iso(10), targets: [other] }),
          makeDraft(ws, { occurred_at: iso(20), targets: [{ type: 'user', id: 'J-1' }] }),
          makeDraft(ws, { occurred_at: iso(1), targets: [job] }),
        ]);
        const history = await store.entityEvents(ws, 'job', 'J-1');
        expect(history.map((e) => e.seq)).toEqual([5, 2, 1]);
        expect(history[1]).toEqual(appended[1]!.event);
        expect(await store.entityEvents(ws, 'job', 'j-1')).toEqual([]);
      });
    });

    describe('merkle tree', () => {
      treeContract({
        store: () => store,
        open: options.open,
        workspace,
        test,
        generateDrafts,
        makeDraft,
      });
    });

    describe('retention and legal hold', () => {
      retentionContract({ store: () => store, open: options.open, workspace, test, makeDraft });
    });

    describe('witnesses', () => {
      witnessContract({ store: () => store, workspace, test });
    });

    describe('importEvents', () => {
      test('continues a chain sealed elsewhere, verbatim, and append carries on', async () => {
        const ws = await workspace();
        const sealed = sealBatch(EMPTY_HEAD, generateDrafts(ws, 25, 23)).map((s) => s.event);
        await store.importEvents(ws, sealed.slice(0, 10));
        await store.importEvents(ws, sealed.slice(10));
        expect(await store.head(ws)).toEqual({ seq: 25, hash: sealed[24]!.hash });
        for (const event of [sealed[0]!, sealed[24]!]) {
          expect(await store.getEvent(ws, event.id)).toEqual(event);
        }
        const [next] = await store.append(ws, [makeDraft(ws)]);
        expect(next!.event.seq).toBe(26);
        expect(next!.event.prev_hash).toBe(sealed[24]!.hash);
        const rows = await collect(store.scanChain(ws, 1));
        expect(rows.map((r) => r.hash)).toEqual([...sealed.map((e) => e.hash), next!.event.hash]);
        expect((await store.facets(ws)).actions.reduce((sum, f) => sum + f.count, 0)).toBe(26);
      });

      test('refuses events that do not continue the chain and stores none of them', async () => {
        const ws = await workspace();
        const sealed = sealBatch(EMPTY_HEAD, generateDrafts(ws, 6, 29)).map((s) => s.event);
        await store.importEvents(ws, sealed.slice(0, 2));
        const head = await store.head(ws);
        const cases: StoredEvent[][] = [
          sealed.slice(3), // a gap in seq
          [sealed[2]!, { ...sealed[3]!, prev_hash: sealed[1]!.hash }], // a broken link
          [{ ...sealed[2]!, prev_hash: ZERO_HASH }], // does not link to the head
          sealed.slice(0, 2), // already stored
        ];
        for (const events of cases) {
          await expect(store.importEvents(ws, events)).rejects.toBeInstanceOf(TrailkeepError);
          expect(await store.head(ws)).toEqual(head);
        }
        expect(await store.count(ws, MATCH_ALL, 100)).toBe(2);
      });
    });

    describe('verifyTail and reindex', () => {
      /** A full verification walk through the store's own scan, tail and totals. */
      async function verified(ws: string): Promise<VerifyProblem | undefined> {
        const verifier = new ChainVerifier(ws, EMPTY_HEAD, store.derived);
        for await (const row of store.scanChain(ws, 1)) {
          const problem = verifier.check(row);
          if (problem) return problem;
        }
        const tail = await store.verifyTail(ws, verifier.walked());
        for (const row of tail.rows) {
          const problem = verifier.check(row);
          if (problem) return problem;
        }
        expect(tail.head).toEqual(verifier.head);
        return verifier.compareTotals(tail.derived, tail.mismatches);
      }

      async function answers(ws: string): Promise<unknown> {
        const out: Record<string, unknown> = {};
        for (const [name, filter] of Object.entries(FILTER_CASES)) {
          const page = await store.page(ws, filter, { limit: 500, direction: 'older' });
          out[name] = [page.map((e) => e.id), await store.count(ws, filter, 10_000)];
        }
        out['facets'] = await store.facets(ws);
        return out;
      }

      test('verifyTail hands back the rows appended after the walk and the totals', async () => {
        const { ws } = await seeded(40, 31);
        const verifier = new ChainVerifier(ws, EMPTY_HEAD, store.derived);
        for await (const row of store.scanChain(ws, 1)) expect(verifier.check(row)).toBeUndefined();
        const later = await store.append(ws, generateDrafts(ws, 3, 37));
        const tail = await store.verifyTail(ws, verifier.walked());
        expect(tail.rows.map((r) => r.seq)).toEqual([41, 42, 43]);
        expect(tail.head).toEqual({ seq: 43, hash: later[2]!.event.hash });
        for (const row of tail.rows) expect(verifier.check(row)).toBeUndefined();
        expect(verifier.compareTotals(tail.derived, tail.mismatches)).toBeUndefined();
        expect(tail.derived.some((row) => row.table === 'actors')).toBe(true);
        expect(tail.derived.some((row) => row.table === 'facet_counts')).toBe(true);
      });

      test('reindex of an intact workspace changes no answer, and appends carry on', async () => {
        const { ws, events } = await seeded(150, 41);
        const before = await answers(ws);
        const result = await store.reindex(ws);
        expect(result.events).toBe(150);
        expect(result.rows['event_targets']).toBe(
          events.reduce((sum, e) => sum + e.targets.length, 0),
        );
        expect(result.rows['actors']).toBe(
          new Set(
            events.map((e) =>
              JSON.stringify([e.actor.type, e.actor.id, e.actor.name, e.actor.email]),
            ),
          ).size,
        );
        expect(await verified(ws)).toBeUndefined();
        expect(await answers(ws)).toEqual(before);
        await store.reindex(ws);
        expect(await answers(ws)).toEqual(before);
        await store.append(ws, generateDrafts(ws, 20, 43));
        expect(await verified(ws)).toBeUndefined();
        expect((await store.facets(ws)).actions.reduce((sum, f) => sum + f.count, 0)).toBe(170);
      });

      test('reindex of an empty workspace, and of one that does not exist', async () => {
        const ws = await workspace();
        expect(await store.reindex(ws)).toMatchObject({ events: 0 });
        expect(await verified(ws)).toBeUndefined();
        expect((await rejection(store.reindex(`missing-${randomUUID()}`))).code).toBe(
          'workspace_not_found',
        );
      });
    });

    describe('secrets and people', () => {
      test('ensureSecret keeps the first value', async () => {
        const name = `cursor-key-${randomUUID()}`;
        expect(await store.ensureSecret(name, 'first')).toBe('first');
        expect(await store.ensureSecret(name, 'second')).toBe('first');
      });

      test('users: create, find by email or id, change password, refuse duplicates', async () => {
        const id = `u_${randomUUID()}`;
        const email = `${id}@example.com`;
        const user = await store.createUser({ id, email, name: 'Sam', password_hash: 'h1' });
        expect(user).toMatchObject({ id, email, name: 'Sam', password_hash: 'h1' });
        expect(typeof user.created_at).toBe('string');
        expect(await store.getUserByEmail(email)).toEqual(user);
        expect(await store.getUserById(id)).toEqual(user);
        expect((await store.listUsers()).map((u) => u.id)).toContain(id);
        await store.setPassword(id, 'h2');
        expect((await store.getUserById(id))?.password_hash).toBe('h2');
        const duplicate = await rejection(
          store.createUser({ id: `${id}-2`, email, name: null, password_hash: 'h' }),
        );
        expect(duplicate.code).toBe('already_exists');
        expect(await store.getUserById(`${id}-missing`)).toBeUndefined();
      });

      test('memberships: set, change role, list by workspace and by user', async () => {
        const ws = await workspace();
        const other = await workspace();
        const id = `u_${randomUUID()}`;
        await store.createUser({ id, email: `${id}@example.com`, name: null, password_hash: 'h' });
        await store.setMembership(ws, id, 'auditor');
        await store.setMembership(other, id, 'member');
        expect(await store.getMembership(ws, id)).toMatchObject({
          workspace: ws,
          user_id: id,
          email: `${id}@example.com`,
          name: null,
          role: 'auditor',
        });
        await store.setMembership(ws, id, 'owner');
        expect((await store.getMembership(ws, id))?.role).toBe('owner');
        expect((await store.listMembers(ws)).map((m) => [m.user_id, m.role])).toEqual([
          [id, 'owner'],
        ]);
        expect(
          (await store.listMembershipsOfUser(id)).map((m) => [m.workspace, m.role]).sort(),
        ).toEqual(
          [
            [ws, 'owner'],
            [other, 'member'],
          ].sort(),
        );
        expect(await store.getMembership(await workspace(), id)).toBeUndefined();
      });

      test('API keys: create, find by prefix, list per workspace, revoke once', async () => {
        const ws = await workspace();
        const other = await workspace();
        const prefix = `tk_read_${randomUUID().slice(0, 8)}`;
        const key = {
          id: `key_${randomUUID()}`,
          workspace: ws,
          name: 'dashboard',
          scope: 'read' as const,
          prefix,
          hash: 'a'.repeat(64),
          created_at: '2026-05-12T09:00:00.000Z',
          created_by: null,
        };
        await store.createApiKey(key);
        const stored = { ...key, revoked_at: null, last_used_at: null };
        expect(await store.getApiKeyByPrefix(prefix)).toEqual(stored);
        expect(await store.listApiKeys(ws)).toEqual([stored]);
        expect(await store.listApiKeys(other)).toEqual([]);
        await store.touchApiKey(key.id, '2026-05-12T10:00:00.000Z');
        expect((await store.getApiKeyByPrefix(prefix))?.last_used_at).toBe(
          '2026-05-12T10:00:00.000Z',
        );
        expect(await store.revokeApiKey(other, key.id, '2026-05-13T00:00:00.000Z')).toBe(false);
        expect(await store.revokeApiKey(ws, key.id, '2026-05-13T00:00:00.000Z')).toBe(true);
        expect(await store.revokeApiKey(ws, key.id, '2026-05-14T00:00:00.000Z')).toBe(false);
        expect((await store.getApiKeyByPrefix(prefix))?.revoked_at).toBe(
          '2026-05-13T00:00:00.000Z',
        );
      });

      test('invitations: open until accepted once, into a membership, in one step', async () => {
        const ws = await workspace();
        const other = await workspace();
        const email = `${randomUUID()}@example.com`;
        const invite = (id: string, at: string, workspace = ws) => ({
          id,
          workspace,
          email,
          role: 'auditor' as const,
          name: 'Sam',
          token_hash: randomUUID().replace(/-/g, ''),
          invited_by: 'usr_admin',
          created_at: at,
          expires_at: '2026-05-20T09:00:00.000Z',
        });
        const first = invite(`inv_${randomUUID()}`, '2026-05-12T09:00:00.000Z');
        await store.createInvitation(first);
        const open = { ...first, status: 'invited', closed_at: null, accepted_by: null };
        expect(await store.getInvitation(first.id)).toEqual(open);
        expect(await store.getInvitationByTokenHash(first.token_hash)).toEqual(open);
        expect(await store.listInvitations(ws)).toEqual([open]);
        expect(await store.listInvitations(other)).toEqual([]);

        // A second invitation for the same address replaces the first; another workspace's not.
        const elsewhere = invite(`inv_${randomUUID()}`, '2026-05-12T09:30:00.000Z', other);
        await store.createInvitation(elsewhere);
        const second = invite(`inv_${randomUUID()}`, '2026-05-12T10:00:00.000Z');
        await store.createInvitation(second);
        expect(await store.getInvitation(first.id)).toMatchObject({
          status: 'revoked',
          closed_at: second.created_at,
        });
        expect((await store.listInvitations(ws)).map((i) => i.id)).toEqual([second.id]);
        expect((await store.listInvitationsForEmail(email)).map((i) => i.id)).toEqual([
          second.id,
          elsewhere.id,
        ]);

        const id = `u_${randomUUID()}`;
        await store.createUser({ id, email, name: null, password_hash: 'h' });
        expect(await store.acceptInvitation(first.id, id, '2026-05-13T00:00:00.000Z')).toBe(
          undefined,
        );
        expect(await store.getMembership(ws, id)).toBeUndefined();
        // Expired at `at`: nothing happens.
        expect(await store.acceptInvitation(second.id, id, '2026-05-21T00:00:00.000Z')).toBe(
          undefined,
        );
        expect(await store.getMembership(ws, id)).toBeUndefined();

        const twice = await Promise.all([
          store.acceptInvitation(second.id, id, '2026-05-13T00:00:00.000Z'),
          store.acceptInvitation(second.id, id, '2026-05-13T00:00:00.000Z'),
        ]);
        expect(twice.filter((m) => m !== undefined)).toHaveLength(1);
        expect(await store.getMembership(ws, id)).toMatchObject({ user_id: id, role: 'auditor' });
        expect(await store.getInvitation(second.id)).toMatchObject({
          status: 'accepted',
          accepted_by: id,
          closed_at: '2026-05-13T00:00:00.000Z',
        });
        expect(await store.listInvitations(ws)).toEqual([]);

        // A member keeps their role when accepting; declined and revoked are final.
        await store.setMembership(other, id, 'owner');
        const kept = await store.acceptInvitation(elsewhere.id, id, '2026-05-13T00:00:00.000Z');
        expect(kept?.role).toBe('owner');
        const third = invite(`inv_${randomUUID()}`, '2026-05-14T00:00:00.000Z');
        await store.createInvitation(third);
        expect(await store.closeInvitation(third.id, 'declined', '2026-05-14T01:00:00.000Z')).toBe(
          true,
        );
        expect(await store.closeInvitation(third.id, 'revoked', '2026-05-14T02:00:00.000Z')).toBe(
          false,
        );
        expect(await store.acceptInvitation(third.id, id, '2026-05-14T03:00:00.000Z')).toBe(
          undefined,
        );
        expect(await store.getInvitation(third.id)).toMatchObject({ status: 'declined' });
        const unknown = await rejection(
          store.createInvitation(invite(`inv_${randomUUID()}`, '2026-05-14T00:00:00.000Z', 'nope')),
        );
        expect(unknown.code).toBe('workspace_not_found');
      });

      test('sessions: create, read, delete', async () => {
        const id = `u_${randomUUID()}`;
        await store.createUser({ id, email: `${id}@example.com`, name: null, password_hash: 'h' });
        const session = {
          id_hash: randomUUID().replace(/-/g, ''),
          user_id: id,
          csrf_token: 'csrf',
          created_at: '2026-05-12T09:00:00.000Z',
          expires_at: '2026-05-13T09:00:00.000Z',
        };
        await store.createSession(session);
        expect(await store.getSession(session.id_hash)).toEqual(session);
        await store.deleteSession(session.id_hash);
        expect(await store.getSession(session.id_hash)).toBeUndefined();
      });
    });

    test('ping answers', async () => {
      await expect(store.ping()).resolves.toBeUndefined();
    });

    test('probeWrite commits, again and again, and changes nothing the service reads', async () => {
      const { ws, events } = await seeded(3);
      const before = await store.head(ws);
      expect(await store.ensureSecret('probe_neighbour', 'kept')).toBe('kept');
      await expect(store.probeWrite()).resolves.toBeUndefined();
      await expect(store.probeWrite()).resolves.toBeUndefined();
      expect(await store.head(ws)).toEqual(before);
      expect(before.seq).toBe(events.length);
      expect(await store.ensureSecret('probe_neighbour', 'other')).toBe('kept');
    });
  });
}
