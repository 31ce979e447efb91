/**
 * AST and Filter -> text. The output parses back to the same question: `printQuery` round-trips
 * ASTs (positions aside) and `printFilter` gives the canonical text of a Filter, which cursors
 * carry and compare.
 */
import type { Clause, Filter } from './filter.js';
import type { QueryAst, QueryTerm } from './ast.js';
import { META_KEY_PATTERN, META_KEY_RULE } from './keys.js';
import { isQuerySpace } from './lexer.js';
import { formatTimeBound } from './time.js';
import { TrailkeepError } from '../errors.js';

/** True when a value must be quoted to read back as itself. */
function needsQuotes(value: string): boolean {
  if (value === '' || value.startsWith('-')) return true;
  for (const ch of value) {
    if (ch === ':' || ch === '"' || ch === '\\' || isQuerySpace(ch)) return true;
  }
  return false;
}

export function formatValue(value: string): string {
  if (!needsQuotes(value)) return value;
  return `"${value.replace(/[\\"]/g, (ch) => `\\${ch}`)}"`;
}

function formatKey(key: string, metaKey: string | undefined): string {
  if (key !== 'meta') return key;
  if (metaKey === undefined || !META_KEY_PATTERN.test(metaKey)) {
    throw new TrailkeepError(
      'query_invalid',
      `Cannot print metadata key ${JSON.stringify(metaKey ?? '')}: ${META_KEY_RULE}`,
    );
  }
  return `meta.${metaKey}`;
}

/** One term as text, in canonical spelling (aliases print as their canonical key). */
export function printTerm(term: QueryTerm): string {
  const sign = term.negated ? '-' : '';
  if (term.kind === 'word') return `${sign}${formatValue(term.value)}`;
  return `${sign}${formatKey(term.key, term.metaKey)}:${formatValue(term.value)}`;
}

export function printQuery(ast: QueryAst): string {
  return ast.terms.map(printTerm).join(' ');
}

function printClause(clause: Clause): string[] {
  const sign = clause.negated ? '-' : '';
  switch (clause.key) {
    case 'text':
      return clause.values.map((value) => `${sign}${formatValue(value)}`);
    case 'system':
      return clause.values.map((value) => {
        if (value !== 'true') {
          throw new TrailkeepError(
            'query_invalid',
            `Cannot print a "system" clause with value ${JSON.stringify(value)}; only "true" exists`,
          );
        }
        return `${sign}is:system`;
      });
    default: {
      const key = formatKey(clause.key, clause.metaKey);
      return clause.values.map((value) => `${sign}${key}:${formatValue(value)}`);
    }
  }
}

/**
 * The canonical text of a Filter: the time range first, then each clause's values in order.
 * `normalizeQuery(parseQuery(printFilter(f)))` deep-equals `f` for every normalized Filter.
 */
export function printFilter(filter: Filter): string {
  const parts: string[] = [];
  if (filter.since !== undefined)
    parts.push(`since:${formatValue(formatTimeBound(filter.since, 'since'))}`);
  if (filter.until !== undefined)
    parts.push(`until:${formatValue(formatTimeBound(filter.until, 'until'))}`);
  for (const clause of filter.clauses) parts.push(...printClause(clause));
  return parts.join(' ');
}
