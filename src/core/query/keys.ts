/**
 * The keys of the query language: their canonical names, their aliases and the rules for
 * `meta.KEY`. One table shared by the parser, the printer and `filterFromParams`, so a key can
 * never be known to one of them and unknown to another.
 */
import { RESERVED_KEYS_RULE, isReservedKey, ownValue } from '../safe-keys.js';

/** Canonical query keys, in the order the documentation and error messages list them. */
export const QUERY_KEYS = [
  'action',
  'category',
  'actor',
  'actor_type',
  'username',
  'email',
  'target_type',
  'target_id',
  'target',
  'ip',
  'outcome',
  'operation',
  'id',
  'request_id',
  'since',
  'until',
  'is',
  'meta',
] as const;

export type QueryKey = (typeof QUERY_KEYS)[number];

export interface ResolvedKey {
  readonly key: QueryKey;
  /** Only for `meta`: the metadata key, case kept. */
  readonly metaKey?: string;
}

/** Other spellings accepted for a key; each resolves to exactly one canonical key. */
export const KEY_ALIASES: Readonly<Record<string, ResolvedKey>> = Object.freeze({
  resource_type: { key: 'target_type' },
  resource_id: { key: 'target_id' },
  resource_target: { key: 'target' },
  crud: { key: 'operation' },
  date_from: { key: 'since' },
  date_to: { key: 'until' },
  build_reason: { key: 'meta', metaKey: 'build_reason' },
});

/**
 * Metadata keys that `meta.KEY` can name. Kept to a plain charset so that every storage engine
 * can look the key up without quoting rules of its own (JSON paths, `->>` operands).
 */
export const META_KEY_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
export const META_KEY_RULE = 'use 1 to 64 letters, digits, "_" or "-"';

const META_PREFIX = 'meta.';

/** The list shown in "unknown key" errors. */
export function describeKnownKeys(): string {
  const keys = QUERY_KEYS.map((key) => (key === 'meta' ? 'meta.KEY' : key)).join(', ');
  return `${keys} (aliases: ${Object.keys(KEY_ALIASES).join(', ')})`;
}

export type KeyResolution =
  | ({ readonly ok: true } & ResolvedKey)
  | { readonly ok: false; readonly problem: string; readonly hint: string };

/**
 * Resolves a key as written (`Action`, `crud`, `meta.buildId`) to its canonical form. Keys are
 * case-insensitive; the KEY of `meta.KEY` keeps its case because metadata keys are exact.
 */
export function resolveKey(written: string): KeyResolution {
  if (written === '') {
    return {
      ok: false,
      problem: 'Missing key',
      hint: 'write key:value, or quote a word that contains ":"',
    };
  }
  const lower = written.toLowerCase();
  if (lower.startsWith(META_PREFIX)) {
    const metaKey = written.slice(META_PREFIX.length);
    if (metaKey === '') {
      return { ok: false, problem: 'Missing metadata key', hint: 'write meta.KEY:value' };
    }
    if (!META_KEY_PATTERN.test(metaKey)) {
      return {
        ok: false,
        problem: `Invalid metadata key ${JSON.stringify(metaKey)}`,
        hint: META_KEY_RULE,
      };
    }
    if (isReservedKey(metaKey)) {
      // No event can hold such a key (validation refuses it), and a key that reaches a
      // prototype must not be handed to code that looks members up.
      return {
        ok: false,
        problem: `Reserved metadata key ${JSON.stringify(metaKey)}`,
        hint: RESERVED_KEYS_RULE,
      };
    }
    return { ok: true, key: 'meta', metaKey };
  }
  if (lower === 'meta') {
    return { ok: false, problem: 'Missing metadata key', hint: 'write meta.KEY:value' };
  }
  // Own members only: `constructor` would otherwise find Object's constructor and resolve to
  // a key that is no key at all (a 500 instead of "Unknown key").
  const alias = ownValue(KEY_ALIASES, lower);
  if (alias !== undefined) return { ok: true, ...alias };
  const canonical = QUERY_KEYS.find((key) => key === lower);
  if (canonical !== undefined) return { ok: true, key: canonical };
  return {
    ok: false,
    problem: `Unknown key ${JSON.stringify(written)}`,
    hint: `known keys: ${describeKnownKeys()}`,
  };
}
