/**
 * How `events.body` is stored since schema version 3: the canonical JSON with fixed fragments
 * of the event schema (`,"occurred_at":"`, `,"targets":[{"id":"`, ...) replaced by one
 * control character each. Canonical JSON never holds a raw U+0001..U+001F (JSON escapes them
 * inside strings and allows none outside), so the replacement is exact and undone by one
 * pass: `unpackBody(packBody(text)) === text` for every JSON text. PostgreSQL only compresses
 * values in rows over about 2 kB, which event rows never reach; this takes about 40% off the
 * body (680 -> 410 bytes on the benchmark's events) at about 2 us per event to read back.
 *
 * The list is part of the stored format: NEVER edit, reorder or extend it in place (a change
 * needs a new schema version that converts the stored rows). Migration 3 defines the same
 * packing in SQL (trailkeep_pack_body / trailkeep_unpack_body) from this list.
 */

/**
 * Fragments in packing order (longest first where one contains another). The n-th fragment is
 * stored as the n-th code of PACK_CODES. Tab, line feed and carriage return are not used, so
 * a stored body stays one line in line-oriented tools.
 */
export const BODY_FRAGMENTS: readonly string[] = [
  ',"outcome":"success","received_at":"',
  ',"outcome":"failure","received_at":"',
  ',"changes":[{"field":"',
  ',"targets":[{"id":"',
  ',"actor":{"email":"',
  ',"actor":{"id":"',
  ',"occurred_at":"',
  ',"received_at":"',
  ',"user_agent":"',
  ',"request_id":"',
  ',"context":{"ip":"',
  ',"context":{"',
  ',"operation":"',
  ',"workspace":"',
  ',"metadata":{"',
  ',"category":"',
  ',"outcome":"',
  ',{"field":"',
  '{"action":"',
  ',"secret":true',
  ',"email":"',
  ',"name":"',
  ',"type":"',
  ',{"id":"',
  ',"seq":',
  ',"new":',
  ',"old":',
  ',"id":"',
];

/** U+0001..U+001F without tab (9), line feed (10) and carriage return (13). */
export const PACK_CODES: readonly number[] = Array.from({ length: 31 }, (_, i) => i + 1).filter(
  (c) => c !== 9 && c !== 10 && c !== 13,
);

if (BODY_FRAGMENTS.length > PACK_CODES.length) throw new Error('too many body fragments');

const EXPAND: readonly string[] = (() => {
  const table: string[] = new Array<string>(32).fill('');
  BODY_FRAGMENTS.forEach((fragment, i) => {
    table[PACK_CODES[i] ?? 0] = fragment;
  });
  return table;
})();

const PACKED: ReadonlyMap<string, string> = new Map(
  BODY_FRAGMENTS.map((fragment, i) => [fragment, String.fromCharCode(PACK_CODES[i] ?? 0)]),
);

/** Any fragment, earlier ones first at the same position. */
const FRAGMENTS = new RegExp(
  BODY_FRAGMENTS.map((f) => f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'),
  'g',
);

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f]/;
// eslint-disable-next-line no-control-regex
const CODES = /[\u0001-\u001f]/g;

/** The stored form of a body (canonical JSON). Refuses text that could not come back exact. */
export function packBody(text: string): string {
  if (CONTROL.test(text)) {
    throw new Error('trailkeep: an event body holds a raw control character; it is not JSON');
  }
  return text.replace(FRAGMENTS, (fragment) => PACKED.get(fragment) ?? fragment);
}

/** The body as it was hashed, from its stored form. */
export function unpackBody(stored: string): string {
  return stored.replace(CODES, (code) => EXPAND[code.charCodeAt(0)] ?? code);
}

/** Unpacks `body` of each row in place (rows straight from the driver), and returns them. */
export function unpackRows<T extends { body: string }>(rows: T[]): T[] {
  for (const row of rows) row.body = unpackBody(row.body);
  return rows;
}

/** SQL quoting of a fragment as a string literal. */
function literal(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

/**
 * SQL expression packing `expr` (text), for migration 3: one fragment after the other, which
 * may pick other fragments than packBody's single left-to-right pass where two overlap; both
 * forms unpack to the same text, which is all that matters.
 */
export function packSql(expr: string): string {
  return BODY_FRAGMENTS.reduce(
    (inner, fragment, i) => `replace(${inner}, ${literal(fragment)}, chr(${PACK_CODES[i] ?? 0}))`,
    expr,
  );
}

/** SQL expression unpacking `expr` (a stored body) exactly as unpackBody does. */
export function unpackSql(expr: string): string {
  return BODY_FRAGMENTS.reduceRight(
    (inner, fragment, i) => `replace(${inner}, chr(${PACK_CODES[i] ?? 0}), ${literal(fragment)})`,
    expr,
  );
}
