/**
 * Reading the log: one event by id, and an async iterator over every event matching a query
 * that follows `next_cursor` page by page (newest first). Reads retry like writes on network
 * errors, 5xx and 429, but give up after a bounded number of attempts.
 */
import type { StoredEvent } from '../core/event.js';
import { backoffDelay, type RetryOptions } from './backoff.js';
import { AuthError, TrailkeepClientError } from './errors.js';
import { exchange, type Endpoint } from './transport.js';
import { sleep } from './sleep.js';

export interface EventsQuery {
  /** The query language (`action:job.* actor:alex@`); absent: every event. */
  q?: string;
  /** Events per page request, 1 to 200 (default 100). Iteration still returns them all. */
  limit?: number;
}

interface EventsPage {
  events: StoredEvent[];
  next_cursor: string | null;
}

/** Attempts per read when the client's retry options set no `maxAttempts`. */
const DEFAULT_READ_ATTEMPTS = 5;

export interface Reader {
  endpoint: Endpoint;
  workspace: string;
  retry: RetryOptions;
}

async function getJson(reader: Reader, path: string): Promise<unknown> {
  const attempts = reader.retry.maxAttempts ?? DEFAULT_READ_ATTEMPTS;
  for (let attempt = 1; ; attempt += 1) {
    const result = await exchange(reader.endpoint, 'GET', path);
    switch (result.kind) {
      case 'ok':
        return result.body;
      case 'auth':
        throw new AuthError(result.status, result.problem);
      case 'refused':
        throw new TrailkeepClientError(
          result.problem?.code ?? 'unexpected_response',
          result.message,
          {
            status: result.status,
            ...(result.problem === undefined ? {} : { problem: result.problem }),
          },
        );
      case 'retry':
        if (attempt >= attempts) {
          throw new TrailkeepClientError('delivery_failed', `GET ${path}: ${result.message}`, {
            ...(result.status === undefined ? {} : { status: result.status }),
            ...(result.problem === undefined ? {} : { problem: result.problem }),
          });
        }
        await sleep(result.retryAfterMs ?? backoffDelay(attempt - 1, reader.retry));
    }
  }
}

function isEventsPage(body: unknown): body is EventsPage {
  if (typeof body !== 'object' || body === null) return false;
  const page = body as Partial<EventsPage>;
  return (
    Array.isArray(page.events) &&
    (page.next_cursor === null || typeof page.next_cursor === 'string')
  );
}

function workspacePath(reader: Reader): string {
  return `/workspaces/${encodeURIComponent(reader.workspace)}`;
}

export async function getEvent(reader: Reader, id: string): Promise<StoredEvent> {
  const body = await getJson(reader, `${workspacePath(reader)}/events/${encodeURIComponent(id)}`);
  if (
    typeof body !== 'object' ||
    body === null ||
    typeof (body as { id?: unknown }).id !== 'string'
  ) {
    throw new TrailkeepClientError(
      'unexpected_response',
      `GET event ${id}: the answer is not an event`,
    );
  }
  return body as StoredEvent;
}

/**
 * Every event matching `query`, newest first, each exactly once: the cursor carries the whole
 * question and the position, so events stored while iterating neither repeat nor shift pages.
 */
export async function* iterateEvents(
  reader: Reader,
  query: string | EventsQuery = {},
): AsyncGenerator<StoredEvent, void, undefined> {
  const { q, limit } = typeof query === 'string' ? { q: query, limit: undefined } : query;
  const first = new URLSearchParams({ count: 'false', limit: String(limit ?? 100) });
  if (q !== undefined && q !== '') first.set('q', q);
  let params = first;
  for (;;) {
    const body = await getJson(reader, `${workspacePath(reader)}/events?${params.toString()}`);
    if (!isEventsPage(body)) {
      throw new TrailkeepClientError(
        'unexpected_response',
        'GET events: the answer is not a page of events',
      );
    }
    yield* body.events;
    if (body.next_cursor === null) return;
    params = new URLSearchParams({
      count: 'false',
      limit: String(limit ?? 100),
      cursor: body.next_cursor,
    });
  }
}
