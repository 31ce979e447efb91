/**
 * The filter controls and the query box, both views of one query text: a control rewrites only
 * its own terms, and typing a query moves the controls. The query text is the address's `q`.
 */
import { useId, useState, type FormEvent, type KeyboardEvent } from 'react';
import type { ApiProblem, Facets } from '../api.js';
import { actionLabel, actorKindLabel, kindLabel } from '../format.js';
import { PERIODS, boundDay, dayBound, periodOf, periodSince } from '../query/period.js';
import {
  DEFAULT_QUERY,
  isDefaultQuery,
  readControls,
  readMeta,
  TEXT_CONTROL_KEYS,
  withControl,
  withMeta,
  type ControlKey,
} from '../query/terms.js';
import { timeZoneOf, useDayZone, type ZoneChoice } from '../time-zone.js';
import { zoneName } from '../format.js';
import { QueryError } from './QueryError.js';

export interface FilterBarProps {
  readonly q: string;
  readonly facets: Facets | null;
  /** The server's complaint about `q` (query_invalid), shown at the box. */
  readonly queryError: ApiProblem | null;
  /** Rows of an earlier search are on screen (said beside a query error). */
  readonly keptResults: boolean;
  readonly onQueryChange: (q: string) => void;
}

const MIXED = '\u0000mixed';
const OPERATIONS = ['create', 'read', 'update', 'delete', 'other'] as const;
/** The category of Trailkeep's own events (OWN_CATEGORY on the server). */
const OWN_CATEGORY_ID = 'trailkeep';
const DATE = /^\d{4}-\d{2}-\d{2}$/;

function sameText(a: string | null, b: string): boolean {
  return a !== null && a.toLowerCase() === b.toLowerCase();
}

export function FilterBar({ q, facets, queryError, keptResults, onQueryChange }: FilterBarProps) {
  const [showAllCategories, setShowAllCategories] = useState(false);
  // On narrow screens the controls fold away behind a button (CSS shows them always when wide).
  const [controlsOpen, setControlsOpen] = useState(false);
  const gridId = useId();
  const controls = readControls(q);
  const zone = useDayZone();
  const dayLabel = zone === 'utc' ? 'UTC day' : `day, ${zoneName(timeZoneOf(zone))}`;
  const set = (key: ControlKey, value: string | boolean | null) =>
    onQueryChange(withControl(q, key, value));
  // Trailkeep's chip asks for its events, so it also stops hiding them.
  const pickCategory = (id: string) =>
    onQueryChange(
      withControl(
        id.toLowerCase() === OWN_CATEGORY_ID ? withControl(q, 'hide_own', false) : q,
        'category',
        id,
      ),
    );
  const { values, mixed } = controls;
  const meta = readMeta(q);

  const catalog =
    facets === null
      ? []
      : facets.catalog.length > 0
        ? facets.catalog
        : facets.categories.map((c) => ({ id: c.value, label: c.label ?? c.value }));
  const categoryCount = new Map(facets?.categories.map((c) => [c.value.toLowerCase(), c.count]));
  const categoryIds = new Set(catalog.map((c) => c.id.toLowerCase()));
  // Categories with no events yet wait behind "more", so the chips show what this log holds.
  const used = catalog.filter(
    (c) => (categoryCount.get(c.id.toLowerCase()) ?? 0) > 0 || sameText(values.category, c.id),
  );
  const unused = catalog.length - used.length;
  const chips = showAllCategories ? catalog : used;
  // Every control but the category chips, which show their state themselves.
  const activeControls =
    TEXT_CONTROL_KEYS.filter(
      (key) => key !== 'category' && (values[key] !== null || mixed.has(key)),
    ).length +
    (controls.hideSystem ? 1 : 0) +
    (meta !== null ? 1 : 0);

  return (
    <section className="filters" aria-label="Filters">
      <div className="chips" role="group" aria-label="Category">
        <button
          type="button"
          className="chip"
          aria-pressed={values.category === null && !mixed.has('category')}
          onClick={() => set('category', null)}
        >
          All
        </button>
        {chips.map((category) => (
          <button
            type="button"
            key={category.id}
            className="chip"
            aria-pressed={sameText(values.category, category.id)}
            onClick={() => pickCategory(category.id)}
          >
            {category.label}
            {categoryCount.has(category.id.toLowerCase()) && (
              <span className="chip__count">
                {categoryCount.get(category.id.toLowerCase())?.toLocaleString('en-US')}
              </span>
            )}
          </button>
        ))}
        {values.category !== null && !categoryIds.has(values.category.toLowerCase()) && (
          <button
            type="button"
            className="chip"
            aria-pressed={true}
            onClick={() => set('category', null)}
          >
            {values.category}
          </button>
        )}
        {unused > 0 && (
          <button
            type="button"
            className="chip chip--more"
            aria-expanded={showAllCategories}
            onClick={() => setShowAllCategories((shown) => !shown)}
          >
            {showAllCategories ? 'Fewer categories' : `${unused} more without events`}
          </button>
        )}
      </div>

      <button
        type="button"
        className="button filters__fold"
        aria-expanded={controlsOpen}
        aria-controls={gridId}
        onClick={() => setControlsOpen((open) => !open)}
      >
        {controlsOpen ? 'Hide filters' : 'More filters'}
        {activeControls > 0 && <span className="filters__active">{activeControls} active</span>}
      </button>
      <div id={gridId} className={`filter-grid${controlsOpen ? ' filter-grid--open' : ''}`}>
        <TextFilter
          label="Actor"
          hint="email, name or id"
          value={values.actor}
          mixed={mixed.has('actor')}
          suggestions={(facets?.actors ?? []).map((actor) => ({
            value: actor.email ?? actor.name ?? actor.id,
            label: `${actor.name ?? actor.id} · ${actorKindLabel(actor.type)}`,
          }))}
          onCommit={(value) => set('actor', value)}
        />
        <SelectFilter
          label="Action"
          anyLabel="All actions"
          value={values.action}
          mixed={mixed.has('action')}
          options={(facets?.actions ?? []).map((a) => ({
            value: a.value,
            label: `${actionLabel(a.value)} (${a.value})`,
          }))}
          onChange={(value) => set('action', value)}
        />
        <SelectFilter
          label="Target kind"
          anyLabel="All kinds"
          value={values.target_type}
          mixed={mixed.has('target_type')}
          options={(facets?.target_types ?? []).map((t) => ({
            value: t.value,
            label: kindLabel(t.value),
          }))}
          onChange={(value) => set('target_type', value)}
        />
        <TextFilter
          label="Target id"
          hint="exact id"
          value={values.target_id}
          mixed={mixed.has('target_id')}
          suggestions={[]}
          onCommit={(value) => set('target_id', value)}
        />
        <TextFilter
          label="Target name"
          hint="exact name"
          value={values.target}
          mixed={mixed.has('target')}
          suggestions={[]}
          onCommit={(value) => set('target', value)}
        />
        <SelectFilter
          label="Operation"
          anyLabel="All operations"
          value={values.operation}
          mixed={mixed.has('operation')}
          options={OPERATIONS.map((operation) => ({
            value: operation,
            label: operation.charAt(0).toUpperCase() + operation.slice(1),
          }))}
          onChange={(value) => set('operation', value)}
        />
        <MetaFilter meta={meta} onChange={(next) => onQueryChange(withMeta(q, next))} />
        <PeriodFilter
          since={values.since}
          until={values.until}
          zone={zone}
          onChange={(since) =>
            onQueryChange(withControl(withControl(q, 'until', null), 'since', since))
          }
        />
        <DateFilter
          label={`Since (${dayLabel})`}
          value={values.since}
          mixed={mixed.has('since')}
          zone={zone}
          onChange={(day) => set('since', day === null ? null : dayBound(day, 'since', zone))}
        />
        <DateFilter
          label={`Until (${dayLabel})`}
          value={values.until}
          mixed={mixed.has('until')}
          zone={zone}
          onChange={(day) => set('until', day === null ? null : dayBound(day, 'until', zone))}
        />
        <label className="toggle">
          <input
            type="checkbox"
            checked={controls.hideSystem}
            onChange={(event) => set('hide_system', event.target.checked)}
          />
          <span>Hide system events</span>
        </label>
        <label className="toggle">
          <input
            type="checkbox"
            checked={controls.hideOwn}
            onChange={(event) => set('hide_own', event.target.checked)}
          />
          <span>Hide Trailkeep&rsquo;s own events (sign-ins, views, exports)</span>
        </label>
      </div>

      <QueryBox
        key={q}
        q={q}
        error={queryError}
        keptResults={keptResults}
        onSubmit={onQueryChange}
      />
    </section>
  );
}

interface QueryBoxProps {
  readonly q: string;
  readonly error: ApiProblem | null;
  readonly keptResults: boolean;
  readonly onSubmit: (q: string) => void;
}

function QueryBox({ q, error, keptResults, onSubmit }: QueryBoxProps) {
  const [draft, setDraft] = useState(q);
  const id = useId();
  const submit = (event: FormEvent) => {
    event.preventDefault();
    onSubmit(draft.trim());
  };
  return (
    <form className="query" role="search" onSubmit={submit}>
      <label className="query__label" htmlFor={`${id}-q`}>
        Search with the query language
      </label>
      <div className="query__row">
        <input
          id={`${id}-q`}
          className="query__input"
          type="search"
          name="q"
          spellCheck={false}
          autoComplete="off"
          placeholder="e.g. actor:alex@ category:integrations since:2026-05-01 -is:system"
          value={draft}
          aria-invalid={error !== null}
          aria-describedby={error !== null ? `${id}-error` : `${id}-help`}
          onChange={(event) => setDraft(event.target.value)}
        />
        <button type="submit" className="button button--primary">
          Search
        </button>
        {!isDefaultQuery(q) && (
          <button
            type="button"
            className="button button--quiet"
            onClick={() => onSubmit(DEFAULT_QUERY)}
          >
            Clear filters
          </button>
        )}
      </div>
      {error !== null && (
        <QueryError id={`${id}-error`} q={q} problem={error} keptResults={keptResults} />
      )}
      <details className="query__help" id={`${id}-help`}>
        <summary>Query language</summary>
        <p>
          Terms are separated by spaces; <code>key:value</code>, quote values with spaces (
          <code>actor:&quot;Alex Kim&quot;</code>); a leading <code>-</code> negates a term; the
          same key twice means OR; a bare word searches actions, actors and targets.
        </p>
        <p>
          Keys: <code>action</code> (glob <code>job.*</code>), <code>category</code>,{' '}
          <code>actor</code>, <code>actor_type</code>, <code>username</code>, <code>email</code>,{' '}
          <code>target_type</code>, <code>target_id</code>, <code>target</code>, <code>ip</code>{' '}
          (address or CIDR), <code>outcome</code>, <code>operation</code>, <code>id</code> (one
          event), <code>request_id</code> (every event of one request), <code>since</code>,{' '}
          <code>until</code> (<code>YYYY-MM-DD</code> or ISO time), <code>is:system</code>,{' '}
          <code>meta.KEY</code>.
        </p>
        <p>
          Aliases: <code>resource_type</code> = <code>target_type</code>, <code>resource_id</code> ={' '}
          <code>target_id</code>, <code>resource_target</code> = <code>target</code>,{' '}
          <code>crud</code> = <code>operation</code>, <code>date_from</code> = <code>since</code>,{' '}
          <code>date_to</code> = <code>until</code>, <code>build_reason</code> ={' '}
          <code>meta.build_reason</code>.
        </p>
      </details>
    </form>
  );
}

interface TextFilterProps {
  readonly label: string;
  readonly hint: string;
  readonly value: string | null;
  readonly mixed: boolean;
  readonly suggestions: readonly { readonly value: string; readonly label: string }[];
  readonly onCommit: (value: string) => void;
}

/** A text filter that applies on Enter, on leaving the field, or on picking a suggestion. */
function TextFilter({ label, hint, value, mixed, suggestions, onCommit }: TextFilterProps) {
  const id = useId();
  const current = value ?? '';
  const [draft, setDraft] = useState(current);
  const [seen, setSeen] = useState(current);
  if (seen !== current) {
    // The query changed elsewhere (query box, back button): show what it says now.
    setSeen(current);
    setDraft(current);
  }
  const commit = (next: string) => {
    if (next.trim() !== current) onCommit(next.trim());
  };
  const onKeyDown = (event: KeyboardEvent<HTMLInputElement>) => {
    if (event.key === 'Enter') {
      event.preventDefault();
      commit(draft);
    }
  };
  return (
    <label className="field">
      <span className="field__label">{label}</span>
      <input
        type="text"
        value={draft}
        spellCheck={false}
        autoComplete="off"
        placeholder={mixed ? 'several (see query)' : hint}
        list={suggestions.length > 0 ? `${id}-list` : undefined}
        onChange={(event) => {
          setDraft(event.target.value);
          const native = event.nativeEvent;
          // Picking from the suggestion list is a choice, not typing: apply it at once.
          const picked =
            !(native instanceof InputEvent) || native.inputType === 'insertReplacementText';
          if (picked && suggestions.some((s) => s.value === event.target.value)) {
            commit(event.target.value);
          }
        }}
        onBlur={() => commit(draft)}
        onKeyDown={onKeyDown}
      />
      {suggestions.length > 0 && (
        <datalist id={`${id}-list`}>
          {suggestions.map((s) => (
            <option key={s.value} value={s.value} label={s.label} />
          ))}
        </datalist>
      )}
    </label>
  );
}

interface SelectFilterProps {
  readonly label: string;
  readonly anyLabel: string;
  readonly value: string | null;
  readonly mixed: boolean;
  readonly options: readonly { readonly value: string; readonly label: string }[];
  readonly onChange: (value: string | null) => void;
}

function SelectFilter({ label, anyLabel, value, mixed, options, onChange }: SelectFilterProps) {
  const match = value === null ? undefined : options.find((o) => sameText(value, o.value));
  const selected = mixed ? MIXED : value === null ? '' : (match?.value ?? value);
  return (
    <label className="field">
      <span className="field__label">{label}</span>
      <select
        value={selected}
        onChange={(event) => onChange(event.target.value === '' ? null : event.target.value)}
      >
        <option value="">{anyLabel}</option>
        {mixed && (
          <option value={MIXED} disabled>
            Several (see query)
          </option>
        )}
        {value !== null && match === undefined && <option value={value}>{value}</option>}
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
    </label>
  );
}

interface PeriodFilterProps {
  readonly since: string | null;
  readonly until: string | null;
  readonly zone: ZoneChoice;
  readonly onChange: (since: string | null) => void;
}

function PeriodFilter({ since, until, zone, onChange }: PeriodFilterProps) {
  const now = new Date();
  const current = periodOf(since, until, now, zone);
  return (
    <label className="field">
      <span className="field__label">Period</span>
      <select
        value={current}
        onChange={(event) => {
          const period = PERIODS.find((p) => p.id === event.target.value);
          onChange(period === undefined ? null : periodSince(period, now, zone));
        }}
      >
        <option value="any">Any time</option>
        {PERIODS.map((period) => (
          <option key={period.id} value={period.id}>
            {period.label}
          </option>
        ))}
        <option value="custom" disabled>
          Custom range
        </option>
      </select>
    </label>
  );
}

interface DateFilterProps {
  readonly label: string;
  readonly value: string | null;
  readonly mixed: boolean;
  readonly zone: ZoneChoice;
  /** The day picked (YYYY-MM-DD) or null when cleared. */
  readonly onChange: (day: string | null) => void;
}

function DateFilter({ label, value, mixed, zone, onChange }: DateFilterProps) {
  // A full ISO time typed in the query keeps its precision there; the picker shows its day.
  const day = value === null ? '' : boundDay(value, zone);
  return (
    <label className="field field--date">
      <span className="field__label">
        {label}
        {mixed && <span className="field__note"> (several, see query)</span>}
      </span>
      <input
        type="date"
        value={DATE.test(day) ? day : ''}
        onChange={(event) => {
          const next = event.target.value;
          if (next === '' || DATE.test(next)) onChange(next === '' ? null : next);
        }}
      />
    </label>
  );
}

interface MetaFilterProps {
  readonly meta: { key: string; value: string } | 'mixed' | null;
  readonly onChange: (meta: { key: string; value: string } | null) => void;
}

/**
 * One metadata condition (`meta.KEY:value`, e.g. Coder's build_reason): a key and a value,
 * applied on Enter or on leaving the value once both are filled, cleared when both are empty.
 */
function MetaFilter({ meta, onChange }: MetaFilterProps) {
  const current = meta === null || meta === 'mixed' ? { key: '', value: '' } : meta;
  const [draft, setDraft] = useState(current);
  const [seen, setSeen] = useState(current);
  if (seen.key !== current.key || seen.value !== current.value) {
    setSeen(current);
    setDraft(current);
  }
  const commit = () => {
    const key = draft.key.trim();
    const value = draft.value.trim();
    if (key === current.key && value === current.value) return;
    if (key === '' && value === '') onChange(null);
    else if (key !== '' && value !== '') onChange({ key, value });
  };
  const onKeyDown = (event: KeyboardEvent<HTMLInputElement>) => {
    if (event.key === 'Enter') {
      event.preventDefault();
      commit();
    }
  };
  return (
    <fieldset className="field field--meta">
      <legend className="field__label">
        Metadata
        {meta === 'mixed' && <span className="field__note"> (several, see query)</span>}
      </legend>
      <input
        type="text"
        aria-label="Metadata key"
        placeholder="key, e.g. build_reason"
        spellCheck={false}
        autoComplete="off"
        value={draft.key}
        onChange={(event) => setDraft({ ...draft, key: event.target.value })}
        onKeyDown={onKeyDown}
      />
      <input
        type="text"
        aria-label="Metadata value"
        placeholder="exact value"
        spellCheck={false}
        autoComplete="off"
        value={draft.value}
        onChange={(event) => setDraft({ ...draft, value: event.target.value })}
        onBlur={commit}
        onKeyDown={onKeyDown}
      />
    </fieldset>
  );
}
