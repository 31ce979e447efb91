import { useState } from 'react';
import { ApiProblem, api, type Session } from '../api.js';
import { LoginView } from '../views/LoginView.js';

export interface LoginPageProps {
  readonly onSignedIn: (session: Session) => void;
}

/** Signs a person in with email and password; the server sets the session cookie. */
export function LoginPage({ onSignedIn }: LoginPageProps) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const submit = (email: string, password: string) => {
    setBusy(true);
    setError(null);
    api.signIn(email, password).then(onSignedIn, (problem: unknown) => {
      setBusy(false);
      if (problem instanceof ApiProblem) {
        setError(
          problem.status === 401 ? 'That email and password do not match.' : problem.message,
        );
      } else {
        setError('Sign-in failed.');
      }
    });
  };

  return <LoginView busy={busy} error={error} onSubmit={submit} />;
}
