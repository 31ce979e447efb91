import { useId } from 'react';
import type { ApiProblem, ExportFormat, ExportSelection, Facets } from '../api.js';
import { countLabel, pluralKindLabel, type Count } from '../format.js';

export interface ExportPanelProps {
  readonly selection: ExportSelection;
  readonly count: Count | null;
  readonly countLoading: boolean;
  readonly countError: ApiProblem | null;
  readonly href: string;
  readonly facets: Facets | null;
  readonly onFormat: (format: ExportFormat) => void;
  readonly onKind: (kind: string | null) => void;
}

const FORMATS: readonly { readonly value: ExportFormat; readonly label: string }[] = [
  { value: 'csv', label: 'CSV' },
  { value: 'json', label: 'JSON' },
  { value: 'ndjson', label: 'NDJSON' },
];

/** Downloads what the filters select, saying beforehand what and how much. */
export function ExportPanel(props: ExportPanelProps) {
  const { selection, count, countLoading, countError, href, facets, onFormat, onKind } = props;
  const id = useId();
  const kinds = facets?.target_types ?? [];
  const noun = selection.entityKind === null ? 'event' : 'record';
  const size =
    countError !== null
      ? `The size could not be counted: ${countError.message}`
      : count === null || countLoading
        ? 'Counting…'
        : `This export holds ${countLabel(count, noun)}.`;
  return (
    <section className="export" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>Export</h2>
      <div className="export__controls">
        <label className="field">
          <span className="field__label">Data</span>
          <select
            value={selection.entityKind ?? ''}
            onChange={(event) => onKind(event.target.value === '' ? null : event.target.value)}
          >
            <option value="">Events</option>
            {kinds.map((kind) => (
              <option key={kind.value} value={kind.value}>
                {pluralKindLabel(kind.value)} (latest state)
              </option>
            ))}
          </select>
        </label>
        <fieldset className="segmented">
          <legend className="field__label">Format</legend>
          {FORMATS.map((format) => (
            <label key={format.value} className="segmented__option">
              <input
                type="radio"
                name={`${id}-format`}
                value={format.value}
                checked={selection.format === format.value}
                onChange={() => onFormat(format.value)}
              />
              <span>{format.label}</span>
            </label>
          ))}
        </fieldset>
      </div>
      <p className="export__filters">
        Filters applied:{' '}
        {selection.q.trim() === '' ? <span>none, the whole log</span> : <code>{selection.q}</code>}
      </p>
      <p className="export__size" aria-live="polite">
        {size}
      </p>
      <a className="button button--primary" href={href} download>
        Download {FORMATS.find((f) => f.value === selection.format)?.label}
      </a>
    </section>
  );
}
