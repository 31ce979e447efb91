/**
 * Times as the table shows them: short, in the chosen zone (with the year when it is not this
 * one), the full instant and how long ago on hover. And the switch between the reader's zone and
 * UTC that sits in the Time header.
 */
import { fullTime, relativeTime, shortTime, zoneName } from '../format.js';
import { readerIsUtc, setZoneChoice, timeZoneOf, useZoneChoice } from '../time-zone.js';

export function When({ iso }: { readonly iso: string }) {
  const zone = timeZoneOf(useZoneChoice());
  return (
    <time dateTime={iso} title={`${fullTime(iso, zone)} · ${relativeTime(iso)}`}>
      {shortTime(iso, zone)}
    </time>
  );
}

/** "Time (Europe/Berlin)" with a button to show UTC instead, or back (none for UTC readers). */
export function TimeHeading() {
  const choice = useZoneChoice();
  const other = choice === 'utc' ? 'local' : 'utc';
  return (
    <span className="time-heading">
      Time <span className="time-heading__zone">({zoneName(timeZoneOf(choice))})</span>{' '}
      {!readerIsUtc() && (
        <button
          type="button"
          className="button button--quiet button--small"
          onClick={() => setZoneChoice(other)}
        >
          {other === 'utc' ? 'Show UTC' : 'Show my time'}
        </button>
      )}
    </span>
  );
}
