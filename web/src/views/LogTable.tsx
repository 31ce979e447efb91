/**
 * The log table: one row per event, newest first, each expandable in place to read it whole.
 * Every value from an event is rendered as React text, never as markup.
 */
import { Fragment, useState, type KeyboardEvent, type MouseEvent } from 'react';
import type { StoredEvent } from '../api.js';
import { actionLabel, actorKindLabel, actorName, kindLabel, shortTime } from '../format.js';
import { timeZoneOf, useZoneChoice } from '../time-zone.js';
import { EventDetail } from './EventDetail.js';
import { TimeHeading, When } from './When.js';

export interface LogTableProps {
  readonly events: readonly StoredEvent[];
  readonly categoryLabel: (id: string) => string;
  readonly historyHref: (type: string, id: string) => string;
  readonly eventHref: (id: string) => string;
  /** Dims the rows while a newer answer is on its way. */
  readonly stale: boolean;
}

function rowKey(event: StoredEvent): string {
  return `${event.seq}:${event.id}`;
}

/** Arrow keys move between the rows' toggles, like a list. */
function moveFocus(event: KeyboardEvent<HTMLButtonElement>) {
  if (event.key !== 'ArrowDown' && event.key !== 'ArrowUp') return;
  const table = event.currentTarget.closest('table');
  if (table === null) return;
  const toggles = Array.from(table.querySelectorAll<HTMLButtonElement>('button.row-toggle'));
  const index = toggles.indexOf(event.currentTarget);
  const next = toggles[index + (event.key === 'ArrowDown' ? 1 : -1)];
  if (next !== undefined) {
    event.preventDefault();
    next.focus();
  }
}

export function LogTable({ events, categoryLabel, historyHref, eventHref, stale }: LogTableProps) {
  const [open, setOpen] = useState<ReadonlySet<string>>(new Set());
  const zone = timeZoneOf(useZoneChoice());
  const toggle = (key: string) =>
    setOpen((previous) => {
      const next = new Set(previous);
      if (next.has(key)) next.delete(key);
      else next.add(key);
      return next;
    });

  return (
    <table className={`log${stale ? ' log--stale' : ''}`} aria-busy={stale}>
      <caption className="visually-hidden">
        Audit events, newest first. Use the buttons in the first column to show an event&apos;s
        details; arrow keys move between rows.
      </caption>
      <thead>
        <tr>
          <th scope="col" className="log__toggle-col">
            <span className="visually-hidden">Details</span>
          </th>
          <th scope="col">
            <TimeHeading />
          </th>
          <th scope="col">Actor</th>
          <th scope="col">Action</th>
          <th scope="col">Target</th>
          <th scope="col">IP</th>
        </tr>
      </thead>
      <tbody>
        {events.map((event) => {
          const key = rowKey(event);
          const expanded = open.has(key);
          const detailId = `event-${event.seq}`;
          const label = actionLabel(event.action);
          const primary = event.targets[0];
          const failed = event.outcome === 'failure';
          const onRowClick = (click: MouseEvent<HTMLTableRowElement>) => {
            // Selecting text or following a link inside the row is not a request to toggle.
            if ((click.target as HTMLElement).closest('a, button') !== null) return;
            if (window.getSelection()?.toString() !== '') return;
            toggle(key);
          };
          return (
            <Fragment key={key}>
              <tr
                className={`log__row${failed ? ' log__row--failed' : ''}${expanded ? ' log__row--open' : ''}`}
                data-seq={event.seq}
                onClick={onRowClick}
              >
                <td className="log__toggle-col">
                  <button
                    type="button"
                    className="row-toggle"
                    aria-expanded={expanded}
                    aria-controls={detailId}
                    aria-label={`${expanded ? 'Hide' : 'Show'} details: ${label} by ${actorName(event.actor)}, ${shortTime(event.occurred_at, zone)}`}
                    onClick={() => toggle(key)}
                    onKeyDown={moveFocus}
                  >
                    <span className="row-toggle__chevron" aria-hidden="true" />
                  </button>
                </td>
                <td className="log__time" data-label="Time">
                  <When iso={event.occurred_at} />
                </td>
                <td className="log__actor" data-label="Actor">
                  <span className={`mark mark--${event.actor.type}`}>
                    {actorKindLabel(event.actor.type)}
                  </span>{' '}
                  <span className="log__actor-name" title={event.actor.email ?? event.actor.id}>
                    {actorName(event.actor)}
                  </span>
                </td>
                <td className="log__action" data-label="Action">
                  <span className="badge" title={event.action}>
                    {label}
                  </span>
                  {failed && (
                    <span className="failed" title="The action failed">
                      Failed
                    </span>
                  )}
                  <span className="log__category">{categoryLabel(event.category)}</span>
                </td>
                <td className="log__target" data-label="Target">
                  {primary === undefined ? (
                    <span className="muted">—</span>
                  ) : (
                    <>
                      <span className="log__kind">{kindLabel(primary.type)}</span>{' '}
                      <span className="log__target-name" title={primary.id}>
                        {primary.name ?? primary.id}
                      </span>
                      {event.targets.length > 1 && (
                        <span className="muted"> +{event.targets.length - 1} more</span>
                      )}
                    </>
                  )}
                </td>
                <td className="log__ip" data-label="IP">
                  {event.context.ip ?? <span className="muted">—</span>}
                </td>
              </tr>
              {expanded && (
                <tr className="log__detail-row">
                  <td colSpan={6} id={detailId}>
                    <EventDetail
                      event={event}
                      categoryLabel={categoryLabel}
                      historyHref={historyHref}
                      eventHref={eventHref(event.id)}
                    />
                  </td>
                </tr>
              )}
            </Fragment>
          );
        })}
      </tbody>
    </table>
  );
}
