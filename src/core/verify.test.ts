import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from './canonical.js';
import { hashLink, sealBatch } from './chain.js';
import { indexedColumns } from './columns.js';
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
