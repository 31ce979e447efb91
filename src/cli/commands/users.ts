/** `trailkeep users add|set-role|list`: people and their roles in a workspace. */
import type { Command } from 'commander';
import type { Role } from '../../store/store.js';
import { AccountService, isRole } from '../../service/accounts.js';
import { cliActor, SelfAudit } from '../../service/self-audit.js';
import { CliExit, printJson, withDb, withServices } from '../context.js';

interface UsersOptions {
  db: string;
  workspace: string;
  json?: boolean;
}

function role(value: string): Role {
  if (!isRole(value)) {
    throw new CliExit(
      2,
      `trailkeep: --role must be owner, admin, auditor or member, got "${value}"`,
    );
  }
  return value;
}

export function register(program: Command): void {
  const users = program.command('users').description('add people and change their roles');

  withDb(users.command('add'))
    .description('add a person to a workspace (creating the account when new)')
    .requiredOption('--workspace <id>', 'workspace')
    .requiredOption('--email <email>', 'their email, which is also their sign-in name')
    .requiredOption('--role <role>', 'owner, admin, auditor or member', role)
    .option('--name <name>', 'display name')
    .option('--password <password>', 'for a new account; generated and printed when absent')
    .option('--json', 'machine-readable output')
    .action(
      async (
        options: UsersOptions & { email: string; role: Role; name?: string; password?: string },
      ) => {
        await withServices(options.db, async ({ store, log }) => {
          const added = await new AccountService(store).addMember(options.workspace, {
            email: options.email,
            role: options.role,
            name: options.name,
            password: options.password,
          });
          await new SelfAudit(log).memberAdded(
            options.workspace,
            { actor: cliActor() },
            added.membership,
          );
          const m = added.membership;
          if (options.json) {
            printJson({
              user_id: m.user_id,
              email: m.email,
              role: m.role,
              ...(added.generatedPassword === undefined
                ? {}
                : { password: added.generatedPassword }),
            });
            return;
          }
          process.stdout.write(`Added ${m.email} to "${options.workspace}" as ${m.role}.\n`);
          if (added.generatedPassword !== undefined) {
            process.stdout.write(`Their password (shown only now): ${added.generatedPassword}\n`);
          } else if (!added.newAccount) {
            process.stdout.write('They already had an account: their password is unchanged.\n');
          }
        });
      },
    );

  withDb(users.command('set-role'))
    .description("change a member's role")
    .requiredOption('--workspace <id>', 'workspace')
    .requiredOption('--email <email>', 'the member')
    .requiredOption('--role <role>', 'owner, admin, auditor or member', role)
    .option('--json', 'machine-readable output')
    .action(async (options: UsersOptions & { email: string; role: Role }) => {
      await withServices(options.db, async ({ store, log }) => {
        // The operator at the console has the rights of an owner.
        const { before, after } = await new AccountService(store).setRole(
          options.workspace,
          options.email,
          options.role,
          'owner',
        );
        if (before.role !== after.role) {
          await new SelfAudit(log).roleChanged(
            options.workspace,
            { actor: cliActor() },
            after,
            before.role,
          );
        }
        if (options.json)
          printJson({ user_id: after.user_id, email: after.email, role: after.role });
        else
          process.stdout.write(
            `${after.email} is now ${after.role} in "${options.workspace}" (was ${before.role}).\n`,
          );
      });
    });

  withDb(users.command('list'))
    .description("list a workspace's members")
    .requiredOption('--workspace <id>', 'workspace')
    .option('--json', 'machine-readable output')
    .action(async (options: UsersOptions) => {
      await withServices(options.db, async ({ store }) => {
        const members = await new AccountService(store).listMembers(options.workspace);
        if (options.json) {
          printJson({ members: members.map(({ workspace: _ws, ...m }) => m) });
          return;
        }
        for (const m of members)
          process.stdout.write(`${m.role.padEnd(8)}  ${m.email}  ${m.user_id}\n`);
      });
    });
}
