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
  const text = write(value);
  if (text === undefined) throw new TypeError('value has no JSON representation');
  return text;
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
