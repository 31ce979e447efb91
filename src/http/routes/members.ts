/** Members and their roles; people join by invitation (invitations.ts). */
import type { FastifyInstance } from 'fastify';
import { TrailkeepError } from '../../core/errors.js';
import { ROLES } from '../../service/accounts.js';
import type { Membership, Role } from '../../store/store.js';
import { auditContext, granted } from '../auth.js';
import type { HttpContext } from '../context.js';
import { CREATED_INVITATION, DISPLAY_NAME, MEMBER, WS_PARAMS, paramsWith } from '../schemas.js';
import { createdInvitationView } from './invitations.js';

export function memberView(m: Membership): Omit<Membership, 'workspace'> {
  return {
    user_id: m.user_id,
    email: m.email,
    name: m.name,
    role: m.role,
    created_at: m.created_at,
  };
}

const ROLE = { type: 'string', enum: [...ROLES] } as const;

interface InviteBody {
  email: string;
  role: Role;
  name?: string;
}

export function memberRoutes(app: FastifyInstance, ctx: HttpContext): void {
  app.get<{ Params: { ws: string } }>(
    '/workspaces/:ws/members',
    {
      config: { access: 'workspace:manage', summary: 'Members and their roles', tag: 'members' },
      schema: {
        params: WS_PARAMS,
        response: {
          200: {
            type: 'object',
            required: ['members'],
            properties: { members: { type: 'array', items: MEMBER } },
            additionalProperties: false,
          },
        },
      },
    },
    async (request) => ({
      members: (await ctx.accounts.listMembers(granted(request).workspace)).map(memberView),
    }),
  );

  app.post<{ Params: { ws: string }; Body: InviteBody }>(
    '/workspaces/:ws/members',
    {
      config: {
        access: 'workspace:manage',
        summary: 'Invite a person by email; they become a member when they accept',
        tag: 'members',
      },
      schema: {
        params: WS_PARAMS,
        body: {
          type: 'object',
          required: ['email', 'role'],
          properties: {
            email: { type: 'string', minLength: 3, maxLength: 320 },
            role: ROLE,
            name: DISPLAY_NAME,
          },
          additionalProperties: false,
        },
        response: { 201: CREATED_INVITATION },
      },
    },
    async (request, reply) => {
      const { workspace, actingAs } = granted(request);
      if (request.body.role === 'owner' && actingAs !== 'owner') {
        throw new TrailkeepError('forbidden', 'Only an owner can add another owner');
      }
      const audit = auditContext(request);
      const created = await ctx.accounts.invite(workspace, {
        email: request.body.email,
        role: request.body.role,
        name: request.body.name,
        invitedBy: audit.actor.id,
      });
      await ctx.audit.invitationCreated(workspace, audit, created.invitation);
      return reply.code(201).send(createdInvitationView(created));
    },
  );

  app.patch<{ Params: { ws: string; user_id: string }; Body: { role: Role } }>(
    '/workspaces/:ws/members/:user_id',
    {
      config: { access: 'workspace:manage', summary: "Change a member's role", tag: 'members' },
      schema: {
        params: paramsWith({ user_id: { type: 'string', minLength: 1, maxLength: 64 } }),
        body: {
          type: 'object',
          required: ['role'],
          properties: { role: ROLE },
          additionalProperties: false,
        },
        response: {
          200: {
            type: 'object',
            required: ['user_id', 'email', 'role'],
            properties: { user_id: { type: 'string' }, email: { type: 'string' }, role: ROLE },
            additionalProperties: false,
          },
        },
      },
    },
    async (request) => {
      const { workspace, actingAs } = granted(request);
      const member = await ctx.accounts.findMember(workspace, request.params.user_id);
      if (member.user_id !== request.params.user_id) {
        throw new TrailkeepError('not_found', `No member "${request.params.user_id}"`);
      }
      const { before, after } = await ctx.accounts.setRole(
        workspace,
        member.user_id,
        request.body.role,
        actingAs ?? 'admin',
      );
      if (before.role !== after.role) {
        await ctx.audit.roleChanged(workspace, auditContext(request), after, before.role);
      }
      return { user_id: after.user_id, email: after.email, role: after.role };
    },
  );
}
