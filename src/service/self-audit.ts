/**
 * Trailkeep's own audit trail: admin actions, sign-ins, log views and exports are recorded as
 * events in the workspace they concern, through the same LogService path as any product's
 * events (validated, chained). Actions are `trailkeep.<thing>.<verb>`, all in the reserved
 * category `trailkeep` (OWN_CATEGORY), which a product can neither send nor define.
 *
 * Reading must not flood the log: a sign-in is recorded in a workspace when that session first
 * reaches it (not in every workspace of the person), and a question asked again by the same
 * person within the view window is recorded once.
 */
import { createHash } from 'node:crypto';
import { OWN_CATEGORY } from '../core/categories.js';
import type { Actor, EventInput, Target } from '../core/event.js';
import type { JsonObject } from '../core/json.js';
import type {
  ApiKeyRecord,
  InvitationRecord,
  LegalHold,
  Membership,
  PruneResult,
  Role,
  SessionRecord,
} from '../store/store.js';
import type { WitnessRecord } from '../store/witnesses.js';
import { rememberBounded } from './bounded-map.js';
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
  'trailkeep.witness.added',
  'trailkeep.witness.removed',
  'trailkeep.settings.changed',
  'trailkeep.retention.changed',
  'trailkeep.hold.created',
  'trailkeep.hold.released',
  'trailkeep.retention.pruned',
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

export interface SelfAuditOptions {
  /** A person asking the same question again within this window is not recorded again. */
  viewWindowMs?: number;
  clock?: () => Date;
}

/** 15 minutes: a person paging back and forth through one question is one view. */
export const DEFAULT_VIEW_WINDOW_MS = 15 * 60 * 1000;
/** Bounds the memory of recent views and sign-ins; the oldest are forgotten first. */
const MEMORY_LIMIT = 10_000;

/** A reference to a session that reveals nothing of its token (the id is already a hash). */
export function sessionReference(session: Pick<SessionRecord, 'id_hash'>): string {
  return createHash('sha256')
    .update(`trailkeep-session:${session.id_hash}`)
    .digest('hex')
    .slice(0, 16);
}

export class SelfAudit {
  private readonly viewWindowMs: number;
  private readonly clock: () => Date;
  /** (workspace, actor, question) → when it was last recorded. Insertion order = age. */
  private readonly views = new Map<string, number>();
  /** (workspace, session) → the recording of that session's sign-in there, once. */
  private readonly signIns = new Map<string, Promise<void>>();

  constructor(
    private readonly log: LogService,
    options: SelfAuditOptions = {},
  ) {
    this.viewWindowMs = options.viewWindowMs ?? DEFAULT_VIEW_WINDOW_MS;
    this.clock = options.clock ?? (() => new Date());
  }

  async keyCreated(workspace: string, ctx: AuditContext, key: ApiKeyRecord): Promise<void> {
    await this.record(workspace, ctx, {
      action: 'trailkeep.key.created',
      category: OWN_CATEGORY.id,
      operation: 'create',
      targets: [keyTarget(key)],
      metadata: { scope: key.scope, prefix: key.prefix },
    });
  }

  async keyRevoked(workspace: string, ctx: AuditContext, key: ApiKeyRecord): Promise<void> {
    await this.record(workspace, ctx, {
      action: 'trailkeep.key.revoked',
      category: OWN_CATEGORY.id,
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
      category: OWN_CATEGORY.id,
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
      category: OWN_CATEGORY.id,
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
      category: OWN_CATEGORY.id,
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
      category: OWN_CATEGORY.id,
      operation: 'update',
      targets: [userTarget(member)],
      changes: [{ field: 'role', old: from, new: member.role }],
    });
  }

  /**
   * A failed sign-in is recorded in every workspace of the account: each one's owners should
   * know someone is trying that person's password. A successful one waits for sessionReached.
   */
  async loginFailed(
    workspaces: readonly string[],
    ctx: AuditContext,
    user: { id: string; email: string },
    reason: string,
  ): Promise<void> {
    for (const workspace of workspaces) {
      await this.record(workspace, ctx, {
        action: 'trailkeep.login.failed',
        category: OWN_CATEGORY.id,
        operation: 'other',
        outcome: 'failure',
        targets: [userTarget({ user_id: user.id, email: user.email })],
        metadata: { reason },
      });
    }
  }

  /**
   * Records the sign-in of a session in the workspace it has just reached, the first time it
   * does: that workspace's auditors see every session that read their log, and nobody else's
   * log fills with sign-ins that never touched it. The event is dated when the session was
   * created. Kept in memory, and looked up in the log after a restart or on another server, so
   * it is recorded once per session and workspace.
   */
  async sessionReached(
    workspace: string,
    ctx: AuditContext,
    user: { id: string; email: string },
    session: SessionRecord,
  ): Promise<void> {
    const reference = sessionReference(session);
    const key = JSON.stringify([workspace, reference]);
    let pending = this.signIns.get(key);
    if (pending === undefined) {
      pending = this.recordSignIn(workspace, ctx, user, session, reference);
      rememberBounded(this.signIns, key, pending, MEMORY_LIMIT);
      // A failed write is tried again on the session's next request.
      pending.catch(() => this.signIns.delete(key));
    }
    await pending;
  }

  private async recordSignIn(
    workspace: string,
    ctx: AuditContext,
    user: { id: string; email: string },
    session: SessionRecord,
    reference: string,
  ): Promise<void> {
    const known = await this.log.query(workspace, {
      q: `action:trailkeep.login.succeeded meta.session:${reference} since:${session.created_at}`,
      limit: 1,
      withCount: false,
    });
    if (known.events.length > 0) return;
    await this.record(workspace, ctx, {
      action: 'trailkeep.login.succeeded',
      category: OWN_CATEGORY.id,
      operation: 'other',
      outcome: 'success',
      occurred_at: session.created_at,
      targets: [userTarget({ user_id: user.id, email: user.email })],
      metadata: { session: reference },
    });
  }

  /**
   * The first page of a question asked by a person (not every page they scroll through), and
   * not again when the same person asks the same question within the view window. Kept per
   * process: behind several servers a repeated view may be recorded once per server.
   */
  async logViewed(workspace: string, ctx: AuditContext, query: string): Promise<void> {
    const key = JSON.stringify([workspace, ctx.actor.type, ctx.actor.id, query]);
    const now = this.clock().getTime();
    const last = this.views.get(key);
    if (last !== undefined && now - last < this.viewWindowMs) return;
    await this.record(workspace, ctx, {
      action: 'trailkeep.log.viewed',
      category: OWN_CATEGORY.id,
      operation: 'read',
      targets: [{ type: 'workspace', id: workspace }],
      metadata: { query },
    });
    rememberBounded(this.views, key, now, MEMORY_LIMIT);
  }

  /** For the export routes: call when an export starts streaming. */
  async exportDownloaded(workspace: string, ctx: AuditContext, details: JsonObject): Promise<void> {
    await this.record(workspace, ctx, {
      action: 'trailkeep.export.downloaded',
      category: OWN_CATEGORY.id,
      operation: 'read',
      targets: [{ type: 'workspace', id: workspace }],
      metadata: details,
    });
  }

  async witnessAdded(workspace: string, ctx: AuditContext, witness: WitnessRecord): Promise<void> {
    await this.witnessChanged(workspace, ctx, witness, 'trailkeep.witness.added', 'create');
  }

  async witnessRemoved(
    workspace: string,
    ctx: AuditContext,
    witness: WitnessRecord,
  ): Promise<void> {
    await this.witnessChanged(workspace, ctx, witness, 'trailkeep.witness.removed', 'delete');
  }

  private async witnessChanged(
    workspace: string,
    ctx: AuditContext,
    witness: WitnessRecord,
    action: SelfAuditAction,
    operation: 'create' | 'delete',
  ): Promise<void> {
    await this.record(workspace, ctx, {
      action,
      category: OWN_CATEGORY.id,
      operation,
      targets: [{ type: 'witness', id: witness.name, name: witness.url }],
      metadata: { url: witness.url, vkey: witness.vkey },
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
      category: OWN_CATEGORY.id,
      operation: 'update',
      targets: [{ type: 'workspace', id: workspace }],
      changes: [change],
    });
  }

  /** The retention policy before and after (null: off). */
  async retentionChanged(
    workspace: string,
    ctx: AuditContext,
    before: number | null,
    after: number | null,
  ): Promise<void> {
    await this.record(workspace, ctx, {
      action: 'trailkeep.retention.changed',
      category: OWN_CATEGORY.id,
      operation: 'update',
      targets: [{ type: 'workspace', id: workspace }],
      changes: [{ field: 'retention_days', old: before, new: after }],
    });
  }

  async holdChanged(
    workspace: string,
    ctx: AuditContext,
    hold: LegalHold,
    verb: 'created' | 'released',
  ): Promise<void> {
    await this.record(workspace, ctx, {
      action: `trailkeep.hold.${verb}`,
      category: OWN_CATEGORY.id,
      operation: verb === 'created' ? 'create' : 'delete',
      targets: [
        { type: 'legal_hold', id: hold.id },
        hold.target_id === null
          ? { type: 'workspace', id: workspace }
          : { type: 'target', id: hold.target_id },
      ],
      metadata: {
        reason: verb === 'created' ? hold.reason : (hold.release_reason ?? ''),
        scope: hold.target_id === null ? 'workspace' : 'target',
      },
    });
  }

  /** One pruning run: its range, count, policy and the holds it honoured. */
  async pruned(workspace: string, ctx: AuditContext, run: PruneResult): Promise<void> {
    await this.record(workspace, ctx, {
      action: 'trailkeep.retention.pruned',
      category: OWN_CATEGORY.id,
      operation: 'delete',
      targets: [{ type: 'workspace', id: workspace }],
      metadata: {
        run: run.run,
        policy_days: run.policy_days,
        cutoff: run.cutoff,
        count: run.count,
        ranges: run.ranges.map(([from, to]) => [from, to]),
        held: run.held,
        holds: run.holds,
      },
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
