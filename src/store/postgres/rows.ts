/** Turning event rows back into StoredEvents: the body is the truth, parsed as stored. */
import type { StoredText } from '../store.js';

export { eventFromText as toStoredEvent } from '../stored-text.js';

/** The columns every event read selects, over `events e`. */
export const EVENT_COLUMNS = 'e.id, e.prev_hash, e.hash, e.body';

export interface EventRow extends StoredText {
  id: string;
}
