/**
 * The raw rows verification reads: each event's chain columns, its indexed copies and the
 * derived rows kept for it, in seq order, one short statement per batch.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { EventRowOf, type DerivedRow } from '../../core/derived.js';
import type { ChainRow } from '../store.js';
import type { SqliteContext } from './context.js';
import { BATCH_SIZE } from './read.js';

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

/** Up to `limit` raw rows from seq `fromSeq` (at most `toSeq`), with their derived rows. */
export function chainBatch(
  context: SqliteContext,
  ws: number,
  fromSeq: number,
  actors: ActorReads,
  toSeq = Number.MAX_SAFE_INTEGER,
  limit = BATCH_SIZE,
): ChainRow[] {
  const rows = context
    .statement(
      `SELECT e.eid, e.seq, e.id, e.occurred_ms, e.action, e.category, e.outcome, e.operation,
              e.actor_type, e.actor_key, iif(e.ip IS NULL, NULL, lower(hex(e.ip))) AS ip_key,
              lower(hex(e.prev_hash)) AS prev_hash, lower(hex(e.hash)) AS hash, e.body
       FROM events e WHERE e.ws = ? AND e.seq >= ? AND e.seq <= ? ORDER BY e.seq LIMIT ?`,
    )
    .all(ws, fromSeq, toSeq, limit) as ChainScanRow[];
  const targets = storedTargets(
    context,
    rows.map((r) => r.eid),
  );
  return rows.map((row) => {
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
  let next = Math.max(1, fromSeq);
  for (;;) {
    const rows = chainBatch(context, ws, next, actors);
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
