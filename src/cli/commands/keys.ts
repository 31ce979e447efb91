/**
 * `trailkeep keys create|list|revoke`: API keys of one workspace; `trailkeep keys signing
 * generate|show`: the checkpoint signing key file (see docs/integrity.md, "Keys").
 */
import type { Command } from 'commander';
import { AccountService, isKeyScope } from '../../service/accounts.js';
import { cliActor, SelfAudit } from '../../service/self-audit.js';
import {
  DEFAULT_KEY_NAME,
  SIGNING_KEY_ENV,
  defaultKeyFile,
  newKeyFileText,
  parseKeyText,
  readKeyFile,
  writeKeyFile,
} from '../../service/signing-keys.js';
import { CliExit, DEFAULT_DB, printJson, withDb, withServices } from '../context.js';

interface KeysOptions {
  db: string;
  workspace: string;
  json?: boolean;
}

function scope(value: string): 'ingest' | 'read' | 'admin' {
  if (!isKeyScope(value)) {
    throw new CliExit(2, `trailkeep: --scope must be ingest, read or admin, got "${value}"`);
  }
  return value;
}

function registerSigning(keys: Command): void {
  const signing = keys
    .command('signing')
    .description('the checkpoint signing key, kept outside the database');
  signing
    .command('generate')
    .description('a new signer key file (mode 0600); its verifier key goes to stderr')
    .option('--name <name>', 'key name: the public host name', DEFAULT_KEY_NAME)
    .option('--out <file>', 'write it here (never over an existing file) instead of stdout')
    .action(async (options: { name: string; out?: string }) => {
      const text = newKeyFileText(options.name);
      const { verifierKey } = parseKeyText(text, 'new key');
      if (options.out === undefined) process.stdout.write(text);
      else await writeKeyFile(options.out, text);
      process.stderr.write(`Verifier key: ${verifierKey}\n`);
    });
  signing
    .command('show')
    .description('print the verifier keys (current first, then retired), one a line')
    .option(
      '--signing-key-file <file>',
      `key file (default: env ${SIGNING_KEY_ENV}, else beside the data directory of --db)`,
    )
    .option(
      '--db <url>',
      'whose default key file to read (env TRAILKEEP_DB)',
      process.env['TRAILKEEP_DB'] || DEFAULT_DB,
    )
    .action(async (options: { signingKeyFile?: string; db: string }) => {
      const env = process.env[SIGNING_KEY_ENV];
      const [text, where] =
        options.signingKeyFile !== undefined
          ? [await readKeyFile(options.signingKeyFile), options.signingKeyFile]
          : env !== undefined && env.trim() !== ''
            ? [env, SIGNING_KEY_ENV]
            : [await readKeyFile(defaultKeyFile(options.db)), defaultKeyFile(options.db)];
      const keys = parseKeyText(text, `signing key file ${where}`);
      process.stdout.write(`${[keys.verifierKey, ...keys.retired].join('\n')}\n`);
    });
}

export function register(program: Command): void {
  const keys = program.command('keys').description('create, list and revoke API keys');
  registerSigning(keys);

  withDb(keys.command('create'))
    .description('create a key; the secret is printed this once')
    .requiredOption('--workspace <id>', 'workspace')
    .option('--scope <scope>', 'ingest, read or admin', scope, 'ingest' as const)
    .option('--name <name>', 'a name to recognise the key by')
    .option('--json', 'machine-readable output')
    .action(
      async (options: KeysOptions & { scope: 'ingest' | 'read' | 'admin'; name?: string }) => {
        await withServices(options.db, async ({ store, log }) => {
          const accounts = new AccountService(store);
          const created = await accounts.createKey(options.workspace, {
            name: options.name ?? `${options.scope} key`,
            scope: options.scope,
            createdBy: null,
          });
          await new SelfAudit(log).keyCreated(
            options.workspace,
            { actor: cliActor() },
            created.record,
          );
          const { record } = created;
          if (options.json) {
            printJson({
              key: created.key,
              id: record.id,
              name: record.name,
              scope: record.scope,
              prefix: record.prefix,
              created_at: record.created_at,
            });
          } else {
            process.stdout.write(
              `Created ${record.scope} key ${record.id} ("${record.name}") for workspace "${options.workspace}".\n` +
                `Copy it now, it is not shown again:\n\n  ${created.key}\n\n`,
            );
          }
        });
      },
    );

  withDb(keys.command('list'))
    .description("list a workspace's keys (never their secrets)")
    .requiredOption('--workspace <id>', 'workspace')
    .option('--json', 'machine-readable output')
    .action(async (options: KeysOptions) => {
      await withServices(options.db, async ({ store }) => {
        const list = await new AccountService(store).listKeys(options.workspace);
        const view = list.map(({ hash: _hash, workspace: _ws, ...rest }) => rest);
        if (options.json) {
          printJson({ keys: view });
          return;
        }
        if (view.length === 0) process.stdout.write(`No keys in "${options.workspace}".\n`);
        for (const k of view) {
          const state = k.revoked_at ? `revoked ${k.revoked_at}` : 'live';
          process.stdout.write(
            `${k.id}  ${k.scope.padEnd(6)}  ${k.prefix}...  ${state}  ${k.name}\n`,
          );
        }
      });
    });

  withDb(keys.command('revoke'))
    .description('revoke a key now')
    .argument('<id>', 'the key id (key_...), as `keys list` shows it')
    .requiredOption('--workspace <id>', 'workspace')
    .option('--json', 'machine-readable output')
    .action(async (id: string, options: KeysOptions) => {
      await withServices(options.db, async ({ store, log }) => {
        const revoked = await new AccountService(store).revokeKey(options.workspace, id);
        await new SelfAudit(log).keyRevoked(options.workspace, { actor: cliActor() }, revoked);
        if (options.json) printJson({ id: revoked.id, revoked_at: revoked.revoked_at });
        else process.stdout.write(`Revoked ${revoked.id} ("${revoked.name}").\n`);
      });
    });
}
