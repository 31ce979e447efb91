/**
 * RFC 8785 (JCS) canonical JSON. The hash chain is computed over these bytes, so the same event
 * always hashes the same on every engine and every machine.
 *
 * Hashing happens for every event ingested and every event verified, so this is a small
 * specialised writer for plain JSON values (what validation lets through). JCS serialises
 * strings and numbers exactly as ECMAScript's JSON.stringify does and sorts object keys by UTF-16
 * code units, as Array.prototype.sort does. The `canonicalize` package (the reference
 * implementation by one of the RFC's authors) is kept as the oracle: a property test checks that
 * both give the same text for arbitrary JSON, and canonicalJsonReference is used where speed
 * does not matter.
 */
import canonicalizeImpl from 'canonicalize';

const canonicalizeFn = canonicalizeImpl as unknown as (value: unknown) => string | undefined;

export function canonicalJson(value: unknown): string {
  const sorted = sortedForStringify(value);
  const text = sorted === UNSUITABLE ? write(value) : JSON.stringify(sorted);
  if (text === undefined) throw new TypeError('value has no JSON representation');
  return text;
}

const UNSUITABLE = Symbol('unsuitable');

/** A property name that V8 keeps in numeric order, ahead of every other name. */
const INDEX_LIKE = /^(?:0|[1-9]\d*)$/;

/**
 * `value` with every object's keys in JCS order (the same objects where they already are, as
 * they usually are for events this service built), or UNSUITABLE when native JSON.stringify of
 * it would not be JCS: an integer-like key (objects list those first, in numeric order), a
 * number JSON cannot hold, or a toJSON method. JSON.stringify writes strings and numbers as JCS
 * does, and natively it is several times faster than the writer below; the property test
 * against the reference implementation covers both paths.
 */
function sortedForStringify(value: unknown): unknown {
  if (value === null || typeof value !== 'object') {
    return typeof value === 'number' && !Number.isFinite(value) ? UNSUITABLE : value;
  }
  return Array.isArray(value) ? sortedArray(value) : sortedObject(value);
}

/** sortedForStringify for a member: strings, booleans and null answer without a call. */
function sortedMember(member: unknown): unknown {
  if (typeof member === 'string' || typeof member === 'boolean' || member === null) return member;
  return sortedForStringify(member);
}

function sortedArray(value: readonly unknown[]): unknown {
  let copy: unknown[] | undefined;
  for (let i = 0; i < value.length; i += 1) {
    const item: unknown = value[i];
    const sorted = sortedMember(item);
    if (sorted === UNSUITABLE) return UNSUITABLE;
    if (sorted !== item) {
      copy ??= value.slice();
      copy[i] = sorted;
    }
  }
  return copy ?? value;
}

function sortedObject(value: object): unknown {
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return UNSUITABLE;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  let inOrder = true;
  let members: unknown[] | undefined;
  for (let i = 0; i < keys.length; i += 1) {
    const key = keys[i]!;
    const first = key.charCodeAt(0);
    if (first >= 48 && first <= 57 && INDEX_LIKE.test(key)) return UNSUITABLE;
    if (i > 0 && key < keys[i - 1]!) inOrder = false;
    const member = record[key];
    const sorted = sortedMember(member);
    if (sorted === UNSUITABLE) return UNSUITABLE;
    if (sorted !== member && members === undefined) {
      members = keys.slice(0, i).map((k) => record[k]);
    }
    members?.push(sorted);
  }
  if (inOrder && members === undefined) return value;
  const order = keys.map((key, i) => ({
    key,
    member: members === undefined ? record[key] : members[i],
  }));
  if (!inOrder) order.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  // No prototype, so a "__proto__" key is an own member like any other.
  const copy = Object.create(null) as Record<string, unknown>;
  for (const { key, member } of order) copy[key] = member;
  return copy;
}

/** The reference implementation, for tests and cross-checks. */
export function canonicalJsonReference(value: unknown): string {
  const text = canonicalizeFn(value);
  if (text === undefined) throw new TypeError('value has no JSON representation');
  return text;
}

function write(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) {
      throw new TypeError(`${value} has no JSON representation`);
    }
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i += 1) {
      if (i > 0) out += ',';
      out += write(value[i]) ?? 'null';
    }
    return `${out}]`;
  }
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    return canonicalJsonReference(value);
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record).sort();
  let out = '{';
  let first = true;
  for (const key of keys) {
    const member = write(record[key]);
    if (member === undefined) continue;
    out += `${first ? '' : ','}${JSON.stringify(key)}:${member}`;
    first = false;
  }
  return `${out}}`;
}
