/**
 * API key format: `tk_<scope>_<32 base62 characters>` (about 190 random bits). The first
 * PREFIX_CHARS characters after the scope are a public lookup handle (shown in listings and
 * stored in clear); the remaining 24 characters (about 142 bits) are the secret. Only the
 * sha256 of the whole key is stored, and it is compared in constant time.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { KeyScope } from '../store/store.js';
import { randomBase62 } from './random.js';

export const KEY_SCOPES = ['ingest', 'read', 'admin'] as const satisfies readonly KeyScope[];

const RANDOM_CHARS = 32;
const PREFIX_CHARS = 8;
const KEY_PATTERN = /^tk_(ingest|read|admin)_([0-9A-Za-z]{22,64})$/;

export interface ParsedKey {
  scope: KeyScope;
  /** `tk_<scope>_<first 8 random characters>`: the non-secret lookup handle. */
  prefix: string;
}

export function generateApiKey(scope: KeyScope): { key: string; prefix: string; hash: string } {
  const key = `tk_${scope}_${randomBase62(RANDOM_CHARS)}`;
  const parsed = parseApiKey(key);
  if (!parsed) throw new Error('generated an unparseable key');
  return { key, prefix: parsed.prefix, hash: hashApiKey(key) };
}

/** The scope and lookup prefix of a well-formed key, or undefined for anything else. */
export function parseApiKey(text: string): ParsedKey | undefined {
  const match = KEY_PATTERN.exec(text);
  if (!match) return undefined;
  const scope = match[1] as KeyScope;
  const random = match[2] ?? '';
  return { scope, prefix: `tk_${scope}_${random.slice(0, PREFIX_CHARS)}` };
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** Constant-time comparison of a presented key with a stored sha256 hex digest. */
export function apiKeyMatches(key: string, storedHash: string): boolean {
  const actual = Buffer.from(hashApiKey(key), 'hex');
  const expected = Buffer.from(storedHash, 'hex');
  return expected.length === actual.length && timingSafeEqual(actual, expected);
}

/** Looks like a Trailkeep key, for refusing keys in query strings and redacting logs. */
export function looksLikeApiKey(text: string): boolean {
  return /^tk_(ingest|read|admin)_/.test(text);
}
