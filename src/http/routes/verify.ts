/** Chain verification and signed checkpoints. */
import type { FastifyInstance } from 'fastify';
import { granted } from '../auth.js';
import type { HttpContext } from '../context.js';
import { SIGNED_CHECKPOINT, VERIFY_REPORT, WS_PARAMS } from '../schemas.js';

export function verifyRoutes(app: FastifyInstance, ctx: HttpContext): void {
  app.get<{ Params: { ws: string } }>(
    '/workspaces/:ws/verify',
    {
      config: {
        access: 'log:read',
        summary: "Walk the workspace's hash chain and report the first problem",
        tag: 'integrity',
      },
      schema: { params: WS_PARAMS, response: { 200: VERIFY_REPORT } },
    },
    async (request) => ctx.log.verify(granted(request).workspace),
  );

  app.get<{ Params: { ws: string } }>(
    '/workspaces/:ws/checkpoint',
    {
      config: {
        access: 'log:read',
        summary: 'A signed statement of the current head, to keep and verify against later',
        tag: 'integrity',
      },
      schema: { params: WS_PARAMS, response: { 200: SIGNED_CHECKPOINT } },
    },
    async (request, reply) => {
      const { workspace } = granted(request);
      const checkpoint = await ctx.log.checkpoint(workspace);
      void reply.header(
        'content-disposition',
        `attachment; filename="trailkeep-checkpoint-${workspace}-${checkpoint.seq}.json"`,
      );
      return checkpoint;
    },
  );

  app.get<{ Params: { ws: string } }>(
    '/workspaces/:ws/log/vkeys',
    {
      config: {
        access: 'log:public',
        summary:
          'The verifier keys of checkpoints (C2SP note vkey form, one a line): the current key first, then retired ones',
        tag: 'integrity',
      },
      schema: {
        params: WS_PARAMS,
        response: {
          200: {
            description: 'One verifier key per line, <name>+<hex key id>+<base64(0x01 ‖ key)>',
            content: { 'text/plain': { schema: { type: 'string' } } },
          },
        },
      },
    },
    async (request, reply) => {
      granted(request);
      void reply.type('text/plain; charset=utf-8');
      return `${ctx.log.verifierKeys.join('\n')}\n`;
    },
  );
}
