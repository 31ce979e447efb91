/** Invitations: open offers of a role, accepted into a membership in one transaction. */
import type { InvitationRecord, Membership, NewInvitation } from '../store.js';
import { inTransaction, type Pool, type Queryable } from './driver.js';
import { getMembership, requireWorkspace } from './people.js';

const INVITATION_COLUMNS = `id, workspace, email, role, name, token_hash, invited_by, created_at,
  expires_at, status, closed_at, accepted_by`;

export async function createInvitation(pool: Pool, invitation: NewInvitation): Promise<void> {
  await requireWorkspace(pool, invitation.workspace);
  await inTransaction(pool, async (tx) => {
    await tx.query(
      `UPDATE invitations SET status = 'revoked', closed_at = $1
       WHERE workspace = $2 AND email = $3 AND status = 'invited'`,
      [invitation.created_at, invitation.workspace, invitation.email],
    );
    await tx.query(
      `INSERT INTO invitations (id, workspace, email, role, name, token_hash, invited_by,
         created_at, expires_at, status)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'invited')`,
      [
        invitation.id,
        invitation.workspace,
        invitation.email,
        invitation.role,
        invitation.name,
        invitation.token_hash,
        invitation.invited_by,
        invitation.created_at,
        invitation.expires_at,
      ],
    );
  });
}

export async function getInvitation(
  db: Queryable,
  id: string,
): Promise<InvitationRecord | undefined> {
  const result = await db.query<InvitationRecord>(
    `SELECT ${INVITATION_COLUMNS} FROM invitations WHERE id = $1`,
    [id],
  );
  return result.rows[0];
}

export async function getInvitationByTokenHash(
  db: Queryable,
  tokenHash: string,
): Promise<InvitationRecord | undefined> {
  const result = await db.query<InvitationRecord>(
    `SELECT ${INVITATION_COLUMNS} FROM invitations WHERE token_hash = $1`,
    [tokenHash],
  );
  return result.rows[0];
}

/** Open invitations by workspace or by email, newest first. */
async function listOpen(
  db: Queryable,
  column: 'workspace' | 'email',
  value: string,
): Promise<InvitationRecord[]> {
  const result = await db.query<InvitationRecord>(
    `SELECT ${INVITATION_COLUMNS} FROM invitations WHERE ${column} = $1 AND status = 'invited'
     ORDER BY created_at DESC, id COLLATE "C"`,
    [value],
  );
  return result.rows;
}

export function listInvitations(db: Queryable, workspace: string): Promise<InvitationRecord[]> {
  return listOpen(db, 'workspace', workspace);
}

export function listInvitationsForEmail(db: Queryable, email: string): Promise<InvitationRecord[]> {
  return listOpen(db, 'email', email);
}

export async function acceptInvitation(
  pool: Pool,
  id: string,
  userId: string,
  at: string,
): Promise<Membership | undefined> {
  return inTransaction(pool, async (tx) => {
    // The row lock taken by UPDATE makes a concurrent acceptance wait, then find it closed.
    const accepted = await tx.query<{ workspace: string; role: string }>(
      `UPDATE invitations SET status = 'accepted', closed_at = $1, accepted_by = $2
       WHERE id = $3 AND status = 'invited' AND expires_at > $1
       RETURNING workspace, role`,
      [at, userId, id],
    );
    const row = accepted.rows[0];
    if (row === undefined) return undefined;
    await tx.query(
      `INSERT INTO memberships (workspace, user_id, role, created_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (workspace, user_id) DO NOTHING`,
      [row.workspace, userId, row.role, at],
    );
    return getMembership(tx, row.workspace, userId);
  });
}

export async function closeInvitation(
  db: Queryable,
  id: string,
  status: 'declined' | 'revoked',
  at: string,
): Promise<boolean> {
  const result = await db.query(
    `UPDATE invitations SET status = $1, closed_at = $2 WHERE id = $3 AND status = 'invited'`,
    [status, at, id],
  );
  return (result.rowCount ?? 0) > 0;
}
