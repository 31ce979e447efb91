/**
 * Turns a validated EventInput into the EventDraft a store seals into the chain: the server's
 * defaults are filled in, the time is normalized, the category and operation are resolved and
 * changes are computed and redacted. Everything here ends up hashed, so the draft holds no
 * `undefined` anywhere: its canonical JSON is exactly its JSON.
 */
import { categorize, categoryCatalog } from './categories.js';
import { diffObjects, redactChanges, type ResourceSchema } from './changes.js';
import { TrailkeepError } from './errors.js';
import type { Actor, EventContext, EventDraft, EventInput, Target } from './event.js';
import { deriveOperation } from './operation.js';
import type { WorkspaceSettings } from './settings.js';
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

function copyActor(actor: Actor): Actor {
  const copy: Actor = { type: actor.type, id: actor.id };
  if (actor.name !== undefined) copy.name = actor.name;
  if (actor.email !== undefined) copy.email = actor.email;
  return copy;
}

function copyTarget(target: Target): Target {
  const copy: Target = { type: target.type, id: target.id };
  if (target.name !== undefined) copy.name = target.name;
  return copy;
}

function copyContext(context: EventContext | undefined): EventContext {
  const copy: EventContext = {};
  if (context?.ip !== undefined) copy.ip = context.ip;
  if (context?.user_agent !== undefined) copy.user_agent = context.user_agent;
  if (context?.request_id !== undefined) copy.request_id = context.request_id;
  return copy;
}

export function toDraft(input: EventInput, ctx: DraftContext): EventDraft {
  const targets = (input.targets ?? []).map(copyTarget);
  const primaryType = targets[0]?.type;
  let occurredAt = ctx.receivedAt;
  if (input.occurred_at !== undefined) {
    const normalized = normalizeTimestamp(input.occurred_at);
    if (normalized === undefined) {
      throw new TrailkeepError(
        'validation_failed',
        `$.occurred_at "${input.occurred_at}" is not an ISO 8601 time with a zone`,
        { issues: [{ path: '$.occurred_at', message: 'must be an ISO 8601 time with a zone' }] },
      );
    }
    occurredAt = normalized;
  }
  const schema = resourceSchema(ctx.settings, primaryType);
  const changes =
    input.before !== undefined || input.after !== undefined
      ? diffObjects(input.before, input.after, schema)
      : redactChanges(input.changes ?? [], schema);
  return {
    id: input.id ?? ctx.id,
    workspace: ctx.workspace,
    action: input.action,
    occurred_at: occurredAt,
    received_at: ctx.receivedAt,
    actor: copyActor(input.actor),
    targets,
    category:
      input.category?.toLowerCase() ??
      categorize(input.action, primaryType, categoryCatalog(ctx.settings)),
    outcome: input.outcome ?? 'success',
    operation: input.operation ?? deriveOperation(input.action),
    changes,
    context: copyContext(input.context),
    // Validated JSON: a plain copy drops nothing but guards the draft against later mutation.
    metadata: input.metadata === undefined ? {} : structuredClone(input.metadata),
  };
}
