/** Spellings shared by the tlog text formats: canonical base64 and decimals, quoted excerpts. */

/**
 * Standard base64 in its one canonical spelling, or undefined. Buffer.from alone accepts almost
 * anything (base64url, missing padding, stray characters, non-zero padding bits); a text that is
 * exactly the encoding of what it decodes to has none of those.
 */
export function decodeBase64(text: string): Buffer | undefined {
  const bytes = Buffer.from(text, 'base64');
  return bytes.toString('base64') === text ? bytes : undefined;
}

/** A non-negative decimal with no leading zeros, as a safe integer, or undefined. */
export function parseDecimal(text: string): number | undefined {
  if (text.length > 16 || !/^(?:0|[1-9][0-9]*)$/.test(text)) return undefined;
  const value = Number(text);
  return Number.isSafeInteger(value) ? value : undefined;
}

const EXCERPT = 40;

/** Input quoted in an error message, cut short: a message never carries a whole megabyte back. */
export function quote(text: string): string {
  return JSON.stringify(text.length > EXCERPT ? `${text.slice(0, EXCERPT)}…` : text);
}
