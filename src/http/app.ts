/**
 * The HTTP service as one Fastify instance, built without listening (tests inject requests or
 * listen on port 0; `trailkeep serve` listens). Order of work for an API request:
 * request id -> route match -> onRequest: query-string keys, credential, rate limit, CSRF,
 * workspace access -> body read (size limit, depth check on the raw text, then parse) ->
 * schema validation -> handler -> problem+json for anything thrown.
 */
import cookie from '@fastify/cookie';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { IncomingMessage } from 'node:http';
import type { AccountService } from '../service/accounts.js';
import type { LogService } from '../service/log-service.js';
import { randomBase62 } from '../service/random.js';
import { RetentionService } from '../service/retention.js';
import { SelfAudit } from '../service/self-audit.js';
import { WitnessService, type WitnessServiceOptions } from '../service/witnesses.js';
import { InFlightGate, RateLimiter, type RateLimitOptions } from '../service/throttle.js';
import { authenticate } from './auth.js';
import { MAX_BODY_BYTES, registerJsonParser } from './body.js';
import type { HttpContext } from './context.js';
import { collectRoutes, openApiRoute } from './openapi.js';
import { problemErrorHandler } from './problem.js';
import { redactUrl } from './request-url.js';
import { healthRoutes } from './routes/health.js';
import { API_ROUTES } from './routes/index.js';
import { registerUrlChecks } from './url-input.js';
import { addSecurityHeaders, registerViewer } from './viewer.js';

export const API_PREFIX = '/api/v1';
export const DEFAULT_MAX_IN_FLIGHT_APPENDS = 64;

export interface AppOptions {
  log: LogService;
  accounts: AccountService;
  /** true, false, or pino options (JSON request logs to stdout). Default false. */
  logger?: boolean | Record<string, unknown>;
  /** Trust X-Forwarded-For/-Proto from a reverse proxy (for client IPs and Secure cookies). */
  trustProxy?: boolean;
  /** The built viewer; default the package's web/dist. */
  webRoot?: string;
  /** Secure cookies even when requests arrive over plain HTTP (TLS ends at a proxy). */
  secureCookies?: boolean;
  /** Per-credential token bucket; false turns it off. Default 50 req/s, burst 100. */
  rateLimit?: Partial<RateLimitOptions> | false;
  /** Appends in flight per process before ingest answers 503. Default 64. */
  maxInFlightAppends?: number;
  /** Request body limit in bytes. Default 4 MiB. */
  bodyLimit?: number;
  version?: string;
  /** Timing of the background witness pushes (tests shorten the debounce). */
  witnesses?: WitnessServiceOptions;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** A sane incoming X-Request-Id is kept (to correlate with a proxy's logs); else a new one. */
export function requestIdOf(request: IncomingMessage): string {
  const incoming = request.headers['x-request-id'];
  if (typeof incoming === 'string' && REQUEST_ID.test(incoming)) return incoming;
  return `req_${randomBase62(20)}`;
}

function loggerOptions(logger: AppOptions['logger']): NonNullable<FastifyServerOptions['logger']> {
  if (!logger) return false;
  const base = logger === true ? {} : logger;
  return {
    level: 'info',
    ...base,
    serializers: {
      req: (req: {
        method: string;
        url: string;
        ip?: string;
        headers?: Record<string, unknown>;
      }) => ({
        method: req.method,
        url: redactUrl(req.url),
        ip: req.ip,
        user_agent: req.headers?.['user-agent'],
      }),
      res: (res: { statusCode: number }) => ({ status: res.statusCode }),
    },
    redact: ['req.headers.authorization', 'req.headers.cookie'],
  };
}

export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const bodyLimit = options.bodyLimit ?? MAX_BODY_BYTES;
  const app = Fastify({
    logger: loggerOptions(options.logger),
    trustProxy: options.trustProxy ?? false,
    bodyLimit,
    genReqId: requestIdOf,
    return503OnClosing: true,
    ajv: { customOptions: { removeAdditional: false, allowUnionTypes: true } },
  });

  const audit = new SelfAudit(options.log);
  const ctx: HttpContext = {
    log: options.log,
    accounts: options.accounts,
    audit,
    retention: new RetentionService(options.log.store, audit, () => options.log.now()),
    witnesses: new WitnessService(options.log, options.witnesses),
    appendGate: new InFlightGate(options.maxInFlightAppends ?? DEFAULT_MAX_IN_FLIGHT_APPENDS),
    rateLimiter: options.rateLimit === false ? undefined : new RateLimiter(options.rateLimit ?? {}),
    secureCookies: options.secureCookies ?? false,
    bodyLimit,
  };
  app.decorate('trailkeep', ctx);
  app.addHook('onClose', () => ctx.witnesses.close());
  app.decorateRequest('principal', null);
  app.decorateRequest('granted', undefined);

  // Responses are plain JSON.stringify: a schema can never silently drop a field of an event.
  // Tests check every response against its route's schema instead.
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  app.setErrorHandler(problemErrorHandler);
  registerJsonParser(app, bodyLimit);
  await app.register(cookie);

  app.addHook('onRequest', async (request, reply) => {
    void reply.header('x-request-id', request.id);
    await authenticate(request, reply, ctx);
  });
  registerUrlChecks(app);
  addSecurityHeaders(app, ctx);

  const routes = collectRoutes(app);
  healthRoutes(app, ctx);
  await app.register(
    (api, _options, done) => {
      for (const register of API_ROUTES) register(api, ctx);
      // Aliases so that everything is also reachable under the API prefix.
      healthRoutes(api, ctx);
      done();
    },
    { prefix: API_PREFIX },
  );
  openApiRoute(app, routes, { title: 'Trailkeep', version: options.version ?? '0.1.0' });
  await registerViewer(app, options.webRoot);
  return app;
}
