/**
 * Verification re-derives everything from raw rows (tessera's fsck is the model): it trusts no
 * stored hash, column, derived row or head, only the recomputation. Feed it a workspace's rows
 * in seq order; it reports the first problem of each row, phrased for a person reading
 * `trailkeep verify`.
 *
 * Per row, in this order:
 *   1. seq is the next one expected (a jump: 'missing'; a lower or repeated seq: 'inserted');
 *   2. hash = sha256(prev_hash + "\n" + body), else 'altered' (with the reason: the body is not
 *      JSON, not canonical JSON, or simply not what was hashed);
 *   3. the body is a JSON object ('altered');
 *   4. the body belongs to this workspace ('foreign');
 *   5. prev_hash is the previous row's hash: a link that skips the previous row means that row
 *      was 'inserted'; a self-consistent row out of its place was 'reordered'; otherwise the
 *      previous row was rewritten with a recomputed hash ('altered');
 *   6. the body's seq and id are the row's ('reordered', 'index_mismatch');
 *   7. with the engine's DerivedModel: the rows kept for the event beside it (targets, id
 *      lookups) are exactly what the body implies ('derived_mismatch');
 *   8. every indexed column equals what the body says ('index_mismatch', or
 *      'derived_mismatch' when the engine keeps that copy in a derived table).
 * After a full walk, `compareTotals` checks the workspace-wide derived rows (actors, facet
 * counters, rows no event owns) against the tallies of every body ('derived_mismatch').
 * A tombstone (a body pruned by the retention policy) is checked for its place and link only,
 * and reported as a pruned range, never as missing (docs/integrity.md, "Retention and legal
 * hold").
 * After a problem the verifier carries on from the row as stored, so a caller may keep reading
 * to collect more, but only the first problem is guaranteed to be reported precisely.
 */
import { canonicalJson } from './canonical.js';
import { hashLink, type HashedBody } from './chain.js';
import type { CheckpointStatement } from './checkpoint.js';
import { indexedColumns } from './columns.js';
import {
  firstDifference,
  forEachFacet,
  sameActor,
  type DerivedMismatch,
  type DerivedModel,
  type DerivedRow,
  type DerivedValue,
  type FacetKind,
} from './derived.js';
import { TrailkeepError } from './errors.js';
import { EMPTY_HEAD, ZERO_HASH, type ChainHead } from './event.js';
import type { ChainRow, PruneRun } from '../store/store.js';

export type VerifyProblemKind =
  | 'altered'
  | 'missing'
  | 'inserted'
  | 'reordered'
  | 'index_mismatch'
  | 'derived_mismatch'
  | 'tree_mismatch'
  | 'foreign';

export interface VerifyProblem {
  /** The event concerned; for a derived row no event implies, 0. */
  seq: number;
  id?: string;
  kind: VerifyProblemKind;
  message: string;
  /** For index_mismatch and derived_mismatch: the table, the row in it and the column. */
  table?: string;
  key?: string;
  column?: string;
  /** What the hashed events imply, and what is stored (null: absent, or no such row). */
  expected?: DerivedValue;
  found?: DerivedValue;
}

type RowComparison =
  | { row: DerivedRow; present: boolean }
  | { row: DerivedRow; difference: NonNullable<ReturnType<typeof firstDifference>> };

/**
 * One event's derived rows against the stored ones, table by table, row by row in the engine's
 * order: the first row missing, extra, or with a column that differs.
 */
function compareEventRows(
  expected: readonly DerivedRow[],
  stored: readonly DerivedRow[],
): RowComparison | undefined {
  // Nearly every event: the same rows in the same order. Allocate nothing to say so.
  if (expected.length === stored.length) {
    let i = 0;
    while (i < expected.length) {
      const a = expected[i]!;
      const b = stored[i]!;
      if (a.table !== b.table || firstDifference(a, b) !== undefined) break;
      i += 1;
    }
    if (i === expected.length) return undefined;
  }
  const tables = [...new Set([...expected, ...stored].map((row) => row.table))];
  for (const table of tables) {
    const want = expected.filter((row) => row.table === table);
    const have = stored.filter((row) => row.table === table);
    for (let i = 0; i < Math.max(want.length, have.length); i += 1) {
      const a = want[i];
      const b = have[i];
      if (a === undefined) return { row: b!, present: true };
      if (b === undefined) return { row: a, present: false };
      const difference = firstDifference(a, b);
      if (difference !== undefined) return { row: a, difference };
    }
  }
  return undefined;
}

/** What a verification walk tallied, for the store to read the matching rows. */
export interface WalkSummary {
  head: ChainHead;
  /** Every actor key an event was filed under (ChainRow.derived.actor_key). */
  actorKeys: string[];
  /** How many target rows the bodies imply. */
  targetRows: number;
}

/** What one problem kind means, for docs and for the CLI's explanation. */
export const PROBLEM_MEANINGS: Readonly<Record<VerifyProblemKind, string>> = {
  altered: 'an event, or its stored hash, no longer matches what was hashed when it was written',
  missing: 'events are absent: a gap in seq, or a tail cut off',
  inserted: 'an event the chain never contained at that place',
  reordered: 'an intact event is not where its content and links say it belongs',
  index_mismatch: 'an indexed column disagrees with the hashed event',
  derived_mismatch:
    'a derived row that queries read (targets, actors, counters) disagrees with the hashed events',
  foreign: "a row of another workspace's chain",
  tree_mismatch: "the stored Merkle tree disagrees with the chain's hashes",
};

function label(seq: number, id: string | undefined): string {
  return id === undefined ? `seq ${seq}` : `seq ${seq} (${id})`;
}

/** `seq N (id): text`, or just the text for a derived row no event implies (seq 0). */
function located(
  kind: VerifyProblemKind,
  seq: number,
  id: string | undefined,
  text: string,
): VerifyProblem {
  return seq === 0 ? { seq, kind, message: text } : problem(kind, seq, id, text);
}

function problem(
  kind: VerifyProblemKind,
  seq: number,
  id: string | undefined,
  text: string,
  where: string = label(seq, id),
): VerifyProblem {
  const result: VerifyProblem = { seq, kind, message: `${where}: ${text}` };
  if (id !== undefined) result.id = id;
  return result;
}

/** A column that disagrees, located in its table. */
function mismatch(
  kind: 'index_mismatch' | 'derived_mismatch',
  seq: number,
  id: string | undefined,
  at: { table: string; key: string; column: string },
  expected: DerivedValue,
  found: DerivedValue,
  says = 'the event says',
): VerifyProblem {
  const where =
    at.table === 'events'
      ? `indexed column ${at.column}`
      : `${at.table} ${at.key} column ${at.column}`;
  const result = located(
    kind,
    seq,
    id,
    `${where} is ${JSON.stringify(found)} but ${says} ${JSON.stringify(expected)}; queries would not match the log`,
  );
  return { ...result, ...at, expected, found };
}

/** A derived row that should exist and does not, or exists and should not. */
function rowPresence(
  seq: number,
  id: string | undefined,
  row: DerivedRow,
  present: boolean,
): VerifyProblem {
  const text = present
    ? 'is stored, but no event implies it; queries would count or find what the log does not hold'
    : 'is missing; queries would not find what the log holds';
  return {
    ...located('derived_mismatch', seq, id, `${row.table} ${row.key} ${text}`),
    table: row.table,
    key: row.key,
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const optionalString = (value: unknown): boolean =>
  value === undefined || typeof value === 'string';

const STRING_FIELDS = [
  'id',
  'workspace',
  'occurred_at',
  'action',
  'category',
  'outcome',
  'operation',
];

/** Enough of an event's shape for its indexed columns to be derived. */
function isHashedBody(
  value: Record<string, unknown>,
): value is Record<string, unknown> & HashedBody {
  for (const key of STRING_FIELDS) if (typeof value[key] !== 'string') return false;
  if (typeof value.seq !== 'number') return false;
  const { actor, targets, context } = value;
  if (!isRecord(actor) || typeof actor.type !== 'string' || typeof actor.id !== 'string') {
    return false;
  }
  // Derived rows lower-case these: a rewritten body must be reported, never crash the walk.
  if (!optionalString(actor.name) || !optionalString(actor.email)) return false;
  if (!Array.isArray(targets) || !isRecord(context) || !optionalString(context.ip)) return false;
  for (const t of targets as unknown[]) {
    if (!isRecord(t) || typeof t.type !== 'string' || typeof t.id !== 'string') return false;
    if (!optionalString(t.name)) return false;
  }
  return true;
}

/** The stored body parsed as a JSON object, or why it is not one. */
function bodyObject(
  row: ChainLink,
): { body: Record<string, unknown> } | { problem: VerifyProblem } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(row.body);
  } catch {
    return {
      problem: problem(
        'altered',
        row.seq,
        row.id,
        'the stored body is not valid JSON; the event was altered',
      ),
    };
  }
  if (!isRecord(parsed)) {
    return {
      problem: problem(
        'altered',
        row.seq,
        row.id,
        'the stored body is not a JSON object; the event was altered',
      ),
    };
  }
  return { body: parsed };
}

/** The chain part of a row: what `link` needs (reindex reads no indexed columns). */
export type ChainLink = Pick<ChainRow, 'seq' | 'id' | 'prev_hash' | 'hash' | 'body' | 'pruned'>;

/** A run of consecutive tombstones of one pruning run, as verify reports it. */
export interface PrunedRange {
  from: number;
  to: number;
  run: string;
  policy_days: number;
  pruned_at: string;
  cutoff: string;
}

/** A row's place in the chain: its problem, if any, and its body once it is a sealed event. */
export interface LinkResult {
  problem?: VerifyProblem;
  /** Defined when the body is sealed, linked and a complete event (a derivable one). */
  event?: HashedBody;
}

type HashedBodyRecord = Record<string, unknown> & HashedBody;

interface ActorSeen {
  key: string;
  first: HashedBody;
  events: number;
}

interface FacetSeen {
  kind: FacetKind;
  value: string;
  events: number;
  firstSeq: number;
}

export class ChainVerifier {
  private expectedSeq: number;
  private prevHash: string;
  /** The link before the previous one: a row pointing here skipped an inserted row. */
  private prevPrevHash: string | undefined;
  /** The previous row checked in this run, to name it when it turns out to be the culprit. */
  private previous: { seq: number; id: string } | undefined;
  private current: ChainHead;
  private count = 0;
  /** Workspace-wide tallies for compareTotals, kept while every row carries its derived rows. */
  private readonly actors = new Map<string, ActorSeen>();
  private readonly facets = new Map<FacetKind, Map<string, FacetSeen>>();
  private targetRows = 0;
  private tallied: boolean;
  private readonly prunedRanges: PrunedRange[] = [];

  /**
   * Verifies rows after `start` (default: from the beginning of the chain). With `model` (the
   * store's `derived`), each row's derived rows are checked too, and a walk from the beginning
   * can end with `compareTotals`.
   */
  constructor(
    private readonly workspace: string,
    start: ChainHead = EMPTY_HEAD,
    private readonly model?: DerivedModel,
  ) {
    this.expectedSeq = start.seq + 1;
    this.prevHash = start.hash;
    this.current = { seq: start.seq, hash: start.hash };
    this.tallied = model !== undefined && start.seq === 0;
  }

  /** The last row accepted as the chain's continuation (as stored, even after a problem). */
  get head(): ChainHead {
    return { ...this.current };
  }

  /** How many rows were checked. */
  get checked(): number {
    return this.count;
  }

  /** The ranges pruned by policy that the walk linked across, in seq order. */
  get pruned(): readonly PrunedRange[] {
    return this.prunedRanges;
  }

  /** What the walk so far implies, for Store.verifyTail. */
  walked(): WalkSummary {
    return { head: this.head, actorKeys: [...this.actors.keys()], targetRows: this.targetRows };
  }

  check(row: ChainRow): VerifyProblem | undefined {
    const { problem: linkProblem, event } = this.link(row);
    if (linkProblem === undefined && row.pruned !== undefined) return undefined;
    if (linkProblem !== undefined || event === undefined) {
      this.tallied = false;
      return linkProblem;
    }
    const found = this.inspectDerived(row, event) ?? this.inspectColumns(row, event);
    if (found !== undefined) this.tallied = false;
    else this.tally(row, event);
    return found;
  }

  /**
   * Checks only the row's place in the chain (steps 1 to 6) and advances past it. An id column
   * that disagrees with the body is reported with the event still given: the chain is intact.
   */
  link(row: ChainLink): LinkResult {
    this.count += 1;
    if (row.seq < this.expectedSeq) {
      // Not part of the chain walked so far: leave the state as it was.
      return {
        problem: problem(
          'inserted',
          row.seq,
          row.id,
          `appears after seq ${this.expectedSeq - 1}, but seqs only grow; this row was inserted`,
        ),
      };
    }
    const found = row.pruned === undefined ? this.inspectLinks(row) : this.inspectTombstone(row);
    this.advance(row);
    return found;
  }

  /**
   * A tombstone has no body to hash: its hash is taken as stored, which is sound because the
   * next row's link, the head, the Merkle tree and any checkpoint all commit to it. It must
   * still sit at its seq, link to the previous hash, and belong to a recorded pruning run.
   */
  private inspectTombstone(row: ChainLink): LinkResult {
    const { seq } = row;
    if (seq > this.expectedSeq) return this.inspectLinks(row);
    if (row.prev_hash !== this.prevHash) {
      const previous = this.previous;
      return {
        problem:
          previous === undefined
            ? problem(
                'altered',
                seq,
                undefined,
                `the tombstone of this pruned event does not link to the hash of seq ${seq - 1}; the chain was altered`,
              )
            : problem(
                'altered',
                previous.seq,
                previous.id || undefined,
                `its hash is not the one the tombstone of seq ${seq} links to; it was rewritten (with a recomputed hash) or the tombstone was`,
              ),
      };
    }
    const record: PruneRun | null = row.pruned?.record ?? null;
    if (record === null || !record.ranges.some(([from, to]) => from <= seq && seq <= to)) {
      return {
        problem: problem(
          'missing',
          seq,
          undefined,
          `its body was removed but no recorded pruning run covers it (run ${JSON.stringify(row.pruned?.run ?? null)}); the event was removed outside the retention policy`,
        ),
      };
    }
    const last = this.prunedRanges.at(-1);
    if (last !== undefined && last.run === record.run && last.to === seq - 1) last.to = seq;
    else {
      this.prunedRanges.push({
        from: seq,
        to: seq,
        run: record.run,
        policy_days: record.policy_days,
        pruned_at: record.at,
        cutoff: record.cutoff,
      });
    }
    return {};
  }

  /**
   * For reindex: `link`, and the row's event when the chain is intact up to it. An indexed
   * column of events that disagrees does not stop a rebuild (reindex never touches it); any
   * other problem throws integrity_broken, since rebuilding from a tampered body would erase
   * the last trace of what it said.
   */
  linkForRebuild(row: ChainLink): HashedBody | undefined {
    const { problem: found, event } = this.link(row);
    // A tombstone has nothing to rebuild from; its hash still goes into the tree.
    if (found === undefined && row.pruned !== undefined) return undefined;
    if (event !== undefined && (found === undefined || found.kind === 'index_mismatch')) {
      return event;
    }
    throw new TrailkeepError(
      'integrity_broken',
      `refusing to reindex workspace "${this.workspace}": its chain does not verify ` +
        `(${found?.message ?? `seq ${row.seq}: not a complete event`}); derived rows are ` +
        'rebuilt only from an intact log, and nothing was changed',
    );
  }

  private advance(row: ChainLink): void {
    this.prevPrevHash = this.prevHash;
    this.prevHash = row.hash;
    this.expectedSeq = row.seq + 1;
    this.previous = { seq: row.seq, id: row.id };
    this.current = { seq: row.seq, hash: row.hash };
  }

  /**
   * Says how a row whose hash does not cover its body was altered. Only a failing row pays
   * for the canonical re-encoding: a body whose hash matches is the text that was sealed, and
   * every sealed text was canonical (a rewrite with recomputed hashes breaks the next link, the
   * head or a checkpoint, whatever its form).
   */
  private unsealed(row: ChainLink): VerifyProblem {
    const { seq, id } = row;
    const parsed = bodyObject(row);
    if (!('body' in parsed)) return parsed.problem;
    if (canonicalJson(parsed.body) !== row.body) {
      return problem(
        'altered',
        seq,
        id,
        'the stored body is not in canonical form, so it is not the text that was hashed; the event was altered',
      );
    }
    return row.prev_hash === this.prevHash
      ? problem('altered', seq, id, 'stored hash does not match its content; the event was altered')
      : problem(
          'altered',
          seq,
          id,
          'its prev_hash, hash and content do not agree; the row was altered',
        );
  }

  private inspectLinks(row: ChainLink): LinkResult {
    const { seq, id } = row;
    const fail = (found: VerifyProblem): LinkResult => ({ problem: found });
    if (seq > this.expectedSeq) {
      const where =
        seq - 1 === this.expectedSeq ? `seq ${seq - 1}` : `seq ${this.expectedSeq}..${seq - 1}`;
      return fail(
        problem(
          'missing',
          this.expectedSeq,
          undefined,
          `missing: the chain jumps from seq ${this.expectedSeq - 1} to ${label(seq, id)}; events were removed`,
          where,
        ),
      );
    }
    if (hashLink(row.prev_hash, row.body) !== row.hash) return fail(this.unsealed(row));
    // Sealed as it stands: a body that is not an object was rewritten with a recomputed hash.
    const body = bodyObject(row);
    if (!('body' in body)) return fail(body.problem);
    const parsed = body.body;
    if (parsed.workspace !== this.workspace) {
      return fail(
        problem(
          'foreign',
          seq,
          id,
          `belongs to workspace ${JSON.stringify(parsed.workspace)}, not "${this.workspace}"; it was copied in from another chain`,
        ),
      );
    }
    if (row.prev_hash !== this.prevHash) {
      if (this.previous !== undefined && row.prev_hash === this.prevPrevHash) {
        return fail(
          problem(
            'inserted',
            this.previous.seq,
            this.previous.id,
            `the next event links past it to seq ${this.previous.seq - 1}; this event was inserted`,
          ),
        );
      }
      if (parsed.seq !== seq) {
        return fail(
          problem(
            'reordered',
            seq,
            id,
            `holds the event of seq ${String(parsed.seq)} and links to a different predecessor; rows were reordered`,
          ),
        );
      }
      if (this.previous !== undefined) {
        return fail(
          problem(
            'altered',
            this.previous.seq,
            this.previous.id,
            `its hash is not the one seq ${seq} links to; it was rewritten (with a recomputed hash) or seq ${seq} was replaced`,
          ),
        );
      }
      return fail(
        problem(
          'altered',
          seq,
          id,
          this.prevHash === ZERO_HASH && this.expectedSeq === 1
            ? 'the first event does not link to the zero hash; the chain was altered'
            : `does not link to the hash of seq ${seq - 1}; the chain was altered`,
        ),
      );
    }
    if (parsed.seq !== seq) {
      return fail(
        problem(
          'reordered',
          seq,
          id,
          `holds the event of seq ${String(parsed.seq)}; rows were renumbered or moved`,
        ),
      );
    }
    if (!isHashedBody(parsed)) {
      return fail(problem('altered', seq, id, 'the stored body is not a complete event'));
    }
    if (parsed.id !== id) {
      return {
        event: parsed,
        problem: {
          ...problem(
            'index_mismatch',
            seq,
            id,
            `the id column says "${id}" but the event is ${JSON.stringify(parsed.id)}`,
          ),
          table: 'events',
          key: `seq ${seq}`,
          column: 'id',
          expected: parsed.id,
          found: id,
        },
      };
    }
    return { event: parsed };
  }

  /** Step 8: the indexed columns, located where the engine keeps each copy. */
  private inspectColumns(row: ChainRow, event: HashedBodyRecord): VerifyProblem | undefined {
    const expected = indexedColumns(event);
    for (const column of Object.keys(expected)) {
      const value = expected[column] ?? null;
      const stored = Object.hasOwn(row.columns, column) ? (row.columns[column] ?? null) : null;
      if (stored === value) continue;
      const source = row.sources?.[column];
      return source === undefined
        ? mismatch(
            'index_mismatch',
            row.seq,
            row.id,
            { table: 'events', key: `seq ${row.seq}`, column },
            value,
            stored,
          )
        : mismatch('derived_mismatch', row.seq, row.id, source, value, stored);
    }
    return undefined;
  }

  /** Step 7: the rows kept for this event beside it, compared in the engine's order. */
  private inspectDerived(row: ChainRow, event: HashedBodyRecord): VerifyProblem | undefined {
    const { model } = this;
    const stored = row.derived;
    if (model === undefined || stored === undefined) return undefined;
    const found = compareEventRows(model.eventRows(event), stored.rows);
    if (found !== undefined) {
      return 'difference' in found
        ? mismatch(
            found.row.table === 'events' ? 'index_mismatch' : 'derived_mismatch',
            row.seq,
            row.id,
            { table: found.row.table, key: found.row.key, column: found.difference.column },
            found.difference.expected,
            found.difference.found,
          )
        : rowPresence(row.seq, row.id, found.row, found.present);
    }
    const judged = stored.mismatches?.[0];
    if (judged !== undefined) {
      return mismatch(
        judged.table === 'events' ? 'index_mismatch' : 'derived_mismatch',
        row.seq,
        row.id,
        judged,
        judged.expected,
        judged.found,
      );
    }
    const seen = this.actors.get(stored.actor_key);
    if (seen !== undefined && !sameActor(seen.first.actor, event.actor)) {
      // Filed under the actors row of another actor: the row answers for the wrong events.
      const who = (actor: HashedBody['actor']): string => JSON.stringify(actor.id);
      return {
        ...problem(
          'derived_mismatch',
          row.seq,
          row.id,
          `events column actor_key files it under ${stored.actor_key}, the actors row of ` +
            `${who(seen.first.actor)} (seq ${seen.first.seq}), but its actor is ${who(event.actor)}; ` +
            'queries by actor would not match the log',
        ),
        table: 'events',
        key: `seq ${row.seq}`,
        column: 'actor_key',
        expected: `the actors row of ${JSON.stringify(event.actor)}`,
        found: stored.actor_key,
      };
    }
    return undefined;
  }

  private readonly countFacet = (kind: FacetKind, value: string, event: HashedBody): void => {
    let values = this.facets.get(kind);
    if (values === undefined) {
      values = new Map();
      this.facets.set(kind, values);
    }
    const facet = values.get(value);
    if (facet === undefined) values.set(value, { kind, value, events: 1, firstSeq: event.seq });
    else facet.events += 1;
  };

  private tally(row: ChainRow, event: HashedBody): void {
    const stored = row.derived;
    if (!this.tallied || stored === undefined) {
      this.tallied = false;
      return;
    }
    const seen = this.actors.get(stored.actor_key);
    if (seen === undefined)
      this.actors.set(stored.actor_key, { key: stored.actor_key, first: event, events: 1 });
    else seen.events += 1;
    forEachFacet(event, this.countFacet);
    this.targetRows += event.targets.length;
  }

  /**
   * After a full, clean walk: the workspace-wide derived rows as stored (Store.verifyTail) must
   * be exactly those the tallies imply, no more, no fewer. `judged` are differences the engine
   * found itself. undefined when nothing differs, or when the walk cannot tell (no model, a
   * walk that did not start at seq 1, or a problem on the way).
   */
  compareTotals(
    stored: readonly DerivedRow[],
    judged: readonly DerivedMismatch[] = [],
  ): VerifyProblem | undefined {
    const { model } = this;
    if (model === undefined || !this.tallied) return undefined;
    const byKey = new Map<string, DerivedRow>();
    for (const row of stored) byKey.set(`${row.table}\u0000${row.key}`, row);
    const expected: { seq: number; id?: string; row: DerivedRow }[] = [];
    for (const { key, first, events } of this.actors.values()) {
      const row = model.actorRow(key, first, { events, firstSeq: first.seq });
      expected.push({ seq: first.seq, id: first.id, row });
    }
    for (const values of this.facets.values()) {
      for (const { kind, value, events, firstSeq } of values.values()) {
        expected.push({ seq: firstSeq, row: model.facetRow(kind, value, events) });
      }
    }
    for (const { seq, id, row } of expected) {
      const key = `${row.table}\u0000${row.key}`;
      const have = byKey.get(key);
      if (have === undefined) return rowPresence(seq, id, row, false);
      byKey.delete(key);
      const difference = firstDifference(row, have);
      if (difference !== undefined) {
        return mismatch(
          'derived_mismatch',
          seq,
          id,
          { table: row.table, key: row.key, column: difference.column },
          difference.expected,
          difference.found,
          'the events say',
        );
      }
    }
    const extra = byKey.values().next();
    if (extra.done !== true) return rowPresence(0, undefined, extra.value, true);
    const first = judged[0];
    if (first !== undefined) {
      return mismatch(
        'derived_mismatch',
        first.seq,
        undefined,
        first,
        first.expected,
        first.found,
        'the events say',
      );
    }
    return undefined;
  }
}

/**
 * Compares the end of a verified walk with a checkpoint held elsewhere. `hashAtSeq` is the
 * stored hash of the row at checkpoint.seq (undefined when no such row was read).
 */
export function checkTail(
  head: ChainHead,
  checkpoint: CheckpointStatement,
  hashAtSeq: string | undefined,
): VerifyProblem | undefined {
  if (checkpoint.seq > head.seq) {
    const where =
      checkpoint.seq === head.seq + 1
        ? `seq ${checkpoint.seq}`
        : `seq ${head.seq + 1}..${checkpoint.seq}`;
    return problem(
      'missing',
      head.seq + 1,
      undefined,
      `missing: the checkpoint covers seq ${checkpoint.seq} but the log ends at seq ${head.seq}; the tail was truncated`,
      where,
    );
  }
  const actual = checkpoint.seq === 0 ? ZERO_HASH : hashAtSeq;
  if (actual === undefined) {
    return problem(
      'missing',
      checkpoint.seq,
      undefined,
      'the event the checkpoint names was not found',
    );
  }
  if (actual !== checkpoint.hash) {
    return problem(
      'altered',
      checkpoint.seq,
      undefined,
      `the log's hash here differs from the checkpoint's (${checkpoint.hash.slice(0, 12)}…); history up to this event was rewritten`,
    );
  }
  return undefined;
}
