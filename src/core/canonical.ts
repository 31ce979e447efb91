/**
 * RFC 8785 (JCS) canonical JSON. The hash chain is computed over these bytes, so the same event
 * always hashes the same on every engine and every machine.
 */
import canonicalizeImpl from 'canonicalize';

const canonicalizeFn = canonicalizeImpl as unknown as (value: unknown) => string | undefined;

export function canonicalJson(value: unknown): string {
  const text = canonicalizeFn(value);
  if (text === undefined) throw new TypeError('value has no JSON representation');
  return text;
}
