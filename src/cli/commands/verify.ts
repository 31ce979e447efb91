/**
 * `trailkeep verify`: exit 0 when every checked chain and the derived rows queries read are
 * intact; 1 naming the first bad seq (or derived row) and what is wrong; 2 on any other error
 * (bad arguments, unreadable checkpoint, no database).
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { VerifyReport } from '../../service/log-service.js';
import { STREAMING_READS } from '../../store/open.js';
import {
  CliExit,
  printJson,
  withDb,
  withServices,
  withSigningKeys,
  type SigningOptions,
} from '../context.js';

interface VerifyOptions extends SigningOptions {
  db: string;
  workspace?: string;
  checkpoint?: string;
  json?: boolean;
}

async function readCheckpoint(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new CliExit(2, `trailkeep: cannot read checkpoint ${path}: ${(error as Error).message}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new CliExit(2, `trailkeep: checkpoint ${path} is not JSON`);
  }
}

export function register(program: Command): void {
  withSigningKeys(withDb(program.command('verify')))
    .description(
      'prove that no stored event was altered, removed, inserted or reordered, and that the rows queries read agree with them',
    )
    .option('--workspace <id>', 'one workspace (default: every workspace)')
    .option('--checkpoint <file>', 'also prove the log still extends this signed checkpoint')
    .option('--json', 'machine-readable report')
    .action(async (options: VerifyOptions) => {
      const checkpoint = options.checkpoint ? await readCheckpoint(options.checkpoint) : undefined;
      if (checkpoint !== undefined && !options.workspace) {
        const ws = (checkpoint as { workspace?: unknown }).workspace;
        if (typeof ws === 'string') options.workspace = ws;
      }
      const reports = await withServices(
        options.db,
        async ({ log, store }) => {
          const ids = options.workspace
            ? [options.workspace]
            : (await store.listWorkspaces()).map((w) => w.id);
          const out: VerifyReport[] = [];
          for (const id of ids) {
            out.push(await log.verify(id, checkpoint === undefined ? {} : { checkpoint }));
          }
          return out;
        },
        STREAMING_READS,
        // Only a checkpoint needs the keys: a plain verify must not create a key file.
        checkpoint === undefined ? undefined : options,
      );
      if (options.json) printJson(options.workspace ? reports[0] : { workspaces: reports });
      else for (const r of reports) process.stdout.write(`${describe(r)}\n`);
      if (reports.some((r) => !r.ok)) process.exitCode = 1;
    });
}

/** One line per workspace; a derived row that disagrees comes with its repair. */
export function describe(r: VerifyReport): string {
  if (!r.ok && r.problem) {
    const { seq, kind, message } = r.problem;
    const at = seq > 0 ? ` at seq ${seq}` : '';
    const repair =
      kind === 'derived_mismatch'
        ? ` (derived rows are rebuilt by: trailkeep reindex --workspace ${r.workspace})`
        : '';
    return `${r.workspace}: BROKEN${at} (${kind}): ${message}${repair}`;
  }
  const cp = r.checkpoint ? `; extends checkpoint at seq ${r.checkpoint.seq}` : '';
  const pruned = (r.pruned ?? [])
    .map(
      (p) =>
        `; seq ${p.from === p.to ? p.from : `${p.from}..${p.to}`} pruned by policy ` +
        `(${p.policy_days} days, run ${p.run} at ${p.pruned_at}), chain checked across its kept hashes`,
    )
    .join('');
  return `${r.workspace}: intact, ${r.checked} events up to seq ${r.head.seq} (head ${r.head.hash.slice(0, 16)}…)${cp}${pruned}`;
}
