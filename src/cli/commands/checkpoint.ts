/** `trailkeep checkpoint`: writes a signed statement of a workspace's head to a JSON file. */
import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import {
  printJson,
  withDb,
  withServices,
  withSigningKeys,
  type SigningOptions,
} from '../context.js';

interface CheckpointOptions extends SigningOptions {
  db: string;
  workspace: string;
  out?: string;
  json?: boolean;
}

export function register(program: Command): void {
  withSigningKeys(withDb(program.command('checkpoint')))
    .description('sign the current head of a verified chain; keep the file somewhere safe')
    .requiredOption('--workspace <id>', 'workspace to checkpoint')
    .option('--out <file>', 'where to write it (default trailkeep-checkpoint-WS-SEQ.json)')
    .option('--json', 'print the checkpoint instead of a summary')
    .action(async (options: CheckpointOptions) => {
      const checkpoint = await withServices(
        options.db,
        ({ log }) => log.checkpoint(options.workspace),
        {},
        options,
      );
      const file =
        options.out ?? `trailkeep-checkpoint-${checkpoint.workspace}-${checkpoint.seq}.json`;
      // wx: an auditor's earlier checkpoint is evidence; never overwrite it silently.
      await writeFile(file, `${JSON.stringify(checkpoint, null, 2)}\n`, { flag: 'wx' });
      if (options.json) printJson(checkpoint);
      else
        process.stdout.write(
          `Wrote ${file}: workspace ${checkpoint.workspace} at seq ${checkpoint.seq}, signed by key ${checkpoint.key_id}.\n` +
            `Later: trailkeep verify --checkpoint ${file}\n`,
        );
    });
}
