/**
 * Retention and legal hold (docs/integrity.md, "Retention and legal hold"). Auditors and read
 * keys see the policy and the holds; only an owner (a person, not a key) changes them or runs
 * a pruning, and every change is recorded in the workspace's log.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { TrailkeepError } from '../../core/errors.js';
import { auditContext, granted } from '../auth.js';
import type { HttpContext } from '../context.js';
import { LEGAL_HOLD, PRUNE_RESULT, RETENTION_POLICY, WS_PARAMS, paramsWith } from '../schemas.js';

function requireOwner(request: FastifyRequest, what: string): string {
  const { workspace, role } = granted(request);
  if (role !== 'owner') {
    throw new TrailkeepError('forbidden', `Only a workspace owner can ${what}`);
  }
  return workspace;
}

const POLICY_VIEW = {
  type: 'object',
  required: ['policy'],
  properties: { policy: { anyOf: [RETENTION_POLICY, { type: 'null' }] } },
  additionalProperties: false,
} as const;

const REASON = { type: 'string', minLength: 1, maxLength: 1000 } as const;

/**
 * The body's members, checked here rather than by the schema: Fastify's validator would coerce
 * "30" into 30 or 5 into "5", and a policy must never be set from a value nobody sent.
 */
function members(
  body: unknown,
  allowed: readonly string[],
  types: Readonly<Record<string, readonly string[]>>,
): Map<string, unknown> {
  const issues: { path: string; message: string }[] = [];
  const found = new Map<string, unknown>();
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new TrailkeepError('bad_request', 'the body must be a JSON object', {
      issues: [{ path: '$', message: 'expected an object' }],
    });
  }
  for (const key of Object.keys(body)) {
    const value: unknown = (body as Record<string, unknown>)[key];
    if (!allowed.includes(key)) {
      issues.push({ path: `$.${key}`, message: 'unknown member' });
      continue;
    }
    const kind = value === null ? 'null' : typeof value;
    if (!(types[key] ?? []).includes(kind)) {
      issues.push({ path: `$.${key}`, message: `expected ${(types[key] ?? []).join(' or ')}` });
      continue;
    }
    found.set(key, value);
  }
  if (issues.length > 0) {
    throw new TrailkeepError(
      'bad_request',
      issues.map((i) => `${i.path}: ${i.message}`).join('; '),
      {
        issues,
      },
    );
  }
  return found;
}

export function retentionRoutes(app: FastifyInstance, ctx: HttpContext): void {
  app.get<{ Params: { ws: string } }>(
    '/workspaces/:ws/retention',
    {
      config: {
        access: 'log:read',
        summary: "The workspace's retention policy (null: off, nothing is ever pruned)",
        tag: 'retention',
      },
      schema: { params: WS_PARAMS, response: { 200: POLICY_VIEW } },
    },
    async (request) => ({
      policy: (await ctx.retention.policy(granted(request).workspace)) ?? null,
    }),
  );

  app.put<{ Params: { ws: string }; Body: unknown }>(
    '/workspaces/:ws/retention',
    {
      config: {
        access: 'workspace:manage',
        summary: 'Set the retention period in days, or turn retention off with null (owner only)',
        tag: 'retention',
        documentedBody: {
          type: 'object',
          required: ['days'],
          properties: {
            days: { anyOf: [{ type: 'integer', minimum: 1, maximum: 36_500 }, { type: 'null' }] },
          },
          additionalProperties: false,
        },
      },
      schema: { params: WS_PARAMS, body: { type: 'object' }, response: { 200: POLICY_VIEW } },
    },
    async (request) => {
      const workspace = requireOwner(request, 'change the retention policy');
      const body = members(request.body, ['days'], { days: ['number', 'null'] });
      if (!body.has('days')) {
        throw new TrailkeepError('bad_request', '$.days is required (null turns retention off)', {
          issues: [{ path: '$.days', message: 'required' }],
        });
      }
      const policy = await ctx.retention.setPolicy(
        workspace,
        auditContext(request),
        body.get('days'),
      );
      return { policy: policy ?? null };
    },
  );

  app.post<{ Params: { ws: string }; Body: unknown }>(
    '/workspaces/:ws/retention/prune',
    {
      config: {
        access: 'workspace:manage',
        summary: 'Run the pruning now under the stored policy (owner only)',
        tag: 'retention',
        documentedBody: {
          type: 'object',
          properties: { dry_run: { type: 'boolean' } },
          additionalProperties: false,
        },
      },
      schema: { params: WS_PARAMS, response: { 200: PRUNE_RESULT } },
    },
    async (request) => {
      const workspace = requireOwner(request, 'run a pruning');
      const body = members(request.body ?? {}, ['dry_run'], { dry_run: ['boolean'] });
      return ctx.retention.prune(workspace, auditContext(request), {
        dryRun: body.get('dry_run') === true,
      });
    },
  );

  app.get<{ Params: { ws: string } }>(
    '/workspaces/:ws/holds',
    {
      config: {
        access: 'log:read',
        summary: "The workspace's legal holds, open and released, newest first",
        tag: 'retention',
      },
      schema: {
        params: WS_PARAMS,
        response: {
          200: {
            type: 'object',
            required: ['holds'],
            properties: { holds: { type: 'array', items: LEGAL_HOLD } },
            additionalProperties: false,
          },
        },
      },
    },
    async (request) => ({
      holds: (await ctx.retention.holds(granted(request).workspace)).map(holdView),
    }),
  );

  app.post<{ Params: { ws: string }; Body: { target_id?: string; reason: string } }>(
    '/workspaces/:ws/holds',
    {
      config: {
        access: 'workspace:manage',
        summary:
          'Place a legal hold on the whole workspace, or on every event naming one target id (owner only)',
        tag: 'retention',
      },
      schema: {
        params: WS_PARAMS,
        body: {
          type: 'object',
          required: ['reason'],
          properties: {
            target_id: { type: 'string', minLength: 1, maxLength: 1000 },
            reason: REASON,
          },
          additionalProperties: false,
        },
        response: { 201: LEGAL_HOLD },
      },
    },
    async (request, reply) => {
      const workspace = requireOwner(request, 'place a legal hold');
      const hold = await ctx.retention.createHold(workspace, auditContext(request), request.body);
      return reply.code(201).send(holdView(hold));
    },
  );

  app.post<{ Params: { ws: string; id: string }; Body: unknown }>(
    '/workspaces/:ws/holds/:id/release',
    {
      config: {
        access: 'workspace:manage',
        summary: 'Release an open legal hold, with a reason (owner only)',
        tag: 'retention',
        documentedBody: {
          type: 'object',
          required: ['reason'],
          properties: { reason: REASON },
          additionalProperties: false,
        },
      },
      schema: {
        params: paramsWith({ id: { type: 'string', minLength: 1, maxLength: 100 } }),
        body: { type: 'object' },
        response: { 200: LEGAL_HOLD },
      },
    },
    async (request) => {
      const workspace = requireOwner(request, 'release a legal hold');
      const body = members(request.body, ['reason'], { reason: ['string'] });
      return holdView(
        await ctx.retention.releaseHold(
          workspace,
          auditContext(request),
          request.params.id,
          body.get('reason'),
        ),
      );
    },
  );
}

function holdView<T extends { workspace: string }>(hold: T): Omit<T, 'workspace'> {
  const { workspace: _workspace, ...view } = hold;
  return view;
}
