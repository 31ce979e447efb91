/** One event read whole: what changed, on what, from where, and its place in the chain. */
import type { StoredEvent } from '../api.js';
import type { JsonValue } from '../../../src/core/json.js';
import { actionLabel, actorKindLabel, fullTime, kindLabel, valueText } from '../format.js';
import { timeZoneOf, useZoneChoice } from '../time-zone.js';
import { Link } from './Link.js';

export interface EventDetailProps {
  readonly event: StoredEvent;
  readonly categoryLabel: (id: string) => string;
  readonly historyHref: (type: string, id: string) => string;
  /** The event's own page; absent on that page itself. */
  readonly eventHref?: string;
}

function Value({ value }: { readonly value: JsonValue | undefined }) {
  if (value === undefined) return <span className="muted">(none)</span>;
  return <code className="value">{valueText(value)}</code>;
}

function Pairs({ rows }: { readonly rows: readonly (readonly [string, string | undefined])[] }) {
  const present = rows.filter((row): row is readonly [string, string] => row[1] !== undefined);
  if (present.length === 0) return <p className="muted">None recorded.</p>;
  return (
    <dl className="pairs">
      {present.map(([term, description]) => (
        <div key={term} className="pairs__row">
          <dt>{term}</dt>
          <dd>{description}</dd>
        </div>
      ))}
    </dl>
  );
}

export function EventDetail({ event, categoryLabel, historyHref, eventHref }: EventDetailProps) {
  const metadata = Object.entries(event.metadata);
  const zone = timeZoneOf(useZoneChoice());
  return (
    <div className="detail">
      <div className="detail__head">
        <h3>
          {actionLabel(event.action)} <code className="detail__code">{event.action}</code>
        </h3>
        <p className="muted">
          {fullTime(event.occurred_at, zone)} · {categoryLabel(event.category)} · {event.operation}{' '}
          ·{' '}
          <span className={event.outcome === 'failure' ? 'failed' : 'succeeded'}>
            {event.outcome === 'failure' ? 'Failed' : 'Succeeded'}
          </span>
          {eventHref !== undefined && (
            <>
              {' '}
              ·{' '}
              <Link href={eventHref} className="link">
                Link to this event
              </Link>
            </>
          )}
        </p>
      </div>

      <section className="detail__section detail__changes" aria-label="Changes">
        <h4>Changes</h4>
        {event.changes.length === 0 ? (
          <p className="muted">No field changes recorded.</p>
        ) : (
          <table className="changes">
            <thead>
              <tr>
                <th scope="col">Field</th>
                <th scope="col">Old</th>
                <th scope="col">New</th>
              </tr>
            </thead>
            <tbody>
              {event.changes.map((change, index) => (
                <tr key={`${change.field}:${index}`}>
                  <th scope="row">
                    <code>{change.field}</code>
                  </th>
                  {change.secret === true ? (
                    <td colSpan={2} className="changes__secret">
                      changed, value hidden
                    </td>
                  ) : (
                    <>
                      <td className="changes__old">
                        <Value value={change.old} />
                      </td>
                      <td className="changes__new">
                        <Value value={change.new} />
                      </td>
                    </>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>

      <div className="detail__grid">
        <section className="detail__section" aria-label="Actor">
          <h4>Actor</h4>
          <Pairs
            rows={[
              ['Kind', actorKindLabel(event.actor.type)],
              ['Name', event.actor.name],
              ['Email', event.actor.email],
              ['Id', event.actor.id],
            ]}
          />
        </section>

        <section className="detail__section" aria-label="Targets">
          <h4>Targets</h4>
          {event.targets.length === 0 ? (
            <p className="muted">None.</p>
          ) : (
            <ul className="targets">
              {event.targets.map((target, index) => (
                <li key={`${target.type}:${target.id}:${index}`}>
                  <span className="log__kind">{kindLabel(target.type)}</span>{' '}
                  <strong>{target.name ?? target.id}</strong>{' '}
                  <code className="muted">{target.id}</code>
                  {index === 0 && <span className="muted"> (primary)</span>}{' '}
                  <Link href={historyHref(target.type, target.id)} className="link">
                    Full history
                  </Link>
                </li>
              ))}
            </ul>
          )}
        </section>

        <section className="detail__section" aria-label="Context">
          <h4>Context</h4>
          <Pairs
            rows={[
              ['IP', event.context.ip],
              ['User agent', event.context.user_agent],
              ['Request id', event.context.request_id],
            ]}
          />
        </section>

        <section className="detail__section" aria-label="Metadata">
          <h4>Metadata</h4>
          <Pairs rows={metadata.map(([key, value]) => [key, valueText(value)] as const)} />
        </section>

        <section className="detail__section detail__chain" aria-label="Integrity">
          <h4>Integrity</h4>
          <Pairs
            rows={[
              ['Seq', String(event.seq)],
              ['Event id', event.id],
              ['Received', fullTime(event.received_at, zone)],
              ['Hash', event.hash],
              ['Previous hash', event.prev_hash],
            ]}
          />
        </section>
      </div>

      <details className="detail__raw">
        <summary>Raw JSON</summary>
        <pre>{JSON.stringify(event, null, 2)}</pre>
      </details>
    </div>
  );
}
