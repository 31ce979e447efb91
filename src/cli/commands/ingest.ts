/**
 * `trailkeep ingest`: NDJSON from a file or stdin. Every line is validated before anything is
 * written, so a file with a bad line stores nothing and the error names each bad line. Lines are
 * read as bytes and checked as strictly as HTTP bodies (src/core/json-text.ts): invalid UTF-8, a
 * key twice in one object or an integer beyond ±(2^53 - 1) is an error naming the line and the
 * byte offset or path, never a silent change.
 */
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import type { Command } from 'commander';
import { isTrailkeepError, type TrailkeepError } from '../../core/errors.js';
import { strictJsonText } from '../../core/json-text.js';
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
const NEWLINE = 0x0a;

/** A line of nothing but JSON whitespace (a `\r` before the newline included). */
function isBlank(bytes: Buffer): boolean {
  return bytes.every((b) => b === 0x20 || b === 0x09 || b === 0x0d);
}

/** The non-blank lines of the source as bytes: decoding them here would hide invalid UTF-8. */
async function* lines(source: string): AsyncGenerator<{ line: number; bytes: Buffer }> {
  const input: Readable = source === '-' ? process.stdin : createReadStream(source);
  // The start of a line that has not ended yet, kept as chunks so long lines cost linear time.
  let pending: Buffer[] = [];
  let line = 0;
  for await (const chunk of input as AsyncIterable<Buffer>) {
    let start = 0;
    for (let end = chunk.indexOf(NEWLINE); end !== -1; end = chunk.indexOf(NEWLINE, start)) {
      const piece = chunk.subarray(start, end);
      const bytes = pending.length === 0 ? piece : Buffer.concat([...pending, piece]);
      pending = [];
      line += 1;
      if (!isBlank(bytes)) yield { line, bytes };
      start = end + 1;
    }
    if (start < chunk.length) pending.push(chunk.subarray(start));
  }
  const last = Buffer.concat(pending);
  if (last.length > 0 && !isBlank(last)) yield { line: line + 1, bytes: last };
}

/** One line's JSON value, read as strictly as an HTTP body; throws a TrailkeepError. */
function readJsonLine(bytes: Buffer): unknown {
  return JSON.parse(strictJsonText(bytes, { subject: 'The line', maxDepth: LIMITS.maxDepth }));
}

/** What is wrong with a line, after its number: `$.actor.type: must be one of ...`. */
function lineProblem(error: TrailkeepError): string {
  const issues = error.issues.length ? error.issues : [{ path: '$', message: error.message }];
  const [first] = issues;
  if (error.code === 'bad_request' && first !== undefined) {
    return `not valid JSON: ${first.message} (${first.path})`;
  }
  if (error.code === 'invalid_utf8' && first !== undefined) return first.message;
  return issues.map((i) => `${i.path}: ${i.message}`).join('; ');
}

function parseLine(bytes: Buffer, now: Date): { value: unknown } | { error: string } {
  try {
    const value = readJsonLine(bytes);
    validateEvents([value], { now });
    return { value };
  } catch (error) {
    if (!isTrailkeepError(error)) throw error;
    return { error: lineProblem(error) };
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
      for await (const { line, bytes } of lines(file)) {
        total += 1;
        const parsed = parseLine(bytes, now);
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

async function* mapLines(source: AsyncIterable<{ bytes: Buffer }>): AsyncGenerator<unknown> {
  for await (const { bytes } of source) yield readJsonLine(bytes);
}
