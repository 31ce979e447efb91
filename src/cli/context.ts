/** Shared helpers for CLI commands: options, opening the store and services, output. */
import type { Command } from 'commander';
import { LogService } from '../service/log-service.js';
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

export interface Opened {
  store: Store;
  log: LogService;
}

/** Opens the store and the log service, runs `work`, and always closes the store. */
export async function withServices<T>(
  db: string,
  work: (opened: Opened) => Promise<T>,
  options: OpenOptions = {},
): Promise<T> {
  const { openStore } = await import('../store/open.js');
  const store = await openStore(db, options);
  try {
    const log = await LogService.open(store);
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
