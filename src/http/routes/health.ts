/** Liveness and readiness in one: answers 200 only when the store answers. */
import type { FastifyInstance } from 'fastify';
import { TrailkeepError } from '../../core/errors.js';
import type { HttpContext } from '../context.js';
import { HEALTH } from '../schemas.js';

export function healthRoutes(app: FastifyInstance, ctx: HttpContext): void {
  app.get(
    '/healthz',
    {
      config: {
        access: 'public',
        summary: 'Health of the server and its store',
        tag: 'operations',
      },
      schema: { response: { 200: HEALTH } },
    },
    async () => {
      try {
        await ctx.log.store.ping();
      } catch (error) {
        throw new TrailkeepError('store_unavailable', 'The database does not answer', {
          cause: error,
          retryAfter: 5,
        });
      }
      return { status: 'ok', store: ctx.log.store.engine };
    },
  );
}
