/** One entity's full history (every event that touched it, and its state after each). */
import { useEffect, useState } from 'react';
import { ApiProblem, api, type EntityHistory } from '../api.js';
import { OWN_EVENTS_TERM, printTerms } from '../query/terms.js';
import { auditPath } from '../routes.js';
import { HistoryView } from '../views/HistoryView.js';
import { NoAccessView } from '../views/NoAccessView.js';
import { StatusPanel } from '../views/StatusPanel.js';

export interface HistoryPageProps {
  readonly workspace: string;
  readonly workspaceName: string;
  readonly type: string;
  readonly id: string;
}

type State =
  | { readonly state: 'loading' }
  | { readonly state: 'loaded'; readonly history: EntityHistory }
  | { readonly state: 'failed'; readonly problem: ApiProblem };

export function HistoryPage({ workspace, workspaceName, type, id }: HistoryPageProps) {
  const [state, setState] = useState<State>({ state: 'loading' });
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    const controller = new AbortController();
    setState({ state: 'loading' });
    api.history(workspace, type, id, controller.signal).then(
      (history) => setState({ state: 'loaded', history }),
      (error: unknown) => {
        if (controller.signal.aborted) return;
        if (error instanceof ApiProblem) setState({ state: 'failed', problem: error });
      },
    );
    return () => controller.abort();
  }, [workspace, type, id, attempt]);

  const back = auditPath(
    workspace,
    printTerms([
      { key: 'target_type', value: type, negated: false },
      { key: 'target_id', value: id, negated: false },
      OWN_EVENTS_TERM,
    ]),
  );
  if (state.state === 'loading') return <StatusPanel kind="loading" title="Loading history…" />;
  if (state.state === 'failed') {
    const { problem } = state;
    if (problem.code === 'no_audit_access') return <NoAccessView workspace={workspaceName} />;
    return (
      <HistoryView
        type={type}
        id={id}
        history={null}
        backHref={auditPath(workspace)}
        filteredHref={back}
        problem={
          problem.status === 404
            ? {
                title: 'No history is available for this entity',
                detail: `Nothing recorded for ${type} ${id} can be rebuilt here (${problem.message}).`,
              }
            : { title: problem.title, detail: problem.message }
        }
        onRetry={() => setAttempt((n) => n + 1)}
      />
    );
  }
  return (
    <HistoryView
      type={type}
      id={id}
      history={state.history}
      backHref={auditPath(workspace)}
      filteredHref={back}
      problem={null}
      onRetry={() => setAttempt((n) => n + 1)}
    />
  );
}
