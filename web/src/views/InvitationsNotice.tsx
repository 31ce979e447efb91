import type { MyInvitation } from '../api.js';

export interface InvitationsNoticeProps {
  readonly invitations: readonly MyInvitation[];
  readonly busy: boolean;
  readonly error: string | null;
  readonly onAccept: (id: string) => void;
}

/** Open invitations for the signed-in person: nobody joins a workspace without saying yes. */
export function InvitationsNotice({ invitations, busy, error, onAccept }: InvitationsNoticeProps) {
  if (invitations.length === 0) return null;
  return (
    <section className="invitations" aria-label="Invitations">
      {invitations.map((invitation) => (
        <p key={invitation.id} className="invitations__item">
          <span>
            You are invited to <strong>{invitation.workspace_name}</strong> as {invitation.role}.
          </span>
          <button
            type="button"
            className="button button--primary"
            disabled={busy}
            onClick={() => onAccept(invitation.id)}
          >
            Accept
          </button>
        </p>
      ))}
      {error !== null && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}
