/**
 * The viewer's shell: who is signed in, which page the address names, and the workspace the
 * person may read. A member (no reading role) gets the no-access page before anything is fetched.
 */
import { useCallback, useEffect, useState, type ReactNode } from 'react';
import { ApiProblem, api, type MyInvitation, type Session } from './api.js';
import { AuditPage } from './pages/AuditPage.js';
import { EventPage } from './pages/EventPage.js';
import { HistoryPage } from './pages/HistoryPage.js';
import { InvitePage } from './pages/InvitePage.js';
import { LoginPage } from './pages/LoginPage.js';
import { navigate, useLocation } from './router.js';
import { auditPath, loginPath, parseRoute, safeNext } from './routes.js';
import { InvitationsNotice } from './views/InvitationsNotice.js';
import { NoAccessView } from './views/NoAccessView.js';
import { Shell } from './views/Shell.js';
import { StatusPanel } from './views/StatusPanel.js';

type SessionState =
  | { readonly state: 'loading' }
  | { readonly state: 'signed_out' }
  | { readonly state: 'error'; readonly problem: ApiProblem }
  | { readonly state: 'signed_in'; readonly session: Session };

const READING_ROLES: ReadonlySet<string> = new Set(['owner', 'admin', 'auditor']);

export function App() {
  const location = useLocation();
  const route = parseRoute(location.pathname, location.search);
  const here = location.pathname + location.search;
  const [session, setSession] = useState<SessionState>({ state: 'loading' });
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    const controller = new AbortController();
    api.session(controller.signal).then(
      (value) => setSession({ state: 'signed_in', session: value }),
      (error: unknown) => {
        if (controller.signal.aborted) return;
        if (error instanceof ApiProblem && error.status === 401)
          setSession({ state: 'signed_out' });
        else if (error instanceof ApiProblem) setSession({ state: 'error', problem: error });
      },
    );
    return () => controller.abort();
  }, [attempt]);

  const signOut = useCallback(() => {
    if (session.state !== 'signed_in') return;
    const done = () => {
      setSession({ state: 'signed_out' });
      navigate('/login');
    };
    api.signOut(session.session.csrf_token).then(done, (error: unknown) => {
      // An expired session is signed out already; anything else is shown, and we stay.
      if (error instanceof ApiProblem && error.status === 401) done();
      else if (error instanceof ApiProblem) window.alert(`Sign out failed: ${error.message}`);
    });
  }, [session]);

  // Open invitations for the signed-in person, asked once per session.
  const [invitations, setInvitations] = useState<readonly MyInvitation[]>([]);
  const [accepting, setAccepting] = useState(false);
  const [invitationError, setInvitationError] = useState<string | null>(null);
  const userId = session.state === 'signed_in' ? session.session.user.id : null;
  useEffect(() => {
    if (userId === null) return;
    const controller = new AbortController();
    api.invitations(controller.signal).then(
      (value) => setInvitations(value.invitations),
      () => setInvitations([]),
    );
    return () => controller.abort();
  }, [userId, attempt]);

  const acceptInvitation = useCallback(
    (id: string) => {
      if (session.state !== 'signed_in') return;
      setAccepting(true);
      setInvitationError(null);
      api
        .acceptInvitation(id, session.session.csrf_token)
        .then(async ({ workspace }) => {
          // The new workspace is in the session's list before its page opens.
          setSession({ state: 'signed_in', session: await api.session() });
          setAccepting(false);
          setInvitations((open) => open.filter((i) => i.id !== id));
          navigate(auditPath(workspace.id));
        })
        .then(undefined, (error: unknown) => {
          setAccepting(false);
          setInvitationError(error instanceof ApiProblem ? error.message : 'Accepting failed.');
        });
    },
    [session],
  );

  // Anyone signed out is asked to sign in, and comes back to the address they asked for.
  useEffect(() => {
    if (session.state === 'signed_out' && route.page !== 'login' && route.page !== 'invite') {
      navigate(loginPath(here), { replace: true });
    }
  }, [session, route.page, here]);

  // A signed-in person on /login, or on /, goes on to a workspace they can read.
  useEffect(() => {
    if (session.state !== 'signed_in') return;
    if (route.page === 'login') navigate(safeNext(route.next), { replace: true });
    else if (route.page === 'home') {
      const { workspaces } = session.session;
      const first = workspaces.find((w) => READING_ROLES.has(w.role)) ?? workspaces[0];
      if (first !== undefined) navigate(auditPath(first.id), { replace: true });
    }
  }, [route, session]);

  if (session.state === 'loading') return <StatusPanel kind="loading" title="Loading…" />;
  if (session.state === 'error') {
    return (
      <StatusPanel
        kind="error"
        title={session.problem.title}
        detail={session.problem.message}
        action={{ label: 'Try again', onClick: () => setAttempt((n) => n + 1) }}
      />
    );
  }
  const accepted = (value: Session) => {
    setSession({ state: 'signed_in', session: value });
    navigate('/');
  };
  if (route.page === 'invite') {
    return (
      <InvitePage
        session={session.state === 'signed_in' ? session.session : null}
        onAccepted={accepted}
      />
    );
  }
  if (session.state === 'signed_out') {
    return <LoginPage onSignedIn={(value) => setSession({ state: 'signed_in', session: value })} />;
  }

  const { workspaces } = session.session;
  const workspaceId =
    route.page === 'audit' || route.page === 'history' || route.page === 'event'
      ? route.workspace
      : null;
  const access = workspaces.find((w) => w.id === workspaceId) ?? null;
  const shell = (content: ReactNode) => (
    <Shell
      session={session.session}
      workspace={workspaceId}
      onSwitchWorkspace={(id) => navigate(auditPath(id))}
      onSignOut={signOut}
    >
      <InvitationsNotice
        invitations={invitations}
        busy={accepting}
        error={invitationError}
        onAccept={acceptInvitation}
      />
      {content}
    </Shell>
  );

  switch (route.page) {
    case 'login':
    case 'home':
      return shell(
        workspaces.length === 0 ? (
          <StatusPanel
            kind="empty"
            title="You are not in any workspace yet"
            detail="Ask a workspace owner or admin to invite you; your invitations appear here."
          />
        ) : (
          <StatusPanel kind="loading" title="Opening your workspace…" />
        ),
      );
    case 'not_found':
      return shell(
        <StatusPanel
          kind="empty"
          title="There is no page at this address"
          detail="Choose a workspace above to see its audit log."
        />,
      );
    case 'audit':
    case 'event':
    case 'history':
      if (access !== null && !READING_ROLES.has(access.role)) {
        return shell(<NoAccessView workspace={access.name} role={access.role} />);
      }
      if (route.page === 'audit') {
        return shell(
          <AuditPage
            key={route.workspace}
            workspace={route.workspace}
            workspaceName={access?.name ?? route.workspace}
            q={route.q}
            cursor={route.cursor}
          />,
        );
      }
      if (route.page === 'event') {
        return shell(
          <EventPage
            key={`${route.workspace}/${route.id}`}
            workspace={route.workspace}
            workspaceName={access?.name ?? route.workspace}
            id={route.id}
          />,
        );
      }
      return shell(
        <HistoryPage
          key={`${route.workspace}/${route.type}/${route.id}`}
          workspace={route.workspace}
          workspaceName={access?.name ?? route.workspace}
          type={route.type}
          id={route.id}
        />,
      );
  }
}
