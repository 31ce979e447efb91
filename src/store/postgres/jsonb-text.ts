/**
 * The text PostgreSQL prints for a jsonb value (`jsonb::text`), computed in JavaScript, so that
 * verify compares the `events.metadata` copy with the hashed body without a round trip or a
 * cast that a rewritten body could make fail. The rules are jsonb_out's: object keys sorted by
 * UTF-8 length then bytes, `", "` and `": "` separators, numbers as numeric_out prints the
 * numeric the JSON text parses to, strings with escape_json's escapes. test/store/
 * postgres-jsonb-text.test.ts holds it to the server's own output over generated values.
 */
import type { JsonValue } from '../../core/json.js';

const ESCAPES: Readonly<Record<string, string>> = {
  '"': '\\"',
  '\\': '\\\\',
  '\b': '\\b',
  '\f': '\\f',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
};

// eslint-disable-next-line no-control-regex
const NEEDS_ESCAPE = /["\\\u0000-\u001f]/;
// eslint-disable-next-line no-control-regex
const ESCAPED = /["\\\u0000-\u001f]/g;

function stringText(value: string): string {
  // Most metadata strings need no escape: verify prints one per string of every event.
  if (!NEEDS_ESCAPE.test(value)) return `"${value}"`;
  const escaped = value.replace(ESCAPED, (char) => {
    return ESCAPES[char] ?? `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
  return `"${escaped}"`;
}

/**
 * numeric_out of numeric_in(the JSON text of `value`): plain decimal notation, with as many
 * fractional digits as the exponent form implies (`1.5e-7` is `0.00000015`, `1e+21` is
 * `1000000000000000000000`).
 */
export function numericText(value: number): string {
  const text = String(value);
  const e = text.indexOf('e');
  if (e < 0) return text;
  const exponent = Number(text.slice(e + 1));
  let mantissa = text.slice(0, e);
  const sign = mantissa.startsWith('-') ? '-' : '';
  if (sign) mantissa = mantissa.slice(1);
  const [whole = '', fraction = ''] = mantissa.split('.');
  const digits = whole + fraction;
  const point = whole.length + exponent;
  if (point <= 0) return `${sign}0.${'0'.repeat(-point)}${digits}`;
  if (point >= digits.length) return `${sign}${digits}${'0'.repeat(point - digits.length)}`;
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}

function byJsonbKeyOrder(a: string, b: string): number {
  const x = Buffer.byteLength(a, 'utf8');
  const y = Buffer.byteLength(b, 'utf8');
  if (x !== y) return x - y;
  // All ASCII (as many bytes as UTF-16 units): code unit order is byte order.
  if (x === a.length && y === b.length) return a < b ? -1 : a > b ? 1 : 0;
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

export function jsonbText(value: JsonValue): string {
  if (value === null) return 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') return numericText(value);
  if (typeof value === 'string') return stringText(value);
  if (Array.isArray(value)) return `[${value.map(jsonbText).join(', ')}]`;
  const keys = Object.keys(value).sort(byJsonbKeyOrder);
  return `{${keys.map((key) => `${stringText(key)}: ${jsonbText(value[key] ?? null)}`).join(', ')}}`;
}
