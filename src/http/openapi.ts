/**
 * The OpenAPI 3.1 document, generated from the routes' own schemas (the same objects Fastify
 * validates with), so it cannot drift from what the server does. Shared schemas listed in
 * COMPONENTS become `$ref`s to `#/components/schemas/<name>`, recognised by object identity.
 */
import type { FastifyInstance, RouteOptions } from 'fastify';
import { TrailkeepError } from '../core/errors.js';
import type { Access } from './auth.js';
import { COMPONENTS, PROBLEM, type JsonSchema } from './schemas.js';

export interface RouteRecord {
  method: string;
  url: string;
  schema: Record<string, unknown> | undefined;
  access: Access | undefined;
  summary: string | undefined;
  tag: string | undefined;
  documentedBody: Record<string, unknown> | undefined;
}

export interface OpenApiInfo {
  title: string;
  version: string;
}

/** Starts collecting routes; call before any route is registered. */
export function collectRoutes(app: FastifyInstance): RouteRecord[] {
  const routes: RouteRecord[] = [];
  app.addHook('onRoute', (route: RouteOptions) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const config = route.config ?? {};
    if (config.access === undefined || config.hidden) return; // static files, aliases
    for (const method of methods) {
      if (method === 'HEAD') continue;
      routes.push({
        method: method.toLowerCase(),
        url: route.url,
        schema: route.schema as Record<string, unknown> | undefined,
        access: config.access,
        summary: config.summary,
        tag: config.tag,
        documentedBody: config.documentedBody,
      });
    }
  });
  return routes;
}

const refs = new Map<unknown, string>(Object.entries(COMPONENTS).map(([name, s]) => [s, name]));

/** A deep copy with every shared schema replaced by a `$ref` (except `self` at the top). */
function withRefs(schema: unknown, self?: unknown): unknown {
  if (schema !== self) {
    const name = refs.get(schema);
    if (name !== undefined) return { $ref: `#/components/schemas/${name}` };
  }
  if (Array.isArray(schema)) return schema.map((item) => withRefs(item));
  if (schema !== null && typeof schema === 'object') {
    return Object.fromEntries(
      Object.entries(schema as Record<string, unknown>).map(([k, v]) => [k, withRefs(v)]),
    );
  }
  return schema;
}

/** A trailing wildcard (the rest of a tile path) is documented as the parameter `path`. */
const WILDCARD = '*';
const WILDCARD_NAME = 'path';

function openApiPath(url: string): string {
  return url.replace(/:([A-Za-z0-9_]+)/g, '{$1}').replace(/\*$/, `{${WILDCARD_NAME}}`);
}

function operationId(method: string, url: string): string {
  const words = url
    .replace(/^\/api\/v1/, '')
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w) => w[0]!.toUpperCase() + w.slice(1));
  return method + words.join('');
}

function parameters(schema: unknown, where: 'path' | 'query'): JsonSchema[] {
  const object = schema as
    | { properties?: Record<string, JsonSchema & { description?: string }>; required?: string[] }
    | undefined;
  if (!object?.properties) return [];
  return Object.entries(object.properties).map(([name, property]) => {
    const { description, ...rest } = property;
    const parameter: JsonSchema = {
      name: where === 'path' && name === WILDCARD ? WILDCARD_NAME : name,
      in: where,
      required: where === 'path' || (object.required ?? []).includes(name),
      schema: withRefs(rest),
    };
    if (description !== undefined) parameter['description'] = description;
    if (rest['type'] === 'array') {
      parameter['style'] = 'form';
      parameter['explode'] = true;
    }
    return parameter;
  });
}

const SECURITY: Record<Access, Array<Record<string, string[]>>> = {
  public: [],
  optional: [{}, { session: [] }],
  any: [{ apiKey: [] }, { session: [] }],
  'events:write': [{ apiKey: [] }],
  'log:read': [{ apiKey: [] }, { session: [] }],
  'log:public': [{ apiKey: [] }, { session: [] }, {}],
  'workspace:manage': [{ apiKey: [] }, { session: [] }],
};

const ACCESS_NOTES: Record<Access, string> = {
  public: 'No credential.',
  optional: 'Uses the session cookie when present.',
  any: 'Any valid API key or session.',
  'events:write': 'An ingest or admin key of this workspace.',
  'log:read': 'A read or admin key of this workspace, or a session of an owner, admin or auditor.',
  'log:public':
    'A read or admin key of this workspace, or a session of an owner, admin or auditor; no credential when an owner made the log public (PUT /api/v1/workspaces/{ws}/settings/log).',
  'workspace:manage': 'An admin key of this workspace, or a session of an owner or admin.',
};

function responses(schema: Record<string, unknown> | undefined): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  const declared = (schema?.['response'] ?? {}) as Record<string, JsonSchema>;
  for (const [status, body] of Object.entries(declared)) {
    const description = typeof body['description'] === 'string' ? body['description'] : 'OK';
    // Fastify's per-media-type form: { description, content: { 'text/csv': { schema } } }.
    const content = body['content'] as Record<string, { schema: unknown }> | undefined;
    if (content !== undefined) {
      result[status] = {
        description,
        content: Object.fromEntries(
          Object.entries(content).map(([type, media]) => [
            type,
            { schema: withRefs(media.schema) },
          ]),
        ),
      };
    } else if (body['type'] === 'null') {
      result[status] = { description };
    } else {
      result[status] = { description, content: { 'application/json': { schema: withRefs(body) } } };
    }
  }
  result['default'] = {
    description: 'An error, as RFC 9457 problem details (see docs/errors.md)',
    content: { 'application/problem+json': { schema: withRefs(PROBLEM) } },
  };
  return result;
}

export function buildOpenApiDocument(
  routes: readonly RouteRecord[],
  info: OpenApiInfo,
): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const schema = route.schema;
    const operation: Record<string, unknown> = {
      operationId: operationId(route.method, route.url),
      summary: route.summary ?? `${route.method.toUpperCase()} ${route.url}`,
      description: route.access ? ACCESS_NOTES[route.access] : undefined,
      tags: route.tag ? [route.tag] : [],
      parameters: [
        ...parameters(schema?.['params'], 'path'),
        ...parameters(schema?.['querystring'], 'query'),
      ],
      responses: responses(schema),
    };
    if (route.access) operation['security'] = SECURITY[route.access];
    const body = route.documentedBody ?? (schema?.['body'] as JsonSchema | undefined);
    if (body) {
      operation['requestBody'] = {
        required: true,
        content: { 'application/json': { schema: withRefs(body) } },
      };
    }
    const path = openApiPath(route.url);
    paths[path] = { ...paths[path], [route.method]: operation };
  }
  const sortedPaths = Object.fromEntries(
    Object.entries(paths).sort(([a], [b]) => a.localeCompare(b)),
  );
  return {
    openapi: '3.1.0',
    info: {
      title: info.title,
      version: info.version,
      description:
        'Trailkeep: an append-only, tamper-evident audit log. Errors are RFC 9457 problem+json with a stable code (docs/errors.md).',
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    servers: [{ url: '/' }],
    paths: sortedPaths,
    components: {
      schemas: Object.fromEntries(
        Object.entries(COMPONENTS).map(([name, s]) => [name, withRefs(s, s)]),
      ),
      securitySchemes: {
        apiKey: {
          type: 'http',
          scheme: 'bearer',
          description: 'An API key: Authorization: Bearer tk_<scope>_<secret>',
        },
        session: {
          type: 'apiKey',
          in: 'cookie',
          name: 'tk_session',
          description:
            'The session cookie from POST /api/v1/session; state-changing requests also need X-CSRF-Token',
        },
      },
    },
  };
}

export function openApiRoute(
  app: FastifyInstance,
  routes: readonly RouteRecord[],
  info: OpenApiInfo,
): void {
  let document: Record<string, unknown> | undefined;
  app.get(
    '/openapi.json',
    {
      config: { access: 'public', summary: 'This document (OpenAPI 3.1)', tag: 'operations' },
      schema: {
        response: {
          200: {
            type: 'object',
            description: 'An OpenAPI 3.1 document',
            additionalProperties: true,
          },
        },
      },
    },
    (_request, reply) => {
      if (routes.length === 0) throw new TrailkeepError('internal', 'No routes were collected');
      document ??= buildOpenApiDocument(routes, info);
      return reply.send(document);
    },
  );
}
