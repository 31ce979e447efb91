/**
 * Streamed exports and entity history. An event export yields exactly the rows that the same
 * question shows on screen, in the same order (newest first), pulled from the store in bounded
 * batches: the consumer's pace is the producer's pace, so memory stays flat at any size.
 */
import { applyEvent, type EntityState } from '../core/entity-state.js';
import { TrailkeepError } from '../core/errors.js';
import type { StoredEvent, StoredText } from '../core/event.js';
import {
  CONTENT_TYPES,
  csvRecord,
  ENTITY_COLUMNS,
  EVENT_COLUMNS,
  EXPORT_FORMATS,
  entityRecord,
  entityRow,
  eventCsvRecord,
  eventJsonText,
  exportFileName,
  PROOF_COLUMN,
  withProof,
  type ExportFormat,
} from '../core/export-format.js';
import type { Filter } from '../core/query/filter.js';
import { matchesFilter } from '../core/query/evaluate.js';
import { inParameter, queryError } from '../core/query/query-error.js';
import { unsearchableCharacter } from '../core/query/values.js';
import { eventFromText, streamEvents } from '../store/stored-text.js';
import type { BoundedCount, LogService, QueryRequest, SignedTree } from './log-service.js';

export interface ExportRequest {
  format?: string | undefined;
  type?: string | undefined;
  /** For `type=entities`: the entity kind, e.g. `job`. */
  entityType?: string | undefined;
  q?: string | undefined;
  params?: QueryRequest['params'];
  limit?: number | undefined;
  /** Events only: each row carries its tlog-proof relative to one checkpoint (`checkpoint`). */
  proofs?: boolean | undefined;
}

export interface ExportPlan {
  kind: 'events' | 'entities';
  format: ExportFormat;
  filename: string;
  contentType: string;
  filter: Filter;
  /** true when `limit` cuts the export short (said in a header / on stderr, never silent). */
  truncated: boolean;
  /** The text chunks of the file, produced on demand. */
  chunks(): AsyncIterable<string>;
  /** Rows written so far (final once `chunks` is exhausted). */
  rows(): number;
  /** Rows of the whole question before any `limit`, when the plan already knows (entities). */
  total?: number;
  /** With proofs: the checkpoint every row's proof is relative to. */
  checkpoint?: SignedTree;
}

/** Entity rows are encoded in groups, so a chunk is not one tiny write per row. */
const GROUP = 256;

export function parseFormat(format: string | undefined): ExportFormat {
  const f = (format ?? 'csv').toLowerCase();
  if ((EXPORT_FORMATS as readonly string[]).includes(f)) return f as ExportFormat;
  throw new TrailkeepError(
    'bad_request',
    `Unknown export format "${format}"; use one of ${EXPORT_FORMATS.join(', ')}`,
  );
}

function parseLimit(limit: number | undefined): number | undefined {
  if (limit === undefined) return undefined;
  if (!Number.isInteger(limit) || limit <= 0 || limit >= Number.MAX_SAFE_INTEGER) {
    throw new TrailkeepError(
      'bad_request',
      `limit must be a positive integer below 2^53, got ${limit}`,
    );
  }
  return limit;
}

export async function planExport(
  log: LogService,
  workspace: string,
  request: ExportRequest,
): Promise<ExportPlan> {
  await log.workspace(workspace);
  const format = parseFormat(request.format);
  const kind = (request.type ?? 'events').toLowerCase();
  if (kind === 'entities') {
    if (request.proofs === true) {
      throw new TrailkeepError(
        'bad_request',
        'proofs=true is for event exports: an entity state is not an entry of the log',
      );
    }
    return planEntityExport(log, workspace, request, format);
  }
  if (kind !== 'events') {
    throw new TrailkeepError(
      'bad_request',
      `Unknown export type "${request.type}"; use events or entities`,
    );
  }
  const filter = log.resolveFilter(workspace, { q: request.q, params: request.params });
  const limit = parseLimit(request.limit);
  // Known before the first byte, so the response header can say the export was cut short.
  const truncated =
    limit !== undefined && (await log.store.count(workspace, filter, limit + 1)) > limit;
  // Taken before the first row is read, so that every row stored by then is under it.
  const checkpoint = request.proofs === true ? await log.signedTree(workspace) : undefined;
  const prove =
    checkpoint === undefined
      ? undefined
      : (seq: number): Promise<string | null> =>
          // Appended while the export ran: not in this checkpoint's tree.
          seq > checkpoint.size
            ? Promise.resolve(null)
            : log.inclusionProofAt(workspace, seq, checkpoint);
  let rows = 0;
  const store = log.store;
  async function* batches(): AsyncGenerator<readonly StoredText[]> {
    for await (const batch of store.streamText(workspace, filter, {
      order: 'newest',
      ...(limit === undefined ? {} : { limit }),
    })) {
      rows += batch.length;
      yield batch;
    }
  }
  return {
    kind: 'events',
    format,
    filename: exportFileName(workspace, filter, format),
    contentType: CONTENT_TYPES[format],
    filter,
    truncated,
    chunks: () => eventChunks(format, batches(), prove),
    rows: () => rows,
    ...(checkpoint === undefined ? {} : { checkpoint }),
  };
}

/**
 * The text of an event export, one chunk per stored batch. JSON and NDJSON splice the stored
 * text (see eventJsonText); only CSV parses each body to spread it over columns. The header
 * travels with the first batch, so the first chunk costs the first read: a store that fails
 * there fails before a byte is sent, as a plain error response rather than a cut file.
 */
async function* eventChunks(
  format: ExportFormat,
  batches: AsyncIterable<readonly StoredText[]>,
  prove?: (seq: number) => Promise<string | null>,
): AsyncGenerator<string> {
  const columns = prove === undefined ? EVENT_COLUMNS : [...EVENT_COLUMNS, PROOF_COLUMN];
  let text = format === 'csv' ? '\uFEFF' + csvRecord(columns) : format === 'json' ? '[' : '';
  let first = true;
  for await (const batch of batches) {
    for (const stored of batch) {
      // The JSON formats splice the stored text; a proof needs the seq, so it parses it too.
      const event = format === 'csv' || prove !== undefined ? eventFromText(stored) : undefined;
      let record =
        event !== undefined && format === 'csv' ? eventCsvRecord(event) : eventJsonText(stored);
      if (prove !== undefined) record = withProof(format, record, await prove(event!.seq));
      if (format === 'csv') text += record;
      else if (format === 'ndjson') text += `${record}\n`;
      else {
        text += `${first ? '\n' : ',\n'}${record}`;
        first = false;
      }
    }
    yield text;
    text = '';
  }
  if (format === 'json') text += first ? ']\n' : '\n]\n';
  if (text !== '') yield text;
}

/** The entity kind an entity export asks for, checked like any filter value. */
function entityKind(request: ExportRequest): string {
  const entityType = request.entityType?.trim().toLowerCase();
  if (!entityType) {
    throw new TrailkeepError(
      'bad_request',
      'An entity export needs target_type, e.g. target_type=job',
    );
  }
  const bad = unsearchableCharacter(entityType);
  if (bad !== undefined) {
    const { problem, hint } = bad.rejection;
    throw queryError(problem, inParameter('target_type', request.entityType ?? ''), hint);
  }
  return entityType;
}

/**
 * Entity states are rebuilt in memory before the first byte anyway (they are sorted by their
 * last change), so the plan does it up front: a failure is an error response, and the cut
 * is known for the header like an event export's.
 */
async function planEntityExport(
  log: LogService,
  workspace: string,
  request: ExportRequest,
  format: ExportFormat,
): Promise<ExportPlan> {
  const entityType = entityKind(request);
  const filter = log.resolveFilter(workspace, { q: request.q, params: request.params });
  const limit = parseLimit(request.limit);
  const all = await rebuildEntities(log, workspace, entityType, filter);
  const states = limit === undefined ? all : all.slice(0, limit);
  let rows = 0;
  // eslint-disable-next-line @typescript-eslint/require-await -- in memory already; the plan's chunks are async for event exports
  async function* records(): AsyncGenerator<EntityState> {
    for (const s of states) {
      rows += 1;
      yield s;
    }
  }
  return {
    kind: 'entities',
    format,
    filename: exportFileName(workspace, filter, format, entityType),
    contentType: CONTENT_TYPES[format],
    filter,
    truncated: states.length < all.length,
    total: all.length,
    chunks: () => encodeEntities(format, records()),
    rows: () => rows,
  };
}

/**
 * The latest state of every entity of one kind, as of the end of the filter's range. The
 * filter's other terms choose which entities appear: those with at least one matching event
 * in the range. Newest change first.
 */
export async function rebuildEntities(
  log: LogService,
  workspace: string,
  entityType: string,
  filter: Filter,
): Promise<EntityState[]> {
  const history: Filter = {
    ...(filter.until ? { until: filter.until } : {}),
    clauses: [{ key: 'target_type', negated: false, values: [entityType] }],
  };
  const { until: _until, ...selection } = filter;
  const states = new Map<string, EntityState>();
  const chosen = new Set<string>();
  for await (const event of streamEvents(log.store, workspace, history, { order: 'oldest' })) {
    const matches = matchesFilter(selection, event);
    for (const target of event.targets) {
      if (target.type.toLowerCase() !== entityType) continue;
      const key = `${target.type}\u0000${target.id}`;
      states.set(key, applyEvent(states.get(key), event, target));
      if (matches) chosen.add(key);
    }
  }
  return [...chosen]
    .map((key) => states.get(key))
    .filter((s): s is EntityState => s !== undefined)
    .sort((a, b) =>
      a.updated_at < b.updated_at ? 1 : a.updated_at > b.updated_at ? -1 : b.last_seq - a.last_seq,
    );
}

export async function countExport(
  log: LogService,
  workspace: string,
  request: ExportRequest,
): Promise<BoundedCount> {
  const plan = await planExport(log, workspace, { ...request, limit: undefined });
  if (plan.kind === 'events') return log.count(workspace, plan.filter);
  return { value: plan.total ?? 0, capped: false };
}

async function* encodeEntities(
  format: ExportFormat,
  states: AsyncIterable<EntityState>,
): AsyncGenerator<string> {
  if (format === 'csv') {
    // The BOM makes spreadsheet programs read the file as UTF-8.
    yield '\uFEFF' + csvRecord(ENTITY_COLUMNS);
  } else if (format === 'json') {
    yield '[';
  }
  let group: EntityState[] = [];
  let first = true;
  const flush = (): string => {
    let text: string;
    if (format === 'csv') {
      text = group.map((s) => csvRecord(entityRow(s))).join('');
    } else if (format === 'ndjson') {
      text = group.map((s) => `${JSON.stringify(entityRecord(s))}\n`).join('');
    } else {
      text = group
        .map((s) => `${first ? ((first = false), '\n') : ',\n'}${JSON.stringify(entityRecord(s))}`)
        .join('');
    }
    group = [];
    return text;
  };
  for await (const s of states) {
    group.push(s);
    if (group.length >= GROUP) yield flush();
  }
  if (group.length > 0) yield flush();
  if (format === 'json') yield first ? ']\n' : '\n]\n';
}

export interface EntityHistory {
  entity: { type: string; id: string; name?: string };
  events: Array<{ event: StoredEvent; state: EntityState['state'] }>;
  /** The state at `as_of` (or now); null when the entity did not exist yet. */
  state: EntityState['state'] | null;
  deleted: boolean;
  created_at: string | null;
  updated_at: string | null;
  as_of: string | null;
}

/** Every event that touched the entity, oldest first, each with the state after it. */
export async function entityHistory(
  log: LogService,
  workspace: string,
  type: string,
  id: string,
  asOf?: string,
): Promise<EntityHistory> {
  await log.workspace(workspace);
  let cutoff: string | undefined;
  if (asOf !== undefined) {
    const t = Date.parse(asOf);
    if (Number.isNaN(t) || !/[zZ]|[+-]\d\d:?\d\d$/.test(asOf)) {
      throw new TrailkeepError(
        'bad_request',
        `as_of must be an ISO 8601 time with a zone, got "${asOf}"`,
      );
    }
    cutoff = new Date(t).toISOString();
  }
  const all = await log.store.entityEvents(workspace, type, id);
  if (all.length === 0) {
    throw new TrailkeepError('not_found', `No event in "${workspace}" touched ${type} ${id}`);
  }
  let current: EntityState | undefined;
  const steps: EntityHistory['events'] = [];
  for (const event of all) {
    if (cutoff !== undefined && event.occurred_at > cutoff) break;
    const target = event.targets.find((t) => t.type === type && t.id === id) ?? { type, id };
    current = applyEvent(current, event, target);
    steps.push({ event, state: current.state });
  }
  return {
    entity: { type, id, ...(current?.name === undefined ? {} : { name: current.name }) },
    events: steps,
    state: current ? current.state : null,
    deleted: current?.deleted ?? false,
    created_at: current?.created_at ?? null,
    updated_at: current?.updated_at ?? null,
    as_of: cutoff ?? null,
  };
}
