/**
 * `trailkeep witness serve`: a standalone C2SP tlog-witness that a customer or an auditor runs on
 * their own machine (src/witness/). It follows the logs it is given, keeps the latest checkpoint
 * it cosigned per log in a SQLite file, and cosigns only checkpoints that extend it.
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { CliExit } from '../context.js';
import { port } from './serve.js';

interface WitnessServeOptions {
  host: string;
  port: number;
  keyFile: string;
  name: string;
  state: string;
  log: string[];
  logsFile?: string;
  json?: boolean;
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

async function serveWitness(options: WitnessServeOptions): Promise<void> {
  const { WitnessConfigError, loadWitnessKey, parseLogs } = await import('../../witness/config.js');
  const { WitnessState } = await import('../../witness/state.js');
  const { Witness } = await import('../../witness/witness.js');
  const { witnessApp } = await import('../../witness/server.js');
  let logs;
  let key;
  try {
    const fileText =
      options.logsFile === undefined
        ? undefined
        : {
            text: await readFile(options.logsFile, 'utf8').catch((error: Error) => {
              throw new WitnessConfigError(`cannot read ${options.logsFile}: ${error.message}`);
            }),
            where: options.logsFile,
          };
    logs = parseLogs(options.log, fileText);
    if (logs.size === 0) {
      throw new WitnessConfigError('no log to witness: give --log ORIGIN=VKEY or --logs-file FILE');
    }
    key = await loadWitnessKey(options.keyFile, options.name);
  } catch (error) {
    if (error instanceof WitnessConfigError) throw new CliExit(2, `trailkeep: ${error.message}`);
    throw error;
  }
  if (key.created) {
    process.stderr.write(
      `Created a new witness key in ${options.keyFile} (mode 0600); keep it secret and back it up.\n`,
    );
  }
  let state;
  try {
    state = WitnessState.open(options.state);
  } catch (error) {
    throw new CliExit(
      2,
      `trailkeep: cannot open witness state ${options.state}: ${(error as Error).message}`,
    );
  }
  const app = witnessApp(new Witness({ signer: key.signer, logs, state }));
  try {
    await app.listen({ host: options.host, port: options.port });
    const address = app.server.address();
    const bound = typeof address === 'object' && address !== null ? address.port : options.port;
    const host = options.host.includes(':') ? `[${options.host}]` : options.host;
    const url = `http://${host}:${bound}`;
    const origins = [...logs.keys()];
    if (options.json) {
      process.stdout.write(`${JSON.stringify({ url, vkey: key.verifierKey, logs: origins })}\n`);
    } else {
      process.stdout.write(
        `Trailkeep witness ${key.signer.name} is listening on ${url}/ for ${origins.join(', ')}\n` +
          `Witness verifier key: ${key.verifierKey}\n`,
      );
    }
    await new Promise<void>((resolve) => {
      const stop = (): void => {
        process.off('SIGTERM', stop);
        process.off('SIGINT', stop);
        resolve();
      };
      process.on('SIGTERM', stop);
      process.on('SIGINT', stop);
    });
  } finally {
    await app.close();
    state.close();
  }
}

export function register(program: Command): void {
  const witness = program
    .command('witness')
    .description('run a C2SP tlog-witness that cosigns checkpoints of the logs it follows');
  witness
    .command('serve')
    .description('serve POST /add-checkpoint (c2sp.org/tlog-witness)')
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .option('--port <n>', 'port (0: any free port)', port, 7380)
    .option(
      '--key-file <file>',
      'its cosigning key; created (mode 0600) when missing',
      'trailkeep-witness.key',
    )
    .option('--name <name>', "a new key's name: the witness's host name", 'trailkeep-witness')
    .option(
      '--state <file>',
      'SQLite file of the latest cosigned checkpoint per log',
      'trailkeep-witness.db',
    )
    .option(
      '--log <origin=vkey>',
      'a log to follow: its origin and verifier key (repeatable)',
      collect,
      [],
    )
    .option('--logs-file <file>', 'logs to follow, one "<origin> <vkey>" per line')
    .option('--json', 'print the URL, the verifier key and the logs as JSON')
    .action(serveWitness);
}
