/**
 * Turns a validated EventInput into the EventDraft a store seals into the chain: the server's
 * defaults are filled in, the time is normalized, the category and operation are resolved and
 * changes are computed and redacted. Everything but `sent` (what the sender set, for telling a
 * re-send from a conflict) ends up hashed, so the draft holds no `undefined` anywhere: its
 * canonical JSON is exactly its JSON.
 */
import { categorize, categoryCatalog } from './categories.js';
import { diffObjects, redactChanges, type ResourceSchema } from './changes.js';
import { TrailkeepError } from './errors.js';
import {
  OPTIONAL_FIELDS,
  type Actor,
  type EventContext,
  type EventDraft,
  type EventInput,
  type OptionalField,
  type Sent,
  type Target,
} from './event.js';
import { deriveOperation } from './operation.js';
import type { WorkspaceSettings } from './settings.js';
import { ownValue as own } from './safe-keys.js';
import { normalizeTimestamp } from './timestamp.js';

export interface DraftContext {
  workspace: string;
  /** The id to use when the sender gave none (the caller's id generator decides). */
  id: string;
  /** The server's receipt time, ISO UTC with milliseconds. */
  receivedAt: string;
  settings: WorkspaceSettings;
}

/** The resource schema for a target type: exact key first, else one that differs only in case. */
export function resourceSchema(
  settings: WorkspaceSettings,
  targetType: string | undefined,
): ResourceSchema | undefined {
  const resources = settings.resources;
  if (resources === undefined || targetType === undefined) return undefined;
  if (Object.hasOwn(resources, targetType)) return resources[targetType];
  const lower = targetType.toLowerCase();
  const key = Object.keys(resources).find((k) => k.toLowerCase() === lower);
  return key === undefined ? undefined : resources[key];
}

// The copies below list their members in canonical (JCS) order: hashing then serializes them
// natively without sorting (src/core/canonical.ts). Any order would hash the same.
//
// Optional members are read as own members only (`own`): what gets sealed is what was sent,
// even in a process whose Object.prototype something else polluted (a default taken from an
// inherited `email` or `occurred_at` would be sealed, and would then verify).

function copyActor(actor: Actor): Actor {
  const copy: Partial<Actor> = {};
  const email = own(actor, 'email');
  if (email !== undefined) copy.email = email;
  copy.id = actor.id;
  const name = own(actor, 'name');
  if (name !== undefined) copy.name = name;
  copy.type = actor.type;
  return copy as Actor;
}

function copyTarget(target: Target): Target {
  const copy: Partial<Target> = { id: target.id };
  const name = own(target, 'name');
  if (name !== undefined) copy.name = name;
  copy.type = target.type;
  return copy as Target;
}

function copyContext(context: EventContext | undefined): EventContext {
  const copy: EventContext = {};
  if (context === undefined) return copy;
  const ip = own(context, 'ip');
  if (ip !== undefined) copy.ip = ip;
  const requestId = own(context, 'request_id');
  if (requestId !== undefined) copy.request_id = requestId;
  const userAgent = own(context, 'user_agent');
  if (userAgent !== undefined) copy.user_agent = userAgent;
  return copy;
}

/** The optional fields the sender set (validation already dropped those sent as null). */
function sent(input: EventInput, schema: ResourceSchema | undefined): Sent {
  const given = (field: OptionalField): boolean =>
    field === 'changes'
      ? own(input, 'changes') !== undefined ||
        own(input, 'before') !== undefined ||
        own(input, 'after') !== undefined
      : own(input, field) !== undefined;
  const fields = OPTIONAL_FIELDS.filter(given);
  return schema === undefined ? { fields } : { fields, schema };
}

export function toDraft(input: EventInput, ctx: DraftContext): EventDraft {
  const targets = (own(input, 'targets') ?? []).map(copyTarget);
  const primaryType = targets[0]?.type;
  let occurredAt = ctx.receivedAt;
  const sentTime = own(input, 'occurred_at');
  if (sentTime !== undefined) {
    const normalized = normalizeTimestamp(sentTime);
    if (normalized === undefined) {
      throw new TrailkeepError(
        'validation_failed',
        `$.occurred_at "${sentTime}" is not an ISO 8601 time with a zone`,
        { issues: [{ path: '$.occurred_at', message: 'must be an ISO 8601 time with a zone' }] },
      );
    }
    occurredAt = normalized;
  }
  const schema = resourceSchema(ctx.settings, primaryType);
  const before = own(input, 'before');
  const after = own(input, 'after');
  const changes =
    before !== undefined || after !== undefined
      ? diffObjects(before, after, schema)
      : redactChanges(own(input, 'changes') ?? [], schema);
  const metadata = own(input, 'metadata');
  return {
    action: input.action,
    actor: copyActor(input.actor),
    category:
      own(input, 'category')?.toLowerCase() ??
      categorize(input.action, primaryType, categoryCatalog(ctx.settings)),
    changes,
    context: copyContext(own(input, 'context')),
    id: own(input, 'id') ?? ctx.id,
    // Validated JSON: a plain copy drops nothing but guards the draft against later mutation.
    metadata: metadata === undefined ? {} : structuredClone(metadata),
    occurred_at: occurredAt,
    operation: own(input, 'operation') ?? deriveOperation(input.action),
    outcome: own(input, 'outcome') ?? 'success',
    received_at: ctx.receivedAt,
    targets,
    workspace: ctx.workspace,
    sent: sent(input, schema),
  };
}
