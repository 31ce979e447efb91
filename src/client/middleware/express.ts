/**
 * Express middleware: fills each request's audit context and gives handlers `req.audit(event)`
 * with the actor preset. Only Express's types are used; the client never loads Express itself.
 *
 *   app.use(trailkeepExpress(client, { actor: (req) => req.user && { type: 'user', id: req.user.id } }));
 *   app.post('/jobs', async (req, res) => { ...; await req.audit({ action: 'job.created', ... }); });
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { EventContext } from '../../core/event.js';
import type { TrailkeepClient } from '../client.js';
import {
  auditFunction,
  requestContext,
  trustTest,
  type AuditFunction,
  type AuditMiddlewareOptions,
} from './context.js';

declare module 'express-serve-static-core' {
  interface Request {
    /** Records an event for this request (actor and context preset). Set by trailkeepExpress. */
    audit: AuditFunction;
    /** The context trailkeepExpress derived for this request. */
    auditContext: EventContext;
  }
}

export function trailkeepExpress(
  client: Pick<TrailkeepClient, 'record'>,
  options: AuditMiddlewareOptions<Request>,
): RequestHandler {
  const trusted = trustTest(options.trustProxy);
  return (req: Request, res: Response, next: NextFunction) => {
    const { context, requestId } = requestContext(
      { remoteAddress: req.socket.remoteAddress, headers: req.headers },
      trusted,
    );
    if (!res.headersSent && res.getHeader('x-request-id') === undefined)
      res.setHeader('x-request-id', requestId);
    req.auditContext = context;
    req.audit = auditFunction(client, context, () => options.actor(req));
    next();
  };
}
