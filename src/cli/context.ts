/** Shared helpers for CLI commands: opening the store and services from `--db`. */
import type { Command } from 'commander';

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

/** Adds the options every command shares. */
export function withDb(command: Command): Command {
  return command.option(
    '--db <url>',
    'database: sqlite:PATH or postgres://... (env TRAILKEEP_DB)',
    process.env['TRAILKEEP_DB'] ?? DEFAULT_DB,
  );
}
