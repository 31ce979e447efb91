import { useState, type FormEvent } from 'react';
import { AuthCard, PasswordField } from './AuthCard.js';

export interface LoginViewProps {
  readonly busy: boolean;
  readonly error: string | null;
  readonly onSubmit: (email: string, password: string) => void;
}

export function LoginView({ busy, error, onSubmit }: LoginViewProps) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const submit = (event: FormEvent) => {
    event.preventDefault();
    onSubmit(email.trim(), password);
  };
  return (
    <AuthCard title="Sign in to the audit log" error={error} onSubmit={submit}>
      <label className="field">
        <span className="field__label">Email</span>
        <input
          type="email"
          name="email"
          autoComplete="username"
          required
          value={email}
          onChange={(event) => setEmail(event.target.value)}
        />
      </label>
      <PasswordField value={password} autoComplete="current-password" onChange={setPassword} />
      <button type="submit" className="button button--primary" disabled={busy}>
        {busy ? 'Signing in…' : 'Sign in'}
      </button>
    </AuthCard>
  );
}
