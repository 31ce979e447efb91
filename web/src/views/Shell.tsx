import type { ReactNode } from 'react';
import type { Session } from '../api.js';

export interface ShellProps {
  readonly session: Session;
  /** The workspace the address names, or null on pages outside one. */
  readonly workspace: string | null;
  readonly onSwitchWorkspace: (id: string) => void;
  readonly onSignOut: () => void;
  readonly children: ReactNode;
}

const ROLE_LABELS: Readonly<Record<string, string>> = {
  owner: 'Owner',
  admin: 'Admin',
  auditor: 'Auditor',
  member: 'Member',
};

/** The page frame: product name, workspace switcher, the signed-in person and sign out. */
export function Shell({ session, workspace, onSwitchWorkspace, onSignOut, children }: ShellProps) {
  const { workspaces, user } = session;
  const known = workspaces.some((w) => w.id === workspace);
  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <div className="topbar__brand">
          <span className="topbar__logo" aria-hidden="true">
            T
          </span>
          <span className="topbar__name">Trailkeep</span>
        </div>
        {workspaces.length > 0 && (
          <label className="topbar__workspace">
            <span className="topbar__label">Workspace</span>
            <select
              value={known && workspace !== null ? workspace : ''}
              onChange={(event) => onSwitchWorkspace(event.target.value)}
            >
              {!known && (
                <option value="" disabled>
                  Choose a workspace
                </option>
              )}
              {workspaces.map((w) => (
                <option key={w.id} value={w.id}>
                  {w.name} ({Object.hasOwn(ROLE_LABELS, w.role) ? ROLE_LABELS[w.role] : w.role})
                </option>
              ))}
            </select>
          </label>
        )}
        <div className="topbar__user">
          <span className="topbar__email" title={user.email}>
            {user.name ?? user.email}
          </span>
          <button type="button" className="button button--quiet" onClick={onSignOut}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" className="main" tabIndex={-1}>
        {children}
      </main>
    </div>
  );
}
