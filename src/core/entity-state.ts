/**
 * Rebuilding the state of one entity (a job, a customer, a user) from the events that touched
 * it. Pure: the service feeds events oldest first and keeps one EntityState per entity.
 *
 * Only an event whose primary target is the entity carries changes about it; other events that
 * name it among their targets still count as touching it (they appear in its history). An
 * entity is deleted when the latest create, update or delete of it was a delete.
 */
import type { Actor, Change, StoredEvent } from './event.js';
import type { JsonObject, JsonValue } from './json.js';
import { bareCopy, emptyRecord, ownValue } from './safe-keys.js';

/** What a secret field shows in a rebuilt state: that it has a value, never the value. */
export const HIDDEN = '[hidden]';

export interface EntityState {
  type: string;
  id: string;
  name?: string;
  state: JsonObject;
  created_at?: string;
  created_by?: Actor;
  updated_at: string;
  updated_by: Actor;
  deleted: boolean;
  deleted_at?: string;
  /** Events that touched the entity so far. */
  events: number;
  last_seq: number;
}

function isPlainObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Field paths come from stored events, so they are user data: `__proto__.email` or
 * `constructor.prototype.x` would otherwise walk from the state into Object.prototype and
 * write there, for every workspace of the process. Validation refuses such paths now, but
 * events stored before it did are still replayed. So every object of a state is prototype-less
 * (a reserved name is an ordinary own member of it) and every step reads own members only.
 */
class StateWriter {
  /** Objects created by this writer, which it may change; anything else is copied first. */
  private readonly fresh = new Set<JsonObject>();
  readonly root: JsonObject;

  constructor(state: JsonObject) {
    this.root = this.writable(state);
  }

  /** A prototype-less shallow copy, so that earlier states and event values stay as they are. */
  private writable(node: JsonObject): JsonObject {
    if (this.fresh.has(node)) return node;
    const copy = bareCopy(node);
    this.fresh.add(copy);
    return copy;
  }

  private created(): JsonObject {
    const node = emptyRecord<JsonValue>();
    this.fresh.add(node);
    return node;
  }

  set(path: readonly string[], value: JsonValue | undefined): void {
    let node = this.root;
    for (let i = 0; i < path.length - 1; i += 1) {
      const key = path[i]!;
      const child = ownValue(node, key);
      if (!isPlainObject(child) && value === undefined) return;
      const next = isPlainObject(child) ? this.writable(child) : this.created();
      node[key] = next;
      node = next;
    }
    const last = path[path.length - 1];
    if (last === undefined) return;
    if (value === undefined) delete node[last];
    else node[last] = value;
  }
}

/** Applies one event's changes to a copy of `state` (dotted fields address nested objects). */
export function applyChanges(state: JsonObject, changes: readonly Change[]): JsonObject {
  const writer = new StateWriter(state);
  for (const change of changes) {
    const value = ownValue(change, 'secret') === true ? HIDDEN : ownValue(change, 'new');
    writer.set(change.field.split('.'), value);
  }
  return writer.root;
}

/** The entity's state after `event`; `previous` is its state before (undefined: first event). */
export function applyEvent(
  previous: EntityState | undefined,
  event: StoredEvent,
  entity: { type: string; id: string },
): EntityState {
  const primary = event.targets[0];
  const isPrimary =
    primary !== undefined && primary.type === entity.type && primary.id === entity.id;
  const named = event.targets.find((t) => t.type === entity.type && t.id === entity.id);
  const base: EntityState = previous ?? {
    type: entity.type,
    id: entity.id,
    state: emptyRecord(),
    updated_at: event.occurred_at,
    updated_by: event.actor,
    deleted: false,
    events: 0,
    last_seq: event.seq,
  };
  const next: EntityState = {
    ...base,
    state: isPrimary ? applyChanges(base.state, event.changes) : base.state,
    updated_at: event.occurred_at,
    updated_by: event.actor,
    events: base.events + 1,
    last_seq: event.seq,
  };
  if (named?.name !== undefined) next.name = named.name;
  if (isPrimary && event.operation === 'create') {
    next.created_at ??= event.occurred_at;
    next.created_by ??= event.actor;
  }
  if (isPrimary && (event.operation === 'create' || event.operation === 'update')) {
    // Changed after a delete: the entity exists again (restored or re-created).
    next.deleted = false;
    delete next.deleted_at;
  }
  if (previous === undefined && next.created_at === undefined) {
    // History that starts before the log did: the first sighting is the best "created" we know.
    next.created_at = event.occurred_at;
    next.created_by = event.actor;
  }
  if (isPrimary && event.operation === 'delete') {
    next.deleted = true;
    next.deleted_at = event.occurred_at;
  }
  return next;
}
