/** Ingest, pages, one event, facets and actor suggestions. */
import type { FastifyInstance } from 'fastify';
import { TrailkeepError, type Issue } from '../../core/errors.js';
import { LIMITS } from '../../core/limits.js';
import { KEY_ALIASES, QUERY_KEYS } from '../../core/query/keys.js';
import { emptyRecord, ownValue } from '../../core/safe-keys.js';
import { MAX_PAGE_SIZE } from '../../service/log-service.js';
import { auditContext, granted } from '../auth.js';
import type { HttpContext } from '../context.js';
import { valueDepth } from '../body.js';
import {
  ACTOR_FACET,
  APPEND_RESULT,
  EVENT_BATCH,
  EVENT_INPUT,
  EVENT_PAGE,
  FACETS,
  STORED_EVENT,
  WS_PARAMS,
  paramsWith,
  type JsonSchema,
} from '../schemas.js';

/** Route parameters that are not filter keys. */
export const PAGE_PARAMS = new Set(['q', 'limit', 'cursor', 'count']);

export function filterParameterSchemas(): Record<string, JsonSchema> {
  const names = [...QUERY_KEYS.filter((k) => k !== 'meta'), ...Object.keys(KEY_ALIASES)];
  return Object.fromEntries(
    names.map((name) => [
      name,
      {
        type: 'array',
        items: { type: 'string' },
        description: `Filter on ${name} (repeat to OR values; see docs/query-language.md)`,
      },
    ]),
  );
}

const PAGE_QUERY = {
  type: 'object',
  properties: {
    q: { type: 'string', maxLength: 4096, description: 'A query in the query language' },
    limit: { type: 'integer', minimum: 1, maximum: MAX_PAGE_SIZE, default: 50 },
    cursor: { type: 'string', maxLength: 8192, description: 'next_cursor or prev_cursor' },
    count: { type: 'boolean', default: true, description: 'Include the bounded count' },
    ...filterParameterSchemas(),
  },
  // `meta.KEY=value` parameters are open-ended; unknown names are refused by the query parser.
  additionalProperties: { type: 'array', items: { type: 'string' } },
} as const;

interface PageQuery {
  q?: string;
  limit?: number;
  cursor?: string;
  count?: boolean;
  [filter: string]: string | number | boolean | string[] | undefined;
}

/** Each event may nest LIMITS.maxDepth levels; reported as json_too_deep before validation. */
function checkEventDepth(body: unknown): void {
  const listed =
    typeof body === 'object' && body !== null
      ? ownValue(body as { events?: unknown }, 'events')
      : undefined;
  const batch = Array.isArray(listed) ? (listed as unknown[]) : undefined;
  const events = batch ?? [body];
  const issues: Issue[] = [];
  events.forEach((event, index) => {
    if (valueDepth(event, LIMITS.maxDepth) > LIMITS.maxDepth) {
      issues.push({
        ...(batch ? { index } : {}),
        path: '$',
        message: `nests deeper than ${LIMITS.maxDepth} levels`,
      });
    }
  });
  if (issues.length > 0) {
    throw new TrailkeepError(
      'json_too_deep',
      `${issues.length} event(s) nest deeper than ${LIMITS.maxDepth} levels`,
      { issues },
    );
  }
}

export function eventRoutes(app: FastifyInstance, ctx: HttpContext): void {
  app.post<{ Params: { ws: string } }>(
    '/workspaces/:ws/events',
    {
      config: {
        access: 'events:write',
        summary: 'Send one event or a batch of up to 1,000 (atomic)',
        tag: 'events',
        documentedBody: { oneOf: [EVENT_INPUT, EVENT_BATCH] },
      },
      schema: {
        params: WS_PARAMS,
        // Each event is validated by the service, which names every problem by index and path.
        body: { type: 'object' },
        response: { 200: APPEND_RESULT, 201: APPEND_RESULT },
      },
    },
    async (request, reply) => {
      const { workspace } = granted(request);
      checkEventDepth(request.body);
      if (!ctx.appendGate.tryAcquire()) {
        throw new TrailkeepError(
          'overloaded',
          `${ctx.appendGate.capacity} appends are already in flight in this process; retry shortly`,
          { retryAfter: 1 },
        );
      }
      try {
        const result = await ctx.log.ingest(workspace, request.body);
        return await reply.code(result.created > 0 ? 201 : 200).send({
          events: result.events.map(({ event, created }) => ({
            id: event.id,
            seq: event.seq,
            hash: event.hash,
            created,
          })),
        });
      } finally {
        ctx.appendGate.release();
      }
    },
  );

  app.get<{ Params: { ws: string }; Querystring: PageQuery }>(
    '/workspaces/:ws/events',
    {
      config: { access: 'log:read', summary: 'A page of events, newest first', tag: 'events' },
      schema: { params: WS_PARAMS, querystring: PAGE_QUERY, response: { 200: EVENT_PAGE } },
    },
    async (request) => {
      const { workspace } = granted(request);
      const query = request.query;
      // Parameter names are the sender's: in a plain object `__proto__=x` would be swallowed by
      // the prototype setter (a filter silently dropped) instead of being refused as unknown.
      const params = emptyRecord<string | string[]>();
      for (const [name, value] of Object.entries(query)) {
        if (PAGE_PARAMS.has(name) || value === undefined) continue;
        params[name] = Array.isArray(value) ? value : String(value);
      }
      const page = await ctx.log.query(workspace, {
        q: query.q,
        params,
        cursor: query.cursor,
        limit: query.limit,
        withCount: query.count !== false,
      });
      // A person asking a question is audited once per question, not once per page.
      if (request.principal?.kind === 'session' && !query.cursor) {
        await ctx.audit.logViewed(workspace, auditContext(request), page.query);
      }
      return page;
    },
  );

  app.get<{ Params: { ws: string; id: string } }>(
    '/workspaces/:ws/events/:id',
    {
      config: { access: 'log:read', summary: 'One event by id', tag: 'events' },
      schema: {
        params: paramsWith({ id: { type: 'string', minLength: 1, maxLength: 256 } }),
        response: { 200: STORED_EVENT },
      },
    },
    async (request) => ctx.log.getEvent(granted(request).workspace, request.params.id),
  );

  app.get<{ Params: { ws: string } }>(
    '/workspaces/:ws/facets',
    {
      config: {
        access: 'log:read',
        summary: 'Values with counts for filter dropdowns',
        tag: 'events',
      },
      schema: { params: WS_PARAMS, response: { 200: FACETS } },
    },
    async (request) => ctx.log.facets(granted(request).workspace),
  );

  app.get<{ Params: { ws: string }; Querystring: { prefix?: string; limit?: number } }>(
    '/workspaces/:ws/actors',
    {
      config: {
        access: 'log:read',
        summary: 'Actors whose id, name or email starts with a prefix (suggestions)',
        tag: 'events',
      },
      schema: {
        params: WS_PARAMS,
        querystring: {
          type: 'object',
          properties: {
            prefix: { type: 'string', maxLength: 256 },
            limit: { type: 'integer', minimum: 1, maximum: 100, default: 20 },
          },
          additionalProperties: false,
        },
        response: {
          200: {
            type: 'object',
            required: ['actors'],
            properties: { actors: { type: 'array', items: ACTOR_FACET } },
            additionalProperties: false,
          },
        },
      },
    },
    async (request) => {
      const prefix = (request.query.prefix ?? '').toLowerCase();
      const facets = await ctx.log.facets(granted(request).workspace);
      const actors = facets.actors
        .filter((actor) =>
          [actor.id, actor.name, actor.email].some((v) => v?.toLowerCase().startsWith(prefix)),
        )
        .slice(0, request.query.limit ?? 20);
      return { actors };
    },
  );
}
