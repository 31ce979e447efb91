/**
 * Compiles a normalized Filter (src/core/query/filter.ts) into a WHERE fragment over
 * `events AS e` and its parameters. Every clause key has exactly one handler in a
 * Record<ClauseKey, ...>, so adding a key to the query language fails to compile here until
 * SQLite knows what it means. The caller always scopes by workspace first (`e.ws = ?`); the
 * subqueries here repeat that scope so they can never reach another workspace's rows.
 *
 * Case rules follow filter.ts: actions, categories and target kinds live in NOCASE columns
 * (these vocabularies are ASCII); names, emails and actor ids are compared with lower-cased
 * copies made in JavaScript, so non-ASCII letters fold the same way as in the evaluator.
 */
import { cidrKeyRange } from '../../core/ip.js';
import type { Clause, ClauseKey, Filter } from '../../core/query/filter.js';
import { globToLike, isGlob, placeholders } from '../sql-shared.js';
import type { SqlParam } from './driver.js';

export interface SqlFragment {
  sql: string;
  params: SqlParam[];
}

/** Inclusive occurred_ms bounds the caller already applies; pushed into target subqueries. */
export interface TimeBounds {
  minMs?: number;
  maxMs?: number;
}

/**
 * What the compiler may ask the database before choosing a plan. A multi-valued clause (a glob,
 * an OR, an actor search) can use its index only as several ranges whose union must be sorted
 * for the page: cheap when few events match, ruinous when many do. Then the compiler marks the
 * term with unary `+`, which keeps SQLite from using an index for it, so the page is read in
 * time order and the term is checked row by row (that finds `limit` rows quickly exactly
 * because many match).
 */
export interface FilterStats {
  /** Matching events up to which sorting the union of index ranges beats a time-ordered scan. */
  sortBudget: number;
  /** Events whose `kind` facet value satisfies `condition` (a fragment over column `value`). */
  facetEvents(
    kind: 'action' | 'category' | 'actor_type' | 'outcome',
    condition: SqlFragment,
  ): number;
  /** Rows of `table` in the workspace satisfying `condition`, counted up to sortBudget + 1. */
  boundedCount(table: 'events' | 'event_targets', condition: SqlFragment): number;
  /** Actor rows satisfying `condition` (over the actors table), with their event counts. */
  actors: (condition: SqlFragment) => { keys: number[]; events: number };
}

/** The default FilterStats.sortBudget: sorting 2,000 small rows takes about a millisecond. */
export const SORT_BUDGET = 2000;

interface Context {
  ws: number;
  bounds: TimeBounds;
  /**
   * The actor types a positive `actor_type` clause of the same filter allows. Every match has
   * one of them, so actor lookups may keep to them: `actor:alex@ actor_type:automation` then
   * finds no actor and is answered without reading an event.
   */
  actorTypes?: readonly string[] | undefined;
  /** Absent for `count`, which needs no order: there an index always wins. */
  stats: FilterStats | undefined;
  /**
   * Actor lookup for when `stats` is absent: a count gains as much as a page from knowing
   * the matching actors (none at all answers without reading an event).
   */
  actors: FilterStats['actors'] | undefined;
  /** Whether `actors_search` exists to propose actor rows for a substring. */
  actorIndex: boolean;
}

/** `''` to let SQLite use the column's index, `'+'` to keep it to a time-ordered scan. */
function indexHint(context: Context, estimate: () => number): '' | '+' {
  if (context.stats === undefined) return '';
  return estimate() <= context.stats.sortBudget ? '' : '+';
}

type ClauseCompiler = (clause: Clause, context: Context) => SqlFragment;

function fragment(sql: string, params: SqlParam[] = []): SqlFragment {
  return { sql, params };
}

/** ORs one condition per value. */
function anyOf(
  values: readonly string[],
  one: (value: string, index: number) => SqlFragment,
): SqlFragment {
  const parts = values.map(one);
  return fragment(
    parts.length === 1 ? parts[0]!.sql : `(${parts.map((p) => p.sql).join(' OR ')})`,
    parts.flatMap((p) => p.params),
  );
}

function inList(column: string, values: readonly string[]): SqlFragment {
  return fragment(`${column} IN (${placeholders(values.length)})`, [...values]);
}

/** Inlining more actor keys than this as parameters is not worth it: use the subquery. */
const MAX_INLINE_ACTOR_KEYS = 200;

function actorKeysWhere(anyType: SqlFragment, context: Context): SqlFragment {
  const condition =
    context.actorTypes === undefined
      ? anyType
      : fragment(`(${anyType.sql}) AND ${inList('type', context.actorTypes).sql}`, [
          ...anyType.params,
          ...context.actorTypes,
        ]);
  const subquery = (hint: '' | '+'): SqlFragment =>
    fragment(
      `${hint}e.actor_key IN (SELECT akey FROM actors WHERE ws = ? AND (${condition.sql}))`,
      [context.ws, ...condition.params],
    );
  const lookup = context.stats?.actors ?? context.actors;
  if (lookup === undefined) return subquery('');
  const { keys, events } = lookup(condition);
  if (keys.length === 0) return fragment('0');
  // One key is one range of events_by_actor, already in page order.
  if (keys.length === 1) return fragment('e.actor_key = ?', [keys[0]!]);
  if (context.stats !== undefined && events > context.stats.sortBudget) return subquery('+');
  if (keys.length > MAX_INLINE_ACTOR_KEYS) return subquery('');
  return fragment(`e.actor_key IN (${placeholders(keys.length)})`, keys);
}

/** An IN over a column whose value counts are kept in facet_counts. */
function facetInList(
  column: string,
  kind: 'category' | 'actor_type' | 'outcome',
  values: readonly string[],
  context: Context,
): SqlFragment {
  const hint =
    values.length === 1
      ? ''
      : indexHint(context, () =>
          context.stats!.facetEvents(
            kind,
            fragment(`value COLLATE NOCASE IN (${placeholders(values.length)})`, [...values]),
          ),
        );
  return inList(`${hint}${column}`, values);
}

function actorSubstring(values: readonly string[], context: Context): SqlFragment {
  return anyOf(values, (value) => {
    const exact = fragment(
      "(instr(id_lc, ?) > 0 OR instr(ifnull(name_lc, ''), ?) > 0 OR instr(ifnull(email_lc, ''), ?) > 0)",
      [value, value, value],
    );
    // The trigram index finds candidate rows for three characters or more (a phrase of
    // trigrams never spans two columns); shorter terms can only be scanned for.
    if (!context.actorIndex || [...value].length < 3) return exact;
    return fragment(
      `akey IN (SELECT rowid FROM actors_search WHERE actors_search MATCH ?) AND ${exact.sql}`,
      [`"${value.replaceAll('"', '""')}"`, ...exact.params],
    );
  });
}

/**
 * Events with a target row matching `condition`. Few matches: collect them from the targets
 * index (bounded in time like the outer query); many: check each event in time order.
 */
function targetsWhere(condition: SqlFragment, context: Context): SqlFragment {
  if (
    context.stats !== undefined &&
    context.stats.boundedCount('event_targets', condition) > context.stats.sortBudget
  ) {
    return fragment(
      `EXISTS (SELECT 1 FROM event_targets t WHERE t.eid = e.eid AND (${condition.sql}))`,
      condition.params,
    );
  }
  const params: SqlParam[] = [context.ws, ...condition.params];
  let sql = `e.eid IN (SELECT eid FROM event_targets WHERE ws = ? AND (${condition.sql})`;
  if (context.bounds.minMs !== undefined) {
    sql += ' AND occurred_ms >= ?';
    params.push(context.bounds.minMs);
  }
  if (context.bounds.maxMs !== undefined) {
    sql += ' AND occurred_ms <= ?';
    params.push(context.bounds.maxMs);
  }
  return fragment(`${sql})`, params);
}

const JSON_SCALAR_TEXT = /^(true|false|-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?)$/;

/**
 * One metadata value: a string value equals the text; a number or boolean matches its JSON
 * text (the body is canonical JSON, so `5`, `1.5`, `true`).
 */
function metaEquals(metaKey: string, value: string): SqlFragment {
  const candidates: string[] = [JSON.stringify(value)];
  if (JSON_SCALAR_TEXT.test(value)) candidates.push(value);
  if (!metaKey.includes('"') && !metaKey.startsWith('$')) {
    // `->` with a plain label looks the key up literally (dots included) and returns JSON text.
    return fragment(`(e.body -> '$.metadata' -> ?) IN (${placeholders(candidates.length)})`, [
      metaKey,
      ...candidates,
    ]);
  }
  // A label with a double quote, or one that would read as a path, cannot go through `->`:
  // walk the object instead.
  return fragment(
    `EXISTS (SELECT 1 FROM json_each(e.body, '$.metadata') m WHERE m.key = ? AND ` +
      `((m.type = 'text' AND m.atom = ?) OR (m.type IN ('integer', 'real', 'true', 'false') ` +
      `AND CASE m.type WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' ` +
      `ELSE CAST(m.atom AS TEXT) END = ?)))`,
    [metaKey, value, value],
  );
}

const COMPILERS: Record<ClauseKey, ClauseCompiler> = {
  action: (clause, context) => {
    const single = clause.values.length === 1 && !isGlob(clause.values[0]!);
    const hint = single
      ? ''
      : indexHint(context, () =>
          context.stats!.facetEvents(
            'action',
            anyOf(clause.values, (value) =>
              isGlob(value)
                ? fragment(`value LIKE ? ESCAPE '\\'`, [globToLike(value)])
                : fragment('value = ? COLLATE NOCASE', [value]),
            ),
          ),
        );
    return anyOf(clause.values, (value) =>
      isGlob(value)
        ? fragment(`${hint}e.action LIKE ? ESCAPE '\\'`, [globToLike(value)])
        : fragment(`${hint}e.action = ?`, [value]),
    );
  },
  category: (clause, context) => facetInList('e.category', 'category', clause.values, context),
  actor: (clause, context) => actorKeysWhere(actorSubstring(clause.values, context), context),
  actor_type: (clause, context) =>
    facetInList('e.actor_type', 'actor_type', clause.values, context),
  username: (clause, context) => actorKeysWhere(inList('name_lc', clause.values), context),
  email: (clause, context) => actorKeysWhere(inList('email_lc', clause.values), context),
  target_type: (clause) =>
    fragment(
      `EXISTS (SELECT 1 FROM event_targets t WHERE t.eid = e.eid AND t.type IN (${placeholders(clause.values.length)}))`,
      [...clause.values],
    ),
  target_id: (clause, context) => targetsWhere(inList('id', clause.values), context),
  target: (clause, context) => targetsWhere(inList('name_lc', clause.values), context),
  ip: (clause, context) => {
    const ranges = clause.values.map((cidr) => {
      const { lo, hi } = cidrKeyRange(cidr);
      return lo === hi
        ? fragment('ip = ?', [Buffer.from(lo, 'hex')])
        : fragment('ip BETWEEN ? AND ?', [Buffer.from(lo, 'hex'), Buffer.from(hi, 'hex')]);
    });
    const single = ranges.length === 1 && ranges[0]!.sql === 'ip = ?';
    const hint = single
      ? ''
      : indexHint(context, () =>
          context.stats!.boundedCount(
            'events',
            anyOf(clause.values, (_value, i) => ranges[i]!),
          ),
        );
    return anyOf(clause.values, (_value, i) =>
      fragment(`${hint}e.${ranges[i]!.sql}`, ranges[i]!.params),
    );
  },
  outcome: (clause, context) => facetInList('e.outcome', 'outcome', clause.values, context),
  operation: (clause, context) =>
    // Five values of similar frequency: several of them always match too many to sort.
    inList(
      `${clause.values.length > 1 && context.stats !== undefined ? '+' : ''}e.operation`,
      clause.values,
    ),
  system: (clause, context) => {
    const wanted = new Set(clause.values);
    if (wanted.has('true') && wanted.has('false')) return fragment('1');
    const systemTypes = facetInList(
      'e.actor_type',
      'actor_type',
      ['system', 'automation'],
      context,
    );
    if (wanted.has('true')) return systemTypes;
    return wanted.has('false')
      ? fragment(`NOT ${systemTypes.sql}`, systemTypes.params)
      : fragment('0');
  },
  meta: (clause) => anyOf(clause.values, (value) => metaEquals(clause.metaKey ?? '', value)),
  id: (clause) => inList('e.id', clause.values),
  request_id: (clause) => inList(`(e.body -> '$.context' ->> 'request_id')`, clause.values),
  text: (clause, context) =>
    anyOf(clause.values, (value) => {
      // Substring search across three kinds of field: checked row by row in time order.
      const actors = actorKeysWhere(actorSubstring([value], context), {
        ...context,
        stats: undefined,
        actors: undefined,
      });
      const targets = fragment(
        'EXISTS (SELECT 1 FROM event_targets t WHERE t.eid = e.eid AND instr(t.name_lc, ?) > 0)',
        [value],
      );
      return fragment(`(instr(lower(e.action), ?) > 0 OR ${actors.sql} OR ${targets.sql})`, [
        value,
        ...actors.params,
        ...targets.params,
      ]);
    }),
};

function compileClause(clause: Clause, context: Context): SqlFragment {
  if (clause.values.length === 0) return fragment(clause.negated ? '1' : '0');
  const positive = COMPILERS[clause.key](clause, context);
  // NULL (no IP, no such metadata key) means "does not match", so a negated clause matches.
  return clause.negated ? fragment(`NOT ifnull(${positive.sql}, 0)`, positive.params) : positive;
}

/** `occurred_at` text as integer milliseconds, the unit of the occurred_ms columns. */
export function toMs(isoTime: string): number {
  return Date.parse(isoTime);
}

/**
 * The Filter as one condition (never empty: `1` matches everything). `bounds` are time limits
 * the caller applies anyway (keyset position); repeating them inside target subqueries keeps
 * those from reading an entity's whole history for every page.
 */
export function compileFilter(
  filter: Filter,
  ws: number,
  options: {
    bounds?: TimeBounds;
    stats?: FilterStats;
    actors?: FilterStats['actors'];
    /** false for a file without `actors_search` (see SqliteContext.actorIndex). */
    actorIndex?: boolean;
  } = {},
): SqlFragment {
  const bounds = options.bounds ?? {};
  const parts: SqlFragment[] = [];
  const combined: TimeBounds = { ...bounds };
  if (filter.since !== undefined) {
    const since = toMs(filter.since);
    parts.push(fragment('e.occurred_ms >= ?', [since]));
    combined.minMs = Math.max(combined.minMs ?? since, since);
  }
  if (filter.until !== undefined) {
    const until = toMs(filter.until);
    parts.push(fragment('e.occurred_ms < ?', [until]));
    combined.maxMs = Math.min(combined.maxMs ?? until - 1, until - 1);
  }
  const actorTypes = filter.clauses.find((c) => c.key === 'actor_type' && !c.negated)?.values;
  const context: Context = {
    ws,
    bounds: combined,
    stats: options.stats,
    actors: options.actors,
    actorIndex: options.actorIndex ?? true,
    actorTypes,
  };
  for (const clause of filter.clauses) parts.push(compileClause(clause, context));
  if (parts.length === 0) return fragment('1');
  return fragment(
    parts.map((p) => p.sql).join(' AND '),
    parts.flatMap((p) => p.params),
  );
}
