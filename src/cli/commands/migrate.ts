/**
 * `trailkeep migrate`: brings the database schema up to date (also done at every start; safe
 * when several processes run it at once). With PostgreSQL, `--app-role NAME` also creates a
 * least-privilege role for the service that cannot UPDATE or DELETE events.
 */
import type { Command } from 'commander';
import { parseStoreUrl } from '../../store/open.js';
import { CliExit, printJson, withDb } from '../context.js';

interface MigrateOptions {
  db: string;
  appRole?: string;
  appRolePassword?: string;
  json?: boolean;
}

export function register(program: Command): void {
  withDb(program.command('migrate'))
    .description('bring the database schema up to date')
    .option(
      '--app-role <name>',
      'PostgreSQL: create a service role without UPDATE/DELETE on events',
    )
    .option('--app-role-password <password>', 'make that role a login role with this password')
    .option('--json', 'machine-readable output')
    .action(async (options: MigrateOptions) => {
      const location = parseStoreUrl(options.db);
      const { openStore } = await import('../../store/open.js');
      const store = await openStore(options.db);
      await store.close();
      if (options.appRole !== undefined) {
        if (location.engine !== 'postgres') {
          throw new CliExit(2, 'trailkeep: --app-role needs a postgres:// database');
        }
        const { createAppRoleAt } = await import('../../store/postgres/index.js');
        await createAppRoleAt(
          location.url,
          options.appRole,
          options.appRolePassword === undefined ? {} : { password: options.appRolePassword },
        );
      }
      if (options.json)
        printJson({ engine: store.engine, migrated: true, app_role: options.appRole ?? null });
      else
        process.stdout.write(
          `The ${store.engine} schema is up to date.` +
            (options.appRole
              ? ` Role "${options.appRole}" may append and read but never change events.`
              : '') +
            '\n',
        );
    });
}
