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

function setPath(state: JsonObject, path: readonly string[], value: JsonValue | undefined): void {
  const [head, ...rest] = path;
  if (head === undefined) return;
  if (rest.length === 0) {
    if (value === undefined) delete state[head];
    else state[head] = value;
    return;
  }
  let child = state[head];
  if (!isPlainObject(child)) {
    if (value === undefined) return;
    child = {};
    state[head] = child;
  }
  setPath(child, rest, value);
}

/** Applies one event's changes to a copy of `state` (dotted fields address nested objects). */
export function applyChanges(state: JsonObject, changes: readonly Change[]): JsonObject {
  const next = structuredClone(state);
  for (const change of changes) {
    const value = change.secret ? HIDDEN : change.new;
    setPath(next, change.field.split('.'), value);
  }
  return next;
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
    state: {},
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
