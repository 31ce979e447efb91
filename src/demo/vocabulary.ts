/**
 * What every demo vocabulary (one product's naming style, one workspace) provides, and the small
 * helpers they share to build events and evolve entity state.
 */
import type { Change, EventInput, Operation, Outcome, Target } from '../core/event.js';
import type { JsonObject } from '../core/json.js';
import { actorOf, contextOf, type CastMember } from './cast.js';
import type { Random } from './random.js';

export type FieldRule = 'track' | 'ignore' | 'secret';

/** One category of a workspace's catalog: actions matching any pattern (`*` globs) belong to it. */
export type CategoryRule = { id: string; label: string; patterns: string[] };

export type ResourceSchema = { fields: Record<string, FieldRule> };

/** Workspace settings as stored: the category catalog and the resource schemas. */
export type WorkspaceSettings = {
  categories: CategoryRule[];
  resources: Record<string, ResourceSchema>;
};

/** The parts of an event the generator decides: its id and when it happened. */
export interface Stamp {
  id: string;
  /** ISO 8601 UTC with milliseconds. */
  occurred_at: string;
  /** The same instant in milliseconds since the epoch. */
  at: number;
}

/** A running story in one workspace: each call returns the next event of it. */
export interface Script {
  next(stamp: Stamp): EventInput;
}

export interface Vocabulary {
  /** Workspace slug. */
  id: string;
  name: string;
  /** This workspace's fraction of all demo events. */
  share: number;
  /** Where the team works, for the working-hours curve. */
  utcOffsetHours: number;
  settings: WorkspaceSettings;
  /** Every action this vocabulary can emit, for documentation and tests. */
  actions: readonly string[];
  /** A fresh script; the same `rng` state always tells the same story. */
  script(rng: Random): Script;
}

export interface EventBody {
  targets?: Target[];
  outcome?: Outcome;
  operation?: Operation;
  before?: JsonObject;
  after?: JsonObject;
  changes?: Change[];
  metadata?: JsonObject;
  /** The client, when this action comes from another one than the member's usual (a CLI, say). */
  userAgent?: string;
  /** How often this action comes from the member's rare address (failed sign-ins: often). */
  rareIpRate?: number;
}

/** An event by `member` with a fresh context; absent body parts stay absent. */
export function makeEvent(
  rng: Random,
  stamp: Stamp,
  action: string,
  member: CastMember,
  body: EventBody,
): EventInput {
  const event: EventInput = {
    id: stamp.id,
    action,
    occurred_at: stamp.occurred_at,
    actor: actorOf(member),
  };
  if (body.targets !== undefined) event.targets = body.targets;
  if (body.outcome !== undefined) event.outcome = body.outcome;
  if (body.operation !== undefined) event.operation = body.operation;
  if (body.before !== undefined) event.before = body.before;
  if (body.after !== undefined) event.after = body.after;
  if (body.changes !== undefined) event.changes = body.changes;
  event.context = contextOf(rng, member, body.rareIpRate);
  if (body.userAgent !== undefined) event.context.user_agent = body.userAgent;
  if (body.metadata !== undefined) event.metadata = body.metadata;
  return event;
}

/** An entity whose state the log follows (a job, a customer, a dev workspace...). */
export interface Entity<S extends JsonObject> {
  id: string;
  state: S;
}

/**
 * Moves an entity to a new state and returns the before/after pair for the event. Each object
 * handed out belongs to one event only, so a consumer that edits an event cannot change another.
 */
export function evolve<S extends JsonObject>(
  entity: Entity<S>,
  patch: Partial<S>,
): { before: JsonObject; after: JsonObject } {
  const before = entity.state;
  const next = { ...before, ...patch };
  entity.state = next;
  return { before, after: { ...next } };
}

/**
 * Moves an entity to a new state like `evolve`, but reports only the fields that changed as
 * old/new pairs, the way senders that compute their own diff do. Fields named in `unsent` (such
 * as timestamps the schema ignores) change in the state without being reported.
 */
export function changed<S extends JsonObject>(
  entity: Entity<S>,
  patch: Partial<S>,
  unsent: readonly string[] = [],
): { changes: Change[] } {
  const before = entity.state;
  const next = { ...before, ...patch };
  entity.state = next;
  const changes: Change[] = [];
  for (const field of Object.keys(patch)) {
    if (unsent.includes(field)) continue;
    const old = before[field];
    const value = next[field];
    if (old === value || JSON.stringify(old) === JSON.stringify(value)) continue;
    const change: Change = { field };
    if (old !== undefined) change.old = old;
    if (value !== undefined) change.new = value;
    changes.push(change);
  }
  return { changes };
}

/** before/after of an entity that appears (after applying `patch`, if any): nothing before. */
export function created<S extends JsonObject>(
  entity: Entity<S>,
  patch?: Partial<S>,
): { before: JsonObject; after: JsonObject } {
  if (patch !== undefined) entity.state = { ...entity.state, ...patch };
  return { before: {}, after: { ...entity.state } };
}

/** before/after of an entity that goes away: nothing after. */
export function deleted(entity: Entity<JsonObject>): { before: JsonObject; after: JsonObject } {
  return { before: { ...entity.state }, after: {} };
}

/**
 * A bounded set of live entities, with O(1) random pick and removal, so long runs keep flat
 * memory however many events they produce.
 */
export class Pool<T> {
  private readonly items: T[] = [];

  constructor(readonly capacity: number) {}

  get size(): number {
    return this.items.length;
  }

  get full(): boolean {
    return this.items.length >= this.capacity;
  }

  add(item: T): void {
    this.items.push(item);
  }

  /** A random live item, or undefined when there is none. */
  pick(rng: Random): T | undefined {
    return this.items.length === 0 ? undefined : rng.pick(this.items);
  }

  /** A random live item matching `test`, trying a few times before giving up. */
  find(rng: Random, test: (item: T) => boolean): T | undefined {
    for (let tries = 0; tries < 8 && this.items.length > 0; tries++) {
      const item = rng.pick(this.items);
      if (test(item)) return item;
    }
    return undefined;
  }

  removeWhere(test: (item: T) => boolean): void {
    for (let i = this.items.length - 1; i >= 0; i--) {
      if (test(this.items[i] as T)) this.remove(this.items[i] as T);
    }
  }

  remove(item: T): void {
    const index = this.items.indexOf(item);
    if (index < 0) return;
    const last = this.items.pop() as T;
    if (index < this.items.length) this.items[index] = last;
  }
}

/**
 * Events that must follow the current one (an accepted invite, then the new member) wait here
 * and come out, in order, before the script chooses anything new.
 */
export class FollowUps {
  private readonly queue: ((stamp: Stamp) => EventInput)[] = [];

  push(next: (stamp: Stamp) => EventInput): void {
    this.queue.push(next);
  }

  take(stamp: Stamp): EventInput | undefined {
    const next = this.queue.shift();
    return next === undefined ? undefined : next(stamp);
  }
}

/** The index of a random item matching `test`, or -1; for short lists only (it scans). */
export function randomIndex<T>(
  rng: Random,
  items: readonly T[],
  test: (item: T) => boolean,
): number {
  const matching: number[] = [];
  items.forEach((item, i) => {
    if (test(item)) matching.push(i);
  });
  return matching.length === 0 ? -1 : rng.pick(matching);
}

export function target(type: string, id: string, name?: string): Target {
  return name === undefined ? { type, id } : { type, id, name };
}
