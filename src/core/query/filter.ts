/**
 * The normalized filter: the one meaning of a query that stores compile to SQL, the evaluator
 * applies in memory and cursors carry. Produced by `normalize(parse(text))`; printing it and
 * parsing the result gives an equal Filter.
 *
 * Semantics: clauses are ANDed; the values of one clause are ORed; a negated clause matches
 * when none of its values match. Values are already normalized (see ClauseKey docs), sorted and
 * free of duplicates, so two equal questions give deep-equal Filters.
 */
export type ClauseKey =
  /** exact action (lower-cased) or a glob with `*`; case-insensitive */
  | 'action'
  /** category id, lower-cased */
  | 'category'
  /** lower-cased substring of actor id, name or email */
  | 'actor'
  /** one of ACTOR_TYPES */
  | 'actor_type'
  /** actor name, exact, lower-cased */
  | 'username'
  /** actor email, exact, lower-cased */
  | 'email'
  /** target kind, lower-cased; matches any target */
  | 'target_type'
  /** target id, exact (case kept); matches any target */
  | 'target_id'
  /** target name, exact, lower-cased; matches any target */
  | 'target'
  /** CIDR in canonical form (`203.0.113.7/32`, `10.0.0.0/8`, `2001:db8::/32`) */
  | 'ip'
  /** success | failure */
  | 'outcome'
  /** create | read | update | delete | other */
  | 'operation'
  /** event id, exact (case kept) */
  | 'id'
  /** context.request_id, exact (case kept) */
  | 'request_id'
  /** values is ['true']: actor type is system or automation (`is:system`) */
  | 'system'
  /** metadata value for `metaKey`, compared as text, exact */
  | 'meta'
  /** lower-cased substring of action, actor name, email or id, or any target name */
  | 'text';

export interface Clause {
  readonly key: ClauseKey;
  /** Only for key 'meta': the metadata key (case kept). */
  readonly metaKey?: string;
  readonly negated: boolean;
  readonly values: readonly string[];
}

export interface Filter {
  /** Inclusive lower bound on occurred_at, ISO UTC with milliseconds. */
  readonly since?: string;
  /** Exclusive upper bound on occurred_at, ISO UTC with milliseconds. */
  readonly until?: string;
  readonly clauses: readonly Clause[];
}

export const MATCH_ALL: Filter = Object.freeze({ clauses: Object.freeze([]) });

/** A place in the newest-first order `(occurred_at DESC, seq DESC)`. */
export interface Position {
  readonly occurred_at: string;
  readonly seq: number;
}
