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
  sealBatch,
  type HashedBody,
  type SealedEvent,
} from '../../core/chain.js';
import { actorIndex, facetValues, targetIndex, type FacetKind } from '../../core/derived.js';
import { appendedEvents, planAppend } from '../../core/resend.js';
import type { Actor, ChainHead, EventDraft, StoredEvent } from '../../core/event.js';
import { EMPTY_HEAD } from '../../core/event.js';
import type { MerkleFrontier } from '../../core/tlog/merkle.js';
import type { AppendedEvent } from '../store.js';
import type { FrontierCache } from '../tree.js';
import type { SqliteContext } from './context.js';
import { readEventById, toStoredEvent } from './rows.js';
import { extendTree } from './tree.js';

export function readHead(context: SqliteContext, ws: number): ChainHead {
  const row = context
    .statement('SELECT seq, hash FROM events WHERE ws = ? ORDER BY seq DESC LIMIT 1')
    .get(ws) as { seq: number; hash: Buffer } | undefined;
  return row === undefined ? EMPTY_HEAD : { seq: row.seq, hash: row.hash.toString('hex') };
}

/** The events among `ids` already stored in the workspace; which ones, in one statement. */
function storedEvents(
  context: SqliteContext,
  ws: number,
  ids: readonly string[],
): Map<string, StoredEvent> {
  const rows = context
    .statement('SELECT id FROM events WHERE ws = ? AND id IN (SELECT value FROM json_each(?))')
    .all(ws, JSON.stringify(ids)) as { id: string }[];
  const stored = new Map<string, StoredEvent>();
  for (const { id } of rows) {
    const row = readEventById(context, ws, id);
    if (row !== undefined) stored.set(id, toStoredEvent(row));
  }
  return stored;
}

/** The per-connection state the write path keeps between transactions. */
export interface WriteCaches {
  readonly actors: ActorKeys;
  readonly frontiers: FrontierCache;
}

export function appendDrafts(
  context: SqliteContext,
  caches: WriteCaches,
  workspace: string,
  drafts: readonly EventDraft[],
): AppendedEvent[] {
  return inWriteTransaction(context, caches, workspace, (ws) => {
    checkDrafts(workspace, drafts);

    const stored = storedEvents(
      context,
      ws,
      drafts.map((d) => d.id),
    );
    const plan = planAppend(drafts, stored);
    const head = readHead(context, ws);
    const sealed = sealBatch(head, plan.fresh);
    return { head, sealed, result: appendedEvents(plan, sealed) };
  });
}

export function importSealed(
  context: SqliteContext,
  caches: WriteCaches,
  workspace: string,
  events: readonly StoredEvent[],
): void {
  inWriteTransaction(context, caches, workspace, (ws) => {
    const head = readHead(context, ws);
    const sealed = checkContinuation(
      workspace,
      head,
      events,
      (id) => readEventById(context, ws, id) !== undefined,
    );
    return { head, sealed, result: undefined };
  });
}

/**
 * One write: `seal` reads the head and seals under the write lock; the events, their index rows
 * and their tree nodes are inserted in the same transaction. The workspace's frontier is kept for
 * the next append only once that transaction has committed.
 */
function inWriteTransaction<T>(
  context: SqliteContext,
  caches: WriteCaches,
  workspace: string,
  seal: (ws: number) => { head: ChainHead; sealed: readonly SealedEvent[]; result: T },
): T {
  try {
    return writeOnce(context, caches, workspace, seal);
  } catch (error) {
    if (!(error instanceof VanishedActor)) throw error;
    // Another process pruned the last events of a cached actor form: its row is gone. The
    // transaction rolled back; look every actor up again.
    caches.actors.clear();
    return writeOnce(context, caches, workspace, seal);
  }
}

/** A cached actors row that no longer exists (see inWriteTransaction). */
class VanishedActor extends Error {}

function writeOnce<T>(
  context: SqliteContext,
  caches: WriteCaches,
  workspace: string,
  seal: (ws: number) => { head: ChainHead; sealed: readonly SealedEvent[]; result: T },
): T {
  let frontier: MerkleFrontier | undefined;
  const result = caches.actors.inTransaction(context, () => {
    const ws = context.requireWorkspaceKey(workspace);
    const { head, sealed, result } = seal(ws);
    insertSealed(context, caches.actors, ws, sealed);
    if (sealed.length > 0 && !caches.frontiers.skipTreeWritesForBench) {
      frontier = extendTree(
        context,
        caches.frontiers,
        workspace,
        ws,
        head.seq,
        sealed.map((s) => s.event.hash),
      );
    }
    return result;
  });
  if (frontier !== undefined) caches.frontiers.commit(workspace, frontier);
  return result;
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
  for (const [akey, n] of actorCounts) {
    if (bumpActor.run(n, akey).changes === 0) throw new VanishedActor(`akey ${akey}`);
  }
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

  /** Takes pruned events off the counters; a counter left at zero goes. */
  subtract(context: SqliteContext, ws: number): void {
    const lower = context.statement(
      'UPDATE facet_counts SET n = n - ? WHERE ws = ? AND kind = ? AND value = ? RETURNING n',
    );
    const remove = context.statement(
      'DELETE FROM facet_counts WHERE ws = ? AND kind = ? AND value = ?',
    );
    for (const [kind, value, n] of this.entries()) {
      const left = lower.get(n, ws, kind, value) as { n: number } | undefined;
      if (left !== undefined && left.n <= 0) remove.run(ws, kind, value);
    }
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
