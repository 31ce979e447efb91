import type { JsonObject } from '../../../src/core/json.js';
import type { EntityHistory } from '../api.js';
import { actionLabel, actorKindLabel, actorName, kindLabel, valueText } from '../format.js';
import { Link } from './Link.js';
import { When } from './When.js';
import { StatusPanel } from './StatusPanel.js';

export interface HistoryViewProps {
  readonly type: string;
  readonly id: string;
  readonly history: EntityHistory | null;
  /** The log, unfiltered. */
  readonly backHref: string;
  /** The log filtered to this entity. */
  readonly filteredHref: string;
  readonly problem: { readonly title: string; readonly detail: string } | null;
  readonly onRetry: () => void;
}

function StateTable({ state }: { readonly state: JsonObject }) {
  const entries = Object.entries(state);
  if (entries.length === 0) return <p className="muted">No tracked fields.</p>;
  return (
    <table className="changes">
      <thead>
        <tr>
          <th scope="col">Field</th>
          <th scope="col">Value</th>
        </tr>
      </thead>
      <tbody>
        {entries.map(([field, value]) => (
          <tr key={field}>
            <th scope="row">
              <code>{field}</code>
            </th>
            <td>
              <code className="value">{valueText(value)}</code>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function HistoryView({
  type,
  id,
  history,
  backHref,
  filteredHref,
  problem,
  onRetry,
}: HistoryViewProps) {
  const name = history === null ? undefined : entityName(history, type, id);
  return (
    <div className="history">
      <nav className="history__nav" aria-label="Back">
        <Link href={backHref} className="link">
          ← Audit log
        </Link>
        <Link href={filteredHref} className="link">
          Events for this {kindLabel(type).toLowerCase()} in the log
        </Link>
      </nav>
      <h1>
        History of {kindLabel(type).toLowerCase()}{' '}
        {name !== undefined && <span className="history__name">{name} </span>}
        <code>{id}</code>
        {history?.deleted === true && <span className="failed">Deleted</span>}
      </h1>
      {problem !== null ? (
        <StatusPanel
          kind="error"
          title={problem.title}
          detail={problem.detail}
          action={{ label: 'Try again', onClick: onRetry }}
        />
      ) : history === null ? null : (
        <>
          <section className="detail__section" aria-label="Current state">
            <h2>{history.deleted ? 'Last state before deletion' : 'Current state'}</h2>
            {history.state === null ? (
              <p className="muted">No state recorded.</p>
            ) : (
              <StateTable state={history.state} />
            )}
          </section>
          <section aria-label="Events">
            <h2>
              {history.events.length} {history.events.length === 1 ? 'event' : 'events'}, oldest
              first
            </h2>
            <ol className="timeline">
              {history.events.map(({ event, state }) => (
                <li key={`${event.seq}:${event.id}`} className="timeline__item">
                  <p className="timeline__head">
                    <When iso={event.occurred_at} />{' '}
                    <span className="badge" title={event.action}>
                      {actionLabel(event.action)}
                    </span>{' '}
                    by{' '}
                    <span className={`mark mark--${event.actor.type}`}>
                      {actorKindLabel(event.actor.type)}
                    </span>{' '}
                    {actorName(event.actor)} <span className="muted">· seq {event.seq}</span>
                  </p>
                  {event.changes.length > 0 && (
                    <ul className="timeline__changes">
                      {event.changes.map((change, index) => (
                        <li key={`${change.field}:${index}`}>
                          <code>{change.field}</code>:{' '}
                          {change.secret === true ? (
                            <em>changed, value hidden</em>
                          ) : (
                            <>
                              <code className="value">{valueText(change.old)}</code> →{' '}
                              <code className="value">{valueText(change.new)}</code>
                            </>
                          )}
                        </li>
                      ))}
                    </ul>
                  )}
                  <details>
                    <summary>State after this event</summary>
                    <StateTable state={state} />
                  </details>
                </li>
              ))}
            </ol>
          </section>
        </>
      )}
    </div>
  );
}

/** The name the entity was last given in an event that names it (targets carry names). */
function entityName(history: EntityHistory, type: string, id: string): string | undefined {
  for (let i = history.events.length - 1; i >= 0; i--) {
    const named = history.events[i]?.event.targets.find(
      (target) => target.type === type && target.id === id && target.name !== undefined,
    );
    if (named?.name !== undefined) return named.name;
  }
  return undefined;
}
