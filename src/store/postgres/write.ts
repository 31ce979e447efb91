/**
 * The write path: `append` (seal drafts after the workspace head) and `importEvents` (events
 * sealed elsewhere). Both run in one transaction that first locks the workspace's head row
 * (SELECT ... FOR UPDATE), so any number of processes appending to one workspace take turns on
 * that row alone: seq stays gapless, the chain stays linked, and other workspaces never wait.
 * `synchronous_commit` is forced on for the transaction (`durable`), whatever the server's
 * default, so an acknowledged batch survives a crash of the server.
 */
import { checkContinuation, checkDrafts, sealBatch, type SealedEvent } from '../../core/chain.js';
import { indexedColumns } from '../../core/columns.js';
import { TrailkeepError } from '../../core/errors.js';
import { appendedEvents, planAppend } from '../../core/resend.js';
import type { ChainHead, EventDraft, StoredEvent } from '../../core/event.js';
import type { MerkleFrontier } from '../../core/tlog/merkle.js';
import type { AppendedEvent } from '../store.js';
import type { FrontierCache } from '../tree.js';
import {
  addActors,
  addFacetCounts,
  insertEventIds,
  insertTargets,
  metadataJson,
} from './derived.js';
import { inTransaction, type Pool, type Queryable } from './driver.js';
import type { PartitionKeeper } from './partitions.js';
import { EVENT_COLUMNS, toStoredEvent, type EventRow } from './rows.js';
import { extendTree } from './tree.js';

interface WriteContext {
  pool: Pool;
  partitions: PartitionKeeper;
  frontiers: FrontierCache;
}

/**
 * Runs one write under the workspace's head lock: `seal` seals after the locked head, and the
 * events, their index rows and their tree nodes go in the same transaction. The frontier is kept
 * for the next append only once that transaction has committed.
 */
async function writeSealed<T>(
  ctx: WriteContext,
  workspace: string,
  seal: (tx: Queryable, head: ChainHead) => Promise<{ sealed: readonly SealedEvent[]; result: T }>,
): Promise<T> {
  let frontier: MerkleFrontier | undefined;
  const result = await inTransaction(
    ctx.pool,
    async (tx) => {
      const head = await lockHead(tx, workspace);
      const { sealed, result } = await seal(tx, head);
      if (sealed.length > 0) {
        await insertSealed(tx, workspace, sealed);
        if (!ctx.frontiers.skipTreeWritesForBench)
          frontier = await extendTree(
            tx,
            ctx.frontiers,
            workspace,
            head.seq,
            sealed.map((s) => s.event.hash),
          );
      }
      return result;
    },
    { durable: true },
  );
  if (frontier !== undefined) ctx.frontiers.commit(workspace, frontier);
  return result;
}

export async function appendDrafts(
  ctx: WriteContext,
  workspace: string,
  drafts: readonly EventDraft[],
): Promise<AppendedEvent[]> {
  checkDrafts(workspace, drafts);
  await ctx.partitions.ensureFor(
    ctx.pool,
    drafts.map((d) => d.occurred_at),
  );
  return writeSealed(ctx, workspace, async (tx, head) => {
    if (drafts.length === 0) return { sealed: [], result: [] };
    const stored = await eventsByIds(
      tx,
      workspace,
      drafts.map((d) => d.id),
    );

    const plan = planAppend(drafts, stored);
    const sealed = sealBatch(head, plan.fresh);
    return { sealed, result: appendedEvents(plan, sealed) };
  });
}

export async function importSealedEvents(
  ctx: WriteContext,
  workspace: string,
  events: readonly StoredEvent[],
): Promise<void> {
  if (events.length === 0) {
    await lockHead(ctx.pool, workspace);
    return;
  }
  await ctx.partitions.ensureFor(
    ctx.pool,
    events.map((e) => e.occurred_at).filter((t) => !Number.isNaN(Date.parse(t))),
  );
  await writeSealed(ctx, workspace, async (tx, head) => {
    const stored = await eventsByIds(
      tx,
      workspace,
      events.map((e) => e.id),
    );
    const sealed = checkContinuation(workspace, head, events, (id) => stored.has(id));
    return { sealed, result: undefined };
  });
}

/** Locks the workspace's head row until the transaction ends and returns it. */
async function lockHead(tx: Queryable, workspace: string): Promise<ChainHead> {
  const result = await tx.query<{ seq: string; hash: string }>(
    'SELECT seq, hash FROM workspace_heads WHERE workspace = $1 FOR UPDATE',
    [workspace],
  );
  const row = result.rows[0];
  if (row === undefined) {
    throw new TrailkeepError('workspace_not_found', `no workspace "${workspace}"`);
  }
  return { seq: Number(row.seq), hash: row.hash };
}

async function eventsByIds(
  tx: Queryable,
  workspace: string,
  ids: readonly string[],
): Promise<Map<string, StoredEvent>> {
  const result = await tx.query<EventRow>(
    `SELECT ${EVENT_COLUMNS} FROM event_ids i
       JOIN events e ON e.workspace = i.workspace AND e.occurred_at = i.occurred_at
                    AND e.seq = i.seq
      WHERE i.workspace = $1 AND i.id = ANY($2::text[])`,
    [workspace, [...new Set(ids)]],
  );
  return new Map(result.rows.map((row) => [row.id, toStoredEvent(row)]));
}

/**
 * Hashes are stored as 32 bytes and read back as lower-case hex (driver.ts), so only that form
 * round-trips exactly; sealBatch makes nothing else, and an import of anything else is refused.
 */
const HEX_HASH = /^[0-9a-f]{64}$/;

/** Writes sealed events, their index rows and counters, and moves the head. */
async function insertSealed(
  tx: Queryable,
  workspace: string,
  sealed: readonly SealedEvent[],
): Promise<void> {
  const last = sealed[sealed.length - 1];
  if (last === undefined) return;
  for (const { event } of sealed) {
    if (!HEX_HASH.test(event.prev_hash) || !HEX_HASH.test(event.hash)) {
      throw new TrailkeepError(
        'integrity_broken',
        `event seq ${event.seq} has a hash that is not 64 lower-case hex digits`,
      );
    }
  }
  const cols = sealed.map(({ event }) => indexedColumns(event));
  const events = sealed.map((s) => s.event);
  await insertEventIds(tx, workspace, events);
  await tx.query(
    `INSERT INTO events (workspace, seq, id, occurred_at, action, category, outcome, operation,
                         actor_type, actor_id, actor_name, actor_email, ip_key,
                         prev_hash, hash, body, metadata)
     SELECT $1, seq, id, occurred_at, action, category, outcome, operation, actor_type, actor_id,
            actor_name, actor_email, decode(ip_key, 'hex'), decode(prev_hash, 'hex'),
            decode(hash, 'hex'), body, metadata
       FROM unnest($2::bigint[], $3::text[], $4::timestamptz[], $5::text[], $6::text[],
         $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[],
         $14::text[], $15::text[], $16::text[], $17::jsonb[])
         AS r (seq, id, occurred_at, action, category, outcome, operation, actor_type, actor_id,
               actor_name, actor_email, ip_key, prev_hash, hash, body, metadata)`,
    [
      workspace,
      cols.map((c) => c.seq),
      cols.map((c) => c.id),
      cols.map((c) => c.occurred_at),
      cols.map((c) => c.action),
      cols.map((c) => c.category),
      cols.map((c) => c.outcome),
      cols.map((c) => c.operation),
      cols.map((c) => c.actor_type),
      cols.map((c) => c.actor_id),
      cols.map((c) => c.actor_name),
      cols.map((c) => c.actor_email),
      cols.map((c) => c.ip_key),
      sealed.map((s) => s.event.prev_hash),
      sealed.map((s) => s.event.hash),
      sealed.map((s) => s.body),
      sealed.map((s) => metadataJson(s.event.metadata)),
    ],
  );

  await insertTargets(tx, workspace, events);
  await addFacetCounts(tx, workspace, events);
  await addActors(tx, workspace, events);
  await tx.query('UPDATE workspace_heads SET seq = $2, hash = $3 WHERE workspace = $1', [
    workspace,
    last.event.seq,
    last.event.hash,
  ]);
}
