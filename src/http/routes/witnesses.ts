/**
 * A workspace's witnesses (c2sp.org/tlog-witness): owners add and remove them (audited like the
 * other admin actions); anyone who may read the log sees each witness's status, so a witness
 * that refuses a checkpoint (the history changed) is visible to every auditor. The cosignatures
 * themselves reach readers on the checkpoint (GET .../log/checkpoint, proofs, exports).
 */
import type { FastifyInstance } from 'fastify';
import { TrailkeepError } from '../../core/errors.js';
import { witnessView } from '../../service/witnesses.js';
import { auditContext, granted } from '../auth.js';
import type { HttpContext } from '../context.js';
import { WS_PARAMS, paramsWith } from '../schemas.js';

const NULLABLE_STRING = { type: ['string', 'null'] } as const;

export const WITNESS = {
  type: 'object',
  required: [
    'name',
    'url',
    'vkey',
    'created_at',
    'cosigned_size',
    'cosigned_at',
    'status',
    'last_error',
    'last_error_at',
    'last_attempt_at',
  ],
  properties: {
    name: { type: 'string' },
    url: { type: 'string' },
    vkey: { type: 'string', description: "The witness's cosignature v1 verifier key" },
    created_at: { type: 'string' },
    cosigned_size: {
      type: ['integer', 'null'],
      description: 'The latest tree size the witness cosigned',
    },
    cosigned_at: NULLABLE_STRING,
    status: {
      type: 'string',
      enum: ['ok', 'pending', 'failing'],
      description: '`failing`: the last attempt was refused or failed, see `last_error`',
    },
    last_error: NULLABLE_STRING,
    last_error_at: NULLABLE_STRING,
    last_attempt_at: NULLABLE_STRING,
  },
  additionalProperties: false,
} as const;

/**
 * Witnesses are what makes a rewritten history visible: removing one silences it. Like opening
 * the log (PUT settings/log), that is an owner's decision; admins and admin keys may not.
 */
function requireOwner(request: Parameters<typeof granted>[0]): string {
  const grant = granted(request);
  if (grant.actingAs !== 'owner') {
    throw new TrailkeepError('forbidden', "Only the workspace's owners manage its witnesses");
  }
  return grant.workspace;
}

export function witnessRoutes(app: FastifyInstance, ctx: HttpContext): void {
  app.get<{ Params: { ws: string } }>(
    '/workspaces/:ws/witnesses',
    {
      config: {
        access: 'log:read',
        summary: "The workspace's witnesses and what each last cosigned or why it refused",
        tag: 'integrity',
      },
      schema: {
        params: WS_PARAMS,
        response: {
          200: {
            type: 'object',
            required: ['witnesses'],
            properties: { witnesses: { type: 'array', items: WITNESS } },
            additionalProperties: false,
          },
        },
      },
    },
    async (request) => ({ witnesses: await ctx.witnesses.list(granted(request).workspace) }),
  );

  app.post<{ Params: { ws: string }; Body: { name: string; url: string; vkey: string } }>(
    '/workspaces/:ws/witnesses',
    {
      config: {
        access: 'workspace:manage',
        summary: 'Add a witness (owners): it is sent every new checkpoint to cosign',
        tag: 'integrity',
      },
      schema: {
        params: WS_PARAMS,
        body: {
          type: 'object',
          required: ['name', 'url', 'vkey'],
          properties: {
            name: { type: 'string', minLength: 1, maxLength: 64 },
            url: { type: 'string', minLength: 1, maxLength: 2048 },
            vkey: { type: 'string', minLength: 1, maxLength: 512 },
          },
          additionalProperties: false,
        },
        response: { 201: WITNESS },
      },
    },
    async (request, reply) => {
      const workspace = requireOwner(request);
      const added = await ctx.witnesses.add(workspace, request.body);
      await ctx.audit.witnessAdded(workspace, auditContext(request), added);
      return reply.code(201).send(witnessView(added));
    },
  );

  app.delete<{ Params: { ws: string; name: string } }>(
    '/workspaces/:ws/witnesses/:name',
    {
      config: {
        access: 'workspace:manage',
        summary: 'Remove a witness (owners)',
        tag: 'integrity',
      },
      schema: {
        params: paramsWith({ name: { type: 'string', minLength: 1, maxLength: 64 } }),
        response: { 204: { type: 'null', description: 'Removed' } },
      },
    },
    async (request, reply) => {
      const workspace = requireOwner(request);
      const removed = await ctx.witnesses.remove(workspace, request.params.name);
      await ctx.audit.witnessRemoved(workspace, auditContext(request), removed);
      return reply.code(204).send();
    },
  );
}
