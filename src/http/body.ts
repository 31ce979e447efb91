/**
 * The JSON body parser. The raw bytes are checked before JSON.parse or anything else builds
 * objects from them (src/core/json-text.ts): invalid UTF-8, a key twice in one object, an
 * integer beyond ±(2^53 - 1) and nesting past the limit are refused with their byte offset or
 * path instead of being silently altered, and a pathological body costs one linear scan and
 * nothing more. Prototype-poisoning keys (`__proto__`, `constructor.prototype`) are refused by
 * Fastify's own secure parser, which does the actual parsing.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { strictJsonText } from '../core/json-text.js';

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

export function registerJsonParser(app: FastifyInstance, bodyLimit: number): void {
  const secureParse = app.getDefaultJsonParser('error', 'error');
  // JSON only: a text/plain body is answered 415, not parsed into a string.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    ['application/json', 'application/problem+json'],
    // Bytes, not a string: decoding to a string would already have replaced invalid UTF-8.
    { parseAs: 'buffer', bodyLimit },
    (request: FastifyRequest, body: string | Buffer, done) => {
      // Fastify's parser answers an empty body in its own words.
      if (body.length === 0) {
        void secureParse(request, '', done);
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
      void secureParse(request, text, done);
    },
  );
}
