/**
 * An export whose store read fails must never look complete. The fault is real: a SQLite file
 * whose leaf pages holding the oldest events are overwritten, so an export (newest first)
 * reads its first batches and then hits "database disk image is malformed". Over HTTP the
 * transfer is broken (the client sees an incomplete chunked body, curl exits 18) and the
 * failure is logged at error level with the request id; a failure in the first batch is a
 * plain problem response; the CLI exits 2 with one line and leaves no partial file.
 */
import { execFile } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LogService } from '../../src/service/log-service.js';
import { AccountService } from '../../src/service/accounts.js';
import { openStore } from '../../src/store/open.js';
import { runCli } from '../support/cli.js';
import { PASSWORD, TEST_SCRYPT, startServer, type Server } from './support.js';

const EVENTS = 2000;
const START_MS = Date.parse('2026-01-01T00:00:00.000Z');
/** Leaf pages of `events` overwritten, counted from the oldest rows. */
const CORRUPT_LEAVES = 4;

const dir = mkdtempSync(join(tmpdir(), 'trailkeep-export-abort-'));
const file = join(dir, 'trailkeep.db');
let readKey = '';

/** The time of the event with index `i` (oldest first). */
const timeOf = (i: number): string => new Date(START_MS + i * 1000).toISOString();

beforeAll(async () => {
  const store = await openStore(`sqlite:${file}`);
  const log = await LogService.open(store);
  const accounts = new AccountService(store, { scrypt: TEST_SCRYPT });
  const init = await accounts.initWorkspace({
    workspace: 'acme',
    ownerEmail: 'owner@acme.test',
    ownerPassword: PASSWORD,
    keyScopes: ['read'],
  });
  readKey = (init.keys as Record<string, string>)['read'] ?? '';
  for (let start = 0; start < EVENTS; start += 100) {
    await log.ingest('acme', {
      events: Array.from({ length: 100 }, (_, j) => ({
        id: `evt-${start + j}`,
        action: 'job.created',
        occurred_at: timeOf(start + j),
        actor: { type: 'automation', id: 'runner' },
        targets: [{ type: 'job', id: `job-${start + j}` }],
        metadata: { note: 'x'.repeat(200) },
      })),
    });
  }
  await store.close();
  corruptOldestEvents(file, CORRUPT_LEAVES);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * Overwrites `count` leaf pages of the events table among the oldest rows (lowest eid), all but
 * the very first: opening a store estimates a table's size from its leftmost leaf.
 */
function corruptOldestEvents(path: string, count: number): void {
  const db = new Database(path);
  // Fresh statistics: the next open then has nothing to analyze, and reads no table until asked.
  db.exec('ANALYZE');
  const pageSize = db.pragma('page_size', { simple: true }) as number;
  const pages = db
    .prepare(
      `SELECT pageno FROM dbstat WHERE name = 'events' AND pagetype = 'leaf' ORDER BY path LIMIT ? OFFSET 1`,
    )
    .all(count) as Array<{ pageno: number }>;
  db.close();
  expect(pages).toHaveLength(count);
  const fd = openSync(path, 'r+');
  for (const { pageno } of pages) {
    writeSync(fd, Buffer.alloc(pageSize, 0xa5), 0, pageSize, (pageno - 1) * pageSize);
  }
  closeSync(fd);
}

describe('over HTTP', () => {
  let server: Server;
  const logLines: Array<Record<string, unknown>> = [];

  beforeAll(async () => {
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().split('\n')) {
          if (line.trim() !== '') logLines.push(JSON.parse(line) as Record<string, unknown>);
        }
        done();
      },
    });
    server = await startServer({
      db: `sqlite:${file}`,
      rateLimit: false,
      logger: { level: 'info', stream },
    });
  });

  afterAll(async () => {
    await server.close();
  });

  const url = (query: string) => `${server.url}/api/v1/workspaces/acme/export?${query}`;

  it('breaks the transfer (fetch rejects, curl exits 18) when a read fails after the first byte, and logs the request id', async () => {
    const response = await fetch(url('format=ndjson'), {
      headers: { authorization: `Bearer ${readKey}`, 'x-request-id': 'export-abort-fetch' },
    });
    expect(response.status).toBe(200);
    // The body never ends cleanly: reading it to the end fails instead of returning a short file.
    await expect(response.text()).rejects.toThrow(/terminated/);

    const failure = logLines.find(
      (line) => line['reqId'] === 'export-abort-fetch' && line['level'] === 50,
    );
    expect(failure?.['msg']).toBe('export failed after its first byte; the response was aborted');
    expect(failure?.['rows']).toBeGreaterThan(0);
    expect(String((failure?.['err'] as { message?: string } | undefined)?.message)).toMatch(
      /malformed/,
    );

    // curl says so as well: exit 18, a partial file.
    const curl = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      execFile(
        'curl',
        ['-sS', '-o', '/dev/null', '-H', `authorization: Bearer ${readKey}`, url('format=csv')],
        (error, _stdout, stderr) =>
          resolve({ code: error ? (error.code as number | null) : 0, stderr }),
      );
    });
    expect(curl.code).toBe(18);
    expect(curl.stderr).toMatch(/transfer closed|outstanding read data/);
  });

  it('answers a failure in the first batch with a problem document, not a cut file', async () => {
    // Only the oldest events match: the very first read hits the overwritten pages.
    const response = await fetch(url(`format=csv&until=${encodeURIComponent(timeOf(60))}`), {
      headers: { authorization: `Bearer ${readKey}`, 'x-request-id': 'export-first-batch' },
    });
    expect(response.status).toBe(500);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const problem = (await response.json()) as { code: string; instance: string };
    expect(problem).toMatchObject({ code: 'internal', instance: 'export-first-batch' });
  });
});

describe('the CLI', () => {
  const exportTo = (out: string, format = 'csv') =>
    runCli([
      'export',
      '--db',
      `sqlite:${file}`,
      '--workspace',
      'acme',
      '--format',
      format,
      '--out',
      out,
    ]);

  it('exits 2 with one line when a read fails mid-stream to stdout', async () => {
    const result = await exportTo('-', 'ndjson');
    expect(result.code).toBe(2);
    const lines = result.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    const match =
      /^trailkeep: the export failed after (\d+) rows: .*malformed.*; stdout is incomplete$/.exec(
        lines[0] ?? '',
      );
    expect(match).not.toBeNull();
    const rows = Number(match?.[1]);
    expect(rows).toBeGreaterThan(0);
    expect(rows).toBeLessThan(EVENTS);
    expect(result.stdout.trimEnd().split('\n')).toHaveLength(rows);
  });

  it('removes the partial file it was writing', async () => {
    const out = join(dir, 'partial.csv');
    const result = await exportTo(out);
    expect(result.code).toBe(2);
    expect(result.stderr.trimEnd().split('\n')).toEqual([
      expect.stringMatching(
        new RegExp(`^trailkeep: the export failed after \\d+ rows: .*; ${out} was removed$`),
      ),
    ]);
    expect(existsSync(out)).toBe(false);
  });
});
