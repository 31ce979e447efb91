/** `trailkeep init`: creates a workspace (and, with --owner, its owner and keys). */
import type { Command } from 'commander';
import { withDb, withServices, printJson, CliExit } from '../context.js';

interface InitOptions {
  db: string;
  workspace: string;
  name?: string;
  json?: boolean;
}

const WORKSPACE_ID = /^[a-z0-9][a-z0-9_-]{0,62}$/;

export function register(program: Command): void {
  withDb(program.command('init'))
    .description('create a workspace in the database (creating the database if needed)')
    .requiredOption('--workspace <id>', 'workspace id: lower-case letters, digits, - and _')
    .option('--name <display>', 'display name (defaults to the id)')
    .option('--json', 'machine-readable output')
    .action(async (options: InitOptions) => {
      if (!WORKSPACE_ID.test(options.workspace)) {
        throw new CliExit(
          2,
          `trailkeep: workspace id "${options.workspace}" must be 1-63 lower-case letters, digits, - or _`,
        );
      }
      await withServices(options.db, async ({ store }) => {
        const existing = await store.getWorkspace(options.workspace);
        const workspace =
          existing ??
          (await store.createWorkspace({
            id: options.workspace,
            name: options.name ?? options.workspace,
            settings: {},
          }));
        if (options.json) printJson({ workspace: workspace.id, created: !existing });
        else
          process.stdout.write(
            existing
              ? `Workspace "${workspace.id}" already exists.\n`
              : `Created workspace "${workspace.id}".\n`,
          );
      });
    });
}
