/**
 * The verifiable log read from outside (docs/integrity.md, "Reading the log from outside"): the
 * C2SP checkpoint, tlog-tiles hash tiles and entry bundles, consistency proofs, and the tlog-proof
 * of one event. They carry hashes only, never event content.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { TrailkeepError } from '../../core/errors.js';
import { auditContext, granted } from '../auth.js';
import type { HttpContext } from '../context.js';
import { LOG_SETTINGS, WS_PARAMS, paramsWith } from '../schemas.js';

const TEXT = 'text/plain; charset=utf-8';
const BINARY = 'application/octet-stream';
/** A full tile never changes: the tree only grows to its right. */
const FULL_TILE_CACHE = 'max-age=31536000, immutable';
/** A partial tile is replaced by a wider one as the log grows; clients should come back. */
const PARTIAL_TILE_CACHE = 'max-age=10';
/** A checkpoint moves on with every append. */
const CHECKPOINT_CACHE = 'no-cache';

/**
 * `private` unless the answer was given without a credential to a public log: a shared cache
 * must never hand a credentialed answer to someone without one.
 */
function cacheControl(request: FastifyRequest, directives: string): string {
  return `${granted(request).publicLog ? 'public' : 'private'}, ${directives}`;
}

function textResponse(description: string): Record<string, unknown> {
  return { description, content: { 'text/plain': { schema: { type: 'string' } } } };
}

function binaryResponse(description: string): Record<string, unknown> {
  return {
    description,
    content: { [BINARY]: { schema: { type: 'string', contentMediaType: BINARY } } },
  };
}

function sendText(reply: FastifyReply, text: string, cache: string): FastifyReply {
  return reply.type(TEXT).header('cache-control', cache).send(text);
}

export function logRoutes(app: FastifyInstance, ctx: HttpContext): void {
  app.get<{ Params: { ws: string } }>(
    '/workspaces/:ws/log/checkpoint',
    {
      config: {
        access: 'log:public',
        summary:
          "The log's current checkpoint: a C2SP tlog-checkpoint (origin <host>/<ws>, tree size, root) in a signed note",
        tag: 'integrity',
      },
      schema: {
        params: WS_PARAMS,
        response: {
          200: textResponse(
            '<origin>\\n<size>\\n<base64 root>\\n\\n— <key name> <base64(key id ‖ Ed25519 signature)>\\n',
          ),
        },
      },
    },
    async (request, reply) => {
      const note = await ctx.log.checkpointNote(granted(request).workspace);
      return sendText(reply, note, cacheControl(request, CHECKPOINT_CACHE));
    },
  );

  app.get<{ Params: { ws: string; '*': string } }>(
    '/workspaces/:ws/log/tile/*',
    {
      config: {
        access: 'log:public',
        summary:
          'A C2SP tlog-tiles hash tile <L>/<N>[.p/<W>] or entry bundle entries/<N>[.p/<W>] (each entry: uint16 length ‖ the event’s 32-byte chain hash)',
        tag: 'integrity',
      },
      schema: {
        params: paramsWith({
          '*': {
            type: 'string',
            maxLength: 128,
            description: 'The rest of the tlog-tiles path, e.g. 0/x001/234, 1/000.p/3, entries/000',
          },
        }),
        response: {
          200: binaryResponse(
            'The tile: W × 32 bytes of hashes; or the entry bundle. Full tiles are immutable.',
          ),
        },
      },
    },
    async (request, reply) => {
      const { workspace } = granted(request);
      const tile = await ctx.log.tile(workspace, `tile/${request.params['*']}`);
      return reply
        .type(BINARY)
        .header(
          'cache-control',
          cacheControl(request, tile.full ? FULL_TILE_CACHE : PARTIAL_TILE_CACHE),
        )
        .send(tile.data);
    },
  );

  app.get<{ Params: { ws: string }; Querystring: { from?: string; to?: string } }>(
    '/workspaces/:ws/log/consistency',
    {
      config: {
        access: 'log:public',
        summary:
          'The RFC 9162 consistency proof that the tree of `from` events is a prefix of the tree of `to` events',
        tag: 'integrity',
      },
      schema: {
        params: WS_PARAMS,
        querystring: {
          type: 'object',
          properties: {
            from: {
              type: 'string',
              maxLength: 32,
              description: 'The older tree size (required; 0 to `to`)',
            },
            to: {
              type: 'string',
              maxLength: 32,
              description: "The newer tree size (required; at most the log's current size)",
            },
          },
        },
        response: {
          200: textResponse(
            'The proof: one base64 hash a line, each line ending in \\n; empty when from is 0 or equals to',
          ),
        },
      },
    },
    async (request, reply) => {
      const { workspace } = granted(request);
      const proof = await ctx.log.consistencyProof(workspace, request.query.from, request.query.to);
      // Both sizes are in the URL, so the answer for them never changes.
      return sendText(
        reply,
        proof.map((h) => `${h.toString('base64')}\n`).join(''),
        cacheControl(request, FULL_TILE_CACHE),
      );
    },
  );

  app.get<{ Params: { ws: string; id: string } }>(
    '/workspaces/:ws/events/:id/proof',
    {
      config: {
        access: 'log:read',
        summary:
          'A C2SP tlog-proof that the event is in the log: its inclusion proof and the checkpoint it is relative to',
        tag: 'integrity',
      },
      schema: {
        params: paramsWith({ id: { type: 'string', minLength: 1, maxLength: 256 } }),
        response: {
          200: textResponse(
            'c2sp.org/tlog-proof@v1\\nindex <seq - 1>\\n<base64 hash>…\\n\\n<the signed checkpoint>',
          ),
        },
      },
    },
    async (request, reply) => {
      const proof = await ctx.log.inclusionProof(granted(request).workspace, request.params.id);
      return sendText(reply, proof, cacheControl(request, CHECKPOINT_CACHE));
    },
  );

  app.get<{ Params: { ws: string } }>(
    '/workspaces/:ws/settings/log',
    {
      config: {
        access: 'log:read',
        summary: "Who may read the log's endpoints: public (no credential) or not",
        tag: 'integrity',
      },
      schema: { params: WS_PARAMS, response: { 200: LOG_SETTINGS } },
    },
    async (request) => ({ public: await ctx.log.isLogPublic(granted(request).workspace) }),
  );

  app.put<{ Params: { ws: string }; Body: { public: boolean } }>(
    '/workspaces/:ws/settings/log',
    {
      config: {
        access: 'workspace:manage',
        summary:
          'Make the log endpoints (checkpoint, tiles, consistency, vkeys) public or not; owners only',
        tag: 'integrity',
      },
      schema: { params: WS_PARAMS, body: LOG_SETTINGS, response: { 200: LOG_SETTINGS } },
    },
    async (request) => {
      const { workspace, actingAs } = granted(request);
      // Opening the log to everyone is the owner's decision, like adding another owner.
      if (actingAs !== 'owner') {
        throw new TrailkeepError('forbidden', 'Only an owner can change who may read the log');
      }
      const change = await ctx.log.setLogPublic(workspace, request.body.public);
      if (change.old !== change.new) {
        await ctx.audit.settingChanged(workspace, auditContext(request), {
          field: 'log.public',
          ...change,
        });
      }
      return { public: change.new };
    },
  );
}
