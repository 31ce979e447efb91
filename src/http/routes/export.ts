/** Streamed exports (events or entity states) and entity history. */
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { EXPORT_FORMATS } from '../../core/export-format.js';
import { emptyRecord } from '../../core/safe-keys.js';
import {
  countExport,
  entityHistory,
  planExport,
  type ExportRequest,
} from '../../service/export.js';
import { auditContext, granted } from '../auth.js';
import type { HttpContext } from '../context.js';
import { STORED_EVENT, WS_PARAMS, paramsWith, type JsonSchema } from '../schemas.js';
import { PAGE_PARAMS, filterParameterSchemas } from './events.js';

const EXPORT_PARAMS = new Set([...PAGE_PARAMS, 'format', 'type', 'proofs']);

const EXPORT_QUERY = {
  type: 'object',
  properties: {
    q: { type: 'string', maxLength: 4096, description: 'A query in the query language' },
    format: { type: 'string', enum: [...EXPORT_FORMATS], default: 'csv' },
    type: {
      type: 'string',
      enum: ['events', 'entities'],
      default: 'events',
      description: 'events, or entities: one row per entity of target_type with its latest state',
    },
    limit: {
      type: 'integer',
      minimum: 1,
      // Past this the count query's `limit + 1` would no longer be an exact integer.
      maximum: Number.MAX_SAFE_INTEGER - 1,
      description: 'Stop after this many rows (said in a header)',
    },
    proofs: {
      type: 'boolean',
      default: false,
      description:
        'Events only: each row gets a `proof` (CSV column / JSON member), the C2SP tlog-proof of the event relative to one checkpoint, the same for every row (its tree size is in X-Trailkeep-Checkpoint-Size); null for events appended while the export ran',
    },
    ...filterParameterSchemas(),
  },
  additionalProperties: { type: 'array', items: { type: 'string' } },
} as const;

type ExportQuery = Record<string, string | number | boolean | string[] | undefined>;

/** Splits the query string into the export's own options and the filter parameters. */
function exportRequest(query: ExportQuery): ExportRequest {
  // Parameter names are the sender's: in a plain object `__proto__=x` would be swallowed by
  // the prototype setter (a filter silently dropped) instead of being refused as unknown.
  const params = emptyRecord<string | string[]>();
  for (const [name, value] of Object.entries(query)) {
    if (EXPORT_PARAMS.has(name) || value === undefined) continue;
    params[name] = Array.isArray(value) ? value : String(value);
  }
  const type = typeof query['type'] === 'string' ? query['type'] : 'events';
  let entityType: string | undefined;
  if (type === 'entities') {
    // For an entity export, target_type names the kind of entity, not a filter on events.
    const kind = params['target_type'] ?? params['resource_type'];
    entityType = Array.isArray(kind) ? kind[0] : kind;
    delete params['target_type'];
    delete params['resource_type'];
  }
  return {
    q: typeof query['q'] === 'string' ? query['q'] : undefined,
    format: typeof query['format'] === 'string' ? query['format'] : undefined,
    type,
    entityType,
    params,
    limit: typeof query['limit'] === 'number' ? query['limit'] : undefined,
    proofs: query['proofs'] === true,
  };
}

const BOUNDED_COUNT: JsonSchema = {
  type: 'object',
  required: ['count'],
  properties: {
    count: {
      type: 'object',
      required: ['value', 'capped'],
      properties: { value: { type: 'integer' }, capped: { type: 'boolean' } },
    },
  },
};

const ENTITY_HISTORY: JsonSchema = {
  type: 'object',
  required: ['entity', 'events', 'state', 'deleted'],
  properties: {
    entity: {
      type: 'object',
      required: ['type', 'id'],
      properties: { type: { type: 'string' }, id: { type: 'string' }, name: { type: 'string' } },
    },
    events: {
      type: 'array',
      items: {
        type: 'object',
        required: ['event', 'state'],
        properties: {
          event: STORED_EVENT,
          state: { type: 'object', additionalProperties: true },
        },
      },
    },
    state: { type: ['object', 'null'], additionalProperties: true },
    deleted: { type: 'boolean' },
    created_at: { type: ['string', 'null'] },
    updated_at: { type: ['string', 'null'] },
    as_of: { type: ['string', 'null'] },
  },
};

export function exportRoutes(app: FastifyInstance, ctx: HttpContext): void {
  app.get<{ Params: { ws: string }; Querystring: ExportQuery }>(
    '/workspaces/:ws/export',
    {
      config: {
        access: 'log:read',
        summary: 'Stream the events of a question (or entity states) as CSV, JSON or NDJSON',
        tag: 'export',
      },
      schema: {
        params: WS_PARAMS,
        querystring: EXPORT_QUERY,
        response: {
          200: {
            description: 'The export file, streamed in the asked format',
            content: {
              'text/csv': { schema: { type: 'string' } },
              'application/json': { schema: { type: 'array', items: {} } },
              'application/x-ndjson': { schema: { type: 'string' } },
            },
          },
        },
      },
    },
    async (request, reply) => {
      const { workspace } = granted(request);
      const exportReq = exportRequest(request.query);
      const plan = await planExport(ctx.log, workspace, exportReq);
      const audit = auditContext(request);
      // The export is itself audited once it has been written out (or has failed), with how
      // many rows.
      const recordDownload = (completed: boolean) =>
        ctx.audit.exportDownloaded(workspace, audit, {
          type: plan.kind,
          format: plan.format,
          query: exportReq.q ?? '',
          rows: plan.rows(),
          completed,
          ...(exportReq.entityType ? { entity_type: exportReq.entityType } : {}),
          ...(exportReq.proofs === true ? { proofs: true } : {}),
        });
      const chunks = plan.chunks()[Symbol.asyncIterator]();
      // The first chunk holds the first read: a store that fails there gets a problem
      // response, since no byte has been sent yet.
      let first: IteratorResult<string>;
      try {
        first = await chunks.next();
      } catch (error) {
        await recordDownload(false);
        throw error;
      }
      async function* body(): AsyncGenerator<string> {
        let completed = false;
        try {
          for (let next = first; !next.done; next = await chunks.next()) yield next.value;
          completed = true;
        } catch (error) {
          // The status line is gone: the only honest signal left is to break the transfer
          // (Fastify destroys the socket when this stream errors), so the client sees an
          // incomplete body rather than a file that merely looks short.
          request.log.error(
            { err: error, rows: plan.rows() },
            'export failed after its first byte; the response was aborted',
          );
          throw error;
        } finally {
          await chunks.return?.();
          // An export that cannot be recorded is not delivered as complete either.
          await recordDownload(completed).catch((error: unknown) => {
            request.log.error(
              { err: error, rows: plan.rows() },
              'export could not be recorded in the audit log; the response was aborted',
            );
            throw error;
          });
        }
      }
      void reply
        .header('content-type', plan.contentType)
        .header('content-disposition', `attachment; filename="${plan.filename}"`)
        .header('cache-control', 'no-store')
        .header('x-trailkeep-export-type', plan.kind);
      if (plan.truncated) void reply.header('x-trailkeep-export-truncated', 'true');
      if (plan.checkpoint) {
        void reply.header('x-trailkeep-checkpoint-size', String(plan.checkpoint.size));
      }
      return reply.send(Readable.from(body(), { objectMode: false }));
    },
  );

  app.get<{ Params: { ws: string }; Querystring: ExportQuery }>(
    '/workspaces/:ws/export/count',
    {
      config: {
        access: 'log:read',
        summary: 'How many records an export with these parameters holds (bounded)',
        tag: 'export',
      },
      schema: {
        params: WS_PARAMS,
        querystring: EXPORT_QUERY,
        response: { 200: BOUNDED_COUNT },
      },
    },
    async (request) => {
      const { workspace } = granted(request);
      return { count: await countExport(ctx.log, workspace, exportRequest(request.query)) };
    },
  );

  app.get<{ Params: { ws: string; type: string; id: string }; Querystring: { as_of?: string } }>(
    '/workspaces/:ws/entities/:type/:id/history',
    {
      config: {
        access: 'log:read',
        summary: 'Every event that touched one entity, oldest first, with its state after each',
        tag: 'export',
      },
      schema: {
        params: paramsWith({
          type: { type: 'string', minLength: 1, maxLength: 256 },
          id: { type: 'string', minLength: 1, maxLength: 256 },
        }),
        querystring: {
          type: 'object',
          properties: { as_of: { type: 'string', maxLength: 64 } },
          additionalProperties: false,
        },
        response: { 200: ENTITY_HISTORY },
      },
    },
    async (request) => {
      const { workspace } = granted(request);
      return entityHistory(
        ctx.log,
        workspace,
        request.params.type,
        request.params.id,
        request.query.as_of,
      );
    },
  );
}
