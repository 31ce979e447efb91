/**
 * AST -> Filter: checks every value, normalizes it (see values.ts and time.ts), ORs the values of
 * terms with the same key and sign, and sorts everything so that equal questions give
 * deep-equal Filters (and equal cursor text).
 */
import type { QueryAst, QueryTerm } from './ast.js';
import type { Clause, ClauseKey, Filter } from './filter.js';
import { lexTerm } from './lexer.js';
import { parseQuery } from './parse.js';
import { printTerm } from './print.js';
import {
  atPosition,
  isRejection,
  queryError,
  type ProblemLocation,
  type Rejection,
} from './query-error.js';
import { parseTimeBound, type TimeBound } from './time.js';
import {
  allowsEmptyValue,
  CLAUSE_KEY_OF,
  MAX_VALUE_LENGTH,
  unsearchableCharacter,
  VALUE_RULES,
} from './values.js';
import { TrailkeepError } from '../errors.js';

export type LocateTerm = (term: QueryTerm) => ProblemLocation;

interface ClauseDraft {
  readonly key: ClauseKey;
  readonly metaKey: string | undefined;
  readonly negated: boolean;
  readonly values: Set<string>;
}

interface BoundDraft {
  readonly iso: string;
  readonly value: string;
  readonly term: QueryTerm;
}

/**
 * Validates and normalizes a parsed query. Pass the text it was parsed from as `source` so
 * errors quote terms as the user typed them (aliases and all); without it they quote the
 * canonical spelling.
 */
export function normalizeQuery(ast: QueryAst, source?: string): Filter {
  const locate: LocateTerm = (term) => {
    const typed = source === undefined ? undefined : typedTerm(source, term.position);
    return atPosition(term.position, typed ?? printTerm(term));
  };
  return normalizeTerms(ast.terms, locate);
}

function typedTerm(source: string, position: number): string | undefined {
  try {
    return lexTerm(source, position).text;
  } catch {
    return undefined;
  }
}

/** `normalizeQuery(parseQuery(text))`, with errors quoting the typed terms. */
export function parseFilter(text: string): Filter {
  return normalizeQuery(parseQuery(text), text);
}

function checkLength(value: string, location: ProblemLocation): void {
  if (value.length > MAX_VALUE_LENGTH) {
    throw queryError(
      `Value too long (${value.length} characters)`,
      location,
      `at most ${MAX_VALUE_LENGTH} characters`,
    );
  }
}

/** Shared by query text and HTTP parameters; `locate` says where each term came from. */
export function normalizeTerms(terms: readonly QueryTerm[], locate: LocateTerm): Filter {
  const clauses = new Map<string, ClauseDraft>();
  const bounds: Partial<Record<TimeBound, BoundDraft>> = {};

  const add = (key: ClauseKey, metaKey: string | undefined, negated: boolean, value: string) => {
    const id = JSON.stringify([key, metaKey ?? null, negated]);
    let draft = clauses.get(id);
    if (draft === undefined) {
      draft = { key, metaKey, negated, values: new Set() };
      clauses.set(id, draft);
    }
    draft.values.add(value);
  };

  for (const term of terms) {
    const fail = (rejection: Rejection): never => {
      throw queryError(rejection.problem, locate(term), rejection.hint);
    };
    checkLength(term.value, locate(term));
    // Query text was checked by the lexer; HTTP parameters and built trees arrive here unchecked.
    const bad = unsearchableCharacter(term.value);
    if (bad !== undefined) fail(bad.rejection);
    if (term.kind === 'word') {
      if (term.value === '') fail({ problem: 'Empty search word' });
      add('text', undefined, term.negated, term.value.toLowerCase());
      continue;
    }
    if (term.key === 'since' || term.key === 'until') {
      bounds[term.key] = timeBound(term, term.key, bounds[term.key], fail);
      continue;
    }
    if (term.value === '' && !allowsEmptyValue(term.key)) {
      fail({ problem: `Empty value for ${JSON.stringify(term.key)}` });
    }
    if (term.key === 'meta' && term.metaKey === undefined) {
      fail({ problem: 'Missing metadata key', hint: 'write meta.KEY:value' });
    }
    const normalized = VALUE_RULES[term.key](term.value);
    if (isRejection(normalized)) return fail(normalized);
    add(CLAUSE_KEY_OF[term.key], term.metaKey, term.negated, normalized);
  }

  const { since, until } = bounds;
  if (since !== undefined && until !== undefined && since.iso >= until.iso) {
    const later = since.term.position > until.term.position ? since.term : until.term;
    throw queryError(
      `Empty time range: since ${since.value} is after until ${until.value}`,
      locate(later),
      'since must come before until',
    );
  }
  return buildFilter(
    since?.iso,
    until?.iso,
    [...clauses.values()].map((draft) => ({
      key: draft.key,
      ...(draft.metaKey === undefined ? {} : { metaKey: draft.metaKey }),
      negated: draft.negated,
      values: [...draft.values],
    })),
  );
}

function timeBound(
  term: QueryTerm,
  bound: TimeBound,
  previous: BoundDraft | undefined,
  fail: (rejection: Rejection) => never,
): BoundDraft {
  if (term.negated) {
    return fail({
      problem: `"${bound}" cannot be negated`,
      hint:
        bound === 'since'
          ? 'to ask for earlier events use until:'
          : 'to ask for later events use since:',
    });
  }
  if (previous !== undefined) {
    return fail({
      problem: `"${bound}" is given twice`,
      hint: `a time range has one ${bound === 'since' ? 'start' : 'end'}`,
    });
  }
  const iso = parseTimeBound(term.value, bound);
  if (isRejection(iso)) return fail(iso);
  return { iso, value: term.value, term };
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Canonical clause order: key, then metadata key, then plain before negated. */
export function compareClauses(a: Clause, b: Clause): number {
  return (
    compareText(a.key, b.key) ||
    compareText(a.metaKey ?? '', b.metaKey ?? '') ||
    Number(a.negated) - Number(b.negated)
  );
}

/** Sorts values and clauses, and freezes the result. */
function buildFilter(
  since: string | undefined,
  until: string | undefined,
  clauses: readonly Clause[],
): Filter {
  const sorted = clauses
    .map((clause) =>
      Object.freeze({
        ...clause,
        values: Object.freeze([...new Set(clause.values)].sort(compareText)),
      }),
    )
    .sort(compareClauses);
  return Object.freeze({
    ...(since === undefined ? {} : { since }),
    ...(until === undefined ? {} : { until }),
    clauses: Object.freeze(sorted),
  });
}

function clauseId(clause: Clause): string {
  return JSON.stringify([clause.key, clause.metaKey ?? null, clause.negated]);
}

function describeClause(clause: Clause): string {
  return clause.key === 'meta' ? `meta.${clause.metaKey ?? ''}` : clause.key;
}

/**
 * Both questions at once (AND), e.g. the `q` text and plain HTTP parameters. Negated clauses of
 * one key merge (none of either set). Two plain clauses of one key cannot be written as one
 * query (a key's values are ORed), so they combine only when one set contains the other (the
 * smaller one then implies the larger); otherwise this is an error rather than a wider answer.
 */
export function combineFilters(a: Filter, b: Filter): Filter {
  for (const bound of ['since', 'until'] as const) {
    if (a[bound] !== undefined && b[bound] !== undefined) {
      throw new TrailkeepError(
        'query_invalid',
        `"${bound}" is given twice (once in each query); a time range has one ${bound === 'since' ? 'start' : 'end'}`,
        { extra: { key: bound } },
      );
    }
  }
  const since = a.since ?? b.since;
  const until = a.until ?? b.until;
  if (since !== undefined && until !== undefined && since >= until) {
    throw new TrailkeepError(
      'query_invalid',
      `Empty time range: since ${since} is not before until ${until} (exclusive)`,
    );
  }
  const merged = new Map<string, Clause>();
  for (const clause of [...a.clauses, ...b.clauses]) {
    const id = clauseId(clause);
    const other = merged.get(id);
    merged.set(id, other === undefined ? clause : mergeClauses(other, clause));
  }
  return buildFilter(since, until, [...merged.values()]);
}

function mergeClauses(a: Clause, b: Clause): Clause {
  if (a.negated) return { ...a, values: [...a.values, ...b.values] };
  const inA = new Set(a.values);
  const inB = new Set(b.values);
  if (b.values.every((value) => inA.has(value))) return b;
  if (a.values.every((value) => inB.has(value))) return a;
  const key = describeClause(a);
  throw new TrailkeepError(
    'query_invalid',
    `Both queries ask for ${JSON.stringify(key)} with different values (${a.values.join(', ')} / ${b.values.join(', ')}); the values of one key are ORed, so write them in one query`,
    { extra: { key } },
  );
}
