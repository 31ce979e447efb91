/**
 * The `trailkeep` command. Each command lives in its own module under ./commands and registers
 * itself on the program; this file only wires them and turns errors into one line and an exit
 * code (0 ok, 1 a failed check such as verify, 2 any other error).
 */
import { Command, CommanderError } from 'commander';
import { isTrailkeepError } from '../core/errors.js';
import { CliExit } from './context.js';

type Register = (program: Command) => void;

async function loadCommands(): Promise<Register[]> {
  // Loaded lazily so that `trailkeep --help` does not open native modules it does not need.
  const modules = await Promise.all([
    import('./commands/init.js'),
    import('./commands/ingest.js'),
    import('./commands/query.js'),
    import('./commands/verify.js'),
    import('./commands/reindex.js'),
    import('./commands/retention.js'),
    import('./commands/checkpoint.js'),
    import('./commands/export.js'),
    import('./commands/history.js'),
    import('./commands/migrate.js'),
    import('./commands/copy.js'),
    import('./commands/serve.js'),
    import('./commands/keys.js'),
    import('./commands/witness.js'),
    import('./commands/witnesses.js'),
    import('./commands/audit.js'),
    import('./commands/users.js'),
    import('./commands/demo.js'),
  ]);
  return modules.map((m) => m.register);
}

/** `trailkeep query | head`: a reader that stops early is not an error, and never a trace. */
function quietOnClosedPipe(): void {
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
}

export async function main(argv: readonly string[]): Promise<number> {
  quietOnClosedPipe();
  const program = new Command('trailkeep')
    .description('Trailkeep: an append-only, tamper-evident audit log')
    .exitOverride()
    .showHelpAfterError(false)
    .configureOutput({ writeErr: (text) => process.stderr.write(text) });
  for (const register of await loadCommands()) register(program);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    return reportError(error);
  }
}

function reportError(error: unknown): number {
  if (error instanceof CliExit) {
    if (error.message) process.stderr.write(`${error.message}\n`);
    return error.exitCode;
  }
  if (error instanceof CommanderError) {
    // Commander has already printed its message (or the help text).
    return error.exitCode === 0 ? 0 : 2;
  }
  if (isTrailkeepError(error)) {
    process.stderr.write(`trailkeep: ${error.message}\n`);
    for (const issue of error.issues.slice(0, 20)) {
      const where = issue.index === undefined ? issue.path : `event ${issue.index} ${issue.path}`;
      process.stderr.write(`  ${where}: ${issue.message}\n`);
    }
    return 2;
  }
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`trailkeep: ${message}\n`);
  if (process.env['TRAILKEEP_DEBUG'] && error instanceof Error)
    process.stderr.write(`${error.stack}\n`);
  return 2;
}
