/** Turning event rows back into StoredEvents: the body is the truth, parsed as stored. */
import type { HashedBody } from '../../core/chain.js';
import type { StoredEvent } from '../../core/event.js';

/** The columns every event read selects, over `events e`. */
export const EVENT_COLUMNS = 'e.id, e.prev_hash, e.hash, e.body';

export interface EventRow {
  id: string;
  prev_hash: string;
  hash: string;
  body: string;
}

export function toStoredEvent(row: EventRow): StoredEvent {
  const body = JSON.parse(row.body) as HashedBody;
  return { ...body, prev_hash: row.prev_hash, hash: row.hash };
}
