/**
 * The parsed form of a query: a flat list of frozen terms, each tagged with its `kind`. It keeps
 * the question as written (aliases resolved, nothing merged or validated beyond syntax);
 * `normalizeQuery` turns it into the Filter that stores compile.
 */
import type { QueryKey } from './keys.js';

/** `key:value`, `-key:value`, `meta.KEY:value`. */
export interface FieldTerm {
  readonly kind: 'field';
  /** Canonical key, aliases resolved. */
  readonly key: QueryKey;
  /** Only when key is 'meta': the metadata key, case kept. */
  readonly metaKey?: string;
  readonly value: string;
  readonly negated: boolean;
  /** 0-based offset of the term (its `-` when negated) in the text, in UTF-16 code units. */
  readonly position: number;
}

/** A bare (or quoted) word: searches action, actor and target names. */
export interface WordTerm {
  readonly kind: 'word';
  readonly value: string;
  readonly negated: boolean;
  readonly position: number;
}

export type QueryTerm = FieldTerm | WordTerm;
export type TermKind = QueryTerm['kind'];

export interface QueryAst {
  readonly terms: readonly QueryTerm[];
}

export interface FieldTermOptions {
  readonly metaKey?: string;
  readonly negated?: boolean;
  readonly position?: number;
}

export function fieldTerm(key: QueryKey, value: string, options: FieldTermOptions = {}): FieldTerm {
  const base = {
    kind: 'field' as const,
    key,
    value,
    negated: options.negated ?? false,
    position: options.position ?? 0,
  };
  return Object.freeze(
    options.metaKey === undefined ? base : { ...base, metaKey: options.metaKey },
  );
}

export function wordTerm(
  value: string,
  options: { readonly negated?: boolean; readonly position?: number } = {},
): WordTerm {
  return Object.freeze({
    kind: 'word' as const,
    value,
    negated: options.negated ?? false,
    position: options.position ?? 0,
  });
}

export function queryAst(terms: readonly QueryTerm[]): QueryAst {
  return Object.freeze({ terms: Object.freeze([...terms]) });
}
