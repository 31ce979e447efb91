/**
 * The JSON body parser. The raw bytes are checked before JSON.parse or anything else builds
 * objects from them (src/core/json-text.ts): invalid UTF-8, a key twice in one object, an
 * integer beyond ±(2^53 - 1) and nesting past the limit are refused with their byte offset or
 * path instead of being silently altered, and a pathological body costs one linear scan and
 * nothing more. Keys named `__proto__`, `constructor` or `prototype`, at any depth, are then
 * refused with `forbidden_key` and the JSON path of each (see src/core/safe-keys.ts). Fastify's
 * secure parser could refuse some of them itself, but only as "not valid JSON" and without
 * saying where, and it lets a bare `constructor` through; so parsing is plain JSON.parse (which
 * makes every key an own member, `__proto__` included, and never calls a setter) followed by
 * one walk. The events route refuses the same names again in validation, where the SDK and the
 * CLI meet the same rule.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { TrailkeepError, type Issue } from '../core/errors.js';
import { strictJsonText } from '../core/json-text.js';
import { RESERVED_KEYS_RULE, findReservedKeys, ownValue } from '../core/safe-keys.js';

/** An event may nest 16 levels (the event object itself is level 1). */
export const MAX_EVENT_DEPTH = 16;
/** A batch wraps events in `{ "events": [ ... ] }`: two more levels. */
export const MAX_BODY_DEPTH = MAX_EVENT_DEPTH + 2;
export const MAX_BODY_BYTES = 4 * 1024 * 1024;

/** The nesting depth of a parsed value (a scalar is 0, `{}` is 1). */
export function valueDepth(value: unknown, stopAbove = Infinity, level = 0): number {
  if (value === null || typeof value !== 'object') return level;
  const next = level + 1;
  if (next > stopAbove) return next;
  let deepest = next;
  const children: unknown[] = Array.isArray(value) ? value : Object.values(value);
  for (const child of children) {
    deepest = Math.max(deepest, valueDepth(child, stopAbove, next));
    if (deepest > stopAbove) return deepest;
  }
  return deepest;
}

/**
 * Text that may hold a reserved key: one of the names, or a `\u` escape that could spell one.
 * Most bodies hold neither and are never walked.
 */
const MAY_HOLD_RESERVED = /__proto__|constructor|prototype|\\u/;

/** `$.events[3].metadata.x` in a batch body -> event 3, `$.metadata.x`. */
const IN_BATCH = /^\$\.events\[(\d+)\](.*)$/;

/**
 * The body's reserved keys as a forbidden_key error, or undefined when it has none. Inside a
 * batch each issue names its event by index, as validation does: a sender (the SDK) drops the
 * events named and sends the rest again, so an issue without an index would cost the whole
 * batch.
 */
export function reservedKeysError(text: string, value: unknown): TrailkeepError | undefined {
  if (!MAY_HOLD_RESERVED.test(text)) return undefined;
  const paths = findReservedKeys(value);
  if (paths.length === 0) return undefined;
  const batch =
    typeof value === 'object' &&
    value !== null &&
    Array.isArray(ownValue(value as { events?: unknown }, 'events'));
  const issues: Issue[] = paths.map((path) => {
    const message = `is a reserved name; ${RESERVED_KEYS_RULE}`;
    const inEvent = batch ? IN_BATCH.exec(path) : null;
    return inEvent === null
      ? { path, message }
      : { index: Number(inEvent[1]), path: `$${inEvent[2]}`, message };
  });
  const first = issues[0]!;
  const more = issues.length - 1;
  return new TrailkeepError(
    'forbidden_key',
    `${first.index === undefined ? '' : `event ${first.index}: `}${first.path} ${first.message}` +
      (more > 0 ? ` (and ${more} more)` : ''),
    { issues },
  );
}

export function registerJsonParser(app: FastifyInstance, bodyLimit: number): void {
  // 'ignore': the reserved names are refused below, with their paths.
  const parse = app.getDefaultJsonParser('ignore', 'ignore');
  // JSON only: a text/plain body is answered 415, not parsed into a string.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    ['application/json', 'application/problem+json'],
    // Bytes, not a string: decoding to a string would already have replaced invalid UTF-8.
    { parseAs: 'buffer', bodyLimit },
    (request: FastifyRequest, body: string | Buffer, done) => {
      // Fastify's parser answers an empty body in its own words.
      if (body.length === 0) {
        void parse(request, '', done);
        return;
      }
      let text: string;
      try {
        text = strictJsonText(typeof body === 'string' ? Buffer.from(body) : body, {
          subject: 'The JSON body',
          maxDepth: MAX_BODY_DEPTH,
          depthNote: `an event may nest ${MAX_EVENT_DEPTH} levels`,
        });
      } catch (error) {
        done(error as Error);
        return;
      }
      void parse(request, text, (error, value) => {
        if (error) done(error);
        else done(reservedKeysError(text, value) ?? null, value);
      });
    },
  );
}
