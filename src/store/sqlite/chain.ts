/**
 * The raw rows verification reads: each event's chain columns, its indexed copies and the
 * derived rows kept for it, in seq order, one short statement per batch.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { EventRowOf, type DerivedRow } from '../../core/derived.js';
import type { ChainRow, PruneRun } from '../store.js';
import type { SqliteContext } from './context.js';
import { BATCH_SIZE } from './read.js';
import { RUN_COLUMNS, runOf, type RunRow } from '../prune-runs.js';

export const actorKeyName = (akey: number): string => `akey ${akey}`;

interface ChainScanRow {
  eid: number;
  seq: number;
  id: string;
  occurred_ms: number;
  action: string;
  category: string;
  outcome: string;
  operation: string;
  actor_type: string;
  actor_key: number;
  ip_key: string | null;
  prev_hash: string;
  hash: string;
  body: string;
  /** Set on a tombstone row (pruned_events): the pruning run that made it. */
  run: string | null;
}

/** Milliseconds back to the body's ISO form; a value no date can have is shown as it is. */
function isoFromMs(ms: number): string {
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? String(ms) : date.toISOString();
}

/** An actors row as verification reads it, once per actor key of a walk. */
interface ActorRead {
  /** actorKeyName of its akey, made once. */
  key: string;
  /** The columns events' indexed copies take from it. */
  actor_id: string | null;
  actor_name: string | null;
  actor_email: string | null;
  sources: NonNullable<ChainRow['sources']>;
}

/**
 * The actors rows a walk has read, by key. A log has few actors and many events each: one
 * lookup per actor rather than a join per row.
 */
export type ActorReads = Map<number, ActorRead>;

function actorOf(context: SqliteContext, actors: ActorReads, key: number): ActorRead {
  let actor = actors.get(key);
  if (actor === undefined) {
    const row = context.statement('SELECT id, name, email FROM actors WHERE akey = ?').get(key) as
      { id: string; name: string | null; email: string | null } | undefined;
    const name = actorKeyName(key);
    const at = (column: string) => ({ table: 'actors', key: name, column });
    actor = {
      key: name,
      actor_id: row?.id ?? null,
      actor_name: row?.name ?? null,
      actor_email: row?.email ?? null,
      sources: { actor_id: at('id'), actor_name: at('name'), actor_email: at('email') },
    };
    actors.set(key, actor);
  }
  return actor;
}

/** Stands in for pruned_events in a file opened read-only from before schema version 6. */
const NO_TOMBSTONES = `(SELECT 0 AS ws, 0 AS seq, x'' AS prev_hash, x'' AS hash, '' AS run WHERE 0)`;

/** The pruning runs a walk has read, by run id (null: no such run recorded). */
export type RunReads = Map<string, PruneRun | null>;

/** A pruned event's tombstone as a chain row: no body, its recorded run (see ChainRow.pruned). */
function tombstoneRow(
  context: SqliteContext,
  ws: number,
  row: ChainScanRow,
  runs: RunReads,
): ChainRow {
  const run = row.run ?? '';
  return {
    seq: row.seq,
    id: '',
    prev_hash: row.prev_hash,
    hash: row.hash,
    body: '',
    columns: {},
    pruned: { run, record: runRecord(context, ws, run, runs) },
  };
}

/** A pruning run as recorded, read once per walk. */
export function runRecord(
  context: SqliteContext,
  ws: number,
  run: string,
  runs: RunReads,
): PruneRun | null {
  let record = runs.get(run);
  if (record === undefined) {
    const stored = context
      .statement(`SELECT ${RUN_COLUMNS} FROM prune_runs WHERE ws = ? AND run = ?`)
      .get(ws, run) as RunRow | undefined;
    record = stored === undefined ? null : runOf(stored);
    runs.set(run, record);
  }
  return record;
}

/** Up to `limit` raw rows from seq `fromSeq` (at most `toSeq`), with their derived rows. */
export function chainBatch(
  context: SqliteContext,
  ws: number,
  fromSeq: number,
  actors: ActorReads,
  toSeq = Number.MAX_SAFE_INTEGER,
  limit = BATCH_SIZE,
  runs: RunReads = new Map(),
): ChainRow[] {
  const rows = context
    .statement(
      `SELECT e.eid, e.seq, e.id, e.occurred_ms, e.action, e.category, e.outcome, e.operation,
              e.actor_type, e.actor_key, iif(e.ip IS NULL, NULL, lower(hex(e.ip))) AS ip_key,
              lower(hex(e.prev_hash)) AS prev_hash, lower(hex(e.hash)) AS hash, e.body,
              NULL AS run
       FROM events e WHERE e.ws = ? AND e.seq >= ? AND e.seq <= ?
       UNION ALL
       SELECT NULL, p.seq, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
              lower(hex(p.prev_hash)), lower(hex(p.hash)), '', p.run
       FROM ${context.retentionTables ? 'pruned_events' : NO_TOMBSTONES} p
       WHERE p.ws = ? AND p.seq >= ? AND p.seq <= ?
       ORDER BY 2 LIMIT ?`,
    )
    .all(ws, fromSeq, toSeq, ws, fromSeq, toSeq, limit) as ChainScanRow[];
  const targets = storedTargets(
    context,
    rows.filter((r) => r.run === null).map((r) => r.eid),
  );
  return rows.map((row) => {
    if (row.run !== null) return tombstoneRow(context, ws, row, runs);
    const actor = actorOf(context, actors, row.actor_key);
    const stored = targets.get(row.eid) ?? [];
    return {
      seq: row.seq,
      id: row.id,
      prev_hash: row.prev_hash,
      hash: row.hash,
      body: row.body,
      columns: {
        id: row.id,
        seq: row.seq,
        occurred_at: isoFromMs(row.occurred_ms),
        action: row.action,
        category: row.category,
        outcome: row.outcome,
        operation: row.operation,
        actor_type: row.actor_type,
        actor_id: actor.actor_id,
        actor_name: actor.actor_name,
        actor_email: actor.actor_email,
        ip_key: row.ip_key,
        targets: JSON.stringify(stored.map((t) => [t.columns.type, t.columns.id])),
      },
      sources: actor.sources,
      derived: { rows: stored, actor_key: actor.key },
    };
  });
}

export async function* scanChain(
  context: SqliteContext,
  workspace: string,
  fromSeq: number,
): AsyncGenerator<ChainRow> {
  const ws = context.workspaceKey(workspace);
  if (ws === undefined) return;
  const actors: ActorReads = new Map();
  const runs: RunReads = new Map();
  let next = Math.max(1, fromSeq);
  for (;;) {
    const rows = chainBatch(context, ws, next, actors, Number.MAX_SAFE_INTEGER, BATCH_SIZE, runs);
    yield* rows;
    const last = rows.at(-1);
    if (last === undefined || rows.length < BATCH_SIZE) return;
    next = last.seq + 1;
    await nextTurn();
  }
}

/** A target row as stored. */
export type TargetRow = {
  eid: number;
  pos: number;
  ws: number;
  type: string;
  id: string;
  name_lc: string | null;
  occurred_ms: number;
  seq: number;
};

/**
 * The target rows of some events, in target order, by event. Read by eid alone, whatever their
 * workspace column says, so a row moved to another workspace still shows as this event's.
 */
function storedTargets(context: SqliteContext, eids: readonly number[]): Map<number, DerivedRow[]> {
  const byEvent = new Map<number, DerivedRow[]>();
  if (eids.length === 0) return byEvent;
  const rows = context
    .statement(
      `SELECT eid, pos, ws, type, id, name_lc, occurred_ms, seq FROM event_targets
       WHERE eid IN (SELECT value FROM json_each(?)) ORDER BY eid, pos`,
    )
    .all(JSON.stringify(eids)) as TargetRow[];
  for (const row of rows) {
    let list = byEvent.get(row.eid);
    if (list === undefined) {
      list = [];
      byEvent.set(row.eid, list);
    }
    list.push(targetRow(row));
  }
  return byEvent;
}

/** A stored event_targets row, in the form of the SQLite DerivedModel. */
export function targetRow(row: TargetRow): DerivedRow {
  // The row itself as the columns: verify compares the model's columns, and eid is not one.
  return new EventRowOf('event_targets', row, 'eid', row.eid, row.pos);
}
