/** `trailkeep query`: one page of a workspace's log as a table (or JSON), with a cursor for more. */
import type { Command } from 'commander';
import type { StoredEvent } from '../../core/event.js';
import { CliExit, positiveInt, printJson, withDb, withServices } from '../context.js';

interface QueryOptions {
  db: string;
  workspace: string;
  limit?: number;
  cursor?: string;
  count?: boolean;
  json?: boolean;
}

export function register(program: Command): void {
  withDb(program.command('query'))
    .description("one page of a workspace's log, newest first, in the query language")
    .argument('[query...]', "e.g. 'actor:alex@ category:members since:2026-01-01'")
    .requiredOption('--workspace <id>', 'workspace to read')
    .option('--limit <n>', 'events per page (1-200, default 50)', positiveInt('--limit'))
    .option('--cursor <cursor>', 'continue from a previous page (the question travels in it)')
    .option('--no-count', 'skip counting the matches')
    .option('--json', 'machine-readable output: the same shape as the HTTP API')
    .action(async (words: string[], options: QueryOptions) => {
      const q = words.join(' ');
      if (options.limit !== undefined && options.limit > 200) {
        throw new CliExit(2, 'trailkeep: --limit must be at most 200');
      }
      await withServices(options.db, async ({ log }) => {
        const page = await log.query(options.workspace, {
          q,
          cursor: options.cursor,
          limit: options.limit,
          withCount: options.count !== false,
        });
        if (options.json) {
          printJson(page);
          return;
        }
        process.stdout.write(renderTable(page.events));
        const count = page.count
          ? ` of ${page.count.capped ? `${page.count.value.toLocaleString('en-US')}+` : page.count.value.toLocaleString('en-US')}`
          : '';
        process.stdout.write(
          `\n${page.events.length} events${count} matching: ${page.query || '(everything)'}\n`,
        );
        if (page.next_cursor) {
          process.stdout.write(
            `Older: trailkeep query --workspace ${options.workspace} --cursor ${page.next_cursor}\n`,
          );
        }
      });
    });
}

const COLUMNS = ['TIME (UTC)', 'SEQ', 'ACTOR', 'ACTION', 'TARGET', 'IP', 'OUTCOME'] as const;

function cells(e: StoredEvent): string[] {
  const target = e.targets[0];
  return [
    e.occurred_at.slice(0, 19).replace('T', ' '),
    String(e.seq),
    `${e.actor.email ?? e.actor.name ?? e.actor.id} (${e.actor.type})`,
    e.action,
    target ? `${target.type}:${target.name ?? target.id}` : '',
    e.context.ip ?? '',
    e.outcome === 'failure' ? 'FAILED' : 'ok',
  ];
}

/** A plain aligned table; long cells are cut so one event stays on one line. */
export function renderTable(events: readonly StoredEvent[]): string {
  const rows = [COLUMNS.slice(), ...events.map(cells)].map((row) =>
    row.map((cell) => sanitize(cell).slice(0, 40)),
  );
  const widths = COLUMNS.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows
    .map((r) =>
      r
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')
    .concat('\n');
}

/** Event text is attacker-controlled: never let it move the terminal's cursor or colours. */
function sanitize(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
}
