import { ipKey } from '../core/ip.js';

/**
 * Pure SQL helpers that both engines share. Nothing here knows a driver or a dialect beyond
 * standard `LIKE ... ESCAPE`.
 */

/** The escape character every LIKE pattern built here declares with `ESCAPE '\'`. */
export const LIKE_ESCAPE = '\\';

/** Makes `text` match itself literally inside a LIKE pattern. */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (char) => LIKE_ESCAPE + char);
}

/**
 * A query-language glob (`*` = any run of characters, everything else literal) as a LIKE
 * pattern to use with `ESCAPE '\'`: `job.*` -> `job.%`, `a_b*` -> `a\_b%`.
 */
export function globToLike(glob: string): string {
  return glob.split('*').map(escapeLike).join('%');
}

/** Whether a query-language value is a glob rather than an exact value. */
export function isGlob(value: string): boolean {
  return value.includes('*');
}

/** `?, ?, ?` for `count` placeholders (at least one). */
export function placeholders(count: number): string {
  return Array.from({ length: Math.max(count, 1) }, () => '?').join(', ');
}

const DOTTED_QUAD = /^(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})$/;
const V4_MAPPED_PREFIX = '00000000000000000000ffff';

/**
 * `ipKey` (src/core/ip.ts) with a fast path for plain IPv4, the common case on the ingest path
 * (parsing every address with ipaddr.js costs more than inserting the row). Anything else goes
 * to `ipKey` itself; a property test pins that both always agree.
 */
export function ingestIpKey(text: string): string | null {
  const quad = DOTTED_QUAD.exec(text);
  if (quad === null) return ipKey(text);
  let key = V4_MAPPED_PREFIX;
  for (let i = 1; i <= 4; i += 1) {
    const octet = Number(quad[i]);
    if (octet > 255) return null;
    key += octet.toString(16).padStart(2, '0');
  }
  return key;
}
