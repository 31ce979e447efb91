/**
 * Every size and shape limit on what a product may send, in one place. docs/events.md lists
 * them; validate.ts enforces them with messages that quote these numbers, so the two cannot
 * drift apart silently.
 */
export const LIMITS = Object.freeze({
  /** One event, serialized as JSON (UTF-8 bytes). */
  maxEventBytes: 65_536,
  /** Nesting depth of one event: the event object itself is depth 1. */
  maxDepth: 16,
  maxBatchEvents: 1000,
  /** A whole batch, serialized as JSON (UTF-8 bytes). */
  maxBatchBytes: 4 * 1024 * 1024,
  /** How far `occurred_at` may lie after the server's clock (clock skew between machines). */
  maxFutureSkewMs: 5 * 60_000,
  /** Validation stops collecting issues after this many, so an error stays readable. */
  maxIssues: 100,

  /** Event, actor and target ids: 1..256 printable characters, no whitespace. */
  maxIdLength: 256,
  /** `action`: 1..128 of ASCII letters, digits and `._:-`. */
  maxActionLength: 128,
  /** `actor.type` is an enum; target types are free text (`API token`) up to this length. */
  maxTypeLength: 128,
  /** actor.name, actor.email, targets[].name. */
  maxNameLength: 512,
  maxUserAgentLength: 1024,
  maxRequestIdLength: 256,
  maxTargets: 64,
  maxChanges: 512,
  /** A change's `field` (a dotted path such as `settings.theme`). */
  maxFieldLength: 256,
  maxMetadataKeyLength: 128,
  /** Category ids: `^[a-z0-9][a-z0-9_-]{0,63}$`. */
  maxCategoryLength: 64,
});

/** ASCII letters, digits and `._:-`: a short, grep-friendly token. */
export const ACTION_PATTERN = /^[A-Za-z0-9._:-]+$/;

/** Printable, no whitespace, no control characters (any script is fine). */
export const ID_PATTERN = /^[^\s\p{Cc}]+$/u;

/** Stored lower-case; input is accepted in any case. */
export const CATEGORY_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;

/** A string holds a lone surrogate: it has no UTF-8 form, so it could not be stored faithfully. */
export function hasLoneSurrogate(text: string): boolean {
  // A well-formed string pairs every surrogate; the built-in check is several times faster.
  return !text.isWellFormed();
}

/** Control characters (C0, DEL, C1), which have no place in identifiers and names. */
export function hasControlCharacter(text: string): boolean {
  return /\p{Cc}/u.test(text);
}
