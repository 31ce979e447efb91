/**
 * Who is asking, and may they? Runs in `onRequest`, before the body is read: a request without
 * the right credential never has its body parsed.
 *
 * Credentials: `Authorization: Bearer tk_...` (an API key, one workspace, one scope) or the
 * `tk_session` cookie (a person, a role per workspace). A presented key wins over a cookie, and a
 * bad key is refused rather than falling back to the cookie. Requests made with a cookie must
 * carry the session's CSRF token in `X-CSRF-Token` unless they are safe (GET, HEAD, OPTIONS).
 *
 * Decisions per route (`config.access`):
 * - a key for another workspace: 403 `workspace_mismatch` (the key's holder knows its workspace,
 *   and the answer is the same whether the other workspace exists or not);
 * - a person who is not a member: 404 `workspace_not_found`, the same as for a workspace that does
 *   not exist, so that existence is not leaked;
 * - a member (the role without log access): 403 `no_audit_access` on every workspace route;
 * - people never write events: the log records what products send, not what viewers type.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Actor } from '../core/event.js';
import { TrailkeepError } from '../core/errors.js';
import type { ApiKeyRecord, KeyScope, Role, SessionRecord, UserRecord } from '../store/store.js';
import { LOG_READER_ROLES, MANAGER_ROLES, type ActingRole } from '../service/accounts.js';
import { keyActor, type AuditContext } from '../service/self-audit.js';
import type { HttpContext } from './context.js';
import { credentialParameter, isApiPath } from './request-url.js';

export const SESSION_COOKIE = 'tk_session';
export const CSRF_HEADER = 'x-csrf-token';

/**
 * What a route needs:
 * - `public`: nothing (health, OpenAPI, sign-in);
 * - `optional`: resolves a credential if any, the handler decides (session routes);
 * - `any`: some valid credential;
 * - `events:write`, `log:read`, `workspace:manage`: that right in the path's workspace;
 * - `log:public`: `log:read`, or nothing at all when the workspace made its log public (the
 *   verifiable log's endpoints, which carry hashes only).
 */
export type Access =
  'public' | 'optional' | 'any' | 'events:write' | 'log:read' | 'log:public' | 'workspace:manage';

export type Principal =
  | { kind: 'key'; key: ApiKeyRecord }
  | { kind: 'session'; user: UserRecord; session: SessionRecord; token: string };

/** Set on a request once a workspace route has been authorized. */
export interface Granted {
  workspace: string;
  /** The person's role; absent for keys. */
  role?: Role;
  /** What the caller may grant when changing roles. */
  actingAs: ActingRole | undefined;
  /** Granted because the workspace's log is public, not for a credential. */
  publicLog?: true;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

const KEY_RIGHTS: Record<KeyScope, ReadonlySet<Access>> = {
  ingest: new Set(['events:write']),
  read: new Set(['log:read', 'log:public']),
  admin: new Set(['events:write', 'log:read', 'log:public', 'workspace:manage']),
};

const KEY_REFUSALS: Record<KeyScope, string> = {
  ingest: 'An ingest key can only send events; use a read key to read the log',
  read: 'A read key can only read the log',
  admin: 'An admin key cannot do that',
};

function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (header === undefined) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match?.[1]) {
    throw new TrailkeepError(
      'unauthenticated',
      'The Authorization header must be "Bearer <API key>"',
    );
  }
  return match[1];
}

/**
 * Decided on the raw URL, parsed the most lenient way (request-url.ts), not on `request.query`:
 * what Fastify's parser makes of `?key[]=` or `?a;key=` is not what every client, proxy or
 * future parser does, and the point is that no spelling of a credential goes unnoticed.
 */
function refuseKeysInQueryString(request: FastifyRequest): void {
  const name = credentialParameter(request.url);
  if (name === undefined) return;
  throw new TrailkeepError(
    'key_in_query_string',
    `Credentials are not accepted in the query string (parameter "${name.slice(0, 100)}"): URLs end up in logs and browser history. Send "Authorization: Bearer <key>" instead, and revoke a key that was sent in a URL.`,
  );
}

async function resolvePrincipal(
  request: FastifyRequest,
  ctx: HttpContext,
): Promise<Principal | null> {
  const bearer = bearerToken(request);
  if (bearer !== undefined) {
    return { kind: 'key', key: await ctx.accounts.authenticateKey(bearer) };
  }
  const token = request.cookies[SESSION_COOKIE];
  if (!token) return null;
  const resolved = await ctx.accounts.resolveSession(token);
  return resolved ? { kind: 'session', ...resolved, token } : null;
}

function principalId(principal: Principal): string {
  return principal.kind === 'key' ? principal.key.id : principal.user.id;
}

async function grant(
  principal: Principal,
  workspace: string,
  access: Access,
  ctx: HttpContext,
): Promise<Granted> {
  if (principal.kind === 'key') {
    const { key } = principal;
    if (key.workspace !== workspace) {
      throw new TrailkeepError(
        'workspace_mismatch',
        `This key belongs to workspace "${key.workspace}", not "${workspace}"`,
      );
    }
    if (!KEY_RIGHTS[key.scope].has(access))
      throw new TrailkeepError('forbidden', KEY_REFUSALS[key.scope]);
    return { workspace, actingAs: key.scope === 'admin' ? 'admin' : undefined };
  }
  const role = await ctx.accounts.role(workspace, principal.user.id);
  if (role === undefined) {
    throw new TrailkeepError('workspace_not_found', `No workspace "${workspace}"`);
  }
  if (role === 'member') {
    throw new TrailkeepError(
      'no_audit_access',
      "You don't have access to this workspace's audit log; ask an owner or admin for the auditor role",
    );
  }
  if (access === 'events:write') {
    throw new TrailkeepError(
      'forbidden',
      'People cannot write events to the log; send them with an ingest key',
    );
  }
  if ((access === 'log:read' || access === 'log:public') && LOG_READER_ROLES.includes(role))
    return { workspace, role, actingAs: undefined };
  if (access === 'workspace:manage' && MANAGER_ROLES.includes(role)) {
    return { workspace, role, actingAs: role === 'owner' ? 'owner' : 'admin' };
  }
  throw new TrailkeepError('forbidden', `The ${role} role cannot manage keys or members`);
}

/** The onRequest hook: query-string keys, credential, rate limit, CSRF, workspace access. */
export async function authenticate(
  request: FastifyRequest,
  _reply: FastifyReply,
  ctx: HttpContext,
): Promise<void> {
  const access = (request.routeOptions.config as { access?: Access }).access;
  // Unknown API paths are refused too: their URLs are logged like any other.
  if (access !== undefined || isApiPath(request.url)) refuseKeysInQueryString(request);
  if (access === undefined || access === 'public') return; // static files, the viewer, 404s
  const principal = await resolvePrincipal(request, ctx);
  request.principal = principal;
  if (principal) {
    const wait = ctx.rateLimiter?.take(principalId(principal)) ?? 0;
    if (wait > 0) {
      throw new TrailkeepError(
        'rate_limited',
        `Too many requests for this credential; retry in ${wait} s`,
        {
          retryAfter: wait,
        },
      );
    }
    if (principal.kind === 'session' && !SAFE_METHODS.has(request.method)) {
      const presented = request.headers[CSRF_HEADER];
      if (
        !ctx.accounts.checkCsrf(
          principal.session,
          typeof presented === 'string' ? presented : undefined,
        )
      ) {
        throw new TrailkeepError(
          'csrf_failed',
          "Requests made with the session cookie must send the session's csrf_token in the X-CSRF-Token header",
        );
      }
    }
  }
  if (access === 'optional') return;
  if (access === 'log:public') {
    request.granted = await grantLogRead(request, principal, ctx);
    return;
  }
  if (!principal) {
    throw new TrailkeepError(
      'unauthenticated',
      'Sign in, or send an API key in "Authorization: Bearer <key>"',
    );
  }
  if (access === 'any') return;
  request.granted = await grant(principal, workspaceOf(request), access, ctx);
}

/**
 * A credential that may read the log is enough; without one, or with one that may not, the
 * answer is the same as on any `log:read` route unless the workspace made its log public. The
 * setting is read only then, so that credentialed readers pay nothing for it.
 */
async function grantLogRead(
  request: FastifyRequest,
  principal: Principal | null,
  ctx: HttpContext,
): Promise<Granted> {
  const workspace = workspaceOf(request);
  try {
    if (!principal) {
      throw new TrailkeepError(
        'unauthenticated',
        'Sign in, or send an API key in "Authorization: Bearer <key>"',
      );
    }
    return await grant(principal, workspace, 'log:public', ctx);
  } catch (error) {
    if (await ctx.log.isLogPublic(workspace))
      return { workspace, actingAs: undefined, publicLog: true };
    throw error;
  }
}

function workspaceOf(request: FastifyRequest): string {
  const workspace = (request.params as { ws?: string }).ws;
  if (workspace === undefined)
    throw new TrailkeepError('internal', `Route ${request.url} has no :ws`);
  return workspace;
}

/** The actor, IP, user agent and request id for self-audit events. */
export function auditContext(request: FastifyRequest): AuditContext {
  const principal = request.principal;
  let actor: Actor;
  if (principal?.kind === 'key') actor = keyActor(principal.key);
  else if (principal?.kind === 'session') {
    actor = { type: 'user', id: principal.user.id, email: principal.user.email };
    if (principal.user.name) actor.name = principal.user.name;
  } else actor = { type: 'system', id: 'anonymous' };
  const userAgent = request.headers['user-agent'];
  return {
    actor,
    ip: request.ip,
    userAgent: typeof userAgent === 'string' ? userAgent : undefined,
    requestId: request.id,
  };
}

/** The authorization decided in onRequest; routes with a workspace access level always have it. */
export function granted(request: FastifyRequest): Granted {
  if (!request.granted) throw new TrailkeepError('internal', 'The route was not authorized');
  return request.granted;
}
