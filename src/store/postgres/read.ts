/**
 * The read path: pages, bounded counts, streams, entity history, the verification scan and
 * facets. Pages and streams are keyset queries on `(occurred_at, seq)` (never OFFSET), so a deep
 * page costs what the first one does. Streams and scans fetch bounded batches one after the
 * other rather than holding a server-side cursor open: memory stays flat, and a slow consumer
 * (an export to a slow client) never pins a pooled connection or an open transaction.
 */
import { EMPTY_HEAD, type ChainHead, type StoredEvent } from '../../core/event.js';
import type { Filter } from '../../core/query/filter.js';
import type { Facets, FacetValue, PageRequest, StoredText } from '../store.js';
import { compileFilter, resolveActors, type ResolvedActors } from './compile-filter.js';
import { Params, type Queryable } from './driver.js';
import { EVENT_COLUMNS, toStoredEvent, type EventRow } from './rows.js';

/** Rows per round trip of `stream`. */
const BATCH = 500;

/** At most this many values per facet (actors: the interface's promise). */
const FACET_LIMIT = 1000;

interface SelectRequest {
  limit: number;
  /** Strictly beyond this place in the direction of travel. */
  after?: { occurred_at: string; seq: number };
  /** true = oldest first; false = newest first. */
  ascending: boolean;
}

/** A stored event with the keyset columns a stream resumes from. */
interface StreamRow extends EventRow {
  /** occurred_at as PostgreSQL's own text, which casts back to the same instant. */
  at: string;
  seq: string;
}

/** `actors`: what resolveActors found for `filter` (looked up once per page or stream). */
async function selectRows<Row extends object>(
  db: Queryable,
  workspace: string,
  filter: Filter,
  actors: ResolvedActors | undefined,
  request: SelectRequest,
  columns: string,
): Promise<Row[]> {
  const params = new Params();
  const ws = params.add(workspace);
  const conditions = [
    `e.workspace = ${ws}`,
    compileFilter(filter, { params, ws, ...(actors ? { actors } : {}) }),
  ];
  if (request.after !== undefined) {
    const at = params.add(request.after.occurred_at);
    const seq = params.add(request.after.seq);
    const op = request.ascending ? '>' : '<';
    conditions.push(`(e.occurred_at, e.seq) ${op} (${at}::timestamptz, ${seq}::bigint)`);
  }
  const order = request.ascending ? 'ASC' : 'DESC';
  const limit = params.add(Math.max(0, Math.floor(request.limit)));
  const result = await db.query<Row>(
    `SELECT ${columns} FROM events e WHERE ${conditions.join(' AND ')}
      ORDER BY e.occurred_at ${order}, e.seq ${order} LIMIT ${limit}`,
    params.values,
  );
  return result.rows;
}

async function selectEvents(
  db: Queryable,
  workspace: string,
  filter: Filter,
  request: SelectRequest,
): Promise<StoredEvent[]> {
  const actors = await resolveActors(db, workspace, filter);
  const rows = await selectRows<EventRow>(db, workspace, filter, actors, request, EVENT_COLUMNS);
  return rows.map(toStoredEvent);
}

export async function page(
  db: Queryable,
  workspace: string,
  filter: Filter,
  request: PageRequest,
): Promise<StoredEvent[]> {
  // 'newer' walks towards the present from the position: fetch the nearest ones oldest first,
  // then hand them back newest first like every page. Without a position both directions
  // start at the newest event.
  const ascending = request.direction === 'newer' && request.position !== undefined;
  const events = await selectEvents(db, workspace, filter, {
    limit: request.limit,
    ascending,
    ...(request.position ? { after: request.position } : {}),
  });
  return ascending ? events.reverse() : events;
}

export async function count(
  db: Queryable,
  workspace: string,
  filter: Filter,
  cap: number,
): Promise<number> {
  const params = new Params();
  const ws = params.add(workspace);
  const actors = await resolveActors(db, workspace, filter);
  const where = compileFilter(filter, { params, ws, ...(actors ? { actors } : {}) });
  const limit = params.add(Math.max(0, Math.floor(cap)));
  const result = await db.query<{ n: string }>(
    `SELECT count(*) AS n FROM (
       SELECT 1 FROM events e WHERE e.workspace = ${ws} AND ${where} LIMIT ${limit}) capped`,
    params.values,
  );
  return Number(result.rows[0]?.n ?? 0);
}

export async function* streamText(
  db: Queryable,
  workspace: string,
  filter: Filter,
  options: { order: 'newest' | 'oldest'; limit?: number },
): AsyncGenerator<readonly StoredText[]> {
  let remaining = options.limit ?? Number.POSITIVE_INFINITY;
  let after: SelectRequest['after'];
  const columns = `${EVENT_COLUMNS}, e.occurred_at::text AS at, e.seq`;
  // Once for the whole stream, not per batch: the stream answers the question as first asked.
  const actors = await resolveActors(db, workspace, filter);
  while (remaining > 0) {
    const size = Math.min(BATCH, remaining);
    const batch = await selectRows<StreamRow>(
      db,
      workspace,
      filter,
      actors,
      { limit: size, ascending: options.order === 'oldest', ...(after ? { after } : {}) },
      columns,
    );
    const last = batch.at(-1);
    if (last === undefined) return;
    yield batch;
    if (batch.length < size) return;
    remaining -= batch.length;
    after = { occurred_at: last.at, seq: Number(last.seq) };
  }
}

export async function getEvent(
  db: Queryable,
  workspace: string,
  id: string,
): Promise<StoredEvent | undefined> {
  const result = await db.query<EventRow>(
    `SELECT ${EVENT_COLUMNS} FROM event_ids i
       JOIN events e ON e.workspace = i.workspace AND e.occurred_at = i.occurred_at
                    AND e.seq = i.seq
      WHERE i.workspace = $1 AND i.id = $2`,
    [workspace, id],
  );
  const row = result.rows[0];
  return row === undefined ? undefined : toStoredEvent(row);
}

export async function entityEvents(
  db: Queryable,
  workspace: string,
  type: string,
  id: string,
): Promise<StoredEvent[]> {
  const result = await db.query<EventRow>(
    `SELECT ${EVENT_COLUMNS} FROM events e
      WHERE e.workspace = $1 AND (e.occurred_at, e.seq) IN (
        SELECT t.occurred_at, t.seq FROM event_targets t
         WHERE t.workspace = $1 AND t.type = $2 AND t.id = $3)
      ORDER BY e.occurred_at, e.seq`,
    [workspace, type, id],
  );
  return result.rows.map(toStoredEvent);
}

export async function head(db: Queryable, workspace: string): Promise<ChainHead> {
  const result = await db.query<{ seq: string; hash: string }>(
    'SELECT seq, hash FROM workspace_heads WHERE workspace = $1',
    [workspace],
  );
  const row = result.rows[0];
  return row === undefined ? EMPTY_HEAD : { seq: Number(row.seq), hash: row.hash };
}

const FACET_FIELDS = {
  action: 'actions',
  category: 'categories',
  actor_type: 'actor_types',
  target_type: 'target_types',
  outcome: 'outcomes',
} as const satisfies Record<string, keyof Omit<Facets, 'actors'>>;

export async function facets(db: Queryable, workspace: string): Promise<Facets> {
  const result: Facets = {
    actions: [],
    categories: [],
    actor_types: [],
    target_types: [],
    outcomes: [],
    actors: [],
  };
  const counts = await db.query<{ kind: string; value: string; events: string }>(
    `SELECT kind, value, events FROM (
       SELECT kind, value, events,
              row_number() OVER (PARTITION BY kind ORDER BY events DESC, value COLLATE "C") AS place
         FROM facet_counts WHERE workspace = $1) ranked
      WHERE place <= $2
      ORDER BY kind, place`,
    [workspace, FACET_LIMIT],
  );
  for (const row of counts.rows) {
    const field = FACET_FIELDS[row.kind as keyof typeof FACET_FIELDS] as
      keyof Omit<Facets, 'actors'> | undefined;
    if (field === undefined) continue;
    const entry: FacetValue = { value: row.value, count: Number(row.events) };
    result[field].push(entry);
  }
  // An actor seen under several names or emails is named as in its most recently first-seen form.
  const actors = await db.query<{
    actor_type: string;
    actor_id: string;
    events: string;
    actor_name: string;
    actor_email: string;
  }>(
    `SELECT actor_type, actor_id, sum(events) AS events,
            (array_agg(actor_name ORDER BY first_seq DESC))[1] AS actor_name,
            (array_agg(actor_email ORDER BY first_seq DESC))[1] AS actor_email
       FROM actors WHERE workspace = $1
      GROUP BY actor_type, actor_id
     HAVING sum(events) > 0
      ORDER BY sum(events) DESC, actor_type COLLATE "C", actor_id COLLATE "C"
      LIMIT $2`,
    [workspace, FACET_LIMIT],
  );
  result.actors = actors.rows.map((row) => ({
    type: row.actor_type,
    id: row.actor_id,
    ...(row.actor_name ? { name: row.actor_name } : {}),
    ...(row.actor_email ? { email: row.actor_email } : {}),
    count: Number(row.events),
  }));
  return result;
}
