/** `trailkeep history TYPE ID`: every event that touched one entity, with its state after each. */
import type { Command } from 'commander';
import { entityHistory } from '../../service/export.js';
import { printJson, withDb, withServices } from '../context.js';

interface HistoryOptions {
  db: string;
  workspace: string;
  asOf?: string;
  json?: boolean;
}

export function register(program: Command): void {
  withDb(program.command('history'))
    .description('the history of one entity (e.g. job job_42), oldest first')
    .argument('<type>', 'entity kind, e.g. job, customer, user')
    .argument('<id>', 'entity id')
    .requiredOption('--workspace <id>', 'workspace to read')
    .option('--as-of <time>', 'the state at this ISO time')
    .option('--json', 'machine-readable output')
    .action(async (type: string, id: string, options: HistoryOptions) => {
      await withServices(options.db, async ({ log }) => {
        const history = await entityHistory(log, options.workspace, type, id, options.asOf);
        if (options.json) {
          printJson(history);
          return;
        }
        const label = history.entity.name
          ? `${type} ${id} (${history.entity.name})`
          : `${type} ${id}`;
        process.stdout.write(`${label}: ${history.events.length} events\n\n`);
        for (const { event } of history.events) {
          const who = event.actor.email ?? event.actor.name ?? event.actor.id;
          process.stdout.write(
            `${event.occurred_at}  seq ${event.seq}  ${event.action}  by ${who}\n`,
          );
          for (const c of event.changes) {
            const change = c.secret
              ? 'changed, value hidden'
              : `${JSON.stringify(c.old ?? null)} -> ${JSON.stringify(c.new ?? null)}`;
            process.stdout.write(`    ${c.field}: ${change}\n`);
          }
        }
        const when = history.as_of ? `as of ${history.as_of}` : 'now';
        process.stdout.write(
          `\nState ${when}${history.deleted ? ' (deleted)' : ''}:\n${JSON.stringify(history.state, null, 2)}\n`,
        );
      });
    });
}
