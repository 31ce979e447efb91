/**
 * The viewer's HTTP client for /api/v1 (shapes agreed in the HTTP API document). Session cookie
 * auth: the browser sends the cookie, and state-changing requests carry the CSRF token. Errors
 * arrive as RFC 9457 problem documents and are thrown as ApiProblem.
 */
import type { StoredEvent } from '../../src/core/event.js';
import type { JsonObject } from '../../src/core/json.js';
import type { Count } from './format.js';

export type { StoredEvent };

export type Role = 'owner' | 'admin' | 'auditor' | 'member';

export interface WorkspaceAccess {
  readonly id: string;
  readonly name: string;
  readonly role: Role;
}

export interface Session {
  readonly user: { readonly id: string; readonly email: string; readonly name?: string | null };
  readonly csrf_token: string;
  readonly workspaces: readonly WorkspaceAccess[];
}

/** An open invitation addressed to the signed-in person. */
export interface MyInvitation {
  readonly id: string;
  readonly workspace: string;
  readonly workspace_name: string;
  readonly role: Role;
  readonly expires_at: string;
}

export interface EventPage {
  readonly events: readonly StoredEvent[];
  readonly next_cursor: string | null;
  readonly prev_cursor: string | null;
  readonly query: string;
  readonly count?: Count;
}

export interface FacetValue {
  readonly value: string;
  readonly count: number;
  readonly label?: string;
}

export interface FacetActor {
  readonly type: string;
  readonly id: string;
  readonly name?: string;
  readonly email?: string;
  readonly count: number;
}

export interface Facets {
  readonly actions: readonly FacetValue[];
  readonly categories: readonly FacetValue[];
  readonly actor_types: readonly FacetValue[];
  readonly target_types: readonly FacetValue[];
  readonly outcomes: readonly FacetValue[];
  readonly actors: readonly FacetActor[];
  readonly catalog: readonly { readonly id: string; readonly label: string }[];
}

/** A witness of the workspace (GET .../witnesses): how far it cosigned, or why it refuses. */
export interface WitnessStatus {
  readonly name: string;
  readonly url: string;
  readonly cosigned_size: number | null;
  readonly cosigned_at: string | null;
  readonly status: 'ok' | 'pending' | 'failing';
  readonly last_error: string | null;
  readonly last_error_at: string | null;
}

export interface VerifyResult {
  readonly workspace: string;
  readonly ok: boolean;
  readonly checked: number;
  readonly head: { readonly seq: number; readonly hash: string };
  readonly verified_at: string;
  readonly problem?: {
    readonly seq: number;
    readonly id?: string;
    readonly kind: string;
    readonly message: string;
  };
}

export interface EntityHistory {
  readonly entity: { readonly type: string; readonly id: string };
  readonly events: readonly { readonly event: StoredEvent; readonly state: JsonObject }[];
  readonly state: JsonObject | null;
  readonly deleted: boolean;
}

/** A problem document from the server (or a stand-in for a network failure). */
export class ApiProblem extends Error {
  readonly status: number;
  readonly code: string;
  readonly title: string;
  /** Where in the query text the problem is, when the server says (query_invalid). */
  readonly position: number | null;

  constructor(
    status: number,
    code: string,
    title: string,
    detail: string,
    position: number | null,
  ) {
    super(detail);
    this.name = 'ApiProblem';
    this.status = status;
    this.code = code;
    this.title = title;
    this.position = position;
  }
}

const BASE = '/api/v1';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

async function problemFrom(response: Response): Promise<ApiProblem> {
  let body: unknown = null;
  try {
    body = await response.json();
  } catch {
    // Not a problem document (a proxy's HTML page, say): fall back to the status line.
  }
  const doc = isRecord(body) ? body : {};
  const text = (key: string, fallback: string): string =>
    typeof doc[key] === 'string' ? doc[key] : fallback;
  const position = typeof doc.position === 'number' ? doc.position : null;
  return new ApiProblem(
    response.status,
    text('code', response.status === 404 ? 'not_found' : 'http_error'),
    text('title', response.statusText || 'Request failed'),
    text('detail', text('title', `The server answered ${response.status}.`)),
    position,
  );
}

async function request<T>(
  path: string,
  init: RequestInit & { csrf?: string; signal?: AbortSignal | null } = {},
): Promise<T> {
  const headers = new Headers(init.headers);
  headers.set('Accept', 'application/json');
  if (init.csrf !== undefined) headers.set('X-CSRF-Token', init.csrf);
  let response: Response;
  try {
    response = await fetch(BASE + path, { ...init, headers, credentials: 'same-origin' });
  } catch (error) {
    if (error instanceof DOMException && error.name === 'AbortError') throw error;
    throw new ApiProblem(
      0,
      'network',
      'The server cannot be reached',
      'Check your connection and try again.',
      null,
    );
  }
  if (!response.ok) throw await problemFrom(response);
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

function ws(workspace: string): string {
  return `/workspaces/${encodeURIComponent(workspace)}`;
}

function withParams(path: string, params: Record<string, string | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== '') search.set(key, value);
  }
  const text = search.toString();
  return text === '' ? path : `${path}?${text}`;
}

export const api = {
  session: (signal?: AbortSignal) => request<Session>('/session', { signal: signal ?? null }),

  signIn: (email: string, password: string) =>
    request<Session>('/session', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ email, password }),
    }),

  signOut: (csrf: string) => request<undefined>('/session', { method: 'DELETE', csrf }),

  invitations: (signal: AbortSignal) =>
    request<{ invitations: MyInvitation[] }>('/invitations', { signal }),

  acceptInvitation: (id: string, csrf: string) =>
    request<{ workspace: WorkspaceAccess }>(`/invitations/${encodeURIComponent(id)}/accept`, {
      method: 'POST',
      csrf,
    }),

  /** With the link's secret: signed in (csrf), or with a password (signs in). */
  acceptInvitationLink: (
    token: string,
    proof: { readonly csrf: string } | { readonly password: string; readonly name?: string },
  ) =>
    request<Session>('/invitations/accept', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify('csrf' in proof ? { token } : { token, ...proof }),
      ...('csrf' in proof ? { csrf: proof.csrf } : {}),
    }),

  /** A page of events: the cursor alone carries the filter; q is sent only for a first page. */
  events: (workspace: string, q: string, cursor: string | null, signal: AbortSignal) =>
    request<EventPage>(
      withParams(
        `${ws(workspace)}/events`,
        cursor === null ? { q, limit: '50' } : { cursor, limit: '50' },
      ),
      { signal },
    ),

  event: (workspace: string, id: string, signal: AbortSignal) =>
    request<StoredEvent>(`${ws(workspace)}/events/${encodeURIComponent(id)}`, { signal }),

  facets: (workspace: string, signal: AbortSignal) =>
    request<Facets>(`${ws(workspace)}/facets`, { signal }),

  verify: (workspace: string, signal: AbortSignal) =>
    request<VerifyResult>(`${ws(workspace)}/verify`, { signal }),

  witnesses: (workspace: string, signal: AbortSignal) =>
    request<{ witnesses: WitnessStatus[] }>(`${ws(workspace)}/witnesses`, { signal }),

  exportCount: (workspace: string, selection: ExportSelection, signal: AbortSignal) =>
    request<{ count: Count }>(
      withParams(`${ws(workspace)}/export/count`, exportParams(selection)),
      { signal },
    ),

  history: (workspace: string, type: string, id: string, signal: AbortSignal) =>
    request<EntityHistory>(
      `${ws(workspace)}/entities/${encodeURIComponent(type)}/${encodeURIComponent(id)}/history`,
      { signal },
    ),
};

export type ExportFormat = 'csv' | 'json' | 'ndjson';

/** What the export panel would download: events, or the latest state of one entity kind. */
export interface ExportSelection {
  readonly q: string;
  readonly format: ExportFormat;
  /** null for events; an entity kind (`job`) for the entity-state export. */
  readonly entityKind: string | null;
}

function exportParams(selection: ExportSelection): Record<string, string | undefined> {
  return {
    format: selection.format,
    q: selection.q.trim(),
    ...(selection.entityKind === null
      ? {}
      : { type: 'entities', target_type: selection.entityKind }),
  };
}

/** A plain link the browser can follow with its session cookie to download the export. */
export function exportUrl(workspace: string, selection: ExportSelection): string {
  return BASE + withParams(`${ws(workspace)}/export`, exportParams(selection));
}

export function checkpointUrl(workspace: string): string {
  return `${BASE}${ws(workspace)}/checkpoint`;
}
