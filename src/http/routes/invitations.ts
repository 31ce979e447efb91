/**
 * Invitations: how a person joins a workspace. An owner or admin invites an email address
 * (`POST /workspaces/{ws}/members`); the answer is the same whether or not the address has an
 * account, and carries the link's secret once. The person accepts: signed in, from their list
 * of invitations, or with the link's secret (and their password, or a new one).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { TrailkeepError } from '../../core/errors.js';
import type { CreatedInvitation } from '../../service/accounts.js';
import type { InvitationRecord, UserRecord } from '../../store/store.js';
import { auditContext, granted } from '../auth.js';
import type { HttpContext } from '../context.js';
import {
  DISPLAY_NAME,
  INVITATION,
  MY_INVITATION,
  SESSION_INFO,
  WORKSPACE_ACCESS,
  WS_PARAMS,
  paramsWith,
} from '../schemas.js';
import { auditFailedSignIn, sessionInfo, startSession } from './session.js';

/** The inviter's view: what they typed and chose, nothing about any account. */
export function invitationView(invitation: InvitationRecord): Record<string, unknown> {
  return {
    id: invitation.id,
    email: invitation.email,
    role: invitation.role,
    status: 'invited',
    created_at: invitation.created_at,
    expires_at: invitation.expires_at,
  };
}

export function createdInvitationView(created: CreatedInvitation): Record<string, unknown> {
  return {
    ...invitationView(created.invitation),
    token: created.token,
    accept_path: `/invite#${created.token}`,
  };
}

const INVITATION_ID = { type: 'string', minLength: 1, maxLength: 64 } as const;

/** Invitations are addressed to people: a key has none and accepts none. */
function signedInPerson(request: FastifyRequest): UserRecord {
  const principal = request.principal;
  if (principal?.kind !== 'session') {
    throw new TrailkeepError('forbidden', 'Invitations are accepted by people, signed in');
  }
  return principal.user;
}

export function invitationRoutes(app: FastifyInstance, ctx: HttpContext): void {
  app.get<{ Params: { ws: string } }>(
    '/workspaces/:ws/invitations',
    {
      config: {
        access: 'workspace:manage',
        summary: 'Open invitations to this workspace',
        tag: 'members',
      },
      schema: {
        params: WS_PARAMS,
        response: {
          200: {
            type: 'object',
            required: ['invitations'],
            properties: { invitations: { type: 'array', items: INVITATION } },
            additionalProperties: false,
          },
        },
      },
    },
    async (request) => ({
      invitations: (await ctx.accounts.listInvitations(granted(request).workspace)).map(
        invitationView,
      ),
    }),
  );

  app.delete<{ Params: { ws: string; id: string } }>(
    '/workspaces/:ws/invitations/:id',
    {
      config: {
        access: 'workspace:manage',
        summary: 'Withdraw an invitation (its link stops working)',
        tag: 'members',
      },
      schema: {
        params: paramsWith({ id: INVITATION_ID }),
        response: { 204: { type: 'null', description: 'Withdrawn' } },
      },
    },
    async (request, reply) => {
      const { workspace } = granted(request);
      const revoked = await ctx.accounts.revokeInvitation(workspace, request.params.id);
      await ctx.audit.invitationRevoked(workspace, auditContext(request), revoked);
      return reply.code(204).send();
    },
  );

  app.get(
    '/invitations',
    {
      config: {
        access: 'any',
        summary: 'Open invitations addressed to the signed-in person',
        tag: 'session',
      },
      schema: {
        response: {
          200: {
            type: 'object',
            required: ['invitations'],
            properties: { invitations: { type: 'array', items: MY_INVITATION } },
            additionalProperties: false,
          },
        },
      },
    },
    async (request) => ({
      invitations: (await ctx.accounts.invitationsFor(signedInPerson(request))).map(
        ({ invitation, workspace }) => ({
          id: invitation.id,
          workspace: workspace.id,
          workspace_name: workspace.name,
          role: invitation.role,
          expires_at: invitation.expires_at,
        }),
      ),
    }),
  );

  app.post<{ Params: { id: string } }>(
    '/invitations/:id/accept',
    {
      config: {
        access: 'any',
        summary: 'Accept an invitation addressed to the signed-in person',
        tag: 'session',
      },
      schema: {
        params: {
          type: 'object',
          required: ['id'],
          properties: { id: INVITATION_ID },
        },
        response: {
          200: {
            type: 'object',
            required: ['workspace'],
            properties: { workspace: WORKSPACE_ACCESS },
            additionalProperties: false,
          },
        },
      },
    },
    async (request) => {
      const accepted = await ctx.accounts.acceptInvitation(
        request.params.id,
        signedInPerson(request),
      );
      const { membership, invitation } = accepted;
      await ctx.audit.memberAdded(
        membership.workspace,
        auditContext(request),
        membership,
        invitation,
      );
      const workspace = await ctx.accounts.requireWorkspace(membership.workspace);
      return { workspace: { id: workspace.id, name: workspace.name, role: membership.role } };
    },
  );

  app.post<{ Body: { token: string; password?: string; name?: string } }>(
    '/invitations/accept',
    {
      config: {
        access: 'optional',
        summary:
          "Accept with the invitation link's secret: signed in, or with a password (signs in)",
        tag: 'session',
      },
      schema: {
        body: {
          type: 'object',
          required: ['token'],
          properties: {
            token: { type: 'string', minLength: 1, maxLength: 200 },
            password: {
              type: 'string',
              minLength: 1,
              maxLength: 1024,
              description:
                "When not signed in: the password of the invited address's account, or the one to create it with",
            },
            name: DISPLAY_NAME,
          },
          additionalProperties: false,
        },
        response: { 200: SESSION_INFO },
      },
    },
    async (request, reply) => {
      const principal = request.principal;
      if (principal?.kind === 'key') signedInPerson(request);
      const signedInUser = principal?.kind === 'session' ? principal.user : undefined;
      const open = await ctx.accounts.invitationByToken(request.body.token);
      let accepted;
      try {
        accepted = await ctx.accounts.acceptInvitationWithToken(open, request.body, {
          user: signedInUser,
          ip: request.ip,
        });
      } catch (error) {
        await auditFailedSignIn(request, ctx, error, open.email);
        throw error;
      }
      const { membership, invitation, user, signedIn } = accepted;
      const actor = { type: 'user' as const, id: user.id, email: user.email };
      await ctx.audit.memberAdded(
        membership.workspace,
        { ...auditContext(request), actor: user.name ? { ...actor, name: user.name } : actor },
        membership,
        invitation,
      );
      if (signedIn) return startSession(request, reply, ctx, signedIn);
      if (principal?.kind !== 'session') throw new TrailkeepError('internal', 'No session');
      return sessionInfo(ctx, principal.user, principal.session);
    },
  );
}
