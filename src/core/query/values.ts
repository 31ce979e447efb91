/**
 * Per-key value rules: what each key accepts and the one normalized spelling it stores, as
 * documented on ClauseKey in filter.ts. Case-insensitive keys are lower-cased here once, so the
 * evaluator and the SQL compilers only ever compare against lower-case values.
 */
import { ACTOR_TYPES, OPERATIONS, OUTCOMES } from '../event.js';
import { normalizeCidr } from '../ip.js';
import type { ClauseKey } from './filter.js';
import type { QueryKey } from './keys.js';
import type { Rejection } from './query-error.js';

/** Keys whose terms become clauses (since and until become the Filter's time range instead). */
export type ClauseQueryKey = Exclude<QueryKey, 'since' | 'until'>;

export const MAX_VALUE_LENGTH = 512;

/**
 * A control character (C0, DEL, C1) or a lone UTF-16 surrogate. No stored text a query could
 * match holds a lone surrogate (it has no UTF-8 form), the engines cannot take a NUL (SQLite
 * FTS5 ends its phrase there, PostgreSQL refuses it in text), and a control character in a
 * search box is a paste slip, not a question: all are refused rather than searched for.
 */
const UNSEARCHABLE =
  // eslint-disable-next-line no-control-regex -- finding control characters is the point
  /[\u0000-\u001f\u007f-\u009f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Where in `value` the first character no query may hold sits, and why, or undefined. */
export function unsearchableCharacter(
  value: string,
): { readonly index: number; readonly rejection: Rejection } | undefined {
  const found = UNSEARCHABLE.exec(value);
  if (found === null) return undefined;
  const unit = value.charCodeAt(found.index);
  const name = `U+${unit.toString(16).toUpperCase().padStart(4, '0')}`;
  const rejection: Rejection =
    unit >= 0xd800
      ? {
          problem: `Lone surrogate ${name}`,
          hint: 'half of a UTF-16 pair is not valid Unicode, and no stored text holds one',
        }
      : {
          problem: `Control character ${name}`,
          hint: 'a query cannot hold control characters (tabs and line breaks only separate terms); remove it',
        };
  return { index: found.index, rejection };
}
const ACTION_GLOB = /^[a-z0-9._:*-]{1,128}$/;

const lower = (value: string): string => value.toLowerCase();
const exact = (value: string): string => value;

function oneOf(key: string, allowed: readonly string[]): (value: string) => string | Rejection {
  return (value) => {
    const normalized = value.toLowerCase();
    if (allowed.includes(normalized)) return normalized;
    return {
      problem: `Unknown ${key} ${JSON.stringify(value)}`,
      hint: `expected one of: ${allowed.join(', ')}`,
    };
  };
}

function action(value: string): string | Rejection {
  // `job.**` asks the same as `job.*`; one spelling keeps equal questions equal.
  const normalized = value.toLowerCase().replace(/\*+/g, '*');
  if (ACTION_GLOB.test(normalized)) return normalized;
  return {
    problem: `Invalid action ${JSON.stringify(value)}`,
    hint: 'use letters, digits and ._:- (with * as a wildcard), 1 to 128 characters',
  };
}

function ip(value: string): string | Rejection {
  return (
    normalizeCidr(value) ?? {
      problem: `Invalid IP address or CIDR range ${JSON.stringify(value)}`,
      hint: 'write an address (203.0.113.7, 2001:db8::1) or a range (10.0.0.0/8, 2001:db8::/32)',
    }
  );
}

function is(value: string): string | Rejection {
  if (value.toLowerCase() === 'system') return 'true';
  return {
    problem: `Unknown value ${JSON.stringify(value)} for "is"`,
    hint: 'the only one is is:system (system and automation actors); negate it with -is:system',
  };
}

export const VALUE_RULES: Readonly<Record<ClauseQueryKey, (value: string) => string | Rejection>> =
  {
    action,
    category: lower,
    actor: lower,
    actor_type: oneOf('actor_type', ACTOR_TYPES),
    username: lower,
    email: lower,
    target_type: lower,
    target_id: exact,
    target: lower,
    ip,
    outcome: oneOf('outcome', OUTCOMES),
    operation: oneOf('operation', OPERATIONS),
    id: exact,
    request_id: exact,
    is,
    meta: exact,
  };

export const CLAUSE_KEY_OF: Readonly<Record<ClauseQueryKey, ClauseKey>> = {
  action: 'action',
  category: 'category',
  actor: 'actor',
  actor_type: 'actor_type',
  username: 'username',
  email: 'email',
  target_type: 'target_type',
  target_id: 'target_id',
  target: 'target',
  ip: 'ip',
  outcome: 'outcome',
  operation: 'operation',
  id: 'id',
  request_id: 'request_id',
  is: 'system',
  meta: 'meta',
};

/** Only a metadata value can meaningfully be "" (every other field is never empty). */
export function allowsEmptyValue(key: ClauseQueryKey): boolean {
  return key === 'meta';
}
