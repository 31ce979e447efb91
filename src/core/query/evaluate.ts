/**
 * The reference meaning of a Filter, applied to one event in memory. Both storage engines'
 * SQL compilers are tested against it, so it favours plainness over speed. Every ClauseKey has
 * a handler in MATCHERS: a new key without one fails to compile.
 */
import type { StoredEvent } from '../event.js';
import { cidrKeyRange, ipKey } from '../ip.js';
import type { Clause, ClauseKey, Filter } from './filter.js';

type Matcher = (clause: Clause, event: StoredEvent) => boolean;

/** `*` matches any run of characters (also none); everything else matches itself. */
export function globMatches(pattern: string, text: string): boolean {
  let p = 0;
  let t = 0;
  let starP = -1;
  let starT = 0;
  while (t < text.length) {
    if (p < pattern.length && pattern[p] === '*') {
      starP = p++;
      starT = t;
    } else if (p < pattern.length && pattern[p] === text[t]) {
      p++;
      t++;
    } else if (starP !== -1) {
      p = starP + 1;
      t = ++starT;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern[p] === '*') p++;
  return p === pattern.length;
}

const lower = (text: string | undefined): string | undefined => text?.toLowerCase();

/** Any of the clause's values equals `actual` (absent fields never match). */
function anyEquals(clause: Clause, actual: string | undefined): boolean {
  return actual !== undefined && clause.values.includes(actual);
}

function anySubstring(clause: Clause, haystacks: readonly (string | undefined)[]): boolean {
  const lowered = haystacks.flatMap((text) => (text === undefined ? [] : [text.toLowerCase()]));
  return clause.values.some((value) => lowered.some((text) => text.includes(value)));
}

function metadataText(event: StoredEvent, key: string | undefined): string | undefined {
  if (key === undefined || !Object.hasOwn(event.metadata, key)) return undefined;
  const value = event.metadata[key];
  if (typeof value === 'string') return value;
  // Numbers and booleans compare as their JSON text; objects, arrays and null never match.
  if (typeof value === 'number' || typeof value === 'boolean') return JSON.stringify(value);
  return undefined;
}

export const MATCHERS: Readonly<Record<ClauseKey, Matcher>> = {
  action: (clause, event) => {
    const action = event.action.toLowerCase();
    return clause.values.some((pattern) => globMatches(pattern, action));
  },
  category: (clause, event) => anyEquals(clause, lower(event.category)),
  actor: (clause, event) =>
    anySubstring(clause, [event.actor.id, event.actor.name, event.actor.email]),
  actor_type: (clause, event) => anyEquals(clause, event.actor.type),
  username: (clause, event) => anyEquals(clause, lower(event.actor.name)),
  email: (clause, event) => anyEquals(clause, lower(event.actor.email)),
  target_type: (clause, event) => event.targets.some((t) => anyEquals(clause, lower(t.type))),
  target_id: (clause, event) => event.targets.some((t) => anyEquals(clause, t.id)),
  target: (clause, event) => event.targets.some((t) => anyEquals(clause, lower(t.name))),
  ip: (clause, event) => {
    const key = event.context.ip === undefined ? null : ipKey(event.context.ip);
    if (key === null) return false;
    return clause.values.some((cidr) => {
      const { lo, hi } = cidrKeyRange(cidr);
      return lo <= key && key <= hi;
    });
  },
  outcome: (clause, event) => anyEquals(clause, event.outcome),
  operation: (clause, event) => anyEquals(clause, event.operation),
  id: (clause, event) => anyEquals(clause, event.id),
  request_id: (clause, event) => anyEquals(clause, event.context.request_id),
  system: (clause, event) => {
    const isSystem = event.actor.type === 'system' || event.actor.type === 'automation';
    return clause.values.includes(String(isSystem));
  },
  meta: (clause, event) => anyEquals(clause, metadataText(event, clause.metaKey)),
  text: (clause, event) =>
    anySubstring(clause, [
      event.action,
      event.actor.id,
      event.actor.name,
      event.actor.email,
      ...event.targets.map((t) => t.name),
    ]),
};

export function matchesClause(clause: Clause, event: StoredEvent): boolean {
  const any = MATCHERS[clause.key](clause, event);
  // A negated clause matches when none of its values do.
  return clause.negated ? !any : any;
}

export function matchesFilter(filter: Filter, event: StoredEvent): boolean {
  if (filter.since !== undefined && event.occurred_at < filter.since) return false;
  if (filter.until !== undefined && event.occurred_at >= filter.until) return false;
  return filter.clauses.every((clause) => matchesClause(clause, event));
}
