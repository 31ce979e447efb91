/** The real `trailkeep demo` against a temporary SQLite file. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../test/support/cli.js';
import { openStore } from '../store/open.js';
import { generateDemo } from './generate.js';

let dir: string;
let db: string;

interface Summary {
  seed: number;
  now: string;
  events: number;
  stored: number;
  events_per_second: number | null;
  workspaces: { id: string; events: number; stored: number; total: number; created: boolean }[];
}

async function heads(): Promise<Record<string, number>> {
  const store = await openStore(db);
  try {
    const result: Record<string, number> = {};
    for (const ws of await store.listWorkspaces()) result[ws.id] = (await store.head(ws.id)).seq;
    return result;
  } finally {
    await store.close();
  }
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tk-demo-'));
  db = `sqlite:${join(dir, 'demo.db')}`;
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('trailkeep demo', () => {
  let first: Summary;

  it('creates the four workspaces with their settings and stores every event', async () => {
    const run = await runCli(['demo', '--events', '2000', '--db', db, '--json']);
    expect(run.code, run.stderr).toBe(0);
    // Not a terminal: no progress bar.
    expect(run.stderr).toBe('');
    first = JSON.parse(run.stdout) as Summary;
    expect(first.stored).toBe(2000);
    expect(first.workspaces.map((ws) => [ws.id, ws.events, ws.stored, ws.created])).toEqual([
      ['jobs', 800, 800, true],
      ['devplatform', 500, 500, true],
      ['engineering', 400, 400, true],
      ['crm', 300, 300, true],
    ]);
    expect(await heads()).toEqual({ jobs: 800, devplatform: 500, engineering: 400, crm: 300 });

    const expected = generateDemo({ events: 2000, now: new Date(first.now) });
    const store = await openStore(db);
    try {
      for (const ws of expected.workspaces) {
        expect((await store.getWorkspace(ws.id))?.settings).toEqual(ws.settings);
      }
      // The stored events are the generated ones, with categories from the workspace catalog.
      const [firstJob] = expected.workspaces[0]!.events();
      const stored = await store.getEvent('jobs', firstJob!.id!);
      expect(stored?.action).toBe('workspace.created');
      expect(stored?.category).toBe('workspace');
      expect(stored?.occurred_at).toBe(firstJob!.occurred_at);
    } finally {
      await store.close();
    }
  });

  it('is idempotent: a second run with the same seed stores nothing new', async () => {
    const run = await runCli(['demo', '--events', '2000', '--db', db, '--json']);
    expect(run.code, run.stderr).toBe(0);
    const second = JSON.parse(run.stdout) as Summary;
    expect(second.now).toBe(first.now);
    expect(second.stored).toBe(0);
    expect(second.workspaces.every((ws) => !ws.created)).toBe(true);
    expect(await heads()).toEqual({ jobs: 800, devplatform: 500, engineering: 400, crm: 300 });
  });

  it('adds another story for another seed and prints a summary with hints', async () => {
    const run = await runCli([
      'demo',
      '--events',
      '1000',
      '--seed',
      '7',
      '--now',
      '2026-05-12T12:00:00Z',
      '--db',
      db,
    ]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('seed 7, 90 days up to 2026-05-12T12:00:00.000Z');
    expect(run.stdout).toMatch(/jobs\s+400 events/);
    expect(run.stdout).toContain('Stored 1,000 new events of 1,000');
    expect(run.stdout).toContain(`--workspace jobs 'actor:alex@'`);
    expect(await heads()).toEqual({ jobs: 1200, devplatform: 750, engineering: 600, crm: 450 });
  });

  it('refuses bad options with one line and exit code 2', async () => {
    const zero = await runCli(['demo', '--events', '0', '--db', db]);
    expect(zero.code).toBe(2);
    expect(zero.stderr).toContain('--events must be a positive integer');
    const future = await runCli(['demo', '--now', '2999-01-01T00:00:00Z', '--db', db]);
    expect(future.code).toBe(2);
    expect(future.stderr).toContain('--now must not be in the future');
    const noZone = await runCli(['demo', '--now', '2026-05-12 12:00', '--db', db]);
    expect(noZone.code).toBe(2);
    expect(noZone.stderr).toContain('--now must be an ISO 8601 time with a zone');
  });
});
