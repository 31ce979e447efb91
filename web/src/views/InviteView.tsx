import { useState, type FormEvent } from 'react';
import { AuthCard, PasswordField } from './AuthCard.js';

export interface InviteViewProps {
  /** The link has no secret (cut off when copied). */
  readonly missing: boolean;
  /** The signed-in person's email, or null when signed out. */
  readonly signedInAs: string | null;
  readonly busy: boolean;
  readonly error: string | null;
  /** null: accept as the signed-in person; otherwise with a password. */
  readonly onAccept: (proof: { password: string; name?: string } | null) => void;
}

export function InviteView({ missing, signedInAs, busy, error, onAccept }: InviteViewProps) {
  const [password, setPassword] = useState('');
  const [name, setName] = useState('');
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (signedInAs !== null) onAccept(null);
    else onAccept(name.trim() === '' ? { password } : { password, name: name.trim() });
  };
  return (
    <AuthCard title="Accept your invitation" error={error} onSubmit={submit}>
      {missing ? (
        <p className="form-error" role="alert">
          This link is incomplete: copy the whole invitation link, including the part after #.
        </p>
      ) : signedInAs !== null ? (
        <p>
          You are signed in as <strong>{signedInAs}</strong>. Accepting adds you to the workspace
          that invited this address.
        </p>
      ) : (
        <>
          <p className="invite__note">
            If you already have an account for the invited address, enter its password. Otherwise
            choose a password (at least 12 characters) for your new account.
          </p>
          <label className="field">
            <span className="field__label">
              Name <span className="field__note">(for a new account, optional)</span>
            </span>
            <input
              type="text"
              name="name"
              autoComplete="name"
              value={name}
              onChange={(event) => setName(event.target.value)}
            />
          </label>
          <PasswordField value={password} autoComplete="current-password" onChange={setPassword} />
        </>
      )}
      {!missing && (
        <button type="submit" className="button button--primary" disabled={busy}>
          {busy ? 'Accepting…' : 'Accept invitation'}
        </button>
      )}
    </AuthCard>
  );
}
