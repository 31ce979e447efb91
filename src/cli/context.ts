/** Shared helpers for CLI commands: options, opening the store and services, output. */
import type { Command } from 'commander';
import { LogService } from '../service/log-service.js';
import {
  DEFAULT_KEY_NAME,
  SIGNING_KEY_ENV,
  defaultKeyFile,
  loadSigningKeys,
  type SigningKeys,
} from '../service/signing-keys.js';
import type { OpenOptions } from '../store/open.js';
import type { Store } from '../store/store.js';

export const DEFAULT_DB = 'sqlite:./data/trailkeep.db';

/** Ends the command with this exit code and, when given, a one-line message on stderr. */
export class CliExit extends Error {
  constructor(
    readonly exitCode: number,
    message = '',
  ) {
    super(message);
    this.name = 'CliExit';
  }
}

export interface DbOptions {
  db: string;
}

/** Adds the options every command shares. */
export function withDb(command: Command): Command {
  return command.option(
    '--db <url>',
    'database: sqlite:PATH or postgres://... (env TRAILKEEP_DB)',
    process.env['TRAILKEEP_DB'] ?? DEFAULT_DB,
  );
}

/** Options of the commands that sign or check checkpoints. */
export interface SigningOptions {
  signingKeyFile?: string;
  verifierKey?: string[];
  signingKeyName?: string;
}

/** Commander's accumulator for a repeatable option. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** Adds where the checkpoint signing key comes from (see docs/integrity.md, "Keys"). */
export function withSigningKeys(command: Command): Command {
  return command
    .option(
      '--signing-key-file <file>',
      `checkpoint signing key file (default: env ${SIGNING_KEY_ENV}, else <data dir>.signing-key beside the data directory)`,
    )
    .option(
      '--verifier-key <vkey>',
      'a retired verifier key whose checkpoints still verify (repeatable)',
      collect,
    )
    .option(
      '--signing-key-name <name>',
      'key name of a key created on a first start: the public host name',
      DEFAULT_KEY_NAME,
    );
}

/** Loads the signing keys from outside the database, telling the operator what changed. */
export async function openSigningKeys(
  store: Store,
  db: string,
  options: SigningOptions,
): Promise<SigningKeys> {
  const { keys, notice } = await loadSigningKeys(store, {
    file: options.signingKeyFile,
    envText: process.env[SIGNING_KEY_ENV],
    defaultFile: defaultKeyFile(db),
    verifierKeys: options.verifierKey ?? [],
    name: options.signingKeyName ?? DEFAULT_KEY_NAME,
  });
  if (notice !== undefined) process.stderr.write(`trailkeep: ${notice}\n`);
  return keys;
}

export interface Opened {
  store: Store;
  log: LogService;
}

/** Opens the store and the log service, runs `work`, and always closes the store. */
export async function withServices<T>(
  db: string,
  work: (opened: Opened) => Promise<T>,
  options: OpenOptions = {},
  signing?: SigningOptions,
): Promise<T> {
  const { openStore } = await import('../store/open.js');
  const store = await openStore(db, options);
  try {
    const keys = signing === undefined ? undefined : await openSigningKeys(store, db, signing);
    const log = await LogService.open(store, keys === undefined ? {} : { keys });
    return await work({ store, log });
  } finally {
    await store.close();
  }
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Parses a positive integer option, with a one-line error for anything else. */
export function positiveInt(name: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n <= 0)
      throw new CliExit(2, `trailkeep: ${name} must be a positive integer, got "${value}"`);
    return n;
  };
}
