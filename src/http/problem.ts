/**
 * Every error leaves the server as RFC 9457 problem+json with a code from the one registry
 * (src/core/errors.ts). Fastify's own errors (unknown route, bad JSON, wrong content type,
 * schema validation, body too large) are mapped onto the same codes; anything unexpected becomes
 * `internal` with the request id to look up in the server log, never a stack trace.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ERRORS, TrailkeepError, isTrailkeepError, type Issue } from '../core/errors.js';
import type { ErrorCode } from '../core/errors.js';
import { redactKeys } from './request-url.js';

export const PROBLEM_TYPE_BASE = 'https://trailkeep.dev/problems/';
export const PROBLEM_CONTENT_TYPE = 'application/problem+json; charset=utf-8';

export interface ProblemDocument {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  instance: string;
  issues?: Issue[];
  [extra: string]: unknown;
}

export function problemOf(error: TrailkeepError, requestId: string): ProblemDocument {
  const problem: ProblemDocument = {
    ...error.extra,
    type: `${PROBLEM_TYPE_BASE}${error.code}`,
    title: error.title,
    status: error.status,
    detail: error.message,
    code: error.code,
    instance: requestId,
  };
  if (error.issues.length > 0) problem.issues = [...error.issues];
  return problem;
}

export async function sendProblem(
  reply: FastifyReply,
  error: TrailkeepError,
): Promise<FastifyReply> {
  if (error.retryAfter !== undefined) {
    void reply.header('retry-after', String(Math.max(1, Math.ceil(error.retryAfter))));
  }
  return reply
    .code(error.status)
    .type(PROBLEM_CONTENT_TYPE)
    .send(JSON.stringify(problemOf(error, reply.request.id)));
}

interface AjvLikeError {
  instancePath?: string;
  message?: string;
  params?: Record<string, unknown>;
}

/** `/events/3/actor` -> `$.events[3].actor`. */
function jsonPath(pointer: string, missing?: unknown): string {
  let path = '$';
  for (const raw of pointer.split('/').slice(1)) {
    const part = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    path += /^\d+$/.test(part) ? `[${part}]` : `.${part}`;
  }
  if (typeof missing === 'string') path += `.${missing}`;
  return path;
}

function validationIssues(error: FastifyError): Issue[] {
  const list = (error.validation ?? []) as AjvLikeError[];
  return list.map((item) => {
    const params = item.params ?? {};
    const missing = params['missingProperty'] ?? params['additionalProperty'];
    const message =
      params['additionalProperty'] !== undefined
        ? 'is not an accepted field'
        : params['missingProperty'] !== undefined
          ? 'is required'
          : (item.message ?? 'is not valid');
    return { path: jsonPath(item.instancePath ?? '', missing), message };
  });
}

const STATUS_CODES: Record<number, ErrorCode> = {
  400: 'bad_request',
  401: 'unauthenticated',
  403: 'forbidden',
  404: 'not_found',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'rate_limited',
  503: 'overloaded',
};

/** Turns whatever was thrown into a registry error. */
export function toTrailkeepError(error: unknown): TrailkeepError {
  if (isTrailkeepError(error)) return error;
  const fastifyError = error as Partial<FastifyError> | undefined;
  const code = fastifyError?.code;
  if (fastifyError?.validation) {
    const where = fastifyError.validationContext ?? 'request';
    return new TrailkeepError('bad_request', `The ${where} does not match the schema`, {
      issues: validationIssues(fastifyError as FastifyError),
    });
  }
  switch (code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new TrailkeepError('payload_too_large', 'The request body is larger than 4 MiB');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new TrailkeepError(
        'unsupported_media_type',
        'Send the body as application/json (Content-Type: application/json)',
      );
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new TrailkeepError('bad_request', 'The JSON body is empty');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new TrailkeepError('bad_request', 'The body is not valid JSON');
    default:
      break;
  }
  if (error instanceof SyntaxError) {
    return new TrailkeepError('bad_request', `The body is not valid JSON: ${error.message}`);
  }
  const status = fastifyError?.statusCode;
  const mapped = status === undefined ? undefined : STATUS_CODES[status];
  if (mapped && status !== undefined && status < 500) {
    return new TrailkeepError(mapped, ERRORS[mapped].title);
  }
  return new TrailkeepError('internal', 'An internal error occurred; the server log has details', {
    cause: error,
  });
}

export function problemErrorHandler(
  error: unknown,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  const mapped = toTrailkeepError(error);
  if (mapped.status >= 500) {
    request.log.error({ err: error }, 'request failed');
  } else {
    request.log.info({ code: mapped.code, detail: redactKeys(mapped.message) }, 'request refused');
  }
  if (mapped.code === 'internal') {
    return sendProblem(
      reply,
      new TrailkeepError(
        'internal',
        `An internal error occurred; the server log has details under request id ${request.id}`,
      ),
    );
  }
  return sendProblem(reply, mapped);
}
