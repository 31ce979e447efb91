/**
 * `trailkeep ingest`: NDJSON from a file or stdin. Every line is validated before anything is
 * written, so a file with a bad line stores nothing and the error names each bad line.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import type { Command } from 'commander';
import { isTrailkeepError } from '../../core/errors.js';
import { LIMITS } from '../../core/limits.js';
import { validateEvents } from '../../core/validate.js';
import { CliExit, printJson, withDb, withServices } from '../context.js';
import { createProgress } from '../progress.js';

interface IngestOptions {
  db: string;
  workspace: string;
  json?: boolean;
}

interface LineError {
  line: number;
  message: string;
}

const MAX_REPORTED = 20;

async function* lines(source: string): AsyncGenerator<{ line: number; text: string }> {
  const input: Readable = source === '-' ? process.stdin : createReadStream(source);
  const reader = createInterface({ input, crlfDelay: Infinity });
  let line = 0;
  for await (const text of reader) {
    line += 1;
    if (text.trim() !== '') yield { line, text };
  }
}

function parseLine(text: string, now: Date): { value: unknown } | { error: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { error: `not valid JSON (${(error as Error).message})` };
  }
  try {
    validateEvents([value], { now });
    return { value };
  } catch (error) {
    if (!isTrailkeepError(error)) throw error;
    const issues = error.issues.length ? error.issues : [{ path: '$', message: error.message }];
    return { error: issues.map((i) => `${i.path}: ${i.message}`).join('; ') };
  }
}

export function register(program: Command): void {
  withDb(program.command('ingest'))
    .description('append events from an NDJSON file (or - for stdin): all valid, or nothing stored')
    .argument('[file]', 'NDJSON file, one event per line; - reads stdin', '-')
    .requiredOption('--workspace <id>', 'workspace to append to')
    .option('--json', 'machine-readable summary')
    .action(async (file: string, options: IngestOptions) => {
      const now = new Date();
      // stdin can be read once only, so it is kept; a file is read twice to keep memory flat.
      const kept: unknown[] | undefined = file === '-' ? [] : undefined;
      const errors: LineError[] = [];
      let total = 0;
      for await (const { line, text } of lines(file)) {
        total += 1;
        const parsed = parseLine(text, now);
        if ('error' in parsed) errors.push({ line, message: parsed.error });
        else kept?.push(parsed.value);
      }
      if (errors.length > 0) {
        for (const e of errors.slice(0, MAX_REPORTED)) {
          process.stderr.write(`line ${e.line}: ${e.message}\n`);
        }
        if (errors.length > MAX_REPORTED) {
          process.stderr.write(`... and ${errors.length - MAX_REPORTED} more bad lines\n`);
        }
        throw new CliExit(
          2,
          `trailkeep: ${errors.length} of ${total} lines are invalid; nothing was stored`,
        );
      }
      await withServices(options.db, async ({ log }) => {
        await log.workspace(options.workspace);
        const progress = createProgress(total, 'ingest');
        let created = 0;
        let seen = 0;
        let batch: unknown[] = [];
        const flush = async (): Promise<void> => {
          if (batch.length === 0) return;
          const result = await log.ingestEvents(options.workspace, batch);
          created += result.created;
          seen += batch.length;
          progress.update(seen);
          batch = [];
        };
        const source: AsyncIterable<unknown> | Iterable<unknown> = kept ?? mapLines(lines(file));
        for await (const value of source) {
          batch.push(value);
          if (batch.length >= LIMITS.maxBatchEvents) await flush();
        }
        await flush();
        progress.stop();
        const summary = {
          workspace: options.workspace,
          lines: total,
          stored: created,
          duplicates: seen - created,
        };
        if (options.json) printJson(summary);
        else
          process.stdout.write(
            `Stored ${created} events in "${options.workspace}"` +
              (seen > created ? ` (${seen - created} were already stored)` : '') +
              '.\n',
          );
      });
    });
}

async function* mapLines(source: AsyncIterable<{ text: string }>): AsyncGenerator<unknown> {
  for await (const { text } of source) yield JSON.parse(text) as unknown;
}
