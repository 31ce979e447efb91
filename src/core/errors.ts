/**
 * The one registry of Trailkeep's error codes. Every error a user can see is created here with a
 * stable code, an HTTP status and a title; the HTTP layer turns it into RFC 9457 problem+json
 * and the CLI into a one-line message. docs/errors.md is checked against this table by a test.
 */
export const ERRORS = {
  validation_failed: { status: 400, title: 'The request holds invalid events' },
  forbidden_key: { status: 400, title: 'A name in the request is reserved' },
  bad_request: { status: 400, title: 'The request is malformed' },
  tile_path_invalid: { status: 400, title: 'The path is not a tlog-tiles tile path' },
  tree_range_invalid: { status: 400, title: "The tree sizes are outside the log's tree" },
  query_invalid: { status: 400, title: 'The query could not be understood' },
  cursor_invalid: { status: 400, title: 'The cursor is not valid for this question' },
  json_too_deep: { status: 400, title: 'The JSON body is nested too deeply' },
  json_duplicate_key: { status: 400, title: 'A JSON object holds the same key twice' },
  json_unsafe_integer: { status: 400, title: 'A JSON integer is too large to keep exactly' },
  invalid_utf8: { status: 400, title: 'The body is not valid UTF-8' },
  batch_too_large: { status: 400, title: 'The batch holds too many events' },
  unauthenticated: { status: 401, title: 'Authentication is required' },
  key_in_query_string: { status: 401, title: 'API keys are not accepted in the query string' },
  csrf_failed: { status: 403, title: 'The CSRF token is missing or wrong' },
  forbidden: { status: 403, title: 'This credential may not do that' },
  no_audit_access: { status: 403, title: 'No access to the audit log' },
  workspace_mismatch: { status: 403, title: 'The credential belongs to another workspace' },
  not_found: { status: 404, title: 'Not found' },
  workspace_not_found: { status: 404, title: 'No such workspace' },
  event_not_found: { status: 404, title: 'No such event' },
  tile_not_found: { status: 404, title: "The tile is not in the log's tree" },
  invitation_invalid: { status: 404, title: 'No such open invitation' },
  event_id_conflict: {
    status: 409,
    title: 'An event with this id was already stored with different content',
  },
  already_exists: { status: 409, title: 'It already exists' },
  payload_too_large: { status: 413, title: 'The request body is too large' },
  unsupported_media_type: { status: 415, title: 'Send application/json' },
  rate_limited: { status: 429, title: 'Too many requests' },
  login_throttled: { status: 429, title: 'Too many failed sign-in attempts' },
  internal: { status: 500, title: 'Internal error' },
  overloaded: { status: 503, title: 'The store is saturated; retry later' },
  store_unavailable: { status: 503, title: 'The database cannot be reached' },
  store_full: { status: 503, title: 'The database has no room left to write' },
  store_io_error: { status: 503, title: 'The database failed to read or write' },
  schema_too_new: { status: 500, title: 'The database schema is newer than this Trailkeep' },
  integrity_broken: { status: 500, title: 'The chain does not verify' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof ERRORS;

/** One precise problem with one input, e.g. event 3 at `$.actor.type`. */
export interface Issue {
  /** Index of the event in its batch, when the error is about a batch. */
  index?: number;
  /** JSONPath-like location inside that event or request, e.g. `$.targets[0].id`. */
  path: string;
  message: string;
}

export class TrailkeepError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly title: string;
  readonly issues: readonly Issue[];
  /** Seconds, for 429 and 503. */
  readonly retryAfter: number | undefined;
  /** Extra members for the problem document (e.g. `position` for a query error). */
  readonly extra: Readonly<Record<string, unknown>>;

  constructor(
    code: ErrorCode,
    detail: string,
    options: {
      issues?: readonly Issue[];
      retryAfter?: number;
      extra?: Record<string, unknown>;
      cause?: unknown;
    } = {},
  ) {
    super(detail, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TrailkeepError';
    this.code = code;
    this.status = ERRORS[code].status;
    this.title = ERRORS[code].title;
    this.issues = options.issues ?? [];
    this.retryAfter = options.retryAfter;
    this.extra = options.extra ?? {};
  }
}

export function isTrailkeepError(value: unknown): value is TrailkeepError {
  return value instanceof TrailkeepError;
}
