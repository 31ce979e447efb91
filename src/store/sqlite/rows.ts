/** Turning stored rows back into events. */
import type { StoredText } from '../store.js';
import type { SqliteContext } from './context.js';

export { eventFromText as toStoredEvent } from '../stored-text.js';

/**
 * The columns every event read selects. Hashes are stored as 32-byte blobs and turned into hex
 * by SQLite: cheaper than a Buffer per blob in JavaScript.
 */
export const EVENT_COLUMNS =
  'e.body, lower(hex(e.prev_hash)) AS prev_hash, lower(hex(e.hash)) AS hash';

export type EventRow = StoredText;

export function readEventById(
  context: SqliteContext,
  ws: number,
  id: string,
): EventRow | undefined {
  return context
    .statement(`SELECT ${EVENT_COLUMNS} FROM events e WHERE e.ws = ? AND e.id = ?`)
    .get(ws, id) as EventRow | undefined;
}
