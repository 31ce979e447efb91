/**
 * Fastify plugin: the same as the Express middleware. Registered without encapsulation (as
 * fastify-plugin would), so `request.audit` exists in every route of the app:
 *
 *   await app.register(trailkeepFastify(client, { actor: (request) => ... }));
 *
 * Only Fastify's types are used; the client never loads Fastify itself.
 */
import type { FastifyInstance, FastifyPluginCallback, FastifyRequest } from 'fastify';
import type { EventContext } from '../../core/event.js';
import type { TrailkeepClient } from '../client.js';
import {
  auditFunction,
  requestContext,
  trustTest,
  type AuditFunction,
  type AuditMiddlewareOptions,
} from './context.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Records an event for this request (actor and context preset). Set by trailkeepFastify. */
    audit: AuditFunction;
    /** The context trailkeepFastify derived for this request. */
    auditContext: EventContext;
  }
}

export function trailkeepFastify(
  client: Pick<TrailkeepClient, 'record'>,
  options: AuditMiddlewareOptions<FastifyRequest>,
): FastifyPluginCallback {
  const trusted = trustTest(options.trustProxy);
  const plugin: FastifyPluginCallback = (app: FastifyInstance, _opts, done) => {
    app.decorateRequest('audit');
    app.decorateRequest('auditContext');
    app.addHook('onRequest', (request, reply, hookDone) => {
      const { context, requestId } = requestContext(
        { remoteAddress: request.raw.socket.remoteAddress, headers: request.headers },
        trusted,
      );
      if (!reply.hasHeader('x-request-id')) void reply.header('x-request-id', requestId);
      request.auditContext = context;
      request.audit = auditFunction(client, context, () => options.actor(request));
      hookDone();
    });
    done();
  };
  // What fastify-plugin does: the decorators and hook apply to the registering scope.
  (plugin as FastifyPluginCallback & Record<symbol, boolean>)[Symbol.for('skip-override')] = true;
  return plugin;
}
