/**
 * `trailkeep copy --from sqlite:... --to postgres://...`: moves every workspace, person, key and
 * event to another database with the chain intact (same hashes; verify passes on the target).
 * Resumable: run it again after an interruption and it continues after the target's head.
 */
import type { Command } from 'commander';
import { copyStore } from '../../store/copy.js';
import { printJson } from '../context.js';
import { createProgress } from '../progress.js';

interface CopyOptions {
  from: string;
  to: string;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('copy')
    .description(
      'copy every workspace with its chain to another database (e.g. SQLite to PostgreSQL)',
    )
    .requiredOption('--from <url>', 'source database (sqlite:PATH or postgres://...)')
    .requiredOption('--to <url>', 'target database')
    .option('--json', 'machine-readable summary')
    .action(async (options: CopyOptions) => {
      const { openStore, STREAMING_READS } = await import('../../store/open.js');
      const from = await openStore(options.from, STREAMING_READS);
      try {
        const to = await openStore(options.to);
        try {
          const progress = createProgress(0, 'copy');
          let totalSet = false;
          const result = await copyStore(from, to, {
            onProgress: (done, total) => {
              if (total !== undefined && !totalSet) {
                progress.setTotal(total);
                totalSet = true;
              }
              progress.update(done);
            },
          });
          progress.stop();
          if (options.json) printJson(result);
          else
            process.stdout.write(
              `Copied ${result.events} events in ${result.workspaces} workspaces. Check the target with: trailkeep verify --db '${options.to}'\n`,
            );
        } finally {
          await to.close();
        }
      } finally {
        await from.close();
      }
    });
}
