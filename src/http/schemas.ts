/**
 * JSON schemas of the HTTP API. Routes use them for validation and the OpenAPI generator turns
 * every object listed in COMPONENTS into a `$ref` to `#/components/schemas/<name>`, so the
 * document and the validation can never disagree. Kept to the subset of JSON Schema that both
 * Fastify's Ajv (draft-07) and OpenAPI 3.1 (2020-12) read the same way.
 */
import { ACTOR_TYPES, OPERATIONS, OUTCOMES } from '../core/event.js';
import { ROLES } from '../service/accounts.js';
import { KEY_SCOPES } from '../service/api-keys.js';

export type JsonSchema = Record<string, unknown>;

const str = { type: 'string' } as const;
const nullableStr = { type: ['string', 'null'] } as const;
const int = { type: 'integer' } as const;
const anyJson = {} as const;
const jsonObject = { type: 'object', additionalProperties: true } as const;

export const ISSUE = {
  type: 'object',
  required: ['path', 'message'],
  properties: {
    index: { type: 'integer', minimum: 0, description: 'Index of the event in its batch' },
    path: {
      type: 'string',
      description: 'Location inside the event or request, e.g. $.actor.type',
    },
    message: str,
  },
} as const;

export const PROBLEM = {
  type: 'object',
  description: 'RFC 9457 problem details with a stable Trailkeep error code (docs/errors.md)',
  required: ['type', 'title', 'status', 'detail', 'code', 'instance'],
  properties: {
    type: { type: 'string', description: 'https://trailkeep.dev/problems/<code>' },
    title: str,
    status: int,
    detail: str,
    code: str,
    instance: { type: 'string', description: 'The request id (also in X-Request-Id)' },
    issues: { type: 'array', items: ISSUE },
  },
  additionalProperties: true,
} as const;

export const ACTOR = {
  type: 'object',
  required: ['type', 'id'],
  properties: {
    type: { type: 'string', enum: [...ACTOR_TYPES] },
    id: str,
    name: str,
    email: str,
  },
  additionalProperties: false,
} as const;

export const TARGET = {
  type: 'object',
  required: ['type', 'id'],
  properties: { type: str, id: str, name: str },
  additionalProperties: false,
} as const;

export const CHANGE = {
  type: 'object',
  required: ['field'],
  properties: {
    field: str,
    old: anyJson,
    new: anyJson,
    secret: { type: 'boolean', enum: [true] },
  },
  additionalProperties: false,
} as const;

export const EVENT_CONTEXT = {
  type: 'object',
  properties: { ip: str, user_agent: str, request_id: str },
  additionalProperties: false,
} as const;

export const EVENT_INPUT = {
  type: 'object',
  description:
    'An event as a product sends it. Validated by the service, which names every problem by index and path (docs/events.md).',
  required: ['action', 'actor'],
  properties: {
    id: { type: 'string', description: 'Client-chosen id: makes the send idempotent' },
    action: { type: 'string', pattern: '^[A-Za-z0-9._:-]{1,128}$' },
    occurred_at: { type: 'string', format: 'date-time' },
    actor: ACTOR,
    targets: { type: 'array', items: TARGET },
    category: str,
    outcome: { type: 'string', enum: [...OUTCOMES] },
    operation: { type: 'string', enum: [...OPERATIONS] },
    changes: { type: 'array', items: CHANGE },
    before: jsonObject,
    after: jsonObject,
    context: EVENT_CONTEXT,
    metadata: jsonObject,
  },
  additionalProperties: false,
} as const;

export const EVENT_BATCH = {
  type: 'object',
  required: ['events'],
  properties: { events: { type: 'array', items: EVENT_INPUT, minItems: 1, maxItems: 1000 } },
  additionalProperties: false,
} as const;

export const STORED_EVENT = {
  type: 'object',
  required: [
    'id',
    'workspace',
    'seq',
    'action',
    'occurred_at',
    'received_at',
    'actor',
    'targets',
    'category',
    'outcome',
    'operation',
    'changes',
    'context',
    'metadata',
    'prev_hash',
    'hash',
  ],
  properties: {
    id: str,
    workspace: str,
    seq: { type: 'integer', minimum: 1 },
    action: str,
    occurred_at: { type: 'string', format: 'date-time' },
    received_at: { type: 'string', format: 'date-time' },
    actor: ACTOR,
    targets: { type: 'array', items: TARGET },
    category: str,
    outcome: { type: 'string', enum: [...OUTCOMES] },
    operation: { type: 'string', enum: [...OPERATIONS] },
    changes: { type: 'array', items: CHANGE },
    context: EVENT_CONTEXT,
    metadata: jsonObject,
    prev_hash: { type: 'string', pattern: '^[0-9a-f]{64}$' },
    hash: { type: 'string', pattern: '^[0-9a-f]{64}$' },
  },
  additionalProperties: false,
} as const;

export const APPEND_RESULT = {
  type: 'object',
  required: ['events'],
  properties: {
    events: {
      type: 'array',
      items: {
        type: 'object',
        required: ['id', 'seq', 'hash', 'created'],
        properties: {
          id: str,
          seq: int,
          hash: str,
          created: { type: 'boolean', description: 'false: already stored (idempotent re-send)' },
        },
        additionalProperties: false,
      },
    },
  },
  additionalProperties: false,
} as const;

export const BOUNDED_COUNT = {
  type: 'object',
  required: ['value', 'capped'],
  properties: {
    value: int,
    capped: {
      type: 'boolean',
      description: 'true: more than value (10,000) match; show "10,000+"',
    },
  },
  additionalProperties: false,
} as const;

export const EVENT_PAGE = {
  type: 'object',
  required: ['events', 'next_cursor', 'prev_cursor', 'query'],
  properties: {
    events: { type: 'array', items: STORED_EVENT },
    next_cursor: { ...nullableStr, description: 'Older events' },
    prev_cursor: { ...nullableStr, description: 'Newer events' },
    query: { type: 'string', description: 'The canonical printed filter' },
    count: BOUNDED_COUNT,
  },
  additionalProperties: false,
} as const;

const FACET_VALUE = {
  type: 'object',
  required: ['value', 'count'],
  properties: { value: str, count: int },
  additionalProperties: false,
} as const;

export const ACTOR_FACET = {
  type: 'object',
  required: ['type', 'id', 'count'],
  properties: { type: str, id: str, name: str, email: str, count: int },
  additionalProperties: false,
} as const;

export const FACETS = {
  type: 'object',
  required: [
    'actions',
    'categories',
    'actor_types',
    'target_types',
    'outcomes',
    'actors',
    'catalog',
  ],
  properties: {
    actions: { type: 'array', items: FACET_VALUE },
    categories: {
      type: 'array',
      items: {
        type: 'object',
        required: ['value', 'label', 'count'],
        properties: { value: str, label: str, count: int },
        additionalProperties: false,
      },
    },
    actor_types: { type: 'array', items: FACET_VALUE },
    target_types: { type: 'array', items: FACET_VALUE },
    outcomes: { type: 'array', items: FACET_VALUE },
    actors: { type: 'array', items: ACTOR_FACET },
    catalog: {
      type: 'array',
      items: {
        type: 'object',
        required: ['id', 'label'],
        properties: { id: str, label: str },
        additionalProperties: false,
      },
    },
  },
  additionalProperties: false,
} as const;

export const CHAIN_HEAD = {
  type: 'object',
  required: ['seq', 'hash'],
  properties: { seq: int, hash: str },
  additionalProperties: false,
} as const;

export const VERIFY_REPORT = {
  type: 'object',
  required: ['workspace', 'ok', 'checked', 'head', 'verified_at'],
  properties: {
    workspace: str,
    ok: { type: 'boolean' },
    checked: int,
    head: CHAIN_HEAD,
    verified_at: { type: 'string', format: 'date-time' },
    problem: {
      type: 'object',
      required: ['seq', 'kind', 'message'],
      properties: {
        seq: { ...int, description: 'The event concerned; 0 for a derived row no event implies' },
        id: str,
        kind: str,
        message: str,
        table: { ...str, description: 'index_mismatch, derived_mismatch: where the copy is kept' },
        key: { ...str, description: 'The row in that table, e.g. "seq 12 pos 0" or "akey 3"' },
        column: str,
        expected: { ...anyJson, description: 'What the hashed events imply' },
        found: { ...anyJson, description: 'What is stored (null: absent)' },
      },
      additionalProperties: true,
    },
    checkpoint: {
      type: 'object',
      required: ['seq', 'hash', 'ok'],
      properties: { seq: int, hash: str, ok: { type: 'boolean' } },
      additionalProperties: false,
    },
  },
  additionalProperties: false,
} as const;

export const SIGNED_CHECKPOINT = {
  type: 'object',
  required: ['workspace', 'seq', 'hash', 'time', 'algorithm', 'public_key', 'key_id', 'signature'],
  properties: {
    workspace: str,
    seq: int,
    hash: str,
    time: { type: 'string', format: 'date-time' },
    algorithm: { type: 'string', enum: ['ed25519'] },
    public_key: str,
    key_id: str,
    signature: str,
  },
  additionalProperties: true,
} as const;

export const LOG_SETTINGS = {
  type: 'object',
  required: ['public'],
  properties: {
    public: {
      type: 'boolean',
      description:
        'true: checkpoint, tiles, consistency and vkeys need no credential (they hold hashes only); inclusion proofs always need one',
    },
  },
  additionalProperties: false,
} as const;

export const API_KEY = {
  type: 'object',
  required: [
    'id',
    'name',
    'scope',
    'prefix',
    'created_at',
    'created_by',
    'revoked_at',
    'last_used_at',
  ],
  properties: {
    id: str,
    name: str,
    scope: { type: 'string', enum: [...KEY_SCOPES] },
    prefix: { type: 'string', description: 'The public start of the key, e.g. tk_ingest_AbC12345' },
    created_at: { type: 'string', format: 'date-time' },
    created_by: nullableStr,
    revoked_at: nullableStr,
    last_used_at: nullableStr,
  },
  additionalProperties: false,
} as const;

export const CREATED_API_KEY = {
  type: 'object',
  required: ['key', 'id', 'name', 'scope', 'prefix', 'created_at'],
  properties: {
    key: { type: 'string', description: 'The whole secret, shown this once' },
    id: str,
    name: str,
    scope: { type: 'string', enum: [...KEY_SCOPES] },
    prefix: str,
    created_at: { type: 'string', format: 'date-time' },
  },
  additionalProperties: false,
} as const;

export const MEMBER = {
  type: 'object',
  required: ['user_id', 'email', 'name', 'role', 'created_at'],
  properties: {
    user_id: str,
    email: str,
    name: nullableStr,
    role: { type: 'string', enum: [...ROLES] },
    created_at: { type: 'string', format: 'date-time' },
  },
  additionalProperties: false,
} as const;

/** A person's display name, used for an account that accepting an invitation creates. */
export const DISPLAY_NAME = {
  type: 'string',
  minLength: 1,
  maxLength: 200,
  description: 'Display name, for an account created by accepting',
} as const;

const INVITATION_PROPERTIES = {
  id: { type: 'string', description: 'inv_...' },
  email: { type: 'string', description: 'The address invited, as typed (normalized)' },
  role: { type: 'string', enum: [...ROLES] },
  status: {
    type: 'string',
    enum: ['invited'],
    description: 'Open: the person becomes a member when they accept',
  },
  created_at: { type: 'string', format: 'date-time' },
  expires_at: { type: 'string', format: 'date-time' },
} as const;

export const INVITATION = {
  type: 'object',
  description:
    'An open invitation. The same whether or not the address has an account: no user id.',
  required: ['id', 'email', 'role', 'status', 'created_at', 'expires_at'],
  properties: INVITATION_PROPERTIES,
  additionalProperties: false,
} as const;

export const CREATED_INVITATION = {
  type: 'object',
  required: [...INVITATION.required, 'token', 'accept_path'],
  properties: {
    ...INVITATION_PROPERTIES,
    token: {
      type: 'string',
      description:
        'The secret of the invitation link, shown this once: give it to the person (POST /api/v1/invitations/accept)',
    },
    accept_path: {
      type: 'string',
      description:
        "The viewer's page for the link, on this server: /invite#<token> (the part after # never reaches a server or its logs)",
    },
  },
  additionalProperties: false,
} as const;

export const MY_INVITATION = {
  type: 'object',
  description: 'An open invitation addressed to the signed-in person',
  required: ['id', 'workspace', 'workspace_name', 'role', 'expires_at'],
  properties: {
    id: str,
    workspace: str,
    workspace_name: str,
    role: { type: 'string', enum: [...ROLES] },
    expires_at: { type: 'string', format: 'date-time' },
  },
  additionalProperties: false,
} as const;

export const WORKSPACE_ACCESS = {
  type: 'object',
  required: ['id', 'name', 'role'],
  properties: {
    id: str,
    name: str,
    role: { type: 'string', enum: [...ROLES] },
    scope: {
      type: 'string',
      enum: [...KEY_SCOPES],
      description: 'For an API key: its scope (role is the matching role)',
    },
  },
  additionalProperties: false,
} as const;

export const SESSION_INFO = {
  type: 'object',
  required: ['user', 'csrf_token', 'workspaces'],
  properties: {
    user: {
      type: 'object',
      required: ['id', 'email', 'name'],
      properties: { id: str, email: str, name: nullableStr },
      additionalProperties: false,
    },
    csrf_token: {
      type: 'string',
      description: 'Send in X-CSRF-Token on state-changing requests made with the cookie',
    },
    workspaces: { type: 'array', items: WORKSPACE_ACCESS },
  },
  additionalProperties: false,
} as const;

export const HEALTH = {
  type: 'object',
  required: ['status', 'store'],
  properties: {
    status: { type: 'string', enum: ['ok'] },
    store: { type: 'string', enum: ['sqlite', 'postgres'] },
  },
  additionalProperties: false,
} as const;

/** Named schemas: emitted once under components.schemas and referenced everywhere else. */
export const COMPONENTS: Record<string, JsonSchema> = {
  Problem: PROBLEM,
  Issue: ISSUE,
  Actor: ACTOR,
  Target: TARGET,
  Change: CHANGE,
  EventContext: EVENT_CONTEXT,
  EventInput: EVENT_INPUT,
  EventBatch: EVENT_BATCH,
  StoredEvent: STORED_EVENT,
  AppendResult: APPEND_RESULT,
  BoundedCount: BOUNDED_COUNT,
  EventPage: EVENT_PAGE,
  ActorFacet: ACTOR_FACET,
  Facets: FACETS,
  ChainHead: CHAIN_HEAD,
  VerifyReport: VERIFY_REPORT,
  SignedCheckpoint: SIGNED_CHECKPOINT,
  ApiKey: API_KEY,
  CreatedApiKey: CREATED_API_KEY,
  Member: MEMBER,
  Invitation: INVITATION,
  CreatedInvitation: CREATED_INVITATION,
  MyInvitation: MY_INVITATION,
  WorkspaceAccess: WORKSPACE_ACCESS,
  SessionInfo: SESSION_INFO,
  Health: HEALTH,
  LogSettings: LOG_SETTINGS,
};

/** Path parameter `ws`. */
export const WS_PARAMS = {
  type: 'object',
  required: ['ws'],
  properties: { ws: { type: 'string', minLength: 1, maxLength: 64 } },
} as const;

export function paramsWith(extra: Record<string, JsonSchema>): JsonSchema {
  return {
    type: 'object',
    required: ['ws', ...Object.keys(extra)],
    properties: { ...WS_PARAMS.properties, ...extra },
  };
}
