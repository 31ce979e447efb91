/**
 * Compiles the normalized Filter (src/core/query/filter.ts) to a PostgreSQL WHERE fragment over
 * `events e`. One handler per clause key in a Record, so a new key without a handler does not
 * compile. Each handler returns the positive match; negation wraps it so that a NULL (an absent
 * name, email or ip) counts as "does not match", as the evaluator treats it.
 *
 * Case-insensitive keys compare against lower-cased copies made in JavaScript (actors.*_lc,
 * event_targets.*_lc), so non-ASCII names fold exactly as the evaluator folds them; actions are
 * ASCII by validation, so lower() suffices there.
 */
import { cidrKeyRange } from '../../core/ip.js';
import type { Clause, ClauseKey, Filter } from '../../core/query/filter.js';
import { escapeLike, globToLike, isGlob } from '../sql-shared.js';
import type { Params } from './driver.js';

interface CompileContext {
  params: Params;
  /** Placeholder holding the workspace id. */
  ws: string;
}

type ClauseHandler = (clause: Clause, ctx: CompileContext) => string;

/**
 * `column = value` for one value, `= ANY(array)` for several. With an array parameter the
 * planner cannot use the (workspace, column, occurred_at, seq) index for order and sorts every
 * match instead; one value is the common case (bench: three filters 4.7 -> 1.6 ms).
 */
function equalsAny(column: string, values: readonly string[], params: Params): string {
  const [only] = values;
  return values.length === 1 && only !== undefined
    ? `${column} = ${params.add(only)}`
    : `${column} = ANY(${params.add(values)}::text[])`;
}

const containsPatterns = (values: readonly string[]): string[] =>
  values.map((v) => `%${escapeLike(v)}%`);

/** Events whose actor (type, id, name, email) is one of the actors rows matching `where`. */
function actorIn(ctx: CompileContext, where: string): string {
  return (
    `(e.actor_type, e.actor_id, coalesce(e.actor_name, ''), coalesce(e.actor_email, '')) IN ` +
    `(SELECT a.actor_type, a.actor_id, a.actor_name, a.actor_email FROM actors a ` +
    `WHERE a.workspace = ${ctx.ws} AND (${where}))`
  );
}

/** Events with at least one target row matching `where`. */
function anyTarget(ctx: CompileContext, where: string): string {
  return (
    `EXISTS (SELECT 1 FROM event_targets t WHERE t.workspace = ${ctx.ws} ` +
    `AND t.seq = e.seq AND (${where}))`
  );
}

const HANDLERS: Record<ClauseKey, ClauseHandler> = {
  action: (clause, { params }) => {
    const exact = clause.values.filter((v) => !isGlob(v));
    const globs = clause.values.filter(isGlob);
    const parts: string[] = [];
    if (exact.length > 0) parts.push(equalsAny('lower(e.action)', exact, params));
    if (globs.length > 0) {
      parts.push(`lower(e.action) LIKE ANY(${params.add(globs.map(globToLike))}::text[])`);
    }
    return parts.join(' OR ');
  },
  category: (clause, { params }) => equalsAny('lower(e.category)', clause.values, params),
  actor: (clause, ctx) => {
    const p = ctx.params.add(containsPatterns(clause.values));
    return actorIn(
      ctx,
      `a.id_lc LIKE ANY(${p}::text[]) OR a.name_lc LIKE ANY(${p}::text[]) ` +
        `OR a.email_lc LIKE ANY(${p}::text[])`,
    );
  },
  actor_type: (clause, { params }) => equalsAny('e.actor_type', clause.values, params),
  username: (clause, ctx) => actorIn(ctx, equalsAny('a.name_lc', clause.values, ctx.params)),
  email: (clause, ctx) => actorIn(ctx, equalsAny('a.email_lc', clause.values, ctx.params)),
  target_type: (clause, ctx) => anyTarget(ctx, equalsAny('t.type_lc', clause.values, ctx.params)),
  target_id: (clause, ctx) => anyTarget(ctx, equalsAny('t.id', clause.values, ctx.params)),
  target: (clause, ctx) => anyTarget(ctx, equalsAny('t.name_lc', clause.values, ctx.params)),
  ip: (clause, { params }) =>
    clause.values
      .map((cidr) => {
        const { lo, hi } = cidrKeyRange(cidr);
        return `e.ip_key BETWEEN ${params.add(lo)} AND ${params.add(hi)}`;
      })
      .join(' OR '),
  outcome: (clause, { params }) => equalsAny('e.outcome', clause.values, params),
  operation: (clause, { params }) => equalsAny('e.operation', clause.values, params),
  system: (clause) => {
    const isSystem = `e.actor_type IN ('system', 'automation')`;
    const wanted = new Set(clause.values);
    if (wanted.has('true') && wanted.has('false')) return 'TRUE';
    if (wanted.has('true')) return isSystem;
    return wanted.has('false') ? `NOT (${isSystem})` : 'FALSE';
  },
  meta: (clause, { params }) => {
    // `?` (key present) lets the GIN index narrow the rows. Strings compare as themselves,
    // numbers and booleans as their JSON text; objects, arrays and null never match.
    const key = params.add(clause.metaKey ?? '');
    return (
      `(e.metadata ? ${key} ` +
      `AND jsonb_typeof(e.metadata -> ${key}) IN ('string', 'number', 'boolean') ` +
      `AND e.metadata ->> ${key} = ANY(${params.add(clause.values)}::text[]))`
    );
  },
  text: (clause, ctx) => {
    const p = ctx.params.add(containsPatterns(clause.values));
    return [
      `lower(e.action) LIKE ANY(${p}::text[])`,
      actorIn(
        ctx,
        `a.id_lc LIKE ANY(${p}::text[]) OR a.name_lc LIKE ANY(${p}::text[]) ` +
          `OR a.email_lc LIKE ANY(${p}::text[])`,
      ),
      anyTarget(ctx, `t.name_lc LIKE ANY(${p}::text[])`),
    ].join(' OR ');
  },
};

/**
 * The conditions of `filter` over `events e`, ANDed, each in parentheses; `TRUE` for a filter
 * that matches everything. The caller adds the workspace condition itself.
 */
export function compileFilter(filter: Filter, ctx: CompileContext): string {
  const parts: string[] = [];
  if (filter.since !== undefined) {
    parts.push(`e.occurred_at >= ${ctx.params.add(filter.since)}::timestamptz`);
  }
  if (filter.until !== undefined) {
    parts.push(`e.occurred_at < ${ctx.params.add(filter.until)}::timestamptz`);
  }
  for (const clause of filter.clauses) {
    if (clause.values.length === 0) {
      // No value can match: a positive clause matches nothing, a negated one everything.
      if (!clause.negated) parts.push('FALSE');
      continue;
    }
    const match = HANDLERS[clause.key](clause, ctx);
    parts.push(clause.negated ? `NOT coalesce((${match}), false)` : `(${match})`);
  }
  return parts.length === 0 ? 'TRUE' : parts.join(' AND ');
}
