/**
 * The raw rows verification reads: each event's chain columns, its indexed copies and the
 * derived rows kept for it (its event_ids row, its target rows, its metadata copy), in seq
 * order, a bounded batch per round trip.
 */
import { EventRowOf, type DerivedRow } from '../../core/derived.js';
import type { ChainRow } from '../store.js';
import type { Queryable } from './driver.js';
import { runRecords } from './retention.js';

/** The key of an actors row: its primary key after the workspace. */
export function actorKey(type: string, id: string, name: string, email: string): string {
  return JSON.stringify([type, id, name, email]);
}

/** Rows per round trip of `scanChain` and reindex. */
export const CHAIN_BATCH = 500;

/** The stored instant in the body's form (ISO, milliseconds, UTC). */
const ISO = (column: string): string =>
  `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

interface ChainDbRow {
  seq: string;
  id: string;
  prev_hash: string;
  hash: string;
  body: string;
  occurred_at: string;
  action: string;
  category: string;
  outcome: string;
  operation: string;
  actor_type: string;
  actor_id: string;
  actor_name: string | null;
  actor_email: string | null;
  ip_key: string | null;
  metadata: string | null;
  /** The event_ids row of this seq, if any. */
  id_id: string | null;
  id_occurred_at: string | null;
  /** Set on a tombstone row (pruned_events): the pruning run that made it. */
  run: string | null;
}

interface TargetDbRow {
  seq: string;
  pos: number;
  occurred_at: string;
  type: string;
  id: string;
  type_lc: string;
  name_lc: string | null;
}

/**
 * The target rows of the events with seq in [from, to], in target order: one primary-key
 * range per batch. verify compares each with what the body implies, and rebuilds
 * `indexedColumns().targets` from them (schema version 2 keeps no copy in events).
 */
async function targetsOf(
  db: Queryable,
  workspace: string,
  from: number,
  to: number,
): Promise<Map<number, DerivedRow[]>> {
  const result = await db.query<TargetDbRow>(
    `SELECT seq, pos, ${ISO('occurred_at')} AS occurred_at, type, id, type_lc, name_lc
       FROM event_targets WHERE workspace = $1 AND seq BETWEEN $2 AND $3 ORDER BY seq, pos`,
    [workspace, from, to],
  );
  const byEvent = new Map<number, DerivedRow[]>();
  for (const { seq: seqText, ...columns } of result.rows) {
    const seq = Number(seqText);
    let list = byEvent.get(seq);
    if (list === undefined) {
      list = [];
      byEvent.set(seq, list);
    }
    list.push(new EventRowOf('event_targets', columns, 'seq', seq, columns.pos));
  }
  return byEvent;
}

/** Up to `limit` raw rows from seq `from` (at most `to`), with their derived rows. */
export async function chainBatch(
  db: Queryable,
  workspace: string,
  from: number,
  to = Number.MAX_SAFE_INTEGER,
  limit = CHAIN_BATCH,
): Promise<ChainRow[]> {
  const result = await db.query<ChainDbRow>(
    `SELECT * FROM (
       SELECT e.seq, e.id, e.prev_hash, e.hash, e.body, ${ISO('e.occurred_at')} AS occurred_at,
              e.action, e.category, e.outcome, e.operation, e.actor_type, e.actor_id,
              e.actor_name, e.actor_email, e.ip_key, e.metadata::text AS metadata,
              i.id AS id_id, ${ISO('i.occurred_at')} AS id_occurred_at, NULL::text AS run
         FROM events e
         LEFT JOIN event_ids i ON i.workspace = e.workspace AND i.seq = e.seq
        WHERE e.workspace = $1 AND e.seq >= $2 AND e.seq <= $3
       UNION ALL
       SELECT p.seq, NULL, p.prev_hash, p.hash, '', NULL, NULL, NULL, NULL, NULL, NULL, NULL,
              NULL, NULL, NULL, NULL, NULL, NULL, p.run
         FROM pruned_events p
        WHERE p.workspace = $1 AND p.seq >= $2 AND p.seq <= $3) r
      ORDER BY seq LIMIT $4`,
    [workspace, from, to, limit],
  );
  const first = result.rows[0];
  const last = result.rows.at(-1);
  if (first === undefined || last === undefined) return [];
  const targets = await targetsOf(db, workspace, Number(first.seq), Number(last.seq));
  const runs = await runRecords(
    db,
    workspace,
    result.rows.flatMap((row) => (row.run === null ? [] : [row.run])),
  );
  return result.rows.map((row): ChainRow => {
    const seq = Number(row.seq);
    if (row.run !== null) {
      return {
        seq,
        id: '',
        prev_hash: row.prev_hash,
        hash: row.hash,
        body: '',
        columns: {},
        pruned: { run: row.run, record: runs.get(row.run) ?? null },
      };
    }
    const stored = targets.get(seq) ?? [];
    const rows: DerivedRow[] = [new EventRowOf('events', { metadata: row.metadata }, 'seq', seq)];
    if (row.id_id !== null) {
      rows.push(
        new EventRowOf('event_ids', { id: row.id_id, occurred_at: row.id_occurred_at }, 'seq', seq),
      );
    }
    rows.push(...stored);
    return {
      seq,
      id: row.id,
      prev_hash: row.prev_hash,
      hash: row.hash,
      body: row.body,
      // Exactly the shape of indexedColumns() in src/core/columns.ts.
      columns: {
        id: row.id,
        seq,
        occurred_at: row.occurred_at,
        action: row.action,
        category: row.category,
        outcome: row.outcome,
        operation: row.operation,
        actor_type: row.actor_type,
        actor_id: row.actor_id,
        actor_name: row.actor_name,
        actor_email: row.actor_email,
        ip_key: row.ip_key,
        targets: JSON.stringify(stored.map((t) => [t.columns['type'], t.columns['id']])),
      },
      derived: {
        rows,
        actor_key: actorKey(
          row.actor_type,
          row.actor_id,
          row.actor_name ?? '',
          row.actor_email ?? '',
        ),
      },
    };
  });
}

export async function* scanChain(
  db: Queryable,
  workspace: string,
  fromSeq: number,
): AsyncGenerator<ChainRow> {
  let next = fromSeq;
  for (;;) {
    const rows = await chainBatch(db, workspace, next);
    yield* rows;
    const last = rows.at(-1);
    if (last === undefined || rows.length < CHAIN_BATCH) return;
    next = last.seq + 1;
  }
}
