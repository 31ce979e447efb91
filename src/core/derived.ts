/**
 * Derived rows: what an engine keeps beside each hashed body so that queries are index lookups
 * (target rows, actor rows, id lookups, facet counters). None of it is hashed, so all of it must
 * either be proven equal to what the bodies imply or never be read; docs/integrity.md lists
 * every table and column and which of the two it is.
 *
 * The derivations shared by both engines live here. Each engine describes its own tables with a
 * DerivedModel built from them, and its write path, `reindex` and verify all go through that
 * model, so the rows verify expects are by construction the rows an append writes.
 */
import type { HashedBody } from './chain.js';
import type { Actor, Target } from './event.js';

export type DerivedValue = string | number | null;

/** One stored (or expected) derived row, in the engine's own column names and types. */
export interface DerivedRow {
  table: string;
  /** Names the row for a person: `seq 12 pos 0`, `akey 3`, `action "login"`. */
  key: string;
  columns: Readonly<Record<string, DerivedValue>>;
}

/**
 * A row kept for one event, named by the event's seq (or, for a row as stored, by what the
 * engine keys it with) and its position. The name is spelled out only when a message needs it:
 * verify builds two of these for every target of every event.
 */
export class EventRowOf implements DerivedRow {
  constructor(
    readonly table: string,
    readonly columns: Readonly<Record<string, DerivedValue>>,
    private readonly by: 'seq' | 'eid',
    private readonly n: number | string,
    private readonly pos?: number,
  ) {}

  get key(): string {
    return this.pos === undefined ? `${this.by} ${this.n}` : `${this.by} ${this.n} pos ${this.pos}`;
  }
}

/**
 * A difference an engine judged itself, where the stored form is not a plain value verify can
 * compare (PostgreSQL's jsonb metadata, SQLite's full-text index).
 */
export interface DerivedMismatch {
  table: string;
  key: string;
  column: string;
  /** The event it concerns; 0 when none does. */
  seq: number;
  expected: DerivedValue;
  found: DerivedValue;
}

/** How many events were filed under one actors row, and the first of them. */
export interface ActorTally {
  events: number;
  firstSeq: number;
}

/** The rows an engine derives from hashed events; see the file comment. */
export interface DerivedModel {
  /** The rows kept for one event beside its events row, in the order the engine's scan reports them. */
  eventRows(event: HashedBody): DerivedRow[];
  /** The actors row `key` must hold, given the first event filed under it and the tally. */
  actorRow(key: string, first: HashedBody, tally: ActorTally): DerivedRow;
  /** The facet counter of one value. */
  facetRow(kind: FacetKind, value: string, events: number): DerivedRow;
}

export type FacetKind = 'action' | 'category' | 'actor_type' | 'target_type' | 'outcome';

/** Names a facet counter for a person, and keys it: `action "login"`. */
export const facetKey = (kind: string, value: string): string => `${kind} ${JSON.stringify(value)}`;

/**
 * Calls `count` for each facet value one event counts towards. A target type counts once per
 * event however many targets of that type it names. A callback, not a list: verify runs it for
 * every event of a log.
 */
export function forEachFacet(
  event: HashedBody,
  count: (kind: FacetKind, value: string, event: HashedBody) => void,
): void {
  count('action', event.action, event);
  count('category', event.category, event);
  count('actor_type', event.actor.type, event);
  count('outcome', event.outcome, event);
  const { targets } = event;
  if (targets.length === 1) count('target_type', targets[0]!.type, event);
  else if (targets.length > 1) {
    for (const type of new Set(targets.map((t) => t.type))) count('target_type', type, event);
  }
}

/** The facet values one event counts towards, as a list (see forEachFacet). */
export function facetValues(event: HashedBody): [FacetKind, string][] {
  const values: [FacetKind, string][] = [];
  forEachFacet(event, (kind, value) => values.push([kind, value]));
  return values;
}

/**
 * One target as the target indexes hold it. Lower-cased copies are made in JavaScript (full
 * Unicode), exactly as the query evaluator folds case.
 */
export interface TargetIndex {
  pos: number;
  type: string;
  id: string;
  type_lc: string;
  name_lc: string | null;
}

export const targetNameLc = (target: Target): string | null =>
  target.name === undefined ? null : target.name.toLowerCase();

export function targetIndex(event: HashedBody): TargetIndex[] {
  return event.targets.map((target, pos) => ({
    pos,
    type: target.type,
    id: target.id,
    type_lc: target.type.toLowerCase(),
    name_lc: targetNameLc(target),
  }));
}

/** An actor as the actors tables hold it; null where the event has no name or email. */
export interface ActorIndex {
  type: string;
  id: string;
  name: string | null;
  email: string | null;
  id_lc: string;
  name_lc: string | null;
  email_lc: string | null;
}

export function actorIndex(actor: Actor): ActorIndex {
  const name = actor.name ?? null;
  const email = actor.email ?? null;
  return {
    type: actor.type,
    id: actor.id,
    name,
    email,
    id_lc: actor.id.toLowerCase(),
    name_lc: name?.toLowerCase() ?? null,
    email_lc: email?.toLowerCase() ?? null,
  };
}

/** Whether two events name the same actor in the same form (the unit of an actors row). */
export function sameActor(a: Actor, b: Actor): boolean {
  return a.type === b.type && a.id === b.id && a.name === b.name && a.email === b.email;
}

/**
 * The first column in which `stored` differs from `expected`, or undefined. Columns are those
 * of `expected`: a stored row may carry more (SQLite's target rows keep their eid), never fewer.
 */
export function firstDifference(
  expected: DerivedRow,
  stored: DerivedRow,
): { column: string; expected: DerivedValue; found: DerivedValue } | undefined {
  for (const column of Object.keys(expected.columns)) {
    const want = expected.columns[column] ?? null;
    const found = Object.hasOwn(stored.columns, column) ? (stored.columns[column] ?? null) : null;
    if (want !== found) return { column, expected: want, found };
  }
  return undefined;
}
