/**
 * `trailkeep reindex`: rebuilds every derived row (targets, actors, counters, id lookups, the
 * actor search index) of each workspace from its hashed bodies, one transaction per workspace,
 * then verifies it. The repair for what `trailkeep verify` reports as derived_mismatch. Exit 0
 * when every workspace verifies afterwards; 1 when one does not (its chain is broken: nothing
 * of it was changed); 2 on any other error (PostgreSQL: a role that is not the tables' owner).
 */
import type { Command } from 'commander';
import { isTrailkeepError } from '../../core/errors.js';
import type { VerifyReport } from '../../service/log-service.js';
import type { ReindexResult } from '../../store/store.js';
import { printJson, withDb, withServices } from '../context.js';
import { describe } from './verify.js';

interface ReindexOptions {
  db: string;
  workspace?: string;
  json?: boolean;
}

interface Outcome {
  workspace: string;
  /** Absent when the workspace was refused (its chain does not verify). */
  reindexed?: ReindexResult;
  refused?: string;
  verify?: VerifyReport;
}

export function register(program: Command): void {
  withDb(program.command('reindex'))
    .description(
      'rebuild the derived rows queries read from the hashed events, then verify (the repair for a derived_mismatch)',
    )
    .option('--workspace <id>', 'one workspace (default: every workspace)')
    .option('--json', 'machine-readable report')
    .action(async (options: ReindexOptions) => {
      const outcomes = await withServices(options.db, async ({ log, store }) => {
        const ids = options.workspace
          ? [options.workspace]
          : (await store.listWorkspaces()).map((w) => w.id);
        const out: Outcome[] = [];
        for (const workspace of ids) {
          try {
            const reindexed = await store.reindex(workspace);
            out.push({ workspace, reindexed, verify: await log.verify(workspace) });
          } catch (error) {
            // A broken chain is this workspace's finding; carry on with the others.
            if (!isTrailkeepError(error) || error.code !== 'integrity_broken') throw error;
            out.push({ workspace, refused: error.message });
          }
        }
        return out;
      });
      if (options.json) printJson(options.workspace ? outcomes[0] : { workspaces: outcomes });
      else for (const outcome of outcomes) process.stdout.write(`${summary(outcome)}\n`);
      if (outcomes.some((o) => o.verify?.ok !== true)) process.exitCode = 1;
    });
}

function summary({ workspace, reindexed, refused, verify }: Outcome): string {
  if (reindexed === undefined || verify === undefined) return `${workspace}: ${refused ?? ''}`;
  const rows = Object.entries(reindexed.rows)
    .map(([table, n]) => `${table} ${n}`)
    .join(', ');
  return `${workspace}: rebuilt from ${reindexed.events} events (${rows}). ${describe(verify)}`;
}
