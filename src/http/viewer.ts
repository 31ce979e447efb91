/**
 * The viewer's static files (web/dist, built with Vite) at `/`, with a single-page-app fallback
 * to index.html for paths that are not API routes; and the security headers every response
 * carries. The Content-Security-Policy allows scripts and styles from the server's own origin
 * only: no inline scripts, no eval, no framing.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { TrailkeepError } from '../core/errors.js';
import { isSecure, type HttpContext } from './context.js';
import { sendProblem } from './problem.js';
import { isApiPath, isSourceMapPath, redactUrl } from './request-url.js';

export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

const NOT_BUILT_PAGE = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Trailkeep</title></head>
<body>
<h1>Trailkeep is running</h1>
<p>The viewer is not built. Build it with <code>npx vite build --config web/vite.config.ts</code>
(it is written to <code>web/dist</code>) and reload this page. The HTTP API is at <code>/api/v1</code>; its
description is at <a href="/openapi.json">/openapi.json</a>.</p>
</body>
</html>
`;

/** A year: browsers keep to HTTPS for that long after one answer over it. */
export const STRICT_TRANSPORT_SECURITY = 'max-age=31536000; includeSubDomains';

/**
 * An API answer: the router matched an API route (whatever spelling of the path it decoded to
 * get there, e.g. `/%61pi/v1/...`), or the normalized path is under the API.
 */
export function isApiRequest(request: FastifyRequest): boolean {
  const config = request.routeOptions.config as { access?: unknown } | undefined;
  return config?.access !== undefined || isApiPath(request.url);
}

export function addSecurityHeaders(app: FastifyInstance, ctx: HttpContext): void {
  app.addHook('onSend', async (request, reply, payload) => {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) void reply.header(name, value);
    // Audit data must not linger in shared or browser caches. Routes that serve only hashes
    // (the log's tiles) set their own.
    if (isApiRequest(request) && !reply.hasHeader('cache-control')) {
      void reply.header('cache-control', 'no-store');
    }
    // Cookies marked Secure are only safe if the browser never falls back to plain HTTP.
    if (isSecure(request, ctx)) {
      void reply.header('strict-transport-security', STRICT_TRANSPORT_SECURITY);
    }
    return payload;
  });
}

/**
 * The package's own web/dist, wherever the server is started from: this module runs from
 * src/http (tsx) or dist/src/http (built), so the package root is two or three levels up.
 */
export function defaultWebRoot(): string {
  const here = fileURLToPath(new URL('.', import.meta.url));
  const candidates = [
    join(here, '..', '..', 'web', 'dist'),
    join(here, '..', '..', '..', 'web', 'dist'),
  ];
  return (
    candidates.find((dir) => existsSync(join(dir, 'index.html'))) ??
    join(process.cwd(), 'web', 'dist')
  );
}

export async function registerViewer(
  app: FastifyInstance,
  webRoot: string | undefined,
): Promise<void> {
  const root = resolve(webRoot ?? defaultWebRoot());
  const built = existsSync(join(root, 'index.html'));
  if (built) {
    await app.register(fastifyStatic, {
      root,
      prefix: '/',
      wildcard: true,
      index: ['index.html'],
      cacheControl: false,
      // A source map left in web/dist (a development build) is not published.
      allowedPath: (_path, _root, request) => !isSourceMapPath(request.url),
      // Hashed asset names change with their content; index.html must always be revalidated.
      setHeaders: (res, path) => {
        res.setHeader(
          'cache-control',
          path.endsWith('index.html') ? 'no-cache' : 'public, max-age=31536000, immutable',
        );
      },
    });
  }

  app.setNotFoundHandler(async (request: FastifyRequest, reply: FastifyReply) => {
    if (
      isApiRequest(request) ||
      isSourceMapPath(request.url) ||
      (request.method !== 'GET' && request.method !== 'HEAD')
    ) {
      return sendProblem(
        reply,
        new TrailkeepError(
          'not_found',
          `No route ${request.method} ${redactUrl(request.url.split('?')[0] ?? '')}`,
        ),
      );
    }
    if (built) {
      void reply.header('cache-control', 'no-cache');
      return reply.sendFile('index.html');
    }
    return reply.code(200).type('text/html; charset=utf-8').send(NOT_BUILT_PAGE);
  });
}
