/**
 * Retention on the command line (docs/integrity.md, "Retention and legal hold"):
 * `trailkeep prune --workspace W [--dry-run]` runs the pruning now under the stored policy;
 * `trailkeep retention show|set|off` and `trailkeep hold list|create|release` manage the policy
 * and the legal holds. Every change is recorded in the workspace's log with the CLI as actor.
 */
import type { Command } from 'commander';
import { RetentionService } from '../../service/retention.js';
import { cliActor, SelfAudit } from '../../service/self-audit.js';
import type { PruneResult } from '../../store/store.js';
import { positiveInt, printJson, withDb, withServices } from '../context.js';

interface WorkspaceOptions {
  db: string;
  workspace: string;
  json?: boolean;
}

const CLI = { actor: cliActor() };

function withRetention<T>(
  options: WorkspaceOptions,
  work: (retention: RetentionService) => Promise<T>,
): Promise<T> {
  return withServices(options.db, ({ store, log }) =>
    work(new RetentionService(store, new SelfAudit(log))),
  );
}

function ranges(result: PruneResult): string {
  return result.ranges.map(([from, to]) => (from === to ? `${from}` : `${from}..${to}`)).join(', ');
}

function pruneSummary(workspace: string, r: PruneResult): string {
  const verb = r.dry_run ? 'would prune' : 'pruned';
  const what = r.count === 0 ? 'no event bodies' : `${r.count} event bodies (seq ${ranges(r)})`;
  const held = r.held > 0 ? `; ${r.held} kept by legal holds ${r.holds.join(', ')}` : '';
  return `${workspace}: ${verb} ${what} received before ${r.cutoff} (policy ${r.policy_days} days)${held}`;
}

function output(options: { json?: boolean }, value: unknown, line: string): void {
  if (options.json) printJson(value);
  else process.stdout.write(`${line}\n`);
}

export function register(program: Command): void {
  withDb(program.command('prune'))
    .description(
      "remove the bodies of events older than the workspace's retention policy now, keeping their hashes (audited)",
    )
    .requiredOption('--workspace <id>', 'the workspace')
    .option('--dry-run', 'only say what would be pruned')
    .option('--json', 'machine-readable report')
    .action(async (options: WorkspaceOptions & { dryRun?: boolean }) => {
      const result = await withRetention(options, (r) =>
        r.prune(options.workspace, CLI, { dryRun: options.dryRun === true }),
      );
      output(options, result, pruneSummary(options.workspace, result));
    });

  const retention = program
    .command('retention')
    .description("a workspace's retention policy (off by default)");
  withDb(retention.command('show'))
    .requiredOption('--workspace <id>', 'the workspace')
    .option('--json', 'machine-readable report')
    .action(async (options: WorkspaceOptions) => {
      const policy = (await withRetention(options, (r) => r.policy(options.workspace))) ?? null;
      output(
        options,
        { policy },
        policy === null
          ? `${options.workspace}: retention off (nothing is ever pruned)`
          : `${options.workspace}: event bodies are pruned ${policy.days} days after they were received (set ${policy.set_at})`,
      );
    });
  withDb(retention.command('set'))
    .requiredOption('--workspace <id>', 'the workspace')
    .requiredOption('--days <n>', 'keep event bodies this many days', positiveInt('--days'))
    .option('--json', 'machine-readable report')
    .action(async (options: WorkspaceOptions & { days: number }) => {
      const policy = await withRetention(options, (r) =>
        r.setPolicy(options.workspace, CLI, options.days),
      );
      output(options, { policy }, `${options.workspace}: retention set to ${options.days} days`);
    });
  withDb(retention.command('off'))
    .requiredOption('--workspace <id>', 'the workspace')
    .option('--json', 'machine-readable report')
    .action(async (options: WorkspaceOptions) => {
      await withRetention(options, (r) => r.setPolicy(options.workspace, CLI, null));
      output(options, { policy: null }, `${options.workspace}: retention off`);
    });

  const hold = program
    .command('hold')
    .description('legal holds: they stop pruning of what they cover');
  withDb(hold.command('list'))
    .requiredOption('--workspace <id>', 'the workspace')
    .option('--json', 'machine-readable report')
    .action(async (options: WorkspaceOptions) => {
      const holds = await withRetention(options, (r) => r.holds(options.workspace));
      const lines = holds.map(
        (h) =>
          `${h.id}  ${h.target_id === null ? 'whole workspace' : `target ${h.target_id}`}  ` +
          `${h.released_at === null ? 'open' : `released ${h.released_at}`}  ${h.reason}`,
      );
      output(options, { holds }, lines.length === 0 ? 'no legal holds' : lines.join('\n'));
    });
  withDb(hold.command('create'))
    .requiredOption('--workspace <id>', 'the workspace')
    .option(
      '--target <id>',
      'hold only events naming this target id (default: the whole workspace)',
    )
    .requiredOption('--reason <text>', 'why (recorded in the log)')
    .option('--json', 'machine-readable report')
    .action(async (options: WorkspaceOptions & { target?: string; reason: string }) => {
      const created = await withRetention(options, (r) =>
        r.createHold(options.workspace, CLI, {
          ...(options.target === undefined ? {} : { target_id: options.target }),
          reason: options.reason,
        }),
      );
      output(options, created, `${options.workspace}: legal hold ${created.id} placed`);
    });
  withDb(hold.command('release'))
    .requiredOption('--workspace <id>', 'the workspace')
    .requiredOption('--id <hold>', 'the hold')
    .requiredOption('--reason <text>', 'why (recorded in the log)')
    .option('--json', 'machine-readable report')
    .action(async (options: WorkspaceOptions & { id: string; reason: string }) => {
      const released = await withRetention(options, (r) =>
        r.releaseHold(options.workspace, CLI, options.id, options.reason),
      );
      output(options, released, `${options.workspace}: legal hold ${released.id} released`);
    });
}
