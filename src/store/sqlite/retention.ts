/**
 * SQLite's retention policy, legal holds and pruning (docs/integrity.md, "Retention and legal
 * hold"). SQLite has no privileges, so the one way an events row goes is the guarded path of
 * `pruneWorkspace`: inside its IMMEDIATE transaction it lifts exactly the guards it needs
 * (PRUNE_LIFTS), writes the tombstones, and puts the guards back before committing, as reindex
 * does. Any other UPDATE or DELETE of the log is refused by the triggers.
 */
import { TrailkeepError } from '../../core/errors.js';
import type { HashedBody } from '../../core/chain.js';
import { bodyTargetIds, PrunePlanner } from '../../core/retention.js';
import type {
  LegalHold,
  NewLegalHold,
  PruneRequest,
  PruneResult,
  PruneRun,
  RetentionPolicy,
} from '../store.js';
import { FacetTally, readHead, type ActorKeys } from './append.js';
import type { SqliteContext } from './context.js';
import { BATCH_SIZE } from './read.js';
import { PRUNE_LIFTS } from './schema.js';
import { RUN_COLUMNS, runOf, type RunRow } from '../prune-runs.js';

export function retention(context: SqliteContext, workspace: string): RetentionPolicy | undefined {
  const ws = context.requireWorkspaceKey(workspace);
  return context
    .statement('SELECT days, set_at, set_by FROM retention_policies WHERE ws = ?')
    .get(ws) as RetentionPolicy | undefined;
}

export function setRetention(
  context: SqliteContext,
  workspace: string,
  policy: RetentionPolicy | null,
): RetentionPolicy | undefined {
  return context.write(() => {
    const before = retention(context, workspace);
    const ws = context.requireWorkspaceKey(workspace);
    if (policy === null) {
      context.statement('DELETE FROM retention_policies WHERE ws = ?').run(ws);
    } else {
      context
        .statement(
          `INSERT INTO retention_policies (ws, days, set_at, set_by) VALUES (?, ?, ?, ?)
           ON CONFLICT (ws) DO UPDATE SET days = excluded.days, set_at = excluded.set_at,
             set_by = excluded.set_by`,
        )
        .run(ws, policy.days, policy.set_at, policy.set_by);
    }
    return before;
  });
}

const HOLD_SELECT = `SELECT h.id, w.id AS workspace, h.target_id, h.reason, h.created_by,
  h.created_at, h.released_at, h.released_by, h.release_reason
  FROM legal_holds h JOIN workspaces w ON w.wsk = h.ws`;

export function createHold(context: SqliteContext, hold: NewLegalHold): LegalHold {
  const ws = context.requireWorkspaceKey(hold.workspace);
  context
    .statement(
      `INSERT INTO legal_holds (id, ws, target_id, reason, created_by, created_at)
       VALUES (?, ?, ?, ?, ?, ?)`,
    )
    .run(hold.id, ws, hold.target_id, hold.reason, hold.created_by, hold.created_at);
  return { ...hold, released_at: null, released_by: null, release_reason: null };
}

export function releaseHold(
  context: SqliteContext,
  workspace: string,
  id: string,
  release: { at: string; by: string | null; reason: string },
): LegalHold | undefined {
  const ws = context.requireWorkspaceKey(workspace);
  const { changes } = context
    .statement(
      `UPDATE legal_holds SET released_at = ?, released_by = ?, release_reason = ?
       WHERE ws = ? AND id = ? AND released_at IS NULL`,
    )
    .run(release.at, release.by, release.reason, ws, id);
  if (changes === 0) return undefined;
  return context.statement(`${HOLD_SELECT} WHERE h.id = ?`).get(id) as LegalHold;
}

export function listHolds(context: SqliteContext, workspace: string): LegalHold[] {
  const ws = context.requireWorkspaceKey(workspace);
  return context
    .statement(`${HOLD_SELECT} WHERE h.ws = ? ORDER BY h.created_at DESC, h.id DESC`)
    .all(ws) as LegalHold[];
}

export function pruneRuns(context: SqliteContext, workspace: string): PruneRun[] {
  const ws = context.requireWorkspaceKey(workspace);
  return (
    context
      .statement(`SELECT ${RUN_COLUMNS} FROM prune_runs WHERE ws = ? ORDER BY at, run`)
      .all(ws) as RunRow[]
  ).map(runOf);
}

interface CandidateRow {
  eid: number;
  seq: number;
  actor_key: number;
  body: string;
}

/**
 * One pruning run (Store.prune). Reads the events after the last tombstone in seq order, a
 * batch at a time, and lets the planner decide; a dry run stops there.
 */
export function pruneWorkspace(
  context: SqliteContext,
  caches: { actors: ActorKeys },
  workspace: string,
  request: PruneRequest,
): PruneResult {
  const result = context.write(() => {
    const ws = context.requireWorkspaceKey(workspace);
    const policy = retention(context, workspace);
    if (policy === undefined) {
      throw new TrailkeepError(
        'retention_not_set',
        `workspace "${workspace}" has no retention policy; nothing is pruned`,
      );
    }
    if (policy.days !== request.policy_days) {
      throw new TrailkeepError(
        'retention_changed',
        `the retention policy of "${workspace}" is now ${policy.days} days, not the ` +
          `${request.policy_days} this run was planned with; nothing was pruned`,
      );
    }
    const holds = context
      .statement('SELECT id, target_id FROM legal_holds WHERE ws = ? AND released_at IS NULL')
      .all(ws) as { id: string; target_id: string | null }[];
    const planner = new PrunePlanner(request.cutoff, holds, readHead(context, ws).seq);
    const dryRun = request.dryRun === true;
    if (!dryRun)
      for (const { name } of PRUNE_LIFTS) context.db.exec(`DROP TRIGGER IF EXISTS ${name}`);
    const facets = new FacetTally();
    const actors = new Map<number, number>();
    const tombstone = context.statement(
      `INSERT INTO pruned_events (ws, seq, prev_hash, hash, run)
       SELECT ws, seq, prev_hash, hash, ? FROM events WHERE eid = ?`,
    );
    const dropTargets = context.statement('DELETE FROM event_targets WHERE eid = ?');
    const dropEvent = context.statement('DELETE FROM events WHERE eid = ?');
    // Held events stay in place, so the walk starts at the first seq with a body, not after
    // the last tombstone.
    for (let from = 1; !planner.done;) {
      const batch = context
        .statement(
          `SELECT eid, seq, actor_key, body FROM events
           WHERE ws = ? AND seq >= ? ORDER BY seq LIMIT ${BATCH_SIZE}`,
        )
        .all(ws, from) as CandidateRow[];
      for (const row of batch) {
        const body = JSON.parse(row.body) as Record<string, unknown> & HashedBody;
        if (
          !planner.take({
            seq: row.seq,
            received_at: body.received_at,
            target_ids: bodyTargetIds(body),
          })
        ) {
          if (planner.done) break;
          continue;
        }
        if (dryRun) continue;
        tombstone.run(request.run, row.eid);
        dropTargets.run(row.eid);
        dropEvent.run(row.eid);
        facets.addEvent(body);
        actors.set(row.actor_key, (actors.get(row.actor_key) ?? 0) + 1);
      }
      const last = batch.at(-1);
      if (last === undefined || batch.length < BATCH_SIZE) break;
      from = last.seq + 1;
    }
    const run: PruneRun = {
      run: request.run,
      at: request.at,
      cutoff: request.cutoff,
      policy_days: policy.days,
      ranges: planner.ranges,
      count: planner.count,
      holds: planner.holds,
    };
    if (!dryRun) {
      facets.subtract(context, ws);
      removeFromActors(context, actors);
      if (planner.count > 0) {
        context
          .statement(`INSERT INTO prune_runs (ws, ${RUN_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
          .run(
            ws,
            run.run,
            run.at,
            run.cutoff,
            run.policy_days,
            JSON.stringify(run.ranges),
            run.count,
            JSON.stringify(run.holds),
          );
      }
      for (const { sql } of PRUNE_LIFTS) context.db.exec(sql);
    }
    return { ...run, held: planner.held, dry_run: dryRun };
  });
  // Actors rows whose last event went are gone: no cached key may point at one.
  if (result.count > 0 && !result.dry_run) caches.actors.clear();
  return result;
}

/**
 * Takes the pruned events off their actors rows; a row left with none goes, with its entry in
 * the search index, so no name or email outlives the events that carried it.
 */
function removeFromActors(context: SqliteContext, counts: ReadonlyMap<number, number>): void {
  const lower = context.statement(
    'UPDATE actors SET event_count = event_count - ? WHERE akey = ? RETURNING event_count',
  );
  const read = context.statement('SELECT id_lc, name_lc, email_lc FROM actors WHERE akey = ?');
  const unindex = context.statement(
    `INSERT INTO actors_search (actors_search, rowid, id_lc, name_lc, email_lc)
     VALUES ('delete', ?, ?, ?, ?)`,
  );
  const remove = context.statement('DELETE FROM actors WHERE akey = ?');
  for (const [akey, n] of counts) {
    const left = lower.get(n, akey) as { event_count: number } | undefined;
    if (left === undefined || left.event_count > 0) continue;
    if (context.actorIndex) {
      const texts = read.get(akey) as {
        id_lc: string;
        name_lc: string | null;
        email_lc: string | null;
      };
      unindex.run(akey, texts.id_lc, texts.name_lc, texts.email_lc);
    }
    remove.run(akey);
  }
}
