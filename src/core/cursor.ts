/**
 * Page cursors. A cursor carries the whole question (the canonical text of its Filter), the
 * workspace, the direction and the position, signed with the server's HMAC key, so following a
 * cursor alone fetches the next page and can never widen or change the question: a client can
 * read a cursor but not forge or edit one.
 *
 * Token: base64url(JSON payload) "." base64url(HMAC-SHA256(key, first part)).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { TrailkeepError } from './errors.js';
import type { Filter, Position } from './query/filter.js';
import { parseFilter } from './query/normalize.js';
import { printFilter } from './query/print.js';

export const CURSOR_VERSION = 1;

export interface CursorPayload {
  readonly v: 1;
  readonly workspace: string;
  /** `printFilter` output of the question. */
  readonly query: string;
  readonly direction: 'older' | 'newer';
  readonly position: Position;
  readonly limit: number;
}

const MIN_KEY_BYTES = 16;
const BASE64URL = /^[A-Za-z0-9_-]+$/;
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

function invalid(detail: string): TrailkeepError {
  return new TrailkeepError('cursor_invalid', detail);
}

function checkKey(key: Uint8Array): void {
  if (key.length < MIN_KEY_BYTES) {
    throw new TrailkeepError(
      'internal',
      `The cursor signing key has ${key.length} bytes; it needs at least ${MIN_KEY_BYTES}`,
    );
  }
}

function sign(body: string, key: Uint8Array): string {
  return createHmac('sha256', key).update(body).digest('base64url');
}

export function encodeCursor(payload: CursorPayload, key: Uint8Array): string {
  checkKey(key);
  // Fields listed explicitly: only the documented ones are ever signed.
  const json = JSON.stringify({
    v: payload.v,
    workspace: payload.workspace,
    query: payload.query,
    direction: payload.direction,
    position: { occurred_at: payload.position.occurred_at, seq: payload.position.seq },
    limit: payload.limit,
  });
  const body = Buffer.from(json, 'utf8').toString('base64url');
  return `${body}.${sign(body, key)}`;
}

/**
 * Verifies and reads a cursor. The signature is checked on the text as sent (not on decoded
 * bytes, which base64 decoders accept in several spellings), so any change to a token is caught.
 */
export function decodeCursor(token: string, key: Uint8Array): CursorPayload {
  checkKey(key);
  const parts = token.split('.');
  const [body, signature] = parts;
  if (
    parts.length !== 2 ||
    body === undefined ||
    signature === undefined ||
    !BASE64URL.test(body) ||
    !BASE64URL.test(signature)
  ) {
    throw invalid(
      'The cursor is malformed; pass next_cursor or prev_cursor exactly as a previous page returned it',
    );
  }
  const expected = Buffer.from(sign(body, key), 'utf8');
  const given = Buffer.from(signature, 'utf8');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw invalid(
      'The cursor was not issued by this server or was altered; start again from the first page',
    );
  }
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  } catch {
    throw invalid('The cursor is malformed: its content is not JSON');
  }
  return readPayload(decoded);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function hasOnly(record: Record<string, unknown>, keys: readonly string[]): boolean {
  return Object.keys(record).every((key) => keys.includes(key));
}

/** Checks every field of a signed payload: a signature proves origin, not current shape. */
function readPayload(value: unknown): CursorPayload {
  if (!isRecord(value)) throw invalid('The cursor is malformed: its content is not an object');
  if (value['v'] !== CURSOR_VERSION) {
    throw invalid(
      `The cursor has version ${JSON.stringify(value['v'] ?? null)}, which this server does not support (it reads version ${CURSOR_VERSION}); start again from the first page`,
    );
  }
  const bad = (field: string) => invalid(`The cursor is malformed: field "${field}" is not valid`);
  const { workspace, query, direction, position, limit } = value;
  if (!hasOnly(value, ['v', 'workspace', 'query', 'direction', 'position', 'limit'])) {
    throw invalid('The cursor is malformed: it has unknown fields');
  }
  if (typeof workspace !== 'string' || workspace === '') throw bad('workspace');
  if (typeof query !== 'string') throw bad('query');
  if (direction !== 'older' && direction !== 'newer') throw bad('direction');
  if (!isRecord(position) || !hasOnly(position, ['occurred_at', 'seq'])) throw bad('position');
  const { occurred_at: occurredAt, seq } = position;
  if (typeof occurredAt !== 'string' || !ISO_UTC.test(occurredAt))
    throw bad('position.occurred_at');
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) throw bad('position.seq');
  if (typeof limit !== 'number' || !Number.isSafeInteger(limit) || limit < 1) throw bad('limit');
  return Object.freeze({
    v: CURSOR_VERSION,
    workspace,
    query,
    direction,
    position: Object.freeze({ occurred_at: occurredAt, seq }),
    limit,
  });
}

export interface CursorContext {
  /** The workspace of the request. */
  readonly workspace: string;
  /**
   * The question sent alongside the cursor (from `q` and filter parameters), if the request
   * carried one. Leave it out when the request has neither: the cursor alone is the question.
   */
  readonly query?: Filter;
}

/** Refuses a cursor used in another workspace or alongside a different question. */
export function checkCursor(payload: CursorPayload, context: CursorContext): void {
  if (payload.workspace !== context.workspace) {
    throw invalid('The cursor belongs to another workspace; start again from the first page');
  }
  if (context.query !== undefined && printFilter(context.query) !== payload.query) {
    throw invalid('The cursor belongs to a different question; drop q or the cursor');
  }
}

/** The question a cursor carries. */
export function cursorFilter(payload: CursorPayload): Filter {
  try {
    return parseFilter(payload.query);
  } catch (error) {
    // Only a cursor from a server with other query rules can get here (ours are signed).
    throw new TrailkeepError(
      'cursor_invalid',
      'The cursor carries a question this server cannot read',
      {
        cause: error,
      },
    );
  }
}
