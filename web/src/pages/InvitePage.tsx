import { useEffect, useState } from 'react';
import { ApiProblem, api, type Session } from '../api.js';
import { InviteView } from '../views/InviteView.js';

export interface InvitePageProps {
  /** The signed-in person, or null. */
  readonly session: Session | null;
  readonly onAccepted: (session: Session) => void;
}

function tokenInAddress(): string {
  try {
    return decodeURIComponent(window.location.hash.slice(1));
  } catch {
    return '';
  }
}

function messageOf(problem: unknown): string {
  if (!(problem instanceof ApiProblem)) return 'Accepting the invitation failed.';
  if (problem.status === 401) return 'That password is not the password of this account.';
  if (problem.code === 'invitation_invalid') {
    return 'This invitation cannot be used any more (it was used, withdrawn or has expired). Ask to be invited again.';
  }
  return problem.message;
}

/** Accepts an invitation link: signed in with one click, otherwise with a password. */
export function InvitePage({ session, onAccepted }: InvitePageProps) {
  const [token] = useState(tokenInAddress);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  // Once read, the secret leaves the address bar and the history entry.
  useEffect(() => {
    if (window.location.hash !== '') window.history.replaceState(null, '', '/invite');
  }, []);

  const accept = (proof: { password: string; name?: string } | null) => {
    setBusy(true);
    setError(null);
    const sent =
      proof !== null
        ? api.acceptInvitationLink(token, proof)
        : api.acceptInvitationLink(token, { csrf: session?.csrf_token ?? '' });
    sent.then(onAccepted, (problem: unknown) => {
      setBusy(false);
      setError(messageOf(problem));
    });
  };

  return (
    <InviteView
      missing={token === ''}
      signedInAs={session?.user.email ?? null}
      busy={busy}
      error={error}
      onAccept={accept}
    />
  );
}
