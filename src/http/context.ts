/** What every route plugin gets: the services and the process's limits. */
import type { FastifyRequest } from 'fastify';
import type { AccountService } from '../service/accounts.js';
import type { LogService } from '../service/log-service.js';
import type { RetentionService } from '../service/retention.js';
import type { SelfAudit } from '../service/self-audit.js';
import type { InFlightGate, RateLimiter } from '../service/throttle.js';
import type { WitnessService } from '../service/witnesses.js';
import type { Granted, Principal } from './auth.js';

export interface HttpContext {
  log: LogService;
  accounts: AccountService;
  audit: SelfAudit;
  retention: RetentionService;
  /** Sends new checkpoints to the workspaces' witnesses, in the background. */
  witnesses: WitnessService;
  /** Bounds appends in flight in this process; beyond it ingest answers 503 `overloaded`. */
  appendGate: InFlightGate;
  /** Per-credential token buckets; undefined when rate limiting is off. */
  rateLimiter: RateLimiter | undefined;
  /** Set the Secure flag on cookies even when the request did not arrive over TLS. */
  secureCookies: boolean;
  /** Largest accepted request body in bytes. */
  bodyLimit: number;
}

/**
 * Whether this request is treated as HTTPS: it came over TLS (as told by X-Forwarded-Proto
 * only with --trust-proxy), or the operator said TLS ends in front (--secure-cookies). Decides
 * the Secure flag of cookies and HSTS together, so one never comes without the other.
 */
export function isSecure(request: FastifyRequest, ctx: HttpContext): boolean {
  return ctx.secureCookies || request.protocol === 'https';
}

declare module 'fastify' {
  interface FastifyInstance {
    trailkeep: HttpContext;
  }
  interface FastifyRequest {
    principal: Principal | null;
    granted: Granted | undefined;
  }
  interface FastifyContextConfig {
    access?: import('./auth.js').Access;
    /** The documented request body when runtime validation is left to the service. */
    documentedBody?: Record<string, unknown>;
    /** OpenAPI summary and tag. */
    summary?: string;
    tag?: string;
    /** Left out of the OpenAPI document. */
    hidden?: boolean;
  }
}
