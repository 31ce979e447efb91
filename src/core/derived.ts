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
import type { Actor } from './event.js';

export type DerivedValue = string | number | null;

/** One stored (or expected) derived row, in the engine's own column names and types. */
export interface DerivedRow {
  table: string;
  /** Names the row for a person: `seq 12 pos 0`, `akey 3`, `action "login"`. */
  key: string;
  columns: Readonly<Record<string, DerivedValue>>;
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
 * The facet values one event counts towards. A target type counts once per event however many
 * targets of that type it names.
 */
export function facetValues(event: HashedBody): [FacetKind, string][] {
  const values: [FacetKind, string][] = [
    ['action', event.action],
    ['category', event.category],
    ['actor_type', event.actor.type],
    ['outcome', event.outcome],
  ];
  for (const type of new Set(event.targets.map((t) => t.type))) values.push(['target_type', type]);
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

export function targetIndex(event: HashedBody): TargetIndex[] {
  return event.targets.map((target, pos) => ({
    pos,
    type: target.type,
    id: target.id,
    type_lc: target.type.toLowerCase(),
    name_lc: target.name === undefined ? null : target.name.toLowerCase(),
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
 * of `expected`: an engine reports exactly the columns its model derives.
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
