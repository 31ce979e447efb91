/** Invitations: open offers of a role, accepted into a membership in one transaction. */
import type { InvitationRecord, Membership, NewInvitation } from '../store.js';
import type { SqliteContext } from './context.js';
import { getMembership } from './people.js';

const INVITATION_SELECT = `SELECT i.id, w.id AS workspace, i.email, i.role, i.name, i.token_hash,
  i.invited_by, i.created_at, i.expires_at, i.status, i.closed_at, i.accepted_by
  FROM invitations i JOIN workspaces w ON w.wsk = i.ws`;

export function createInvitation(context: SqliteContext, invitation: NewInvitation): void {
  const ws = context.requireWorkspaceKey(invitation.workspace);
  context.write(() => {
    context
      .statement(
        `UPDATE invitations SET status = 'revoked', closed_at = ?
         WHERE ws = ? AND email = ? AND status = 'invited'`,
      )
      .run(invitation.created_at, ws, invitation.email);
    context
      .statement(
        `INSERT INTO invitations (id, ws, email, role, name, token_hash, invited_by, created_at,
           expires_at, status)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'invited')`,
      )
      .run(
        invitation.id,
        ws,
        invitation.email,
        invitation.role,
        invitation.name,
        invitation.token_hash,
        invitation.invited_by,
        invitation.created_at,
        invitation.expires_at,
      );
  });
}

export function getInvitation(context: SqliteContext, id: string): InvitationRecord | undefined {
  return context.statement(`${INVITATION_SELECT} WHERE i.id = ?`).get(id) as
    InvitationRecord | undefined;
}

export function getInvitationByTokenHash(
  context: SqliteContext,
  tokenHash: string,
): InvitationRecord | undefined {
  return context.statement(`${INVITATION_SELECT} WHERE i.token_hash = ?`).get(tokenHash) as
    InvitationRecord | undefined;
}

export function listInvitations(context: SqliteContext, workspace: string): InvitationRecord[] {
  const ws = context.workspaceKey(workspace);
  if (ws === undefined) return [];
  return context
    .statement(
      `${INVITATION_SELECT} WHERE i.ws = ? AND i.status = 'invited'
       ORDER BY i.created_at DESC, i.id`,
    )
    .all(ws) as InvitationRecord[];
}

export function listInvitationsForEmail(context: SqliteContext, email: string): InvitationRecord[] {
  return context
    .statement(
      `${INVITATION_SELECT} WHERE i.email = ? AND i.status = 'invited'
       ORDER BY i.created_at DESC, i.id`,
    )
    .all(email) as InvitationRecord[];
}

export function acceptInvitation(
  context: SqliteContext,
  id: string,
  userId: string,
  at: string,
): Membership | undefined {
  return context.write(() => {
    const invitation = getInvitation(context, id);
    const { changes } = context
      .statement(
        `UPDATE invitations SET status = 'accepted', closed_at = ?, accepted_by = ?
         WHERE id = ? AND status = 'invited' AND expires_at > ?`,
      )
      .run(at, userId, id, at);
    if (changes === 0 || invitation === undefined) return undefined;
    context
      .statement(
        `INSERT INTO memberships (ws, user_id, role, created_at)
         SELECT ws, ?, role, ? FROM invitations WHERE id = ?
         ON CONFLICT (ws, user_id) DO NOTHING`,
      )
      .run(userId, at, id);
    return getMembership(context, invitation.workspace, userId);
  });
}

export function closeInvitation(
  context: SqliteContext,
  id: string,
  status: 'declined' | 'revoked',
  at: string,
): boolean {
  const { changes } = context
    .statement(
      `UPDATE invitations SET status = ?, closed_at = ? WHERE id = ? AND status = 'invited'`,
    )
    .run(status, at, id);
  return changes > 0;
}
