/**
 * Trailkeep's own audit trail: admin actions, sign-ins, log views and exports are recorded as
 * events in the workspace they concern, through the same LogService path as any product's
 * events (validated, categorised, chained). Actions are `trailkeep.<thing>.<verb>`, categories
 * `auth` (Auth & tokens) or `members`.
 */
import type { Actor, EventInput, Target } from '../core/event.js';
import type { JsonObject } from '../core/json.js';
import type { ApiKeyRecord, InvitationRecord, Membership, Role } from '../store/store.js';
import type { LogService } from './log-service.js';

/** Who did it and from where; the HTTP layer fills it from the request. */
export interface AuditContext {
  actor: Actor;
  ip?: string | undefined;
  userAgent?: string | undefined;
  requestId?: string | undefined;
}

export const SELF_AUDIT_ACTIONS = [
  'trailkeep.key.created',
  'trailkeep.key.revoked',
  'trailkeep.invitation.created',
  'trailkeep.invitation.revoked',
  'trailkeep.member.added',
  'trailkeep.member.role_changed',
  'trailkeep.login.succeeded',
  'trailkeep.login.failed',
  'trailkeep.log.viewed',
  'trailkeep.export.downloaded',
  'trailkeep.settings.changed',
] as const;
export type SelfAuditAction = (typeof SELF_AUDIT_ACTIONS)[number];

/** The actor for actions taken with an API key. */
export function keyActor(key: Pick<ApiKeyRecord, 'id' | 'name'>): Actor {
  return { type: 'api_token', id: key.id, name: key.name };
}

/** The actor for actions taken on the command line by whoever runs it. */
export function cliActor(): Actor {
  return { type: 'system', id: 'trailkeep-cli', name: 'trailkeep CLI' };
}

function keyTarget(key: Pick<ApiKeyRecord, 'id' | 'name'>): Target {
  return { type: 'api_key', id: key.id, name: key.name };
}

function userTarget(member: { user_id: string; email: string }): Target {
  return { type: 'user', id: member.user_id, name: member.email };
}

/** The address the inviter typed, never an account id: the invitation says nothing of one. */
function invitationTarget(invitation: InvitationRecord): Target {
  return { type: 'invitation', id: invitation.id, name: invitation.email };
}

export class SelfAudit {
  constructor(private readonly log: LogService) {}

  async keyCreated(workspace: string, ctx: AuditContext, key: ApiKeyRecord): Promise<void> {
    await this.record(workspace, ctx, {
      action: 'trailkeep.key.created',
      category: 'auth',
      operation: 'create',
      targets: [keyTarget(key)],
      metadata: { scope: key.scope, prefix: key.prefix },
    });
  }

  async keyRevoked(workspace: string, ctx: AuditContext, key: ApiKeyRecord): Promise<void> {
    await this.record(workspace, ctx, {
      action: 'trailkeep.key.revoked',
      category: 'auth',
      operation: 'delete',
      targets: [keyTarget(key)],
      metadata: { scope: key.scope, prefix: key.prefix },
    });
  }

  /** With `invitation` when the person joined by accepting it (they are then the actor). */
  async memberAdded(
    workspace: string,
    ctx: AuditContext,
    member: Membership,
    invitation?: InvitationRecord,
  ): Promise<void> {
    await this.record(workspace, ctx, {
      action: 'trailkeep.member.added',
      category: 'members',
      operation: 'create',
      targets: [userTarget(member)],
      changes: [{ field: 'role', new: member.role }],
      ...(invitation === undefined
        ? {}
        : { metadata: { invitation: invitation.id, invited_role: invitation.role } }),
    });
  }

  async invitationCreated(
    workspace: string,
    ctx: AuditContext,
    invitation: InvitationRecord,
  ): Promise<void> {
    await this.record(workspace, ctx, {
      action: 'trailkeep.invitation.created',
      category: 'members',
      operation: 'create',
      targets: [invitationTarget(invitation)],
      changes: [{ field: 'role', new: invitation.role }],
      metadata: { expires_at: invitation.expires_at },
    });
  }

  async invitationRevoked(
    workspace: string,
    ctx: AuditContext,
    invitation: InvitationRecord,
  ): Promise<void> {
    await this.record(workspace, ctx, {
      action: 'trailkeep.invitation.revoked',
      category: 'members',
      operation: 'delete',
      targets: [invitationTarget(invitation)],
    });
  }

  async roleChanged(
    workspace: string,
    ctx: AuditContext,
    member: Membership,
    from: Role,
  ): Promise<void> {
    await this.record(workspace, ctx, {
      action: 'trailkeep.member.role_changed',
      category: 'members',
      operation: 'update',
      targets: [userTarget(member)],
      changes: [{ field: 'role', old: from, new: member.role }],
    });
  }

  /** Recorded in every workspace the person belongs to: each one's auditors should see it. */
  async login(
    workspaces: readonly string[],
    ctx: AuditContext,
    user: { id: string; email: string },
    outcome: 'success' | 'failure',
    reason?: string,
  ): Promise<void> {
    for (const workspace of workspaces) {
      await this.record(workspace, ctx, {
        action: outcome === 'success' ? 'trailkeep.login.succeeded' : 'trailkeep.login.failed',
        category: 'auth',
        operation: 'other',
        outcome,
        targets: [userTarget({ user_id: user.id, email: user.email })],
        ...(reason === undefined ? {} : { metadata: { reason } }),
      });
    }
  }

  /** The first page of a question asked by a person (not every page they scroll through). */
  async logViewed(workspace: string, ctx: AuditContext, query: string): Promise<void> {
    await this.record(workspace, ctx, {
      action: 'trailkeep.log.viewed',
      category: 'auth',
      operation: 'read',
      targets: [{ type: 'workspace', id: workspace }],
      metadata: { query },
    });
  }

  /** For the export routes: call when an export starts streaming. */
  async exportDownloaded(workspace: string, ctx: AuditContext, details: JsonObject): Promise<void> {
    await this.record(workspace, ctx, {
      action: 'trailkeep.export.downloaded',
      category: 'auth',
      operation: 'read',
      targets: [{ type: 'workspace', id: workspace }],
      metadata: details,
    });
  }

  /** A workspace setting changed; `field` is its dotted path in the settings (`log.public`). */
  async settingChanged(
    workspace: string,
    ctx: AuditContext,
    change: { field: string; old: boolean; new: boolean },
  ): Promise<void> {
    await this.record(workspace, ctx, {
      action: 'trailkeep.settings.changed',
      category: 'workspace',
      operation: 'update',
      targets: [{ type: 'workspace', id: workspace }],
      changes: [change],
    });
  }

  private async record(
    workspace: string,
    ctx: AuditContext,
    event: Omit<EventInput, 'actor' | 'context'>,
  ): Promise<void> {
    const context: EventInput['context'] = {};
    if (ctx.ip) context.ip = ctx.ip;
    if (ctx.userAgent) context.user_agent = ctx.userAgent.slice(0, 512);
    if (ctx.requestId) context.request_id = ctx.requestId;
    await this.log.record(workspace, { ...event, actor: ctx.actor, context });
  }
}
