/**
 * Ids the client chooses. An event gets its id when it is recorded, before it is spooled or
 * sent, so that every retry and every re-send after a restart carries the same id and the
 * server stores the event once.
 */
import { randomBytes } from 'node:crypto';

/** `evt_` and 26 characters of base32 (128 random bits). */
export function newEventId(): string {
  return `evt_${base32(randomBytes(16))}`;
}

/** `req_` and 16 characters of base32, for requests that arrive without an X-Request-Id. */
export function newRequestId(): string {
  return `req_${base32(randomBytes(10))}`;
}

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';

function base32(bytes: Uint8Array): string {
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += ALPHABET[(buffer >> bits) & 31];
    }
    buffer &= (1 << bits) - 1;
  }
  if (bits > 0) out += ALPHABET[(buffer << (5 - bits)) & 31];
  return out;
}
