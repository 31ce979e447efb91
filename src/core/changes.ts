/**
 * Change tracking: the field-level difference between a resource's `before` and `after`, with
 * each field's rule applied (coder/coder's audit table is the model):
 *   track  - the old and new values are stored;
 *   ignore - the field is never stored (timestamps that change on every write, caches);
 *   secret - only the fact that it changed is stored, never a value.
 * Fields without a declared rule are tracked, unless their name looks secret (password, token,
 * api_key, ...), which makes them secret: a forgotten declaration must not leak a credential.
 *
 * Nested objects are diffed field by field with dotted paths (`settings.theme`); arrays and
 * scalars are compared whole. Changes come out sorted by field, so a parent path always comes
 * before its children, and applying them in order (set `new`, or delete when there is none)
 * turns the tracked part of `before` into the tracked part of `after`.
 */
import { canonicalJson } from './canonical.js';
import type { Change } from './event.js';
import type { JsonObject, JsonValue } from './json.js';
import { emptyRecord } from './safe-keys.js';

export type FieldRule = 'track' | 'ignore' | 'secret';

export interface ResourceSchema {
  /**
   * The rule for fields the schema does not list (default `track`). With `track`, a field whose
   * name looks secret is still secret; `ignore` and `secret` apply to every unlisted field.
   */
  default?: FieldRule;
  /** Keyed by field name or dotted path (`settings.api_key`). */
  fields: Record<string, FieldRule>;
}

/** Words that make a field secret wherever they appear in its name. */
const SECRET_WORDS = new Set([
  'password',
  'passwords',
  'passwd',
  'passphrase',
  'passcode',
  'pwd',
  'secret',
  'secrets',
  'token',
  'tokens',
  'key',
  'keys',
  'credential',
  'credentials',
  'otp',
  'totp',
  'hotp',
  'salt',
  'cvv',
  'cvc',
]);

/** Secret names written as one word (`apikey`, `authToken` lower-cased is two words already). */
const SECRET_COMPOUNDS = new Set([
  'apikey',
  'privatekey',
  'secretkey',
  'accesskey',
  'signingkey',
  'encryptionkey',
  'authtoken',
  'accesstoken',
  'refreshtoken',
  'idtoken',
  'bearertoken',
  'clientsecret',
  'passwordhash',
  'hashedpassword',
]);

/**
 * A last word that says the value is about the secret, not the secret itself:
 * `api_key_id`, `token_expires_at`, `password_changed_at`, `key_count`.
 */
const DESCRIPTIVE_SUFFIXES = new Set([
  'id',
  'ids',
  'name',
  'type',
  'count',
  'prefix',
  'hint',
  'last4',
  'length',
  'expires',
  'expiry',
  'at',
  'fingerprint',
  'scope',
  'scopes',
  'version',
  'status',
  'set',
]);

/** The words of a field name: `hashed_password` -> hashed, password; `apiKey` -> api, key. */
function nameWords(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z])([A-Z][a-z])/g, '$1 $2')
    .split(/[^A-Za-z0-9]+/)
    .filter((word) => word.length > 0)
    .map((word) => word.toLowerCase());
}

/**
 * Whether a field name looks like it holds a credential. Works on whole words, so `api_key`,
 * `apiKey`, `private_key`, `hashed_password` and `otp` are secret but `keyboard`, `monkey` and
 * `tokenizer` are not; a public key and descriptive names (`api_key_id`) are not secret either.
 */
export function looksSecret(fieldName: string): boolean {
  const words = nameWords(fieldName);
  const last = words[words.length - 1];
  if (last === undefined) return false;
  if (words.length > 1 && DESCRIPTIVE_SUFFIXES.has(last)) return false;
  return words.some((word, i) => {
    if ((word === 'key' || word === 'keys') && words[i - 1] === 'public') return false;
    return (
      SECRET_WORDS.has(word) ||
      SECRET_COMPOUNDS.has(word) ||
      word.endsWith('password') ||
      word.endsWith('passwd')
    );
  });
}

function declared(schema: ResourceSchema | undefined, path: string): FieldRule | undefined {
  const fields = schema?.fields;
  return fields !== undefined && Object.hasOwn(fields, path) ? fields[path] : undefined;
}

/**
 * The rule for a dotted field path: a rule declared for the path itself; else an `ignore` or
 * `secret` declared for an enclosing field (they cover everything inside it); else `ignore`
 * when that is the schema's default; else `secret` when any part of the path looks secret
 * (parts declared `track` excepted); else the schema's default (`track` unless it says, and
 * always `track` inside a field declared `track`).
 */
export function fieldRule(path: string, schema?: ResourceSchema): FieldRule {
  const exact = declared(schema, path);
  if (exact !== undefined) return exact;
  const segments = path.split('.');
  for (let n = segments.length - 1; n >= 1; n--) {
    const rule = declared(schema, segments.slice(0, n).join('.'));
    if (rule === 'ignore' || rule === 'secret') return rule;
  }
  // A field declared `track` covers its unlisted members too: they are part of what is tracked.
  let fallback = schema?.default ?? 'track';
  for (let n = segments.length - 1; n >= 1 && fallback !== 'track'; n--) {
    if (declared(schema, segments.slice(0, n).join('.')) === 'track') fallback = 'track';
  }
  if (fallback === 'ignore') return 'ignore';
  for (let n = 1; n <= segments.length; n++) {
    if (declared(schema, segments.slice(0, n).join('.')) === 'track') continue;
    if (looksSecret(segments[n - 1]!)) return 'secret';
  }
  return fallback;
}

function isObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function sameValue(a: JsonValue, b: JsonValue): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  return canonicalJson(a) === canonicalJson(b);
}

interface Scrubbed {
  value: JsonValue;
  /** A secret field was found inside: the whole value must not be stored. */
  secret: boolean;
}

/**
 * Applies the rules inside a value that is stored whole (an array, or an object a sender put
 * in a change): ignored members are dropped, and any secret member makes the value secret.
 * Members of objects inside arrays count as members of the array's field.
 */
function scrub(path: string, value: JsonValue, schema: ResourceSchema | undefined): Scrubbed {
  if (Array.isArray(value)) {
    let secret = false;
    const items = value.map((item) => {
      const inner = scrub(path, item, schema);
      secret ||= inner.secret;
      return inner.value;
    });
    return { value: items, secret };
  }
  if (!isObject(value)) return { value, secret: false };
  let secret = false;
  // Keys come from the sender: a `__proto__` member must stay a member, not become a prototype.
  const kept = emptyRecord<JsonValue>();
  for (const [key, member] of Object.entries(value)) {
    const memberPath = `${path}.${key}`;
    const rule = fieldRule(memberPath, schema);
    if (rule === 'ignore') continue;
    if (rule === 'secret') {
      secret = true;
      continue;
    }
    const inner = scrub(memberPath, member, schema);
    secret ||= inner.secret;
    kept[key] = inner.value;
  }
  return { value: kept, secret };
}

/** One stored change for a field stored whole, after its rules; undefined when nothing remains. */
function wholeChange(
  field: string,
  old: JsonValue | undefined,
  next: JsonValue | undefined,
  schema: ResourceSchema | undefined,
): Change | undefined {
  const before = old === undefined ? undefined : scrub(field, old, schema);
  const after = next === undefined ? undefined : scrub(field, next, schema);
  if (before?.secret || after?.secret) return { field, secret: true };
  if (before !== undefined && after !== undefined && sameValue(before.value, after.value)) {
    return undefined;
  }
  // Members in canonical (JCS) order, so hashing finds nothing to sort.
  const change: Change = { field };
  if (after !== undefined) change.new = after.value;
  if (before !== undefined) change.old = before.value;
  return change;
}

const EMPTY: JsonObject = Object.freeze({});

/**
 * The changes from `before` to `after` (either may be absent: a create has no before, a delete
 * no after), with each field's rule applied. Sorted by field.
 */
export function diffObjects(
  before: JsonObject | undefined,
  after: JsonObject | undefined,
  schema?: ResourceSchema,
): Change[] {
  const changes: Change[] = [];

  const walk = (prefix: string, b: JsonObject | undefined, a: JsonObject | undefined): void => {
    const keys = new Set([...Object.keys(b ?? EMPTY), ...Object.keys(a ?? EMPTY)]);
    for (const key of keys) {
      const path = prefix === '' ? key : `${prefix}.${key}`;
      const old = b !== undefined && Object.hasOwn(b, key) ? b[key] : undefined;
      const next = a !== undefined && Object.hasOwn(a, key) ? a[key] : undefined;
      field(path, old, next);
    }
  };

  const field = (path: string, old: JsonValue | undefined, next: JsonValue | undefined): void => {
    if (old === undefined && next === undefined) return;
    const rule = fieldRule(path, schema);
    if (rule === 'ignore') return;
    if (rule === 'secret') {
      if (old === undefined || next === undefined || !sameValue(old, next)) {
        changes.push({ field: path, secret: true });
      }
      return;
    }
    const oldIsObject = isObject(old);
    const nextIsObject = isObject(next);
    if (oldIsObject && nextIsObject) {
      walk(path, old, next);
      return;
    }
    if (oldIsObject || nextIsObject) {
      // An object on one side only: its members appear or disappear one by one (so the rules
      // inside it apply), and the non-object side, if any, is the change of the field itself.
      // An empty object has no members to carry it, so it is stored as the value `{}`.
      const objectSide = (oldIsObject ? old : next) as JsonObject;
      const empty = Object.keys(objectSide).length === 0;
      if (!empty) walk(path, oldIsObject ? old : undefined, nextIsObject ? next : undefined);
      const oldValue = oldIsObject ? (empty ? {} : undefined) : old;
      const nextValue = nextIsObject ? (empty ? {} : undefined) : next;
      if (oldValue === undefined && nextValue === undefined) return;
      const change = wholeChange(path, oldValue, nextValue, schema);
      if (change) changes.push(change);
      return;
    }
    if (old !== undefined && next !== undefined && sameValue(old, next)) return;
    const change = wholeChange(path, old, next, schema);
    if (change) changes.push(change);
  };

  walk('', before, after);
  return changes.sort((x, y) => (x.field < y.field ? -1 : x.field > y.field ? 1 : 0));
}

/**
 * Applies the same rules to changes a sender computed: ignored fields are dropped, secret ones
 * (by rule, by name, or marked `secret: true` by the sender) lose their values, and values that
 * hold secret members are withheld. The sender's order is kept.
 */
export function redactChanges(changes: readonly Change[], schema?: ResourceSchema): Change[] {
  const result: Change[] = [];
  for (const change of changes) {
    const rule = fieldRule(change.field, schema);
    if (rule === 'ignore') continue;
    if (rule === 'secret' || change.secret === true) {
      result.push({ field: change.field, secret: true });
      continue;
    }
    const old = Object.hasOwn(change, 'old') ? change.old : undefined;
    const next = Object.hasOwn(change, 'new') ? change.new : undefined;
    const before = old === undefined ? undefined : scrub(change.field, old, schema);
    const after = next === undefined ? undefined : scrub(change.field, next, schema);
    if (before?.secret || after?.secret) {
      result.push({ field: change.field, secret: true });
      continue;
    }
    const redacted: Change = { field: change.field };
    if (after !== undefined) redacted.new = after.value;
    if (before !== undefined) redacted.old = before.value;
    result.push(redacted);
  }
  return result;
}
