/** Turning stored rows back into events. */
import type { HashedBody } from '../../core/chain.js';
import type { StoredEvent } from '../../core/event.js';
import type { SqliteContext } from './context.js';

/** The columns every event read selects. */
export const EVENT_COLUMNS = 'e.body, e.prev_hash, e.hash';

export interface EventRow {
  body: string;
  prev_hash: Buffer;
  hash: Buffer;
}

export function toStoredEvent(row: EventRow): StoredEvent {
  const body = JSON.parse(row.body) as HashedBody;
  return { ...body, prev_hash: row.prev_hash.toString('hex'), hash: row.hash.toString('hex') };
}

export function readEventById(
  context: SqliteContext,
  ws: number,
  id: string,
): EventRow | undefined {
  return context
    .statement(`SELECT ${EVENT_COLUMNS} FROM events e WHERE e.ws = ? AND e.id = ?`)
    .get(ws, id) as EventRow | undefined;
}
