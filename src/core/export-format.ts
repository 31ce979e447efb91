/**
 * How an event becomes an export row. Pure, so the CSV, JSON and NDJSON exports and their
 * documentation (docs/export.md) stay in step with one column list.
 */
import type { StoredEvent, StoredText } from './event.js';
import type { EntityState } from './entity-state.js';

export const EXPORT_FORMATS = ['csv', 'json', 'ndjson'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export const CONTENT_TYPES: Record<ExportFormat, string> = {
  csv: 'text/csv; charset=utf-8',
  json: 'application/json; charset=utf-8',
  ndjson: 'application/x-ndjson; charset=utf-8',
};

/** CSV columns of an event export, in order; nested values are JSON text in their own column. */
export const EVENT_COLUMNS = [
  'seq',
  'id',
  'occurred_at',
  'received_at',
  'action',
  'category',
  'outcome',
  'operation',
  'actor_type',
  'actor_id',
  'actor_name',
  'actor_email',
  'target_type',
  'target_id',
  'target_name',
  'ip',
  'user_agent',
  'request_id',
  'targets',
  'changes',
  'context',
  'metadata',
  'prev_hash',
  'hash',
] as const;

/** With `proofs=true`: the CSV column and JSON member holding each event's tlog-proof. */
export const PROOF_COLUMN = 'proof';

export const ENTITY_COLUMNS = [
  'type',
  'id',
  'name',
  'deleted',
  'created_at',
  'created_by',
  'updated_at',
  'updated_by',
  'deleted_at',
  'events',
  'last_seq',
  'state',
] as const;

/**
 * Spreadsheets run a cell that starts with one of these as a formula (CSV injection). A leading
 * apostrophe makes them show the text instead; the JSON formats keep the exact value.
 */
const FORMULA_START = /^[=+\-@\t\r\0]/;

export function neutralizeCell(text: string): string {
  return FORMULA_START.test(text) ? `'${text}` : text;
}

/** A field needs quotes when it holds a quote, a comma or a line break (RFC 4180, 2.6). */
const NEEDS_QUOTES = /[",\r\n]/;

/**
 * One RFC 4180 record with its CRLF. Written here rather than through a CSV library because it
 * runs once per exported row and is four lines; the tests parse its output with an independent
 * parser (csv-parse) and compare every field.
 */
export function csvRecord(cells: readonly string[]): string {
  let out = '';
  for (let i = 0; i < cells.length; i += 1) {
    const cell = cells[i] ?? '';
    if (i > 0) out += ',';
    out += NEEDS_QUOTES.test(cell) ? `"${cell.replaceAll('"', '""')}"` : cell;
  }
  return `${out}\r\n`;
}

/** A JSON value as one CSV cell: always holds quotes, so it is always quoted. */
function jsonCell(value: unknown): string {
  return `"${JSON.stringify(value).replaceAll('"', '""')}"`;
}

/** A free-text cell: neutralized (see neutralizeCell), then quoted when it must be. */
function textCell(text: string): string {
  const cell = FORMULA_START.test(text) ? `'${text}` : text;
  return NEEDS_QUOTES.test(cell) ? `"${cell.replaceAll('"', '""')}"` : cell;
}

/**
 * One event as a CSV record (the columns of EVENT_COLUMNS, in order), with its CRLF. Built as
 * one string because it runs once per exported row: cells that are numbers, hex or JSON need
 * neither the formula guard nor the quoting test, which the free-text cells all get.
 */
export function eventCsvRecord(e: StoredEvent): string {
  const primary = e.targets[0];
  const { actor, context } = e;
  return (
    `${e.seq},${textCell(e.id)},${e.occurred_at},${e.received_at},` +
    `${textCell(e.action)},${textCell(e.category)},${e.outcome},${e.operation},` +
    `${actor.type},${textCell(actor.id)},${textCell(actor.name ?? '')},` +
    `${textCell(actor.email ?? '')},${textCell(primary?.type ?? '')},` +
    `${textCell(primary?.id ?? '')},${textCell(primary?.name ?? '')},` +
    `${textCell(context.ip ?? '')},${textCell(context.user_agent ?? '')},` +
    `${textCell(context.request_id ?? '')},${jsonCell(e.targets)},${jsonCell(e.changes)},` +
    `${jsonCell(context)},${jsonCell(e.metadata)},${e.prev_hash},${e.hash}\r\n`
  );
}

/**
 * One stored event as a JSON object text: the stored body exactly as hashed, with its chain
 * hashes added at the end. No parse and no re-encoding, so the line keeps the hashed bytes.
 */
export function eventJsonText(stored: StoredText): string {
  return `${stored.body.slice(0, -1)},"prev_hash":"${stored.prev_hash}","hash":"${stored.hash}"}`;
}

/**
 * An event's CSV record or JSON text with its tlog-proof added last; null (an empty CSV cell)
 * for an event appended after the export's checkpoint, which that checkpoint cannot cover.
 */
export function withProof(format: ExportFormat, record: string, proof: string | null): string {
  if (format === 'csv') {
    const cell = proof === null ? '' : `"${proof.replaceAll('"', '""')}"`;
    return `${record.slice(0, -2)},${cell}\r\n`;
  }
  return `${record.slice(0, -1)},"${PROOF_COLUMN}":${JSON.stringify(proof)}}`;
}

function actorLabel(actor: EntityState['updated_by'] | undefined): string {
  if (!actor) return '';
  return actor.email ?? actor.name ?? `${actor.type}:${actor.id}`;
}

/** An entity state as a JSON record (the JSON and NDJSON entity exports). */
export function entityRecord(s: EntityState): Record<(typeof ENTITY_COLUMNS)[number], unknown> {
  return {
    type: s.type,
    id: s.id,
    name: s.name ?? null,
    deleted: s.deleted,
    created_at: s.created_at ?? null,
    created_by: s.created_by ?? null,
    updated_at: s.updated_at,
    updated_by: s.updated_by,
    deleted_at: s.deleted_at ?? null,
    events: s.events,
    last_seq: s.last_seq,
    state: s.state,
  };
}

export function entityRow(s: EntityState): string[] {
  const cells: Record<(typeof ENTITY_COLUMNS)[number], string> = {
    type: s.type,
    id: s.id,
    name: s.name ?? '',
    deleted: s.deleted ? 'true' : 'false',
    created_at: s.created_at ?? '',
    created_by: actorLabel(s.created_by),
    updated_at: s.updated_at,
    updated_by: actorLabel(s.updated_by),
    deleted_at: s.deleted_at ?? '',
    events: String(s.events),
    last_seq: String(s.last_seq),
    state: JSON.stringify(s.state),
  };
  return ENTITY_COLUMNS.map((c) => neutralizeCell(cells[c]));
}

/** `trailkeep-acme-2026-05-01_2026-05-31.csv`; "all" when the question has no time range. */
export function exportFileName(
  workspace: string,
  range: { since?: string | undefined; until?: string | undefined },
  format: ExportFormat,
  kind = '',
): string {
  const day = (iso: string | undefined): string => (iso ? iso.slice(0, 10) : '');
  // until is exclusive; the last day included is the one before it.
  const lastDay = range.until ? new Date(Date.parse(range.until) - 1).toISOString() : undefined;
  const span =
    range.since || range.until ? `${day(range.since) || 'start'}_${day(lastDay) || 'now'}` : 'all';
  const safe = (text: string): string => text.replace(/[^A-Za-z0-9_-]/g, '_');
  return `trailkeep-${safe(workspace)}${kind ? `-${safe(kind)}` : ''}-${span}.${format}`;
}
