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
import { Params, type Queryable } from './driver.js';

interface CompileContext {
  params: Params;
  /** Placeholder holding the workspace id. */
  ws: string;
  /**
   * The actors each actor-matching clause found (`resolveActors`); without it such clauses
   * compile to a subquery on actors, which gives the same rows but no index order.
   */
  actors?: ResolvedActors;
}

/** One (type, id) an actor clause matched, and the forms (name, email) it matched in. */
export interface ActorMatch {
  type: string;
  id: string;
  /** undefined: every form of this actor matched, so (type, id) alone decides. */
  forms?: ActorForm[];
}

interface ActorForm {
  name: string;
  email: string;
}

/** The actors found for each actor-matching clause of a filter. */
export type ResolvedActors = ReadonlyMap<Clause, readonly ActorMatch[]>;

/** Above this many actors a clause keeps the subquery rather than a long list of values. */
const MAX_LISTED_ACTORS = 50;

const ACTOR_KEYS: ReadonlySet<ClauseKey> = new Set(['actor', 'username', 'email', 'text']);

/** The condition on `actors a` that an actor-matching clause stands for. */
function actorWhere(clause: Clause, params: Params): string {
  switch (clause.key) {
    case 'username':
      return equalsAny('a.name_lc', clause.values, params);
    case 'email':
      return equalsAny('a.email_lc', clause.values, params);
    default: {
      const p = params.add(containsPatterns(clause.values));
      return (
        `a.id_lc LIKE ANY(${p}::text[]) OR a.name_lc LIKE ANY(${p}::text[]) ` +
        `OR a.email_lc LIKE ANY(${p}::text[])`
      );
    }
  }
}

/**
 * Looks up, in the small actors table, which actors each actor-matching clause of `filter`
 * finds, before the events are read: the page can then read events_by_actor one actor at a
 * time in index order (one actor: a range that stops after the page) instead of joining, and
 * a clause that finds nobody reads no event at all. undefined when the filter has no such
 * clause (no round trip).
 */
export async function resolveActors(
  db: Queryable,
  workspace: string,
  filter: Filter,
): Promise<ResolvedActors | undefined> {
  const clauses = filter.clauses.filter((c) => ACTOR_KEYS.has(c.key) && c.values.length > 0);
  if (clauses.length === 0) return undefined;
  // Every match has one of the actor types a positive actor_type clause allows, so the lookup
  // may keep to them: `actor:alex@ actor_type:automation` then finds nobody and reads nothing.
  const types = filter.clauses.find((c) => c.key === 'actor_type' && !c.negated)?.values;
  const resolved = new Map<Clause, ActorMatch[]>();
  for (const clause of clauses) {
    const params = new Params();
    const ws = params.add(workspace);
    const matching = actorWhere(clause, params);
    const where =
      types === undefined
        ? matching
        : `(${matching}) AND a.actor_type = ANY(${params.add(types)}::text[])`;
    // The LIKEs run once per actors row (inner scan) and again only on the forms of the actors
    // found, which decide whether name and email must be compared on the events.
    const result = await db.query<{
      actor_type: string;
      actor_id: string;
      actor_name: string;
      actor_email: string;
      m: boolean;
    }>(
      `SELECT a.actor_type, a.actor_id, a.actor_name, a.actor_email,
              coalesce((${where}), false) AS m
         FROM actors a
        WHERE a.workspace = ${ws} AND (a.actor_type, a.actor_id) IN (
          SELECT a.actor_type, a.actor_id FROM actors a WHERE a.workspace = ${ws} AND (${where}))`,
      params.values,
    );
    const byKey = new Map<string, ActorMatch & { every: boolean; all: ActorForm[] }>();
    for (const row of result.rows) {
      const key = JSON.stringify([row.actor_type, row.actor_id]);
      const entry = byKey.get(key) ?? {
        type: row.actor_type,
        id: row.actor_id,
        every: true,
        all: [],
      };
      if (row.m) entry.all.push({ name: row.actor_name, email: row.actor_email });
      else entry.every = false;
      byKey.set(key, entry);
    }
    if (byKey.size > MAX_LISTED_ACTORS) continue;
    resolved.set(
      clause,
      [...byKey.values()].map(({ type, id, every, all }) =>
        every ? { type, id } : { type, id, forms: all },
      ),
    );
  }
  return resolved;
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

/**
 * Events whose actor (type, id, name, email) is one of the actors rows `clause` matches. With
 * the actors resolved beforehand: nothing found is FALSE; each actor is `actor_type = AND
 * actor_id =` (events_by_actor, in page order when it is the only one), with its name and email
 * checked only when some of its forms do not match.
 */
function actorIn(clause: Clause, ctx: CompileContext): string {
  const found = ctx.actors?.get(clause);
  if (found === undefined) {
    return (
      `(e.actor_type, e.actor_id, coalesce(e.actor_name, ''), coalesce(e.actor_email, '')) IN ` +
      `(SELECT a.actor_type, a.actor_id, a.actor_name, a.actor_email FROM actors a ` +
      `WHERE a.workspace = ${ctx.ws} AND (${actorWhere(clause, ctx.params)}))`
    );
  }
  if (found.length === 0) return 'FALSE';
  const { params } = ctx;
  return found
    .map((actor) => {
      const key = `e.actor_type = ${params.add(actor.type)} AND e.actor_id = ${params.add(actor.id)}`;
      if (actor.forms === undefined) return `(${key})`;
      const forms = actor.forms
        .map((f) => `(${params.add(f.name)}, ${params.add(f.email)})`)
        .join(', ');
      return `(${key} AND (coalesce(e.actor_name, ''), coalesce(e.actor_email, '')) IN (${forms}))`;
    })
    .join(' OR ');
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
  actor: (clause, ctx) => actorIn(clause, ctx),
  actor_type: (clause, { params }) => equalsAny('e.actor_type', clause.values, params),
  username: (clause, ctx) => actorIn(clause, ctx),
  email: (clause, ctx) => actorIn(clause, ctx),
  target_type: (clause, ctx) => anyTarget(ctx, equalsAny('t.type_lc', clause.values, ctx.params)),
  target_id: (clause, ctx) => anyTarget(ctx, equalsAny('t.id', clause.values, ctx.params)),
  target: (clause, ctx) => anyTarget(ctx, equalsAny('t.name_lc', clause.values, ctx.params)),
  ip: (clause, { params }) =>
    clause.values
      .map((cidr) => {
        const { lo, hi } = cidrKeyRange(cidr);
        return `e.ip_key BETWEEN decode(${params.add(lo)}, 'hex') AND decode(${params.add(hi)}, 'hex')`;
      })
      .join(' OR '),
  outcome: (clause, { params }) => equalsAny('e.outcome', clause.values, params),
  // Through event_ids, whose primary key finds an id at once; (occurred_at, seq) is the row's.
  id: (clause, ctx) =>
    `(e.occurred_at, e.seq) IN (SELECT i.occurred_at, i.seq FROM event_ids i ` +
    `WHERE i.workspace = ${ctx.ws} AND ${equalsAny('i.id', clause.values, ctx.params)})`,
  // The body is text: a LIKE on the value's JSON spelling narrows the rows before any of them
  // is parsed, and the parse then checks it is the context's request_id and not another field.
  request_id: (clause, { params }) =>
    clause.values
      .map(
        (value) =>
          `(e.body LIKE ${params.add(`%${escapeLike(JSON.stringify(value).slice(1, -1))}%`)} ` +
          `AND (e.body::json -> 'context' ->> 'request_id') = ${params.add(value)})`,
      )
      .join(' OR '),
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
      actorIn(clause, ctx),
      anyTarget(ctx, `t.name_lc LIKE ANY(${p}::text[])`),
    ].join(' OR ');
  },
};

/**
 * A bound as PostgreSQL reads it. The query language allows the year 0000 (`until:0000-01-02`),
 * which PostgreSQL refuses as input: it counts 1 BC instead, the same proleptic year.
 */
export function timestampText(iso: string): string {
  return iso.startsWith('0000-') ? `0001-${iso.slice(5)} BC` : iso;
}

/**
 * The conditions of `filter` over `events e`, ANDed, each in parentheses; `TRUE` for a filter
 * that matches everything. The caller adds the workspace condition itself.
 */
export function compileFilter(filter: Filter, ctx: CompileContext): string {
  const parts: string[] = [];
  if (filter.since !== undefined) {
    parts.push(`e.occurred_at >= ${ctx.params.add(timestampText(filter.since))}::timestamptz`);
  }
  if (filter.until !== undefined) {
    parts.push(`e.occurred_at < ${ctx.params.add(timestampText(filter.until))}::timestamptz`);
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
