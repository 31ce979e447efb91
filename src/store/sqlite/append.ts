/**
 * Writing the log: `append` (idempotent by event id, sealed under the write lock) and
 * `importEvents` (already sealed elsewhere). Both run in one IMMEDIATE transaction that reads
 * the head, inserts the events, their target rows, the actor dimension rows and the facet
 * counters, and commits once; with synchronous=FULL the commit is on disk when it returns.
 */
import { ipKey } from '../../core/ip.js';
import {
  checkContinuation,
  checkDrafts,
  comparableText,
  sealBatch,
  type HashedBody,
  type SealedEvent,
} from '../../core/chain.js';
import { actorIndex, facetValues, targetIndex, type FacetKind } from '../../core/derived.js';
import { TrailkeepError, type Issue } from '../../core/errors.js';
import type { Actor, ChainHead, EventDraft, StoredEvent } from '../../core/event.js';
import { EMPTY_HEAD } from '../../core/event.js';
import type { AppendedEvent } from '../store.js';
import type { SqliteContext } from './context.js';
import { readEventById, toStoredEvent } from './rows.js';

export function readHead(context: SqliteContext, ws: number): ChainHead {
  const row = context
    .statement('SELECT seq, hash FROM events WHERE ws = ? ORDER BY seq DESC LIMIT 1')
    .get(ws) as { seq: number; hash: Buffer } | undefined;
  return row === undefined ? EMPTY_HEAD : { seq: row.seq, hash: row.hash.toString('hex') };
}

/** The first occurrence of an id in a batch: an event already stored, or a draft to seal. */
interface BatchEntry {
  index: number;
  source: EventDraft | StoredEvent;
  stored?: StoredEvent;
  /** Position in the list of drafts still to be sealed. */
  freshIndex?: number;
  /** comparableText(source), computed only when the id comes up again. */
  comparable?: string;
}

function comparableOf(entry: BatchEntry): string {
  entry.comparable ??= comparableText(entry.source);
  return entry.comparable;
}

/** Which of `ids` are already stored in the workspace, in one statement. */
function storedIds(context: SqliteContext, ws: number, ids: readonly string[]): Set<string> {
  const rows = context
    .statement('SELECT id FROM events WHERE ws = ? AND id IN (SELECT value FROM json_each(?))')
    .all(ws, JSON.stringify(ids)) as { id: string }[];
  return new Set(rows.map((row) => row.id));
}

export function appendDrafts(
  context: SqliteContext,
  actors: ActorKeys,
  workspace: string,
  drafts: readonly EventDraft[],
): AppendedEvent[] {
  return actors.inTransaction(context, () => {
    const ws = context.requireWorkspaceKey(workspace);
    checkDrafts(workspace, drafts);

    const conflicts: Issue[] = [];
    const seen = new Map<string, BatchEntry>();
    const fresh: EventDraft[] = [];
    /** For each draft: the entry whose event it returns, and whether it created it. */
    const outcome: { entry: BatchEntry; created: boolean }[] = [];
    const alreadyStored = storedIds(
      context,
      ws,
      drafts.map((d) => d.id),
    );
    drafts.forEach((draft, index) => {
      const earlier = seen.get(draft.id);
      if (earlier !== undefined) {
        if (comparableOf(earlier) !== comparableText(draft)) {
          conflicts.push({
            index,
            path: '$.id',
            message: `event id "${draft.id}" appears at index ${earlier.index} of this batch with different content`,
          });
        }
        outcome.push({ entry: earlier, created: false });
        return;
      }
      const row = alreadyStored.has(draft.id) ? readEventById(context, ws, draft.id) : undefined;
      if (row !== undefined) {
        const stored = toStoredEvent(row);
        const entry: BatchEntry = { index, source: stored, stored };
        if (comparableOf(entry) !== comparableText(draft)) {
          conflicts.push({
            index,
            path: '$.id',
            message: `event id "${draft.id}" is already stored (seq ${stored.seq}) with different content`,
          });
        }
        seen.set(draft.id, entry);
        outcome.push({ entry, created: false });
        return;
      }
      const entry: BatchEntry = { index, source: draft, freshIndex: fresh.length };
      fresh.push(draft);
      seen.set(draft.id, entry);
      outcome.push({ entry, created: true });
    });
    if (conflicts.length > 0) {
      throw new TrailkeepError(
        'event_id_conflict',
        conflicts.length === 1
          ? conflicts[0]!.message
          : `${conflicts.length} events reuse an id with different content`,
        { issues: conflicts },
      );
    }

    const sealed = sealBatch(readHead(context, ws), fresh);
    insertSealed(context, actors, ws, sealed);
    return outcome.map(({ entry, created }) => ({
      event: entry.stored ?? sealed[entry.freshIndex!]!.event,
      created,
    }));
  });
}

export function importSealed(
  context: SqliteContext,
  actors: ActorKeys,
  workspace: string,
  events: readonly StoredEvent[],
): void {
  actors.inTransaction(context, () => {
    const ws = context.requireWorkspaceKey(workspace);
    const previous = readHead(context, ws);
    const sealed = checkContinuation(
      workspace,
      previous,
      events,
      (id) => readEventById(context, ws, id) !== undefined,
    );
    insertSealed(context, actors, ws, sealed);
  });
}

function insertSealed(
  context: SqliteContext,
  actors: ActorKeys,
  ws: number,
  sealed: readonly SealedEvent[],
): void {
  const insertEvent = context.statement(
    `INSERT INTO events (ws, seq, id, occurred_ms, action, category, outcome, operation,
       actor_type, actor_key, ip, prev_hash, hash, body)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const facets = new FacetTally();
  const actorCounts = new Map<number, number>();
  for (const { event, body } of sealed) {
    const occurredMs = Date.parse(event.occurred_at);
    const actorKey = actors.resolve(context, ws, event.actor);
    actorCounts.set(actorKey, (actorCounts.get(actorKey) ?? 0) + 1);
    const key = event.context.ip === undefined ? null : ipKey(event.context.ip);
    const { lastInsertRowid } = insertEvent.run(
      ws,
      event.seq,
      event.id,
      occurredMs,
      event.action,
      event.category,
      event.outcome,
      event.operation,
      event.actor.type,
      actorKey,
      key === null ? null : Buffer.from(key, 'hex'),
      Buffer.from(event.prev_hash, 'hex'),
      Buffer.from(event.hash, 'hex'),
      body,
    );
    insertTargets(context, Number(lastInsertRowid), ws, event);
    facets.addEvent(event);
  }
  facets.write(context, ws);
  const bumpActor = context.statement(
    'UPDATE actors SET event_count = event_count + ? WHERE akey = ?',
  );
  for (const [akey, n] of actorCounts) bumpActor.run(n, akey);
}

/** Writes an event's target rows; returns how many. */
export function insertTargets(
  context: SqliteContext,
  eid: number,
  ws: number,
  event: HashedBody,
): number {
  const insert = context.statement(
    `INSERT INTO event_targets (eid, pos, ws, type, id, name_lc, occurred_ms, seq)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const occurredMs = Date.parse(event.occurred_at);
  const targets = targetIndex(event);
  for (const t of targets) {
    insert.run(eid, t.pos, ws, t.type, t.id, t.name_lc, occurredMs, event.seq);
  }
  return targets.length;
}

/** Facet counts of some events, added to the workspace's counters in one statement each. */
export class FacetTally {
  private readonly counts = new Map<FacetKind, Map<string, number>>();

  /** How many counters the events touch. */
  get size(): number {
    let n = 0;
    for (const values of this.counts.values()) n += values.size;
    return n;
  }

  addEvent(event: HashedBody): void {
    for (const [kind, value] of facetValues(event)) this.add(kind, value);
  }

  write(context: SqliteContext, ws: number): void {
    const bump = context.statement(
      `INSERT INTO facet_counts (ws, kind, value, n) VALUES (?, ?, ?, ?)
       ON CONFLICT (ws, kind, value) DO UPDATE SET n = n + excluded.n`,
    );
    for (const [kind, value, n] of this.entries()) bump.run(ws, kind, value, n);
  }

  private add(kind: FacetKind, value: string): void {
    let values = this.counts.get(kind);
    if (values === undefined) {
      values = new Map();
      this.counts.set(kind, values);
    }
    values.set(value, (values.get(value) ?? 0) + 1);
  }

  private *entries(): Generator<[FacetKind, string, number]> {
    for (const [kind, values] of this.counts) {
      for (const [value, n] of values) yield [kind, value, n];
    }
  }
}

/**
 * The actor dimension: one row per distinct (type, id, name, email) in a workspace. Keys are
 * cached per connection; keys created inside a transaction join the cache only after it
 * commits, so a rolled-back batch never leaves a key that does not exist.
 */
export class ActorKeys {
  private readonly committed = new Map<string, number>();
  private pending = new Map<string, number>();

  /** Forgets every key: after `reindex`, which may move an actor form to another key. */
  clear(): void {
    this.committed.clear();
  }

  inTransaction<T>(context: SqliteContext, work: () => T): T {
    this.pending = new Map();
    try {
      const result = context.write(work);
      for (const [tuple, key] of this.pending) this.committed.set(tuple, key);
      return result;
    } finally {
      this.pending = new Map();
    }
  }

  resolve(context: SqliteContext, ws: number, actor: Actor): number {
    const index = actorIndex(actor);
    const { name, email } = index;
    const tuple = JSON.stringify([ws, actor.type, actor.id, name, email]);
    const known = this.committed.get(tuple) ?? this.pending.get(tuple);
    if (known !== undefined) return known;
    const row = context
      .statement(
        `SELECT akey FROM actors
         WHERE ws = ? AND id = ? AND type = ? AND name IS ? AND email IS ?`,
      )
      .get(ws, actor.id, actor.type, name, email) as { akey: number } | undefined;
    const key =
      row?.akey ??
      (
        context
          .statement(
            `INSERT INTO actors (ws, type, id, name, email, id_lc, name_lc, email_lc)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING akey`,
          )
          .get(
            ws,
            index.type,
            index.id,
            name,
            email,
            index.id_lc,
            index.name_lc,
            index.email_lc,
          ) as { akey: number }
      ).akey;
    this.pending.set(tuple, key);
    return key;
  }
}
