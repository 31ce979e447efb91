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
