/**
 * Change tracking in the sending process: declare a resource's fields once (`track`, `ignore`,
 * `secret`, the same form as the server's workspace schema) and compute redacted changes
 * locally, so that secret values never leave the process (nor reach the spool).
 */
import { diffObjects, redactChanges } from '../core/changes.js';
import type { FieldRule, ResourceSchema } from '../core/changes.js';
import type { Change } from '../core/event.js';
import type { JsonObject } from '../core/json.js';
import { RESERVED_KEYS_RULE, bareCopy, reservedSegment } from '../core/safe-keys.js';
import { TrailkeepClientError } from './errors.js';

export interface Resource {
  /** The target type this schema describes (`job`, `user`). */
  readonly type: string;
  readonly schema: ResourceSchema;
  /** Changes from `before` to `after` with ignored fields left out and secret values hidden. */
  changes(before: JsonObject | undefined, after: JsonObject | undefined): Change[];
  /** Hides secret values and drops ignored fields in changes built by hand. */
  redact(changes: Change[]): Change[];
}

/**
 * `defineResource('user', { email: 'track', hashed_password: 'secret', last_seen_at: 'ignore' })`.
 * Fields not listed are tracked, except names that look secret (password, token, api_key, ...);
 * dotted paths (`settings.api_key`) reach into nested objects.
 */
export function defineResource(type: string, fields: Record<string, FieldRule>): Resource {
  const reserved = Object.keys(fields).find((name) => reservedSegment(name) !== undefined);
  if (reserved !== undefined) {
    // The server refuses such a field in every event, so fail here, where the mistake is.
    throw new TrailkeepClientError(
      'invalid_options',
      `defineResource("${type}"): field "${reserved}" is not allowed; ${RESERVED_KEYS_RULE}`,
    );
  }
  const schema: ResourceSchema = { fields: bareCopy(fields) };
  return Object.freeze({
    type,
    schema,
    changes: (before: JsonObject | undefined, after: JsonObject | undefined) =>
      diffObjects(before, after, schema),
    redact: (changes: Change[]) => redactChanges(changes, schema),
  });
}

/** Local diff without a declared schema: the server's defaults (secret-looking names hidden). */
export function defaultChanges(
  before: JsonObject | undefined,
  after: JsonObject | undefined,
): Change[] {
  return diffObjects(before, after);
}
