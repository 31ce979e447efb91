/**
 * `trailkeep export`: the same rows as `trailkeep query` shows, as CSV, JSON or NDJSON, streamed
 * to a file (default: a name with the workspace and the range) or stdout with `--out -`.
 */
import { createWriteStream, rmSync } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
import { planExport } from '../../service/export.js';
import { STREAMING_READS } from '../../store/open.js';
import { CliExit, positiveInt, printJson, withDb, withServices } from '../context.js';
import { createProgress } from '../progress.js';

interface ExportOptions {
  db: string;
  workspace: string;
  format: string;
  type: string;
  targetType?: string;
  limit?: number;
  out?: string;
  json?: boolean;
}

/**
 * A failed export must not look like a short one: the file is removed (its rows are a prefix
 * of the answer, nothing says where it stops), and the one-line error says how far it got.
 */
function exportFailed(error: unknown, rows: number, file: string | undefined): CliExit {
  // A file that was never created (it already existed: 'wx') is not ours to remove.
  const created = file !== undefined && !isErrno(error, 'EEXIST');
  if (created) rmSync(file, { force: true });
  const reason = error instanceof Error ? error.message : String(error);
  const where = created
    ? `; ${file} was removed`
    : file === undefined
      ? '; stdout is incomplete'
      : '';
  return new CliExit(2, `trailkeep: the export failed after ${rows} rows: ${reason}${where}`);
}

function isErrno(error: unknown, code: string): boolean {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === code;
}

export function register(program: Command): void {
  withDb(program.command('export'))
    .description('export the events matching a query (or entity states) as csv, json or ndjson')
    .argument('[query...]', "e.g. 'category:members since:2026-05-01'")
    .requiredOption('--workspace <id>', 'workspace to export')
    .option('--format <format>', 'csv, json or ndjson', 'csv')
    .option(
      '--type <type>',
      'events, or entities (one row per entity with its latest state)',
      'events',
    )
    .option('--target-type <kind>', 'with --type entities: the entity kind, e.g. job')
    .option(
      '--limit <n>',
      'stop after n rows (said on stderr when it cuts the export)',
      positiveInt('--limit'),
    )
    .option('--out <file>', 'output file; - for stdout (default: a name with workspace and range)')
    .option('--json', 'print a JSON summary on stdout (with --out FILE)')
    .action(async (words: string[], options: ExportOptions) => {
      await withServices(
        options.db,
        async ({ log }) => {
          const plan = await planExport(log, options.workspace, {
            q: words.join(' '),
            format: options.format,
            type: options.type,
            entityType: options.targetType,
            limit: options.limit,
          });
          const toStdout = options.out === '-';
          const file = options.out && !toStdout ? options.out : plan.filename;
          const total =
            plan.kind === 'events' && !toStdout
              ? (await log.count(options.workspace, plan.filter)).value
              : 0;
          const progress = toStdout ? undefined : createProgress(options.limit ?? total, 'export');
          let lastShown = 0;
          const chunks = plan.chunks();
          async function* withProgress(): AsyncGenerator<string> {
            for await (const chunk of chunks) {
              yield chunk;
              if (progress && plan.rows() - lastShown >= 1000) {
                lastShown = plan.rows();
                progress.update(lastShown);
              }
            }
          }
          const sink = toStdout ? process.stdout : createWriteStream(file, { flags: 'wx' });
          try {
            await pipeline(Readable.from(withProgress(), { objectMode: false }), sink, {
              end: !toStdout,
            });
          } catch (error) {
            progress?.stop();
            throw exportFailed(error, plan.rows(), toStdout ? undefined : file);
          }
          progress?.update(plan.rows());
          progress?.stop();
          if (plan.truncated) {
            process.stderr.write(
              `trailkeep: --limit ${options.limit} cut the export short; more rows match\n`,
            );
          }
          const summary = {
            file: toStdout ? '-' : file,
            format: plan.format,
            type: plan.kind,
            rows: plan.rows(),
            truncated: plan.truncated,
          };
          if (options.json && !toStdout) printJson(summary);
          else if (!toStdout) process.stderr.write(`Wrote ${summary.rows} rows to ${file}\n`);
        },
        STREAMING_READS,
      );
    });
}
