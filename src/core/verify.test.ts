import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from './canonical.js';
import { hashLink, sealBatch, type HashedBody } from './chain.js';
import { indexedColumns } from './columns.js';
import { facetValues, type DerivedModel, type DerivedRow } from './derived.js';
import { EMPTY_HEAD, ZERO_HASH, type ChainHead, type EventDraft } from './event.js';
import { ChainVerifier, checkTail, type VerifyProblem } from './verify.js';
import type { ChainRow } from '../store/store.js';

const WS = 'acme';

const draftArb: fc.Arbitrary<EventDraft> = fc
  .record({
    n: fc.nat({ max: 1_000_000 }),
    action: fc.constantFrom('job.created', 'MEMBER_PROMOTED', 'delete', 'customer.updated'),
    actor: fc.constantFrom('u_1', 'u_2', 'ci-bot'),
    ip: fc.option(fc.constantFrom('203.0.113.7', '2001:db8::1'), { nil: undefined }),
    name: fc.option(fc.string({ maxLength: 8 }), { nil: undefined }),
    meta: fc.dictionary(fc.constantFrom('a', 'b', 'k'), fc.oneof(fc.integer(), fc.string())),
  })
  .map(({ n, action, actor, ip, name, meta }) => ({
    id: `evt_${n}`,
    workspace: WS,
    action,
    occurred_at: new Date(1_700_000_000_000 + n * 1000).toISOString(),
    received_at: '2026-05-12T09:30:01.000Z',
    actor: name === undefined ? { type: 'user', id: actor } : { type: 'user', id: actor, name },
    targets: [{ type: 'job', id: `job_${n % 7}` }],
    category: 'jobs',
    outcome: 'success',
    operation: 'create',
    changes: [{ field: 'state', old: 'a', new: 'b' }],
    context: ip === undefined ? {} : { ip },
    metadata: meta,
  }));

/** Drafts with distinct ids, so a chain never holds the same event twice. */
const draftsArb = fc.uniqueArray(draftArb, { minLength: 3, maxLength: 9, selector: (d) => d.id });

function rowsOf(drafts: readonly EventDraft[], head: ChainHead = EMPTY_HEAD): ChainRow[] {
  return sealBatch(head, drafts).map(({ event, body }) => ({
    seq: event.seq,
    id: event.id,
    prev_hash: event.prev_hash,
    hash: event.hash,
    body,
    columns: { ...indexedColumns(event) },
  }));
}

function firstProblem(rows: readonly ChainRow[], workspace = WS): VerifyProblem | undefined {
  const verifier = new ChainVerifier(workspace);
  for (const row of rows) {
    const problem = verifier.check(row);
    if (problem) return problem;
  }
  return undefined;
}

const at = (rows: readonly ChainRow[], seq: number): ChainRow => rows[seq - 1]!;

function editBody(row: ChainRow, edit: (body: Record<string, unknown>) => void): string {
  const body = JSON.parse(row.body) as Record<string, unknown>;
  edit(body);
  return canonicalJson(body);
}

const BODY_EDITS: Record<string, (body: Record<string, unknown>) => void> = {
  action: (b) => (b.action = `${String(b.action)}x`),
  actor: (b) => (b.actor = { type: 'system', id: 'someone-else' }),
  occurred_at: (b) => (b.occurred_at = '2020-01-01T00:00:00.000Z'),
  metadata: (b) => (b.metadata = { planted: true }),
  changes: (b) => (b.changes = []),
  seq: (b) => (b.seq = Number(b.seq) + 100),
  workspace: (b) => (b.workspace = 'other'),
  id: (b) => (b.id = 'evt_forged'),
  received_at: (b) => (b.received_at = '2030-01-01T00:00:00.000Z'),
};

/** A position k in 1..n-1 (a row that has a successor) of a chain of n rows. */
const innerSeq = (n: number) => fc.integer({ min: 1, max: n - 1 });

describe('ChainVerifier', () => {
  it('passes an intact chain and ends at its head', () => {
    fc.assert(
      fc.property(draftsArb, (drafts) => {
        const rows = rowsOf(drafts);
        const verifier = new ChainVerifier(WS);
        for (const row of rows) expect(verifier.check(row)).toBeUndefined();
        expect(verifier.head).toEqual({ seq: rows.length, hash: rows.at(-1)!.hash });
        expect(verifier.checked).toBe(rows.length);
      }),
      { numRuns: 50 },
    );
  });

  it('verifies from a given head onwards', () => {
    fc.assert(
      fc.property(draftsArb, (drafts) => {
        const rows = rowsOf(drafts);
        const verifier = new ChainVerifier(WS, { seq: 2, hash: at(rows, 2).hash });
        for (const row of rows.slice(2)) expect(verifier.check(row)).toBeUndefined();
        expect(verifier.head.seq).toBe(rows.length);
      }),
      { numRuns: 20 },
    );
  });

  it('reports a body altered in any field as altered, at its seq', () => {
    fc.assert(
      fc.property(
        draftsArb.chain((d) =>
          fc.tuple(
            fc.constant(d),
            fc.integer({ min: 1, max: d.length }),
            fc.constantFrom(...Object.keys(BODY_EDITS)),
          ),
        ),
        ([drafts, seq, field]) => {
          const rows = rowsOf(drafts);
          const row = at(rows, seq);
          row.body = editBody(row, BODY_EDITS[field]!);
          const problem = firstProblem(rows);
          expect(problem).toMatchObject({ seq, kind: 'altered', id: row.id });
          expect(problem!.message).toBe(
            `seq ${seq} (${row.id}): stored hash does not match its content; the event was altered`,
          );
        },
      ),
      { numRuns: 60 },
    );
  });

  it('reports a body rewritten with a recomputed hash as altered, at its seq', () => {
    fc.assert(
      fc.property(
        draftsArb.chain((d) => fc.tuple(fc.constant(d), innerSeq(d.length))),
        ([drafts, seq]) => {
          const rows = rowsOf(drafts);
          const row = at(rows, seq);
          row.body = editBody(row, BODY_EDITS.action!);
          row.hash = hashLink(row.prev_hash, row.body);
          row.columns.action = JSON.parse(row.body).action;
          expect(firstProblem(rows)).toMatchObject({ seq, kind: 'altered', id: row.id });
        },
      ),
      { numRuns: 40 },
    );
  });

  it('reports a changed hash, prev_hash or non-canonical body as altered', () => {
    fc.assert(
      fc.property(
        draftsArb.chain((d) =>
          fc.tuple(
            fc.constant(d),
            fc.integer({ min: 1, max: d.length }),
            fc.constantFrom('hash', 'prev_hash', 'spaces', 'not-json'),
          ),
        ),
        ([drafts, seq, how]) => {
          const rows = rowsOf(drafts);
          const row = at(rows, seq);
          if (how === 'hash') row.hash = 'f'.repeat(64);
          if (how === 'prev_hash') row.prev_hash = 'e'.repeat(64);
          if (how === 'spaces') row.body = JSON.stringify(JSON.parse(row.body), null, 1);
          if (how === 'not-json') row.body = row.body.slice(0, -1);
          expect(firstProblem(rows)).toMatchObject({ seq, kind: 'altered' });
        },
      ),
      { numRuns: 60 },
    );
  });

  it('reports an indexed column that disagrees with the body, naming the column', () => {
    fc.assert(
      fc.property(
        draftsArb.chain((d) =>
          fc.tuple(
            fc.constant(d),
            fc.integer({ min: 1, max: d.length }),
            fc.constantFrom(...Object.keys(indexedColumns(sealedBody(d[0]!)))),
          ),
        ),
        ([drafts, seq, column]) => {
          const rows = rowsOf(drafts);
          const row = at(rows, seq);
          row.columns[column] = column === 'seq' ? 999 : 'tampered';
          const problem = firstProblem(rows);
          expect(problem).toMatchObject({ seq, kind: 'index_mismatch' });
          expect(problem!.message).toContain(`indexed column ${column} is`);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('reports an id column that disagrees with the body', () => {
    const rows = rowsOf(fc.sample(draftsArb, 1)[0]!);
    at(rows, 2).id = 'evt_other';
    expect(firstProblem(rows)).toMatchObject({ seq: 2, kind: 'index_mismatch' });
  });

  it('reports a removed row as missing, naming its seq', () => {
    fc.assert(
      fc.property(
        draftsArb.chain((d) => fc.tuple(fc.constant(d), innerSeq(d.length))),
        ([drafts, seq]) => {
          const rows = rowsOf(drafts);
          rows.splice(seq - 1, 1);
          const problem = firstProblem(rows);
          expect(problem).toMatchObject({ seq, kind: 'missing' });
          expect(problem!.message).toMatch(new RegExp(`^seq ${seq}: missing: the chain jumps`));
        },
      ),
      { numRuns: 40 },
    );
  });

  it('names the whole range when several rows are gone', () => {
    const rows = rowsOf(
      fc.sample(
        draftsArb.filter((d) => d.length >= 5),
        1,
      )[0]!,
    );
    rows.splice(1, 2);
    expect(firstProblem(rows)).toMatchObject({ seq: 2, kind: 'missing' });
    expect(firstProblem(rows)!.message).toMatch(/^seq 2\.\.3: missing/);
  });

  it('reports a forged row, well linked and renumbering the rest, as inserted at its seq', () => {
    fc.assert(
      fc.property(
        draftsArb.chain((d) =>
          fc.tuple(fc.constant(d), fc.integer({ min: 1, max: d.length }), draftArb),
        ),
        ([drafts, seq, forgedDraft]) => {
          const rows = rowsOf(drafts);
          const before: ChainHead =
            seq === 1 ? EMPTY_HEAD : { seq: seq - 1, hash: at(rows, seq - 1).hash };
          const [forged] = rowsOf([{ ...forgedDraft, id: 'evt_forged' }], before);
          const later = rows.slice(seq - 1).map((r) => ({ ...r, seq: r.seq + 1 }));
          const tampered = [...rows.slice(0, seq - 1), forged!, ...later];
          expect(firstProblem(tampered)).toMatchObject({ seq, id: 'evt_forged', kind: 'inserted' });
        },
      ),
      { numRuns: 40 },
    );
  });

  it('reports a forged row that repeats a seq as inserted', () => {
    fc.assert(
      fc.property(
        draftsArb.chain((d) =>
          fc.tuple(fc.constant(d), fc.integer({ min: 1, max: d.length }), draftArb),
        ),
        ([drafts, seq, forgedDraft]) => {
          const rows = rowsOf(drafts);
          const before: ChainHead =
            seq === 1 ? EMPTY_HEAD : { seq: seq - 1, hash: at(rows, seq - 1).hash };
          const [forged] = rowsOf([{ ...forgedDraft, id: 'evt_forged' }], before);
          rows.splice(seq, 0, forged!);
          expect(firstProblem(rows)).toMatchObject({ seq, id: 'evt_forged', kind: 'inserted' });
        },
      ),
      { numRuns: 40 },
    );
  });

  it('reports two swapped rows as reordered at the first of them', () => {
    fc.assert(
      fc.property(
        draftsArb.chain((d) =>
          fc
            .uniqueArray(fc.integer({ min: 1, max: d.length }), { minLength: 2, maxLength: 2 })
            .map((pair) => [d, Math.min(...pair), Math.max(...pair)] as const),
        ),
        ([drafts, i, j]) => {
          const rows = rowsOf(drafts);
          const a = at(rows, i);
          const b = at(rows, j);
          rows[i - 1] = { ...b, seq: i };
          rows[j - 1] = { ...a, seq: j };
          expect(firstProblem(rows)).toMatchObject({ seq: i, kind: 'reordered' });
        },
      ),
      { numRuns: 60 },
    );
  });

  it("reports another workspace's row as foreign", () => {
    fc.assert(
      fc.property(
        draftsArb.chain((d) => fc.tuple(fc.constant(d), fc.integer({ min: 1, max: d.length }))),
        ([drafts, seq]) => {
          const rows = rowsOf(drafts);
          const other = rowsOf(drafts.map((d) => ({ ...d, workspace: 'globex' })));
          rows[seq - 1] = at(other, seq);
          expect(firstProblem(rows)).toMatchObject({ seq, kind: 'foreign' });
        },
      ),
      { numRuns: 30 },
    );
  });

  it('reports a first row that does not start from the zero hash', () => {
    const rows = rowsOf(fc.sample(draftsArb, 1)[0]!, { seq: 0, hash: 'a'.repeat(64) });
    expect(firstProblem(rows)).toMatchObject({ seq: 1, kind: 'altered' });
    expect(firstProblem(rows)!.message).toContain('does not link to the zero hash');
  });
});

function sealedBody(draft: EventDraft) {
  return { ...draft, seq: 1 };
}

describe('checkTail', () => {
  const hash = (c: string) => c.repeat(64);

  it('accepts a log that still extends the checkpoint', () => {
    const cp = { workspace: WS, seq: 3, hash: hash('a'), time: '2026-05-12T09:30:00.000Z' };
    expect(checkTail({ seq: 3, hash: hash('a') }, cp, hash('a'))).toBeUndefined();
    expect(checkTail({ seq: 9, hash: hash('b') }, cp, hash('a'))).toBeUndefined();
    expect(checkTail(EMPTY_HEAD, { ...cp, seq: 0, hash: ZERO_HASH }, undefined)).toBeUndefined();
  });

  it('reports a truncated tail as missing', () => {
    const cp = { workspace: WS, seq: 7, hash: hash('a'), time: '2026-05-12T09:30:00.000Z' };
    expect(checkTail({ seq: 5, hash: hash('b') }, cp, undefined)).toEqual({
      seq: 6,
      kind: 'missing',
      message:
        'seq 6..7: missing: the checkpoint covers seq 7 but the log ends at seq 5; the tail was truncated',
    });
  });

  it('reports rewritten history as altered at the checkpoint seq', () => {
    const cp = { workspace: WS, seq: 4, hash: hash('a'), time: '2026-05-12T09:30:00.000Z' };
    expect(checkTail({ seq: 6, hash: hash('c') }, cp, hash('b'))).toMatchObject({
      seq: 4,
      kind: 'altered',
    });
  });
});

/**
 * A toy engine: one target row per target, actors keyed by id, counters by kind and value.
 * Enough to hold the verifier to its part: compare, locate, tally.
 */
const model: DerivedModel = {
  eventRows: (event) =>
    event.targets.map((t, pos) => ({
      table: 'targets',
      key: `seq ${event.seq} pos ${pos}`,
      columns: { id: t.id, name_lc: t.name?.toLowerCase() ?? null },
    })),
  actorRow: (key, first, tally) => ({
    table: 'actors',
    key,
    columns: { name: first.actor.name ?? null, events: tally.events, first: tally.firstSeq },
  }),
  facetRow: (kind, value, events) => ({
    table: 'facets',
    key: `${kind} ${value}`,
    columns: { events },
  }),
};

/** The toy engine's actors key: one row per actor form. */
const formOf = (a: HashedBody['actor']): string => JSON.stringify([a.type, a.id, a.name, a.email]);

/** Rows whose stored derived rows are exactly what `model` derives, and the totals. */
function derivedRowsOf(drafts: readonly EventDraft[]): {
  rows: ChainRow[];
  totals: DerivedRow[];
} {
  const rows = rowsOf(drafts).map((row) => {
    const event = JSON.parse(row.body) as HashedBody;
    return {
      ...row,
      derived: { rows: model.eventRows(event), actor_key: formOf(event.actor) },
    };
  });
  const actors = new Map<string, { first: HashedBody; events: number }>();
  const facets = new Map<string, DerivedRow>();
  for (const row of rows) {
    const event = JSON.parse(row.body) as HashedBody;
    const seen = actors.get(formOf(event.actor)) ?? { first: event, events: 0 };
    seen.events += 1;
    actors.set(formOf(event.actor), seen);
    for (const [kind, value] of facetValues(event)) {
      const before = facets.get(`${kind} ${value}`)?.columns['events'] ?? 0;
      facets.set(`${kind} ${value}`, model.facetRow(kind, value, Number(before) + 1));
    }
  }
  const totals = [
    ...[...actors].map(([key, { first, events }]) =>
      model.actorRow(key, first, { events, firstSeq: first.seq }),
    ),
    ...facets.values(),
  ];
  return { rows, totals };
}

function walk(rows: readonly ChainRow[], totals: readonly DerivedRow[]): VerifyProblem | undefined {
  const verifier = new ChainVerifier(WS, EMPTY_HEAD, model);
  for (const row of rows) {
    const problem = verifier.check(row);
    if (problem) return problem;
  }
  return verifier.compareTotals(totals);
}

const targetedDraftsArb = fc.uniqueArray(
  draftArb.map((d) => ({
    ...d,
    targets: [
      { type: 'job', id: `job_${d.id.length}`, name: `Job ${d.id}` },
      { type: 'user', id: 'u_9' },
    ],
  })),
  { minLength: 3, maxLength: 9, selector: (d) => d.id },
);

describe('ChainVerifier with a DerivedModel', () => {
  it('passes rows and totals that are what the bodies imply', () => {
    fc.assert(
      fc.property(targetedDraftsArb, (drafts) => {
        const { rows, totals } = derivedRowsOf(drafts);
        expect(walk(rows, totals)).toBeUndefined();
      }),
    );
  });

  it('names the table, row, column and both values of any edited event row', () => {
    fc.assert(
      fc.property(
        targetedDraftsArb,
        fc.nat(),
        fc.constantFrom('id', 'name_lc'),
        (drafts, pick, column) => {
          const { rows, totals } = derivedRowsOf(drafts);
          const row = rows[pick % rows.length]!;
          const [first, ...rest] = row.derived!.rows;
          const edited = { ...first!, columns: { ...first!.columns, [column]: 'forged' } };
          row.derived = { ...row.derived!, rows: [edited, ...rest] };
          expect(walk(rows, totals)).toMatchObject({
            seq: row.seq,
            kind: 'derived_mismatch',
            table: 'targets',
            key: `seq ${row.seq} pos 0`,
            column,
            expected: first!.columns[column],
            found: 'forged',
          });
        },
      ),
    );
  });

  it('names a row missing from an event, and one too many', () => {
    const { rows, totals } = derivedRowsOf(fc.sample(targetedDraftsArb, 1)[0]!);
    const second = rows[1]!;
    const kept = second.derived!.rows;
    second.derived = { ...second.derived!, rows: kept.slice(0, 1) };
    expect(walk(rows, totals)).toMatchObject({
      seq: 2,
      kind: 'derived_mismatch',
      table: 'targets',
      key: 'seq 2 pos 1',
      message: expect.stringContaining('is missing') as unknown,
    });
    const extra = { table: 'targets', key: 'seq 2 pos 2', columns: { id: 'x', name_lc: null } };
    second.derived = { ...second.derived, rows: [...kept, extra] };
    expect(walk(rows, totals)).toMatchObject({
      seq: 2,
      key: 'seq 2 pos 2',
      message: expect.stringContaining('no event implies it') as unknown,
    });
  });

  it('names a counter that disagrees, a row missing from the totals and one no event implies', () => {
    const drafts = fc.sample(targetedDraftsArb, 1)[0]!;
    const { rows, totals } = derivedRowsOf(drafts);
    const [actor, ...others] = totals;
    const miscounted = { ...actor!, columns: { ...actor!.columns, events: 999 } };
    expect(walk(rows, [miscounted, ...others])).toMatchObject({
      kind: 'derived_mismatch',
      table: 'actors',
      key: actor!.key,
      column: 'events',
      expected: actor!.columns['events'],
      found: 999,
      seq: actor!.columns['first'],
    });
    expect(walk(rows, others)).toMatchObject({ table: 'actors', key: actor!.key });
    const ghost = { table: 'facets', key: 'action ghost', columns: { events: 1 } };
    expect(walk(rows, [...totals, ghost])).toMatchObject({
      seq: 0,
      table: 'facets',
      key: 'action ghost',
      message:
        'facets action ghost is stored, but no event implies it; queries would count or find what the log does not hold',
    });
  });

  it('reports what the engine judged itself, after everything it can compare', () => {
    const { rows, totals } = derivedRowsOf(fc.sample(targetedDraftsArb, 1)[0]!);
    const verifier = new ChainVerifier(WS, EMPTY_HEAD, model);
    for (const row of rows) expect(verifier.check(row)).toBeUndefined();
    expect(
      verifier.compareTotals(totals, [
        { table: 'search', key: 'doc 3', column: 'text', seq: 0, expected: 'alex', found: null },
      ]),
    ).toMatchObject({ kind: 'derived_mismatch', table: 'search', column: 'text', found: null });
  });

  it('names an event filed under the actors row of another actor', () => {
    const drafts = fc.sample(targetedDraftsArb, 1)[0]!.map((d, i) => ({
      ...d,
      actor: { type: 'user' as const, id: i === 0 ? 'u_first' : 'u_other' },
    }));
    const { rows, totals } = derivedRowsOf(drafts);
    const first = rows[0]!.derived!.actor_key;
    rows[2]!.derived = { ...rows[2]!.derived!, actor_key: first };
    expect(walk(rows, totals)).toMatchObject({
      seq: 3,
      kind: 'derived_mismatch',
      table: 'events',
      column: 'actor_key',
      found: first,
    });
  });

  it('compares no totals after a walk that did not start at seq 1 or saw a problem', () => {
    const { rows } = derivedRowsOf(fc.sample(targetedDraftsArb, 1)[0]!);
    const fromTwo = new ChainVerifier(WS, { seq: 1, hash: rows[0]!.hash }, model);
    for (const row of rows.slice(1)) expect(fromTwo.check(row)).toBeUndefined();
    expect(fromTwo.compareTotals([])).toBeUndefined();
    const broken = new ChainVerifier(WS, EMPTY_HEAD, model);
    rows.forEach((row, i) => broken.check(i === 1 ? { ...row, hash: ZERO_HASH } : row));
    expect(broken.compareTotals([])).toBeUndefined();
  });

  it('tells reindex the chain part only: an id column off is reported with the event', () => {
    const { rows } = derivedRowsOf(fc.sample(targetedDraftsArb, 1)[0]!);
    const verifier = new ChainVerifier(WS);
    expect(verifier.link(rows[0]!)).toMatchObject({ event: { seq: 1 } });
    const result = verifier.link({ ...rows[1]!, id: 'evt_forged' });
    expect(result.problem).toMatchObject({ kind: 'index_mismatch', table: 'events', column: 'id' });
    expect(result.event?.seq).toBe(2);
    expect(verifier.link({ ...rows[2]!, body: `${rows[2]!.body} ` }).event).toBeUndefined();
  });
});
