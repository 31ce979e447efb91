/** API keys: list, create (the secret is shown once), revoke (takes effect at once). */
import type { FastifyInstance } from 'fastify';
import type { ApiKeyRecord, KeyScope } from '../../store/store.js';
import { KEY_SCOPES } from '../../service/api-keys.js';
import { auditContext, granted } from '../auth.js';
import type { HttpContext } from '../context.js';
import { API_KEY, CREATED_API_KEY, WS_PARAMS, paramsWith } from '../schemas.js';

/** The public view of a key: never its hash. */
export function keyView(key: ApiKeyRecord): Omit<ApiKeyRecord, 'hash' | 'workspace'> {
  return {
    id: key.id,
    name: key.name,
    scope: key.scope,
    prefix: key.prefix,
    created_at: key.created_at,
    created_by: key.created_by,
    revoked_at: key.revoked_at,
    last_used_at: key.last_used_at,
  };
}

export function keyRoutes(app: FastifyInstance, ctx: HttpContext): void {
  app.get<{ Params: { ws: string } }>(
    '/workspaces/:ws/keys',
    {
      config: { access: 'workspace:manage', summary: "The workspace's API keys", tag: 'keys' },
      schema: {
        params: WS_PARAMS,
        response: {
          200: {
            type: 'object',
            required: ['keys'],
            properties: { keys: { type: 'array', items: API_KEY } },
            additionalProperties: false,
          },
        },
      },
    },
    async (request) => ({
      keys: (await ctx.accounts.listKeys(granted(request).workspace)).map(keyView),
    }),
  );

  app.post<{ Params: { ws: string }; Body: { name: string; scope: KeyScope } }>(
    '/workspaces/:ws/keys',
    {
      config: {
        access: 'workspace:manage',
        summary: 'Create an API key (the secret is in this response only)',
        tag: 'keys',
      },
      schema: {
        params: WS_PARAMS,
        body: {
          type: 'object',
          required: ['name', 'scope'],
          properties: {
            name: { type: 'string', minLength: 1, maxLength: 200 },
            scope: { type: 'string', enum: [...KEY_SCOPES] },
          },
          additionalProperties: false,
        },
        response: { 201: CREATED_API_KEY },
      },
    },
    async (request, reply) => {
      const { workspace } = granted(request);
      const audit = auditContext(request);
      const created = await ctx.accounts.createKey(workspace, {
        name: request.body.name,
        scope: request.body.scope,
        createdBy: audit.actor.id,
      });
      await ctx.audit.keyCreated(workspace, audit, created.record);
      const { record } = created;
      return reply.code(201).send({
        key: created.key,
        id: record.id,
        name: record.name,
        scope: record.scope,
        prefix: record.prefix,
        created_at: record.created_at,
      });
    },
  );

  app.delete<{ Params: { ws: string; id: string } }>(
    '/workspaces/:ws/keys/:id',
    {
      config: { access: 'workspace:manage', summary: 'Revoke an API key now', tag: 'keys' },
      schema: {
        params: paramsWith({ id: { type: 'string', minLength: 1, maxLength: 64 } }),
        response: { 204: { type: 'null', description: 'Revoked' } },
      },
    },
    async (request, reply) => {
      const { workspace } = granted(request);
      const revoked = await ctx.accounts.revokeKey(workspace, request.params.id);
      await ctx.audit.keyRevoked(workspace, auditContext(request), revoked);
      return reply.code(204).send();
    },
  );
}
