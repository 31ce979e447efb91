/**
 * One event's permalink (`/w/{ws}/events/{id}`): the event read whole, a button that copies its
 * address, and the events around it (same actor or the whole workspace, within a chosen window).
 */
import { useEffect, useState } from 'react';
import { ApiProblem, api, type Facets, type StoredEvent } from '../api.js';
import { actionLabel, actorName } from '../format.js';
import { OWN_EVENTS_TERM, printTerms, type Term } from '../query/terms.js';
import { auditPath, historyPath } from '../routes.js';
import { EventDetail } from '../views/EventDetail.js';
import { Link } from '../views/Link.js';
import { NoAccessView } from '../views/NoAccessView.js';
import { StatusPanel } from '../views/StatusPanel.js';

export interface EventPageProps {
  readonly workspace: string;
  readonly workspaceName: string;
  readonly id: string;
}

type State =
  | { readonly state: 'loading' }
  | { readonly state: 'loaded'; readonly event: StoredEvent }
  | { readonly state: 'failed'; readonly problem: ApiProblem };

/** Windows for "events around this one", either side of the event. */
export const AROUND_WINDOWS = [
  { id: '15m', label: '± 15 minutes', ms: 15 * 60_000 },
  { id: '1h', label: '± 1 hour', ms: 60 * 60_000 },
  { id: '1d', label: '± 1 day', ms: 24 * 60 * 60_000 },
] as const;

/** The question "what happened around this event": a time window, and the actor when asked. */
export function aroundQuery(event: StoredEvent, windowMs: number, sameActor: boolean): string {
  const at = Date.parse(event.occurred_at);
  const terms: Term[] = [];
  if (sameActor) {
    terms.push({ key: 'actor_type', value: event.actor.type, negated: false });
    terms.push({ key: 'actor', value: event.actor.id, negated: false });
  }
  terms.push({ key: 'since', value: new Date(at - windowMs).toISOString(), negated: false });
  terms.push({ key: 'until', value: new Date(at + windowMs).toISOString(), negated: false });
  if (!event.action.toLowerCase().startsWith('trailkeep.')) terms.push(OWN_EVENTS_TERM);
  return printTerms(terms);
}

export function EventPage({ workspace, workspaceName, id }: EventPageProps) {
  const [state, setState] = useState<State>({ state: 'loading' });
  const [facets, setFacets] = useState<Facets | null>(null);
  const [attempt, setAttempt] = useState(0);
  const [windowId, setWindowId] = useState<string>('1h');
  const [copied, setCopied] = useState<'no' | 'yes' | 'failed'>('no');
  useEffect(() => {
    const controller = new AbortController();
    setState({ state: 'loading' });
    api.event(workspace, id, controller.signal).then(
      (event) => setState({ state: 'loaded', event }),
      (error: unknown) => {
        if (controller.signal.aborted) return;
        if (error instanceof ApiProblem) setState({ state: 'failed', problem: error });
      },
    );
    // Only for category labels: the page reads well without them.
    api.facets(workspace, controller.signal).then(setFacets, () => undefined);
    return () => controller.abort();
  }, [workspace, id, attempt]);

  if (state.state === 'loading') return <StatusPanel kind="loading" title="Loading the event…" />;
  if (state.state === 'failed') {
    const { problem } = state;
    if (problem.code === 'no_audit_access') return <NoAccessView workspace={workspaceName} />;
    return (
      <StatusPanel
        kind="error"
        title={problem.status === 404 ? 'No such event in this workspace' : problem.title}
        detail={problem.message}
        action={{ label: 'Try again', onClick: () => setAttempt((n) => n + 1) }}
      />
    );
  }
  const { event } = state;
  const labels = new Map(facets?.catalog.map((c) => [c.id.toLowerCase(), c.label]));
  const around = AROUND_WINDOWS.find((w) => w.id === windowId) ?? AROUND_WINDOWS[1];
  const copy = () => {
    navigator.clipboard.writeText(pageAddress()).then(
      () => setCopied('yes'),
      () => setCopied('failed'),
    );
  };
  return (
    <div className="event-page">
      <nav className="history__nav" aria-label="Back">
        <Link href={auditPath(workspace)} className="link">
          ← Audit log
        </Link>
      </nav>
      <h1>
        {actionLabel(event.action)} <span className="muted">by {actorName(event.actor)}</span>
      </h1>
      <div className="event-page__link">
        <label className="field">
          <span className="field__label">Link to this event</span>
          <input type="text" readOnly value={pageAddress()} onFocus={(e) => e.target.select()} />
        </label>
        <button type="button" className="button" onClick={copy}>
          Copy link
        </button>
        <span role="status" className="muted">
          {copied === 'yes'
            ? 'Link copied'
            : copied === 'failed'
              ? 'Copying is not allowed here: select the link and copy it'
              : ''}
        </span>
      </div>
      <section className="event-page__around" aria-label="Events around this one">
        <h2>Events around this one</h2>
        <label className="field">
          <span className="field__label">Window</span>
          <select value={around.id} onChange={(e) => setWindowId(e.target.value)}>
            {AROUND_WINDOWS.map((w) => (
              <option key={w.id} value={w.id}>
                {w.label}
              </option>
            ))}
          </select>
        </label>
        <Link href={auditPath(workspace, aroundQuery(event, around.ms, true))} className="link">
          By {actorName(event.actor)}
        </Link>
        <Link href={auditPath(workspace, aroundQuery(event, around.ms, false))} className="link">
          In the whole workspace
        </Link>
      </section>
      <EventDetail
        event={event}
        categoryLabel={(category) => labels.get(category.toLowerCase()) ?? category}
        historyHref={(type, target) => historyPath(workspace, type, target)}
      />
    </div>
  );
}

/** The page's own address; a function so the copy and the field read it the same way. */
function pageAddress(): string {
  return globalThis.location.href;
}
