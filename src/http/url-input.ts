/**
 * Checks on the request URL that no route schema can make. Left alone, a malformed
 * percent-escape in the query string is kept as literal text (`q=%ED%A0%80` searched for the
 * nine characters `%ed%a0%80`), a control character in a path segment reached the database
 * (PostgreSQL refuses a NUL with an error that became a 500), and a number the schema
 * coerced from `1e400` arrived as Infinity past its `maximum`. Each is a 400 instead.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { TrailkeepError } from '../core/errors.js';

/** The first `&`-separated piece of the query string that is not valid percent-encoded UTF-8. */
function malformedQueryPiece(query: string): string | undefined {
  for (const piece of query.split('&')) {
    try {
      decodeURIComponent(piece.replaceAll('+', ' '));
    } catch {
      return piece;
    }
  }
  return undefined;
}

function checkUrl(request: FastifyRequest): void {
  const url = request.raw.url ?? '';
  const mark = url.indexOf('?');
  const path = mark === -1 ? url : url.slice(0, mark);
  const bad = mark === -1 ? undefined : malformedQueryPiece(url.slice(mark + 1));
  if (bad !== undefined) {
    throw new TrailkeepError(
      'bad_request',
      `The query string is not valid percent-encoded UTF-8 (at ${JSON.stringify(bad.slice(0, 64))})`,
    );
  }
  let decoded: string;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    throw new TrailkeepError('bad_request', 'The path is not valid percent-encoded UTF-8');
  }
  const control = /\p{Cc}/u.exec(decoded);
  if (control !== null) {
    const name = `U+${control[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
    throw new TrailkeepError('bad_request', `The path holds the control character ${name}`);
  }
}

/** Numbers in the parsed query string are finite (see the module comment). */
function checkNumbers(request: FastifyRequest): void {
  const query = request.query;
  if (typeof query !== 'object' || query === null) return;
  for (const name of Object.keys(query)) {
    const value = (query as Record<string, unknown>)[name];
    if (typeof value === 'number' && !Number.isFinite(value)) {
      throw new TrailkeepError(
        'bad_request',
        `Parameter ${JSON.stringify(name)} must be a finite number`,
      );
    }
  }
}

/** Runs a check as a callback-style hook (the checks are synchronous). */
function hook(check: (request: FastifyRequest) => void) {
  return (request: FastifyRequest, _reply: unknown, done: (error?: Error) => void): void => {
    try {
      check(request);
      done();
    } catch (error) {
      done(error as Error);
    }
  };
}

export function registerUrlChecks(app: FastifyInstance): void {
  app.addHook('onRequest', hook(checkUrl));
  // After validation, which is where the schema's coercion makes the numbers.
  app.addHook('preHandler', hook(checkNumbers));
}
