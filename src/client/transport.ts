/**
 * One HTTP exchange with Trailkeep, classified into what the caller should do next: done, retry
 * (network error, 5xx, 429, 408), auth trouble (401/403), or refused for good (other 4xx).
 * No retry loop lives here; the sender and the query helper own their loops.
 */
import { parseRetryAfter } from './backoff.js';
import type { Problem } from './errors.js';

export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

export interface Endpoint {
  /** Base URL of the server, without `/api/v1` (e.g. `http://127.0.0.1:8080`). */
  baseUrl: string;
  apiKey: string;
  fetch: FetchLike;
  requestTimeoutMs: number;
}

export type Exchange =
  | { kind: 'ok'; status: number; body: unknown }
  | {
      kind: 'retry';
      status: number | undefined;
      retryAfterMs: number | undefined;
      message: string;
      problem?: Problem;
    }
  | { kind: 'auth'; status: number; problem: Problem | undefined }
  | { kind: 'refused'; status: number; problem: Problem | undefined; message: string };

const USER_AGENT = 'trailkeep-client/0.1';

/** `http://host:8080/` or `http://host:8080/api/v1` -> `http://host:8080`. */
export function normalizeBaseUrl(url: string): string {
  return url.replace(/\/+$/, '').replace(/\/api\/v1$/, '');
}

export function apiUrl(endpoint: Endpoint, path: string): string {
  return `${endpoint.baseUrl}/api/v1${path}`;
}

function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

async function readBody(response: Response): Promise<unknown> {
  const text = await response.text();
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function asProblem(body: unknown): Problem | undefined {
  return typeof body === 'object' && body !== null && !Array.isArray(body)
    ? (body as Problem)
    : undefined;
}

function describe(status: number, problem: Problem | undefined): string {
  const code = problem?.code === undefined ? '' : ` ${problem.code}`;
  const detail = problem?.detail ?? problem?.title;
  return `HTTP ${status}${code}${detail === undefined ? '' : `: ${detail}`}`;
}

/** Performs one request; never throws for HTTP or network trouble, only classifies it. */
export async function exchange(
  endpoint: Endpoint,
  method: 'GET' | 'POST',
  path: string,
  body?: string,
  stop?: AbortSignal,
): Promise<Exchange> {
  const headers: Record<string, string> = {
    authorization: `Bearer ${endpoint.apiKey}`,
    accept: 'application/json',
    'user-agent': USER_AGENT,
  };
  if (body !== undefined) headers['content-type'] = 'application/json';
  let response: Response;
  try {
    response = await endpoint.fetch(apiUrl(endpoint, path), {
      method,
      headers,
      ...(body === undefined ? {} : { body }),
      signal:
        stop === undefined
          ? AbortSignal.timeout(endpoint.requestTimeoutMs)
          : AbortSignal.any([AbortSignal.timeout(endpoint.requestTimeoutMs), stop]),
    });
  } catch (error) {
    const cause =
      error instanceof Error ? (error.cause instanceof Error ? error.cause : error) : undefined;
    return {
      kind: 'retry',
      status: undefined,
      retryAfterMs: undefined,
      message: `cannot reach ${endpoint.baseUrl}: ${cause?.message ?? String(error)}`,
    };
  }
  let parsed: unknown;
  try {
    parsed = await readBody(response);
  } catch (error) {
    // The connection broke while the answer was read: the request may or may not have been
    // applied, which is safe to retry because every event carries its id.
    const message = error instanceof Error ? error.message : String(error);
    return {
      kind: 'retry',
      status: undefined,
      retryAfterMs: undefined,
      message: `response lost: ${message}`,
    };
  }
  const status = response.status;
  if (status >= 200 && status < 300) return { kind: 'ok', status, body: parsed };
  const problem = asProblem(parsed);
  if (isRetryableStatus(status)) {
    return {
      kind: 'retry',
      status,
      retryAfterMs: parseRetryAfter(response.headers.get('retry-after'), Date.now()),
      message: describe(status, problem),
      ...(problem === undefined ? {} : { problem }),
    };
  }
  if (status === 401 || status === 403) return { kind: 'auth', status, problem };
  return { kind: 'refused', status, problem, message: describe(status, problem) };
}
