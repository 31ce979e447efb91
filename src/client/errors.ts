/**
 * The SDK's typed errors. They never come from the server's own error classes (the client must
 * not load server code): a problem+json body is read into a plain `Problem` and carried along.
 */
import type { EventInput } from '../core/event.js';
import type { Issue } from '../core/errors.js';

/** RFC 9457 problem document as Trailkeep sends it (see docs/errors.md). */
export interface Problem {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  code?: string;
  instance?: string;
  issues?: Issue[];
  [member: string]: unknown;
}

/** Client-side error codes; server codes (`validation_failed`, ...) pass through unchanged. */
export type ClientErrorCode =
  | 'buffer_full'
  | 'client_closed'
  | 'delivery_failed'
  | 'invalid_options'
  | 'missing_actor'
  | 'spool_failed'
  | 'spool_locked'
  | 'unexpected_response';

export class TrailkeepClientError extends Error {
  /**
   * A ClientErrorCode, or the server's problem code (docs/errors.md) when the server answered
   * with one.
   */
  readonly code: string;
  /** HTTP status when the error is an answer from the server. */
  readonly status: number | undefined;
  readonly problem: Problem | undefined;
  /** Events that were not delivered because of this error (empty when none are concerned). */
  readonly events: readonly EventInput[];

  constructor(
    code: string,
    message: string,
    options: {
      status?: number;
      problem?: Problem;
      events?: readonly EventInput[];
      cause?: unknown;
    } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TrailkeepClientError';
    this.code = code;
    this.status = options.status;
    this.problem = options.problem;
    this.events = options.events ?? [];
  }
}

/** One event the server refused, with the issues that name it. */
export interface RejectedEvent {
  event: EventInput;
  /** The problem's issues for this event; `index` is the event's place in the refused batch. */
  issues: Issue[];
}

/**
 * The server refused events as invalid (a 4xx that a retry cannot fix). The refused events are
 * dropped from the queue; the other events of the same batch are sent again on their own.
 */
export class ValidationError extends TrailkeepClientError {
  readonly rejected: readonly RejectedEvent[];
  readonly issues: readonly Issue[];

  constructor(
    message: string,
    status: number,
    problem: Problem,
    rejected: readonly RejectedEvent[],
  ) {
    super(problem.code ?? 'validation_failed', message, {
      status,
      problem,
      events: rejected.map((r) => r.event),
    });
    this.name = 'ValidationError';
    this.rejected = rejected;
    this.issues = rejected.flatMap((r) => r.issues);
  }
}

/** `record` found the buffer full and the client was built with `whenFull: 'reject'`. */
export class BufferFullError extends TrailkeepClientError {
  readonly maxBuffer: number;

  constructor(maxBuffer: number, event: EventInput) {
    super(
      'buffer_full',
      `the client already holds ${maxBuffer} undelivered events (maxBuffer); this event was not recorded`,
      { events: [event] },
    );
    this.name = 'BufferFullError';
    this.maxBuffer = maxBuffer;
  }
}

/**
 * The server refused the API key (401) or its scope (403). Events stay queued (and spooled) and
 * delivery keeps being retried, so that fixing the key and restarting loses nothing.
 */
export class AuthError extends TrailkeepClientError {
  constructor(status: number, problem: Problem | undefined, events: readonly EventInput[] = []) {
    const detail = problem?.detail ?? problem?.title ?? `HTTP ${status}`;
    super(problem?.code ?? (status === 401 ? 'unauthenticated' : 'forbidden'), detail, {
      status,
      ...(problem === undefined ? {} : { problem }),
      events,
    });
    this.name = 'AuthError';
  }
}
