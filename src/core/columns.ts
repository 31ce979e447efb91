/**
 * The denormalized copies of event fields that stores index. Both adapters write exactly these
 * values (in their own column types) and hand them back in ChainRow.columns in this form, so
 * verify can prove that what the indexes see is what the hashed body says.
 */
import type { StoredEvent } from './event.js';
import { ipKey } from './ip.js';
import { ownValue } from './safe-keys.js';

export interface IndexedColumns {
  id: string;
  seq: number;
  /** ISO UTC with milliseconds, as in the body. */
  occurred_at: string;
  action: string;
  category: string;
  outcome: string;
  operation: string;
  actor_type: string;
  actor_id: string;
  actor_name: string | null;
  actor_email: string | null;
  /** `ipKey(context.ip)`, or null. */
  ip_key: string | null;
  /** JSON text of [[type, id], ...] in target order: the rows of the targets index. */
  targets: string;
  [column: string]: string | number | null;
}

export function indexedColumns(event: Omit<StoredEvent, 'prev_hash' | 'hash'>): IndexedColumns {
  const ip = ownValue(event.context, 'ip');
  return {
    id: event.id,
    seq: event.seq,
    occurred_at: event.occurred_at,
    action: event.action,
    category: event.category,
    outcome: event.outcome,
    operation: event.operation,
    actor_type: event.actor.type,
    actor_id: event.actor.id,
    // Own members only, as in src/core/draft.ts: an absent field is absent, whatever a
    // polluted prototype would lend it.
    actor_name: ownValue(event.actor, 'name') ?? null,
    actor_email: ownValue(event.actor, 'email') ?? null,
    ip_key: ip === undefined ? null : ipKey(ip),
    targets: JSON.stringify(event.targets.map((t) => [t.type, t.id])),
  };
}
