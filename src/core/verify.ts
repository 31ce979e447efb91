/**
 * Verification re-derives everything from raw rows (tessera's fsck is the model): it trusts no
 * stored hash, column or head, only the recomputation. Feed it a workspace's rows in seq order;
 * it reports the first problem of each row, phrased for a person reading `trailkeep verify`.
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
 *   7. every indexed column equals what the body says ('index_mismatch').
 * After a problem the verifier carries on from the row as stored, so a caller may keep reading
 * to collect more, but only the first problem is guaranteed to be reported precisely.
 */
import { canonicalJson } from './canonical.js';
import { hashLink, type HashedBody } from './chain.js';
import type { CheckpointStatement } from './checkpoint.js';
import { indexedColumns } from './columns.js';
import { EMPTY_HEAD, ZERO_HASH, type ChainHead } from './event.js';
import type { ChainRow } from '../store/store.js';

export type VerifyProblemKind =
  'altered' | 'missing' | 'inserted' | 'reordered' | 'index_mismatch' | 'foreign' | 'tree_mismatch';

export interface VerifyProblem {
  seq: number;
  id?: string;
  kind: VerifyProblemKind;
  message: string;
}

/** What one problem kind means, for docs and for the CLI's explanation. */
export const PROBLEM_MEANINGS: Readonly<Record<VerifyProblemKind, string>> = {
  altered: 'an event, or its stored hash, no longer matches what was hashed when it was written',
  missing: 'events are absent: a gap in seq, or a tail cut off',
  inserted: 'an event the chain never contained at that place',
  reordered: 'an intact event is not where its content and links say it belongs',
  index_mismatch: 'an indexed column disagrees with the hashed event',
  foreign: "a row of another workspace's chain",
  tree_mismatch: "the stored Merkle tree disagrees with the chain's hashes",
};

function label(seq: number, id: string | undefined): string {
  return id === undefined ? `seq ${seq}` : `seq ${seq} (${id})`;
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

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

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
  if (!Array.isArray(targets) || !isRecord(context)) return false;
  for (const t of targets as unknown[]) {
    if (!isRecord(t) || typeof t.type !== 'string' || typeof t.id !== 'string') return false;
  }
  return true;
}

/** The stored body parsed as a JSON object, or why it is not one. */
function bodyObject(row: ChainRow): { body: Record<string, unknown> } | { problem: VerifyProblem } {
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

export class ChainVerifier {
  private expectedSeq: number;
  private prevHash: string;
  /** The link before the previous one: a row pointing here skipped an inserted row. */
  private prevPrevHash: string | undefined;
  /** The previous row checked in this run, to name it when it turns out to be the culprit. */
  private previous: { seq: number; id: string } | undefined;
  private current: ChainHead;
  private count = 0;

  /** Verifies rows after `start` (default: from the beginning of the chain). */
  constructor(
    private readonly workspace: string,
    start: ChainHead = EMPTY_HEAD,
  ) {
    this.expectedSeq = start.seq + 1;
    this.prevHash = start.hash;
    this.current = { seq: start.seq, hash: start.hash };
  }

  /** The last row accepted as the chain's continuation (as stored, even after a problem). */
  get head(): ChainHead {
    return { ...this.current };
  }

  /** How many rows were checked. */
  get checked(): number {
    return this.count;
  }

  check(row: ChainRow): VerifyProblem | undefined {
    this.count += 1;
    if (row.seq < this.expectedSeq) {
      // Not part of the chain walked so far: leave the state as it was.
      return problem(
        'inserted',
        row.seq,
        row.id,
        `appears after seq ${this.expectedSeq - 1}, but seqs only grow; this row was inserted`,
      );
    }
    const found = this.inspect(row);
    this.advance(row);
    return found;
  }

  private advance(row: ChainRow): void {
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
  private unsealed(row: ChainRow): VerifyProblem {
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

  private inspect(row: ChainRow): VerifyProblem | undefined {
    const { seq, id } = row;
    if (seq > this.expectedSeq) {
      const where =
        seq - 1 === this.expectedSeq ? `seq ${seq - 1}` : `seq ${this.expectedSeq}..${seq - 1}`;
      return problem(
        'missing',
        this.expectedSeq,
        undefined,
        `missing: the chain jumps from seq ${this.expectedSeq - 1} to ${label(seq, id)}; events were removed`,
        where,
      );
    }
    if (hashLink(row.prev_hash, row.body) !== row.hash) return this.unsealed(row);
    // Sealed as it stands: a body that is not an object was rewritten with a recomputed hash.
    const body = bodyObject(row);
    if (!('body' in body)) return body.problem;
    const parsed = body.body;
    if (parsed.workspace !== this.workspace) {
      return problem(
        'foreign',
        seq,
        id,
        `belongs to workspace ${JSON.stringify(parsed.workspace)}, not "${this.workspace}"; it was copied in from another chain`,
      );
    }
    if (row.prev_hash !== this.prevHash) {
      if (this.previous !== undefined && row.prev_hash === this.prevPrevHash) {
        return problem(
          'inserted',
          this.previous.seq,
          this.previous.id,
          `the next event links past it to seq ${this.previous.seq - 1}; this event was inserted`,
        );
      }
      if (parsed.seq !== seq) {
        return problem(
          'reordered',
          seq,
          id,
          `holds the event of seq ${String(parsed.seq)} and links to a different predecessor; rows were reordered`,
        );
      }
      if (this.previous !== undefined) {
        return problem(
          'altered',
          this.previous.seq,
          this.previous.id,
          `its hash is not the one seq ${seq} links to; it was rewritten (with a recomputed hash) or seq ${seq} was replaced`,
        );
      }
      return problem(
        'altered',
        seq,
        id,
        this.prevHash === ZERO_HASH && this.expectedSeq === 1
          ? 'the first event does not link to the zero hash; the chain was altered'
          : `does not link to the hash of seq ${seq - 1}; the chain was altered`,
      );
    }
    if (parsed.seq !== seq) {
      return problem(
        'reordered',
        seq,
        id,
        `holds the event of seq ${String(parsed.seq)}; rows were renumbered or moved`,
      );
    }
    if (parsed.id !== id) {
      return problem(
        'index_mismatch',
        seq,
        id,
        `the id column says "${id}" but the event is ${JSON.stringify(parsed.id)}`,
      );
    }
    if (!isHashedBody(parsed)) {
      return problem('altered', seq, id, 'the stored body is not a complete event');
    }
    const expected = indexedColumns(parsed);
    for (const [column, value] of Object.entries(expected)) {
      const stored = Object.hasOwn(row.columns, column) ? row.columns[column] : undefined;
      if (stored !== value) {
        return problem(
          'index_mismatch',
          seq,
          id,
          `indexed column ${column} is ${JSON.stringify(stored ?? null)} but the event says ${JSON.stringify(value)}; queries would not match the log`,
        );
      }
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
