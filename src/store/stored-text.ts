/** Stored text back to events, the same way for every engine. */
import type { HashedBody } from '../core/chain.js';
import type { StoredEvent, StoredText } from '../core/event.js';
import type { Filter } from '../core/query/filter.js';
import type { Store } from './store.js';

/** The body is the truth: parsed as stored, with the chain hashes beside it. */
export function eventFromText(row: StoredText): StoredEvent {
  // Completed in place rather than spread into a copy: this runs once per row read.
  const event = JSON.parse(row.body) as HashedBody & Partial<StoredEvent>;
  event.prev_hash = row.prev_hash;
  event.hash = row.hash;
  return event as StoredEvent;
}

/**
 * Every matching event in order (see Store.streamText), one at a time, each parsed only when
 * the consumer asks for it: a batch of row texts is far smaller than a batch of event objects,
 * which keeps a long stream's live heap small.
 */
export async function* streamEvents(
  store: Pick<Store, 'streamText'>,
  workspace: string,
  filter: Filter,
  options: { order: 'newest' | 'oldest'; limit?: number },
): AsyncGenerator<StoredEvent> {
  for await (const batch of store.streamText(workspace, filter, options)) {
    for (const row of batch) yield eventFromText(row);
  }
}
