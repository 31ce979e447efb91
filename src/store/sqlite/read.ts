/**
 * Reading the log. Pages are keyset scans over `(occurred_ms, seq)` on indexes that lead with
 * the workspace key and one filter column, so a page costs the same at any depth and never uses
 * OFFSET. Long reads (stream, scanChain) run one short statement per batch, so no read
 * transaction stays open between batches and memory stays flat however large the log.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { StoredEvent } from '../../core/event.js';
import type { Filter, Position } from '../../core/query/filter.js';
import type { ActorFacet, FacetValue, Facets, PageRequest, StoredText } from '../store.js';
import type { FacetKind } from '../../core/derived.js';
import {
  compileFilter,
  toMs,
  type FilterStats,
  type SqlFragment,
  type TimeBounds,
} from './compile-filter.js';
import type { SqliteContext } from './context.js';
import type { SqlParam } from './driver.js';
import { EVENT_COLUMNS, toStoredEvent, type EventRow } from './rows.js';

/**
 * Rows per statement for stream and scanChain. Small enough that a batch of row texts is gone
 * before the young generation promotes it (a 1,000-row batch raised a 400,000-row export's peak
 * RSS from about 150 MB to 175 MB), large enough that statement overhead stays negligible.
 */
export const BATCH_SIZE = 250;
const FACET_LIMIT = 1000;

type ScanOrder = 'desc' | 'asc';

/** Value counts the compiler uses to choose between an index and a time-ordered scan. */
function filterStats(context: SqliteContext, ws: number): FilterStats {
  return {
    sortBudget: context.sortBudget,
    facetEvents(kind, condition: SqlFragment): number {
      const row = context
        .statement(
          `SELECT ifnull(sum(n), 0) AS n FROM facet_counts WHERE ws = ? AND kind = ? AND (${condition.sql})`,
        )
        .get(ws, kind, ...condition.params) as { n: number };
      return row.n;
    },
    boundedCount(table, condition: SqlFragment): number {
      // LIMIT -1 is no limit (an infinite budget, as tests use, never needs the count).
      const countLimit = Number.isFinite(context.sortBudget) ? context.sortBudget + 1 : -1;
      const row = context
        .statement(
          `SELECT count(*) AS n FROM (SELECT 1 FROM ${table} WHERE ws = ? AND (${condition.sql}) LIMIT ?)`,
        )
        .get(ws, ...condition.params, countLimit) as { n: number };
      return row.n;
    },
    actors(condition: SqlFragment): { keys: number[]; events: number } {
      const rows = context
        .statement(`SELECT akey, event_count FROM actors WHERE ws = ? AND (${condition.sql})`)
        .all(ws, ...condition.params) as { akey: number; event_count: number }[];
      return {
        keys: rows.map((row) => row.akey),
        events: rows.reduce((sum, row) => sum + row.event_count, 0),
      };
    },
  };
}

/** Where a keyset scan resumes: strictly beyond this (occurred_ms, seq). */
interface Keyset {
  ms: number;
  seq: number;
}

/** A stored event with the keyset columns a stream resumes from. */
interface StreamRow extends EventRow {
  occurred_ms: number;
  seq: number;
}

/**
 * Up to `limit` matching events after `position` in `order` ('desc' = newest first), in that
 * order.
 */
function scan(
  context: SqliteContext,
  ws: number,
  filter: Filter,
  position: Position | undefined,
  order: ScanOrder,
  limit: number,
): StoredEvent[] {
  const keyset = position && { ms: toMs(position.occurred_at), seq: position.seq };
  return scanRows<EventRow>(context, ws, filter, keyset, order, limit, EVENT_COLUMNS).map(
    toStoredEvent,
  );
}

/** The raw rows of one keyset batch, not yet parsed. */
function scanRows<Row>(
  context: SqliteContext,
  ws: number,
  filter: Filter,
  after: Keyset | undefined,
  order: ScanOrder,
  limit: number,
  columns: string,
): Row[] {
  const params: SqlParam[] = [ws];
  let keyset = '';
  const bounds: TimeBounds = {};
  if (after !== undefined) {
    keyset =
      order === 'desc'
        ? 'AND (e.occurred_ms, e.seq) < (?, ?)'
        : 'AND (e.occurred_ms, e.seq) > (?, ?)';
    params.push(after.ms, after.seq);
    if (order === 'desc') bounds.maxMs = after.ms;
    else bounds.minMs = after.ms;
  }
  const where = compileFilter(filter, ws, {
    bounds,
    stats: filterStats(context, ws),
    actorIndex: context.actorIndex,
  });
  const direction = order === 'desc' ? 'DESC' : 'ASC';
  return context
    .statement(
      `SELECT ${columns} FROM events e WHERE e.ws = ? ${keyset} AND (${where.sql})
       ORDER BY e.occurred_ms ${direction}, e.seq ${direction} LIMIT ?`,
    )
    .all(...params, ...where.params, limit) as Row[];
}

export function readPage(
  context: SqliteContext,
  workspace: string,
  filter: Filter,
  request: PageRequest,
): StoredEvent[] {
  const ws = context.workspaceKey(workspace);
  const limit = Math.max(0, Math.floor(request.limit));
  if (ws === undefined || limit === 0) return [];
  if (request.direction === 'newer' && request.position !== undefined) {
    // The closest `limit` newer events, read oldest first from the position, shown newest first.
    return scan(context, ws, filter, request.position, 'asc', limit).reverse();
  }
  return scan(context, ws, filter, request.position, 'desc', limit);
}

export function countMatching(
  context: SqliteContext,
  workspace: string,
  filter: Filter,
  cap: number,
): number {
  const ws = context.workspaceKey(workspace);
  const limit = Math.max(0, Math.floor(cap));
  if (ws === undefined || limit === 0) return 0;
  // No order to keep, so no plan choices; but knowing the matching actors helps as on a page.
  const where = compileFilter(filter, ws, {
    actors: filterStats(context, ws).actors,
    actorIndex: context.actorIndex,
  });
  const row = context
    .statement(
      `SELECT count(*) AS n FROM (SELECT 1 FROM events e WHERE e.ws = ? AND (${where.sql}) LIMIT ?)`,
    )
    .get(ws, ...where.params, limit) as { n: number };
  return row.n;
}

export async function* streamText(
  context: SqliteContext,
  workspace: string,
  filter: Filter,
  options: { order: 'newest' | 'oldest'; limit?: number },
): AsyncGenerator<readonly StoredText[]> {
  const ws = context.workspaceKey(workspace);
  if (ws === undefined) return;
  let remaining = options.limit ?? Number.POSITIVE_INFINITY;
  let after: Keyset | undefined;
  const order: ScanOrder = options.order === 'newest' ? 'desc' : 'asc';
  const columns = `${EVENT_COLUMNS}, e.occurred_ms, e.seq`;
  while (remaining > 0) {
    const size = Math.min(BATCH_SIZE, remaining);
    const rows = scanRows<StreamRow>(context, ws, filter, after, order, size, columns);
    const last = rows.at(-1);
    if (last === undefined) return;
    yield rows;
    remaining -= rows.length;
    if (rows.length < size) return;
    after = { ms: last.occurred_ms, seq: last.seq };
    // Let other requests run between batches: a huge export must not starve the server.
    await nextTurn();
  }
}

export function entityEvents(
  context: SqliteContext,
  workspace: string,
  type: string,
  id: string,
): StoredEvent[] {
  const ws = context.workspaceKey(workspace);
  if (ws === undefined) return [];
  const rows = context
    .statement(
      `SELECT ${EVENT_COLUMNS} FROM events e WHERE e.ws = ? AND e.eid IN
         (SELECT eid FROM event_targets WHERE ws = ? AND id = ? AND type = ? COLLATE BINARY)
       ORDER BY e.occurred_ms, e.seq`,
    )
    .all(ws, ws, id, type) as EventRow[];
  return rows.map(toStoredEvent);
}

export function getEvent(
  context: SqliteContext,
  workspace: string,
  id: string,
): StoredEvent | undefined {
  const ws = context.workspaceKey(workspace);
  if (ws === undefined) return undefined;
  const row = context
    .statement(`SELECT ${EVENT_COLUMNS} FROM events e WHERE e.ws = ? AND e.id = ?`)
    .get(ws, id) as EventRow | undefined;
  return row === undefined ? undefined : toStoredEvent(row);
}

export function readFacets(context: SqliteContext, workspace: string): Facets {
  const ws = context.workspaceKey(workspace);
  const values = (kind: FacetKind): FacetValue[] =>
    ws === undefined
      ? []
      : (context
          .statement(
            `SELECT value, n AS count FROM facet_counts WHERE ws = ? AND kind = ?
             ORDER BY n DESC, value LIMIT ${FACET_LIMIT}`,
          )
          .all(ws, kind) as FacetValue[]);
  return {
    actions: values('action'),
    categories: values('category'),
    actor_types: values('actor_type'),
    target_types: values('target_type'),
    outcomes: values('outcome'),
    actors: ws === undefined ? [] : actorFacets(context, ws),
  };
}

/** One entry per actor (type, id), named as in its most recently first-seen form. */
function actorFacets(context: SqliteContext, ws: number): ActorFacet[] {
  const rows = context
    .statement(
      `SELECT a.type, a.id, a.name, a.email, g.n AS count
       FROM (SELECT type, id, sum(event_count) AS n, max(akey) AS latest
             FROM actors WHERE ws = ? GROUP BY type, id) g
       JOIN actors a ON a.akey = g.latest
       WHERE g.n > 0
       ORDER BY g.n DESC, a.type, a.id LIMIT ${FACET_LIMIT}`,
    )
    .all(ws) as {
    type: string;
    id: string;
    name: string | null;
    email: string | null;
    count: number;
  }[];
  return rows.map(({ type, id, name, email, count }) => ({
    type,
    id,
    ...(name === null ? {} : { name }),
    ...(email === null ? {} : { email }),
    count,
  }));
}
