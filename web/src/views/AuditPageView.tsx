/**
 * The audit log page as a pure function of what was fetched: filters, the table with its pager,
 * the export panel and the integrity badge. No fetching here (see pages/AuditPage).
 */
import type {
  ApiProblem,
  EventPage,
  ExportFormat,
  Facets,
  VerifyResult,
  WitnessStatus,
} from '../api.js';
import type { ExportPanelProps } from './ExportPanel.js';
import { countLabel } from '../format.js';
import { DEFAULT_QUERY, isDefaultQuery } from '../query/terms.js';
import { ExportPanel } from './ExportPanel.js';
import { FilterBar } from './FilterBar.js';
import { IntegrityBadge } from './IntegrityBadge.js';
import { LogTable } from './LogTable.js';
import { Pager } from './Pager.js';
import { StatusPanel } from './StatusPanel.js';

export interface AuditPageViewProps {
  readonly workspace: string;
  readonly workspaceName: string;
  readonly q: string;
  /** The last page that loaded (kept while a newer question loads or fails). */
  readonly page: EventPage | null;
  /** Which question `page` answers (`[q, cursor]` as JSON): lets tests and tools wait for it. */
  readonly answers: string | null;
  readonly loading: boolean;
  readonly error: ApiProblem | null;
  readonly facets: Facets | null;
  readonly verify: {
    readonly value: VerifyResult | null;
    readonly loading: boolean;
    readonly error: ApiProblem | null;
  };
  /** The workspace's witnesses, or null while loading (or when they cannot be read). */
  readonly witnesses: readonly WitnessStatus[] | null;
  readonly exportPanel: Omit<ExportPanelProps, 'facets' | 'onFormat' | 'onKind'>;
  readonly checkpointHref: string;
  readonly historyHref: (type: string, id: string) => string;
  readonly eventHref: (id: string) => string;
  readonly onQueryChange: (q: string) => void;
  readonly onPage: (cursor: string) => void;
  readonly onRetry: () => void;
  readonly onReverify: () => void;
  readonly onExportFormat: (format: ExportFormat) => void;
  readonly onExportKind: (kind: string | null) => void;
}

export function AuditPageView(props: AuditPageViewProps) {
  const { q, page, loading, error, facets } = props;
  const queryError = error?.code === 'query_invalid' ? error : null;
  const otherError = error !== null && queryError === null ? error : null;
  const labels = new Map<string, string>();
  for (const c of facets?.catalog ?? []) labels.set(c.id.toLowerCase(), c.label);
  for (const c of facets?.categories ?? []) {
    if (c.label !== undefined) labels.set(c.value.toLowerCase(), c.label);
  }
  const categoryLabel = (id: string) => labels.get(id.toLowerCase()) ?? id;

  return (
    <div className="audit">
      <div className="audit__head">
        <h1>
          Audit log <span className="audit__workspace">{props.workspaceName}</span>
        </h1>
        <IntegrityBadge
          result={props.verify.value}
          loading={props.verify.loading}
          error={props.verify.error}
          witnesses={props.witnesses}
          checkpointHref={props.checkpointHref}
          onReverify={props.onReverify}
        />
      </div>

      <FilterBar
        q={q}
        facets={facets}
        queryError={queryError}
        keptResults={page !== null}
        onQueryChange={props.onQueryChange}
      />

      <section
        className="results"
        aria-labelledby="results-title"
        aria-busy={loading}
        data-answers={props.answers ?? ''}
      >
        <div className="results__bar">
          <h2 id="results-title" className="results__count" aria-live="polite">
            {page?.count === undefined
              ? page === null
                ? 'Events'
                : `${page.events.length} events on this page`
              : countLabel(page.count, 'event')}
            {loading && page !== null && <span className="results__loading"> Updating…</span>}
          </h2>
          {page !== null && page.events.length > 0 && (
            <Pager
              label="Pages, top"
              newer={page.prev_cursor}
              older={page.next_cursor}
              onPage={props.onPage}
            />
          )}
        </div>

        {otherError !== null && (
          <div className="banner banner--error" role="alert">
            <p>
              <strong>{otherError.title}.</strong> {otherError.message}
            </p>
            <div className="banner__actions">
              <button type="button" className="button" onClick={props.onRetry}>
                Try again
              </button>
              {otherError.code === 'cursor_invalid' && (
                <button type="button" className="button" onClick={() => props.onQueryChange(q)}>
                  Start from the newest events
                </button>
              )}
            </div>
          </div>
        )}

        {page === null ? (
          loading ? (
            <StatusPanel kind="loading" title="Loading events…" />
          ) : otherError === null && queryError !== null ? (
            <StatusPanel kind="empty" title="Fix the query above to see events." />
          ) : null
        ) : page.events.length === 0 ? (
          <StatusPanel
            kind="empty"
            title={isDefaultQuery(q) ? 'No events yet' : 'No events match these filters'}
            detail={
              isDefaultQuery(q)
                ? 'Events appear here as soon as your product sends them.'
                : 'Widen the date range, pick another category, or clear the filters.'
            }
            {...(isDefaultQuery(q)
              ? {}
              : {
                  action: {
                    label: 'Clear filters',
                    onClick: () => props.onQueryChange(DEFAULT_QUERY),
                  },
                })}
          />
        ) : (
          <>
            <LogTable
              key={`${page.prev_cursor ?? ''}|${page.next_cursor ?? ''}|${page.events[0]?.seq ?? ''}`}
              events={page.events}
              categoryLabel={categoryLabel}
              historyHref={props.historyHref}
              eventHref={props.eventHref}
              stale={loading}
            />
            <Pager
              label="Pages, bottom"
              newer={page.prev_cursor}
              older={page.next_cursor}
              onPage={props.onPage}
            />
          </>
        )}
      </section>

      <ExportPanel
        {...props.exportPanel}
        facets={facets}
        onFormat={props.onExportFormat}
        onKind={props.onExportKind}
      />
    </div>
  );
}
