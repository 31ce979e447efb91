/** Sign-in, the current session, sign-out, and the caller's workspaces. */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { TrailkeepError, isTrailkeepError } from '../../core/errors.js';
import type { SignedIn } from '../../service/accounts.js';
import type { KeyScope, Role, UserRecord } from '../../store/store.js';
import type { SessionRecord } from '../../store/store.js';
import { auditContext, SESSION_COOKIE } from '../auth.js';
import { isSecure, type HttpContext } from '../context.js';
import { SESSION_INFO, WORKSPACE_ACCESS } from '../schemas.js';

/** The role a key acts with, for clients that show one role per workspace. */
const KEY_ROLES: Record<KeyScope, Role> = { admin: 'admin', read: 'auditor', ingest: 'member' };

export async function sessionInfo(
  ctx: HttpContext,
  user: UserRecord,
  session: SessionRecord,
): Promise<Record<string, unknown>> {
  return {
    user: { id: user.id, email: user.email, name: user.name },
    csrf_token: session.csrf_token,
    workspaces: await ctx.accounts.workspacesOf(user.id),
  };
}

function clearSessionCookie(request: FastifyRequest, reply: FastifyReply, ctx: HttpContext): void {
  void reply.clearCookie(SESSION_COOKIE, {
    path: '/',
    httpOnly: true,
    sameSite: 'lax',
    secure: isSecure(request, ctx),
  });
}

/** A wrong password is audited where someone can act on it: the account's own workspaces. */
export async function auditFailedSignIn(
  request: FastifyRequest,
  ctx: HttpContext,
  error: unknown,
  email: string,
): Promise<void> {
  if (!isTrailkeepError(error) || error.code !== 'unauthenticated') return;
  const user = await ctx.accounts.store.getUserByEmail(email.trim().toLowerCase());
  if (!user) return;
  const workspaces = (await ctx.accounts.workspacesOf(user.id)).map((w) => w.id);
  await ctx.audit.loginFailed(
    workspaces,
    { ...auditContext(request), actor: { type: 'user', id: user.id, email: user.email } },
    user,
    'wrong password',
  );
}

/**
 * Sets the session cookie. The sign-in is audited in each workspace the session goes on to
 * reach (SelfAudit.sessionReached), not here in every workspace of the person.
 */
export async function startSession(
  request: FastifyRequest,
  reply: FastifyReply,
  ctx: HttpContext,
  signedIn: SignedIn,
): Promise<Record<string, unknown>> {
  const { user, session, token } = signedIn;
  const info = await sessionInfo(ctx, user, session);
  const maxAge = Math.max(0, Math.floor((Date.parse(session.expires_at) - Date.now()) / 1000));
  void reply.setCookie(SESSION_COOKIE, token, {
    path: '/',
    httpOnly: true,
    sameSite: 'lax',
    secure: isSecure(request, ctx),
    maxAge,
  });
  return info;
}

const NOT_SIGNED_IN = 'Not signed in: POST /api/v1/session with { "email", "password" }';

export function sessionRoutes(app: FastifyInstance, ctx: HttpContext): void {
  app.post<{ Body: { email: string; password: string } }>(
    '/session',
    {
      config: { access: 'public', summary: 'Sign in; sets the tk_session cookie', tag: 'session' },
      schema: {
        body: {
          type: 'object',
          required: ['email', 'password'],
          properties: {
            email: { type: 'string', minLength: 1, maxLength: 320 },
            password: { type: 'string', minLength: 1, maxLength: 1024 },
          },
          additionalProperties: false,
        },
        response: { 200: SESSION_INFO },
      },
    },
    async (request, reply) => {
      const { email, password } = request.body;
      let signedIn;
      try {
        signedIn = await ctx.accounts.login(email, password, request.ip);
      } catch (error) {
        await auditFailedSignIn(request, ctx, error, email);
        throw error;
      }
      return startSession(request, reply, ctx, signedIn);
    },
  );

  app.get(
    '/session',
    {
      config: { access: 'optional', summary: 'The signed-in person', tag: 'session' },
      schema: { response: { 200: SESSION_INFO } },
    },
    async (request) => {
      const principal = request.principal;
      if (principal?.kind !== 'session') throw new TrailkeepError('unauthenticated', NOT_SIGNED_IN);
      return sessionInfo(ctx, principal.user, principal.session);
    },
  );

  app.delete(
    '/session',
    {
      config: { access: 'optional', summary: 'Sign out', tag: 'session' },
      schema: { response: { 204: { type: 'null', description: 'Signed out' } } },
    },
    async (request, reply) => {
      const principal = request.principal;
      if (principal?.kind === 'session') await ctx.accounts.logout(principal.token);
      clearSessionCookie(request, reply, ctx);
      return reply.code(204).send();
    },
  );

  app.get(
    '/workspaces',
    {
      config: { access: 'any', summary: "The caller's workspaces", tag: 'session' },
      schema: {
        response: {
          200: {
            type: 'object',
            required: ['workspaces'],
            properties: { workspaces: { type: 'array', items: WORKSPACE_ACCESS } },
            additionalProperties: false,
          },
        },
      },
    },
    async (request) => {
      const principal = request.principal;
      if (principal?.kind === 'session') {
        return { workspaces: await ctx.accounts.workspacesOf(principal.user.id) };
      }
      if (principal?.kind === 'key') {
        const ws = await ctx.accounts.requireWorkspace(principal.key.workspace);
        return {
          workspaces: [
            {
              id: ws.id,
              name: ws.name,
              role: KEY_ROLES[principal.key.scope],
              scope: principal.key.scope,
            },
          ],
        };
      }
      throw new TrailkeepError('unauthenticated', NOT_SIGNED_IN);
    },
  );
}
