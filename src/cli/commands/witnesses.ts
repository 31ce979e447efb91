/**
 * `trailkeep witnesses add|list|remove|sync --workspace W`: a workspace's witnesses, from the
 * command line (audited as the CLI, like `keys`). `sync` sends the current checkpoint to every
 * witness now and prints what each answered; exit 1 when one refused or failed.
 */
import type { Command } from 'commander';
import { SelfAudit, cliActor } from '../../service/self-audit.js';
import { WitnessService, witnessView, type WitnessView } from '../../service/witnesses.js';
import { LogService } from '../../service/log-service.js';
import {
  openSigningKeys,
  printJson,
  withDb,
  withServices,
  withSigningKeys,
  type SigningOptions,
} from '../context.js';
import { defaultLogOriginHost, logOriginHost } from './serve.js';

interface Options extends SigningOptions {
  db: string;
  workspace: string;
  json?: boolean;
}

function line(w: WitnessView): string {
  const cosigned =
    w.cosigned_size === null
      ? 'nothing cosigned yet'
      : `cosigned up to ${w.cosigned_size} (${w.cosigned_at ?? ''})`;
  const error =
    w.last_error === null ? '' : `\n  FAILING since ${w.last_error_at ?? '?'}: ${w.last_error}`;
  return `${w.name}  ${w.url}  ${cosigned}${error}`;
}

function print(list: WitnessView[], json: boolean | undefined): void {
  if (json) printJson({ witnesses: list });
  else if (list.length === 0) process.stdout.write('No witnesses.\n');
  else process.stdout.write(`${list.map(line).join('\n')}\n`);
}

export function register(program: Command): void {
  const command = program
    .command('witnesses')
    .description("manage a workspace's witnesses (c2sp.org/tlog-witness)");

  withDb(command.command('list'))
    .requiredOption('--workspace <id>', 'workspace')
    .option('--json', 'machine-readable')
    .action(async (options: Options) => {
      const list = await withServices(options.db, ({ log }) =>
        new WitnessService(log, { background: false }).list(options.workspace),
      );
      print(list, options.json);
    });

  withDb(command.command('add'))
    .requiredOption('--workspace <id>', 'workspace')
    .requiredOption('--name <name>', 'a label for the witness')
    .requiredOption('--url <url>', "the witness's URL (POST <url>/add-checkpoint)")
    .requiredOption(
      '--vkey <vkey>',
      "the witness's verifier key (trailkeep witness serve prints it)",
    )
    .option('--json', 'machine-readable')
    .action(async (options: Options & { name: string; url: string; vkey: string }) => {
      const added = await withServices(options.db, async ({ log }) => {
        const witnesses = new WitnessService(log, { background: false });
        const record = await witnesses.add(options.workspace, options);
        await new SelfAudit(log).witnessAdded(options.workspace, { actor: cliActor() }, record);
        return witnessView(record);
      });
      if (options.json) printJson(added);
      else process.stdout.write(`Added witness ${added.name} (${added.url}).\n`);
    });

  withDb(command.command('remove'))
    .requiredOption('--workspace <id>', 'workspace')
    .requiredOption('--name <name>', 'the witness to remove')
    .action(async (options: Options & { name: string }) => {
      await withServices(options.db, async ({ log }) => {
        const witnesses = new WitnessService(log, { background: false });
        const removed = await witnesses.remove(options.workspace, options.name);
        await new SelfAudit(log).witnessRemoved(options.workspace, { actor: cliActor() }, removed);
      });
      process.stdout.write(`Removed witness ${options.name}.\n`);
    });

  withSigningKeys(withDb(command.command('sync')))
    .description('send the current checkpoint to every witness now; exit 1 when one refused')
    .requiredOption('--workspace <id>', 'workspace')
    .option(
      '--log-origin-host <host>',
      "the host part of the checkpoint origin: the same as the server's (default as serve)",
      logOriginHost,
    )
    .option('--json', 'machine-readable')
    .action(async (options: Options & { logOriginHost?: string }) => {
      const { openStore } = await import('../../store/open.js');
      const store = await openStore(options.db);
      let list: WitnessView[];
      try {
        const keys = await openSigningKeys(store, options.db, options);
        const log = await LogService.open(store, {
          keys,
          logOriginHost: options.logOriginHost ?? defaultLogOriginHost(),
        });
        const witnesses = new WitnessService(log, { background: false });
        await witnesses.syncNow(options.workspace);
        list = await witnesses.list(options.workspace);
      } finally {
        await store.close();
      }
      print(list, options.json);
      if (list.some((w) => w.status === 'failing')) process.exitCode = 1;
    });
}
