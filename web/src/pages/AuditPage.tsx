/**
 * The audit log page: fetches a page of events for the address's question, the workspace's
 * facets, its integrity status and the export's size, and hands them to AuditPageView. All
 * filter state is the address (q and cursor); changing a filter is a navigation.
 */
import { useCallback, useEffect, useState } from 'react';
import {
  ApiProblem,
  api,
  checkpointUrl,
  exportUrl,
  type EventPage,
  type ExportFormat,
  type Facets,
  type VerifyResult,
  type WitnessStatus,
} from '../api.js';
import type { Count } from '../format.js';
import { navigate } from '../router.js';
import { auditPath, eventPath, historyPath } from '../routes.js';
import { AuditPageView } from '../views/AuditPageView.js';
import { NoAccessView } from '../views/NoAccessView.js';
import { StatusPanel } from '../views/StatusPanel.js';

export interface AuditPageProps {
  readonly workspace: string;
  readonly workspaceName: string;
  readonly q: string;
  readonly cursor: string | null;
}

/** A value being fetched: the last good value survives a failed refresh. */
interface Remote<T> {
  readonly value: T | null;
  /** The key `value` answers (it may be older than the current key). */
  readonly valueKey: string | null;
  readonly loading: boolean;
  readonly error: ApiProblem | null;
}

const START: Remote<never> = { value: null, valueKey: null, loading: true, error: null };

function isAbort(error: unknown): boolean {
  return error instanceof DOMException && error.name === 'AbortError';
}

/**
 * Fetches whenever `key` changes, keeping the previous value while loading and after an error
 * (an invalid query must not clear the table).
 */
function useRemote<T>(
  key: string,
  load: (signal: AbortSignal) => Promise<T>,
): [Remote<T>, () => void] {
  const [state, setState] = useState<Remote<T>>(START);
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    const controller = new AbortController();
    setState((previous) => ({ ...previous, loading: true }));
    load(controller.signal).then(
      (value) => setState({ value, valueKey: key, loading: false, error: null }),
      (error: unknown) => {
        if (controller.signal.aborted || isAbort(error)) return;
        const problem =
          error instanceof ApiProblem
            ? error
            : new ApiProblem(0, 'client', 'Something went wrong', String(error), null);
        setState((previous) => ({ ...previous, loading: false, error: problem }));
      },
    );
    return () => controller.abort();
    // `load` is rebuilt every render on purpose: `key` names everything it depends on.
  }, [key, attempt]);
  const retry = useCallback(() => setAttempt((n) => n + 1), []);
  return [state, retry];
}

export function AuditPage({ workspace, workspaceName, q, cursor }: AuditPageProps) {
  const [exportFormat, setExportFormat] = useState<ExportFormat>('csv');
  const [exportKind, setExportKind] = useState<string | null>(null);

  const [events, retryEvents] = useRemote<EventPage>(
    // The page is keyed by workspace already; this key is the question, as the view reports it.
    JSON.stringify([q, cursor]),
    (signal) => api.events(workspace, q, cursor, signal),
  );
  const [facets] = useRemote<Facets>(workspace, (signal) => api.facets(workspace, signal));
  const [verify, reverify] = useRemote<VerifyResult>(workspace, (signal) =>
    api.verify(workspace, signal),
  );
  const [witnesses] = useRemote<WitnessStatus[]>(
    workspace,
    async (signal) => (await api.witnesses(workspace, signal)).witnesses,
  );
  const selection = { q, format: exportFormat, entityKind: exportKind };
  const [exportCount] = useRemote<Count>(
    JSON.stringify([workspace, q, exportKind]),
    async (signal) => (await api.exportCount(workspace, selection, signal)).count,
  );

  const denied = [events.error, facets.error].find((e) => e?.code === 'no_audit_access');
  if (denied !== undefined) return <NoAccessView workspace={workspaceName} />;
  if (events.error?.status === 401) {
    return (
      <StatusPanel
        kind="error"
        title="Your session has ended"
        detail="Sign in again to keep reading the log; you will come back to this view."
        action={{
          label: 'Sign in again',
          // A full load: the app starts over, finds no session and asks to sign in.
          onClick: () => window.location.reload(),
        }}
      />
    );
  }
  const missing = events.error?.status === 404 && events.value === null;
  if (missing) {
    return (
      <StatusPanel
        kind="error"
        title="This workspace does not exist"
        detail={events.error?.message ?? ''}
      />
    );
  }

  return (
    <AuditPageView
      workspace={workspace}
      workspaceName={workspaceName}
      q={q}
      page={events.value}
      answers={events.valueKey}
      loading={events.loading}
      error={events.error}
      facets={facets.value}
      verify={verify}
      witnesses={witnesses.value}
      exportPanel={{
        selection,
        count: exportCount.value,
        countLoading: exportCount.loading,
        countError: exportCount.error,
        href: exportUrl(workspace, selection),
      }}
      historyHref={(type, id) => historyPath(workspace, type, id)}
      eventHref={(id) => eventPath(workspace, id)}
      onQueryChange={(next) => navigate(auditPath(workspace, next))}
      onPage={(next) => navigate(auditPath(workspace, q, next))}
      onRetry={retryEvents}
      onReverify={reverify}
      onExportFormat={setExportFormat}
      onExportKind={setExportKind}
      checkpointHref={checkpointUrl(workspace)}
    />
  );
}
