/**
 * Liveness and readiness in one: answers 200 only when the store answers and can write. After
 * an append failed for want of space or an I/O error it answers 503 with that error's code
 * (`store_full`, `store_io_error`) until a write succeeds again; each check then tries a tiny
 * write itself, so a server taken out of rotation comes back on its own once space is freed.
 */
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
      const failing = ctx.log.writeProblem() && (await ctx.log.probeWrite());
      if (failing) {
        const { error, since } = failing;
        throw new TrailkeepError(
          error.code,
          `The store cannot write (since ${since}): ${error.message}`,
          {
            ...(error.retryAfter === undefined ? {} : { retryAfter: error.retryAfter }),
            extra: { store: ctx.log.store.engine, can_write: false, since },
          },
        );
      }
      return { status: 'ok', store: ctx.log.store.engine };
    },
  );
}
