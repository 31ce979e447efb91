/**
 * PostgreSQL's retention policy, legal holds and pruning (docs/integrity.md, "Retention and
 * legal hold"). The plan is made here, under the workspace's head lock so no append
 * interleaves; the pruning itself is trailkeep_prune (migration 7), which checks every seq
 * against the policy, the head and the open holds again before it touches a row.
 */
import { TrailkeepError } from '../../core/errors.js';
import { bodyTargetIds, PrunePlanner } from '../../core/retention.js';
import type {
  LegalHold,
  NewLegalHold,
  PruneRequest,
  PruneResult,
  PruneRun,
  RetentionPolicy,
} from '../store.js';
import { RUN_COLUMNS, runOf, type RunRow } from '../prune-runs.js';
import { CHAIN_BATCH } from './chain.js';
import { inTransaction, sqlState, type Pool, type Queryable } from './driver.js';

async function requireWorkspace(db: Queryable, workspace: string): Promise<void> {
  const found = await db.query('SELECT 1 FROM workspaces WHERE id = $1', [workspace]);
  if (found.rows.length === 0) {
    throw new TrailkeepError('workspace_not_found', `workspace "${workspace}" does not exist`);
  }
}

export async function retention(
  db: Queryable,
  workspace: string,
): Promise<RetentionPolicy | undefined> {
  await requireWorkspace(db, workspace);
  const result = await db.query<RetentionPolicy>(
    'SELECT days, set_at, set_by FROM retention_policies WHERE workspace = $1',
    [workspace],
  );
  return result.rows[0];
}

export function setRetention(
  pool: Pool,
  workspace: string,
  policy: RetentionPolicy | null,
): Promise<RetentionPolicy | undefined> {
  return inTransaction(pool, async (tx) => {
    await requireWorkspace(tx, workspace);
    const before = await tx.query<RetentionPolicy>(
      'SELECT days, set_at, set_by FROM retention_policies WHERE workspace = $1 FOR UPDATE',
      [workspace],
    );
    if (policy === null) {
      await tx.query('DELETE FROM retention_policies WHERE workspace = $1', [workspace]);
    } else {
      await tx.query(
        `INSERT INTO retention_policies (workspace, days, set_at, set_by) VALUES ($1, $2, $3, $4)
         ON CONFLICT (workspace) DO UPDATE SET days = excluded.days, set_at = excluded.set_at,
           set_by = excluded.set_by`,
        [workspace, policy.days, policy.set_at, policy.set_by],
      );
    }
    return before.rows[0];
  });
}

const HOLD_COLUMNS = `id, workspace, target_id, reason, created_by, created_at, released_at,
  released_by, release_reason`;

export async function createHold(db: Queryable, hold: NewLegalHold): Promise<LegalHold> {
  await requireWorkspace(db, hold.workspace);
  const result = await db.query<LegalHold>(
    `INSERT INTO legal_holds (workspace, id, target_id, reason, created_by, created_at)
     VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${HOLD_COLUMNS}`,
    [hold.workspace, hold.id, hold.target_id, hold.reason, hold.created_by, hold.created_at],
  );
  return result.rows[0]!;
}

export async function releaseHold(
  db: Queryable,
  workspace: string,
  id: string,
  release: { at: string; by: string | null; reason: string },
): Promise<LegalHold | undefined> {
  await requireWorkspace(db, workspace);
  const result = await db.query<LegalHold>(
    `UPDATE legal_holds SET released_at = $3, released_by = $4, release_reason = $5
      WHERE workspace = $1 AND id = $2 AND released_at IS NULL RETURNING ${HOLD_COLUMNS}`,
    [workspace, id, release.at, release.by, release.reason],
  );
  return result.rows[0];
}

export async function listHolds(db: Queryable, workspace: string): Promise<LegalHold[]> {
  await requireWorkspace(db, workspace);
  const result = await db.query<LegalHold>(
    `SELECT ${HOLD_COLUMNS} FROM legal_holds WHERE workspace = $1
      ORDER BY created_at DESC, id DESC`,
    [workspace],
  );
  return result.rows;
}

export async function pruneRuns(db: Queryable, workspace: string): Promise<PruneRun[]> {
  await requireWorkspace(db, workspace);
  const result = await db.query<RunRow>(
    `SELECT ${RUN_COLUMNS} FROM prune_runs WHERE workspace = $1 ORDER BY at, run`,
    [workspace],
  );
  return result.rows.map(runOf);
}

/** The recorded runs among `runs`, by id. */
export async function runRecords(
  db: Queryable,
  workspace: string,
  runs: readonly string[],
): Promise<Map<string, PruneRun>> {
  const found = new Map<string, PruneRun>();
  if (runs.length === 0) return found;
  const result = await db.query<RunRow>(
    `SELECT ${RUN_COLUMNS} FROM prune_runs WHERE workspace = $1 AND run = ANY ($2::text[])`,
    [workspace, [...new Set(runs)]],
  );
  for (const row of result.rows) found.set(row.run, runOf(row));
  return found;
}

export async function pruneWorkspace(
  pool: Pool,
  workspace: string,
  request: PruneRequest,
): Promise<PruneResult> {
  try {
    return await inTransaction(
      pool,
      async (tx) => {
        const head = await tx.query<{ seq: string }>(
          'SELECT seq FROM workspace_heads WHERE workspace = $1 FOR UPDATE',
          [workspace],
        );
        const headRow = head.rows[0];
        if (headRow === undefined) await requireWorkspace(tx, workspace);
        const policy = await tx.query<{ days: number }>(
          'SELECT days FROM retention_policies WHERE workspace = $1',
          [workspace],
        );
        const days = policy.rows[0]?.days;
        if (days === undefined) {
          throw new TrailkeepError(
            'retention_not_set',
            `workspace "${workspace}" has no retention policy; nothing is pruned`,
          );
        }
        if (days !== request.policy_days) {
          throw new TrailkeepError(
            'retention_changed',
            `the retention policy of "${workspace}" is now ${days} days, not the ` +
              `${request.policy_days} this run was planned with; nothing was pruned`,
          );
        }
        const holds = await tx.query<{ id: string; target_id: string | null }>(
          'SELECT id, target_id FROM legal_holds WHERE workspace = $1 AND released_at IS NULL',
          [workspace],
        );
        const planner = new PrunePlanner(request.cutoff, holds.rows, Number(headRow?.seq ?? 0));
        const seqs: number[] = [];
        for (let from = 1; !planner.done;) {
          const batch = await tx.query<{ seq: string; body: string }>(
            `SELECT seq, body FROM events WHERE workspace = $1 AND seq >= $2
              ORDER BY seq LIMIT ${CHAIN_BATCH}`,
            [workspace, from],
          );
          for (const row of batch.rows) {
            const body = JSON.parse(row.body) as Record<string, unknown>;
            const seq = Number(row.seq);
            if (
              planner.take({ seq, received_at: body.received_at, target_ids: bodyTargetIds(body) })
            ) {
              seqs.push(seq);
            } else if (planner.done) break;
          }
          const last = batch.rows.at(-1);
          if (last === undefined || batch.rows.length < CHAIN_BATCH) break;
          from = Number(last.seq) + 1;
        }
        const dryRun = request.dryRun === true;
        if (!dryRun && seqs.length > 0) {
          await tx.query('SELECT trailkeep_prune($1, $2, $3, $4, $5, $6, $7, $8)', [
            workspace,
            seqs,
            request.run,
            request.at,
            request.cutoff,
            days,
            JSON.stringify(planner.ranges),
            JSON.stringify(planner.holds),
          ]);
        }
        return {
          run: request.run,
          at: request.at,
          cutoff: request.cutoff,
          policy_days: days,
          ranges: planner.ranges,
          count: planner.count,
          holds: planner.holds,
          held: planner.held,
          dry_run: dryRun,
        };
      },
      { durable: true },
    );
  } catch (error) {
    if (sqlState(error) === '42501') {
      throw new TrailkeepError(
        'forbidden',
        `the database refused the pruning run: ${(error as Error).message}`,
        { cause: error },
      );
    }
    throw error;
  }
}
