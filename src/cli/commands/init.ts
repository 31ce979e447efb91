/** `trailkeep init`: creates a workspace (and, with --owner, its owner and keys). */
import type { Command } from 'commander';
import { AccountService } from '../../service/accounts.js';
import { withDb, withServices, printJson, CliExit } from '../context.js';

interface InitOptions {
  db: string;
  workspace: string;
  name?: string;
  owner?: string;
  password?: string;
  json?: boolean;
}

const WORKSPACE_ID = /^[a-z0-9][a-z0-9_-]{0,62}$/;

export function register(program: Command): void {
  withDb(program.command('init'))
    .description('create a workspace in the database (creating the database if needed)')
    .requiredOption('--workspace <id>', 'workspace id: lower-case letters, digits, - and _')
    .option('--name <display>', 'display name (defaults to the id)')
    .option(
      '--owner <email>',
      'also create its owner (password generated unless --password) and an ingest, read and admin key',
    )
    .option('--password <password>', "the owner's password (with --owner)")
    .option('--json', 'machine-readable output')
    .action(async (options: InitOptions) => {
      if (!WORKSPACE_ID.test(options.workspace)) {
        throw new CliExit(
          2,
          `trailkeep: workspace id "${options.workspace}" must be 1-63 lower-case letters, digits, - or _`,
        );
      }
      if (options.owner !== undefined) {
        await initWithOwner({ ...options, owner: options.owner });
        return;
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

/** Workspace, owner and three keys in one go: the credentials are printed once, for scripts. */
async function initWithOwner(options: InitOptions & { owner: string }): Promise<void> {
  await withServices(options.db, async ({ store }) => {
    const result = await new AccountService(store).initWorkspace({
      workspace: options.workspace,
      name: options.name,
      ownerEmail: options.owner,
      ownerPassword: options.password,
      keyScopes: ['ingest', 'read', 'admin'],
    });
    const output = {
      workspace: result.workspace.id,
      owner: { email: result.owner.email, password: result.owner.password },
      keys: result.keys,
    };
    if (options.json) {
      printJson(output);
      return;
    }
    process.stdout.write(
      [
        `Created workspace "${output.workspace}". These credentials are shown only once:`,
        `  owner:      ${output.owner.email}`,
        `  password:   ${output.owner.password ?? '(unchanged: the account already existed)'}`,
        `  ingest key: ${output.keys.ingest ?? ''}`,
        `  read key:   ${output.keys.read ?? ''}`,
        `  admin key:  ${output.keys.admin ?? ''}`,
        '',
      ].join('\n'),
    );
  });
}
