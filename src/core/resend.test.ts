import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from './canonical.js';
import { sealBatch } from './chain.js';
import { toDraft, type DraftContext } from './draft.js';
import { TrailkeepError } from './errors.js';
import { EMPTY_HEAD, OPTIONAL_FIELDS, type EventInput, type StoredEvent } from './event.js';
import { appendedEvents, differingFields, planAppend } from './resend.js';
import type { WorkspaceSettings } from './settings.js';
import { validateEvents } from './validate.js';

const FIRST = '2026-05-12T09:30:01.000Z';
const LATER = '2026-05-12T09:30:02.000Z';

const settings: WorkspaceSettings = {
  resources: { user: { fields: { email: 'track', updated_at: 'track', note: 'track' } } },
};

function ctx(receivedAt: string, overrides: Partial<DraftContext> = {}): DraftContext {
  return { workspace: 'acme', id: 'unused', receivedAt, settings, ...overrides };
}

/** The README's example: only what a sender must give. */
const README: EventInput = { id: 'r1', action: 'job.created', actor: { type: 'user', id: 'u' } };

function stored(input: EventInput, context = ctx(FIRST)): StoredEvent {
  return sealBatch(EMPTY_HEAD, [toDraft(input, context)])[0]!.event;
}

function conflict(run: () => unknown): TrailkeepError {
  try {
    run();
  } catch (error) {
    if (error instanceof TrailkeepError) return error;
    throw error;
  }
  throw new Error('expected event_id_conflict');
}

describe('differingFields against a stored event', () => {
  it('finds nothing when the sender left out what the server filled in at another time', () => {
    const first = stored(README);
    expect(first.occurred_at).toBe(FIRST);
    expect(differingFields(toDraft(README, ctx(LATER)), first)).toEqual([]);
  });

  it('finds nothing when the catalog or the derivations changed for fields the sender left out', () => {
    const first = stored(README);
    const recatalogued: WorkspaceSettings = {
      categories: [{ id: 'builds', label: 'Builds', patterns: ['job.*'] }],
    };
    const again = toDraft(README, ctx(LATER, { settings: recatalogued }));
    expect(again.category).not.toBe(first.category);
    expect(differingFields(again, first)).toEqual([]);
  });

  it('names each field the sender set that differs from the stored event', () => {
    const first = stored({ ...README, occurred_at: FIRST, outcome: 'success' });
    const again = toDraft(
      {
        ...README,
        action: 'job.deleted',
        occurred_at: LATER,
        outcome: 'failure',
        metadata: { n: 1 },
      },
      ctx(LATER),
    );
    expect(differingFields(again, first)).toEqual(['action', 'occurred_at', 'outcome', 'metadata']);
  });

  it('compares a field the sender set even when the stored value was a default', () => {
    // The stored outcome was the default, success; the sender now says failure.
    const first = stored(README);
    expect(differingFields(toDraft({ ...README, outcome: 'failure' }, ctx(LATER)), first)).toEqual([
      'outcome',
    ]);
    expect(differingFields(toDraft({ ...README, outcome: 'success' }, ctx(LATER)), first)).toEqual(
      [],
    );
  });

  it('treats the same before/after as the same changes after the schema hid or ignored a field', () => {
    const change = {
      ...README,
      targets: [{ type: 'user', id: 'u_2' }],
      before: { email: 'a@x.io', updated_at: 1, note: 'x' },
      after: { email: 'b@x.io', updated_at: 2, note: 'y' },
    };
    const first = stored(change);
    expect(first.changes.map((c) => c.field)).toEqual(['email', 'note', 'updated_at']);
    const stricter: WorkspaceSettings = {
      resources: { user: { fields: { email: 'track', updated_at: 'ignore', note: 'secret' } } },
    };
    const again = toDraft(change, ctx(LATER, { settings: stricter }));
    expect(again.changes).toEqual([
      { field: 'email', old: 'a@x.io', new: 'b@x.io' },
      { field: 'note', secret: true },
    ]);
    expect(differingFields(again, first)).toEqual([]);
    const other = toDraft({ ...change, after: { ...change.after, email: 'c@x.io' } }, ctx(LATER));
    expect(differingFields(other, first)).toEqual(['changes']);
  });

  it('compares every field of a draft that does not say what its sender set', () => {
    const first = stored(README);
    const { sent: _sent, ...bare } = toDraft(README, ctx(LATER));
    expect(differingFields(bare, first)).toEqual(['occurred_at']);
  });
});

describe('planAppend', () => {
  it('answers a re-send with the stored event and seals only the new drafts', () => {
    const first = stored(README);
    const fresh = toDraft({ ...README, id: 'r2' }, ctx(LATER));
    const plan = planAppend([toDraft(README, ctx(LATER)), fresh], new Map([['r1', first]]));
    expect(plan.fresh).toEqual([fresh]);
    const sealed = sealBatch({ seq: first.seq, hash: first.hash }, plan.fresh);
    const answers = appendedEvents(plan, sealed);
    expect(answers[0]).toEqual({ event: first, created: false });
    expect(answers[1]).toEqual({ event: sealed[0]!.event, created: true });
  });

  it('refuses a stored id with different content, naming the index and the fields', () => {
    const first = stored(README);
    const error = conflict(() =>
      planAppend(
        [
          toDraft({ ...README, id: 'r2' }, ctx(LATER)),
          toDraft({ ...README, occurred_at: LATER }, ctx(LATER)),
        ],
        new Map([['r1', first]]),
      ),
    );
    expect(error.code).toBe('event_id_conflict');
    expect(error.message).toBe(
      'event id "r1" is already stored (seq 1) with a different occurred_at',
    );
    expect(error.issues).toEqual([
      { index: 1, path: '$.occurred_at', message: 'differs from event "r1" as stored (seq 1)' },
    ]);
  });

  it('stores an id repeated in one batch once, and refuses the copies that differ', () => {
    const a = toDraft(README, ctx(LATER));
    const plan = planAppend([a, toDraft(README, ctx(LATER))], new Map());
    expect(plan.fresh).toEqual([a]);
    expect(plan.answers.map((answer) => answer.created)).toEqual([true, false]);

    // A later copy is compared on the fields it sets, as a later request would be.
    const timed = toDraft({ ...README, occurred_at: FIRST }, ctx(LATER));
    const untimed = toDraft(README, ctx(LATER));
    expect(planAppend([timed, untimed], new Map()).fresh).toEqual([timed]);
    const error = conflict(() =>
      planAppend(
        [
          untimed,
          toDraft({ ...README, id: 'r2' }, ctx(LATER)),
          timed,
          toDraft({ ...README, actor: { type: 'user', id: 'v' }, outcome: 'failure' }, ctx(LATER)),
        ],
        new Map(),
      ),
    );
    expect(error.message).toBe(
      'event id "r1" appears at index 0 of this batch with a different occurred_at (and 1 more event reuses an id with different content)',
    );
    expect(error.issues.map((issue) => [issue.index, issue.path, issue.message])).toEqual([
      [2, '$.occurred_at', 'differs from event "r1" at index 0 of this batch'],
      [3, '$.actor', 'differs from event "r1" at index 0 of this batch'],
      [3, '$.outcome', 'differs from event "r1" at index 0 of this batch'],
    ]);
  });
});

describe('re-sends of arbitrary events', () => {
  const events = fc
    .record(
      {
        id: fc.constantFrom('e1', 'e2'),
        action: fc.constantFrom('job.created', 'member.role_changed', 'INVITE_SENT'),
        actor: fc.record({
          type: fc.constantFrom('user', 'agent'),
          id: fc.constantFrom('u_1', 'u_2'),
        }),
        occurred_at: fc.constantFrom('2026-05-12T09:00:00Z', '2026-05-12T09:00:00.5+02:00'),
        targets: fc.array(
          fc.record({ type: fc.constantFrom('user', 'job'), id: fc.constantFrom('a', 'b') }),
          { maxLength: 2 },
        ),
        category: fc.constantFrom('Security', 'jobs'),
        outcome: fc.constantFrom('success', 'failure'),
        operation: fc.constantFrom('create', 'other'),
        before: fc.dictionary(
          fc.constantFrom('email', 'note', 'token', 'updated_at'),
          fc.integer(),
        ),
        after: fc.dictionary(fc.constantFrom('email', 'note', 'token', 'updated_at'), fc.integer()),
        context: fc.record({ request_id: fc.constantFrom('q1', 'q2') }),
        metadata: fc.dictionary(fc.constantFrom('a', 'b'), fc.integer({ min: 0, max: 2 })),
      },
      { requiredKeys: ['id', 'action', 'actor'] },
    )
    .map((raw) => {
      const [valid] = validateEvents([JSON.parse(JSON.stringify(raw))], {
        now: new Date(LATER),
      });
      return valid!;
    });

  it('a send of the same input never conflicts, whatever the server fills in the second time', () => {
    const otherSettings = fc.constantFrom<WorkspaceSettings>(
      settings,
      {},
      { resources: { user: { fields: { note: 'secret', updated_at: 'ignore' } } } },
    );
    fc.assert(
      fc.property(events, otherSettings, (input, later) => {
        const first = stored(input);
        const again = toDraft(input, ctx(LATER, { settings: later }));
        expect(differingFields(again, first)).toEqual([]);
      }),
    );
  });

  it('a later send conflicts exactly on the fields it sets that differ from the stored event', () => {
    fc.assert(
      fc.property(events, events, (one, two) => {
        const first = stored(one);
        const again = toDraft(two, ctx(LATER));
        const differing = differingFields(again, first);
        const set = new Set<string>(['action', 'actor', ...again.sent!.fields]);
        for (const field of ['action', 'actor', ...OPTIONAL_FIELDS] as const) {
          const equal = canonicalJson(again[field]) === canonicalJson(first[field]);
          if (!set.has(field)) expect(differing).not.toContain(field);
          else if (field !== 'changes') expect(differing.includes(field)).toBe(!equal);
        }
      }),
    );
  });
});
