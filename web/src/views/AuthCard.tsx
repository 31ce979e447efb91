import type { FormEvent, ReactNode } from 'react';

export interface AuthCardProps {
  readonly title: string;
  readonly error: string | null;
  readonly onSubmit: (event: FormEvent) => void;
  readonly children: ReactNode;
}

/** The centred card of the pages shown before the shell: sign-in and accepting an invitation. */
export function AuthCard({ title, error, onSubmit, children }: AuthCardProps) {
  return (
    <main className="login" id="main">
      <form className="login__card" onSubmit={onSubmit} aria-labelledby="auth-title">
        <div className="login__brand">
          <span className="topbar__logo" aria-hidden="true">
            T
          </span>
          <span className="topbar__name">Trailkeep</span>
        </div>
        <h1 id="auth-title">{title}</h1>
        {children}
        {error !== null && (
          <p className="form-error" role="alert">
            {error}
          </p>
        )}
      </form>
    </main>
  );
}

export interface PasswordFieldProps {
  readonly value: string;
  readonly autoComplete: 'current-password' | 'new-password';
  readonly onChange: (value: string) => void;
}

export function PasswordField({ value, autoComplete, onChange }: PasswordFieldProps) {
  return (
    <label className="field">
      <span className="field__label">Password</span>
      <input
        type="password"
        name="password"
        autoComplete={autoComplete}
        required
        value={value}
        onChange={(event) => onChange(event.target.value)}
      />
    </label>
  );
}
