/**
 * Plain HTTP query parameters as a filter: `?action=job.created&action=job.deleted&ip=10.0.0.0/8`.
 * Every query key and alias is a parameter name (`is=system`, `meta.KEY=...` too); a repeated
 * parameter ORs its values, different parameters AND. Values are taken literally: no quoting and
 * no `-` negation (use `q` for those).
 */
import { fieldTerm, type QueryTerm } from './ast.js';
import type { Filter } from './filter.js';
import { describeKnownKeys, resolveKey } from './keys.js';
import { combineFilters, normalizeTerms, parseFilter } from './normalize.js';
import { inParameter, queryError, type ProblemLocation } from './query-error.js';

/**
 * Parameters that routes read themselves and that are therefore not filter keys. Any other
 * unknown parameter is an error, so a misspelt filter can never silently widen an answer.
 * Note that `target_type` is a filter key, not listed here: the entity export
 * (`export?type=entities&target_type=job`) reads it as the entity kind, which is the same
 * question as the filter `target_type:job`.
 */
export const NON_FILTER_PARAMS = ['q', 'cursor', 'limit', 'format', 'type', 'as_of'] as const;

export type QueryParams = Readonly<Record<string, string | readonly string[] | undefined>>;

export function filterFromParams(params: QueryParams): Filter {
  const terms: QueryTerm[] = [];
  const locations = new Map<QueryTerm, ProblemLocation>();
  const ignored: readonly string[] = NON_FILTER_PARAMS;
  for (const [name, raw] of Object.entries(params)) {
    if (raw === undefined || ignored.includes(name.toLowerCase())) continue;
    const values: readonly string[] = typeof raw === 'string' ? [raw] : raw;
    const resolved = resolveKey(name);
    if (!resolved.ok) {
      const problem = resolved.problem.replace(/^Unknown key/, 'Unknown parameter');
      const hint = resolved.problem.startsWith('Unknown key')
        ? `filter parameters: ${describeKnownKeys()}; other parameters: ${ignored.join(', ')}`
        : resolved.hint;
      throw queryError(problem, inParameter(name, values[0] ?? ''), hint);
    }
    for (const value of values) {
      const term = fieldTerm(
        resolved.key,
        value,
        resolved.metaKey === undefined ? {} : { metaKey: resolved.metaKey },
      );
      terms.push(term);
      locations.set(term, inParameter(name, value));
    }
  }
  return normalizeTerms(terms, (term) => locations.get(term) ?? inParameter(term.kind, term.value));
}

/**
 * The whole question of a request: the `q` text AND the plain filter parameters (see
 * `combineFilters` for what cannot be combined). `q` may appear once.
 */
export function filterFromRequest(params: QueryParams): Filter {
  const q = params['q'];
  if (typeof q !== 'string' && q !== undefined && q.length > 1) {
    throw queryError(
      'Parameter "q" is given more than once',
      inParameter('q', q[1] ?? ''),
      'send one q',
    );
  }
  const text = typeof q === 'string' ? q : (q?.[0] ?? '');
  return combineFilters(parseFilter(text), filterFromParams(params));
}
