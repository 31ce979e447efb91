/**
 * Moving up: `trailkeep copy` from a SQLite file to a real PostgreSQL server keeps every chain
 * (same heads, verify passes on the target), and `trailkeep migrate --app-role` makes a role
 * that cannot change events. The real binary against a real server.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { createDatabase, usePostgres, type PostgresServer } from '../support/postgres.js';

let dir: string;
let sqlite: string;
let postgres: string;
let server: PostgresServer;
let release: () => Promise<void>;

beforeAll(async () => {
  ({ server, release } = await usePostgres());
  postgres = await createDatabase(server, 'cli_copy');
  dir = mkdtempSync(join(tmpdir(), 'tk-copy-'));
  sqlite = `sqlite:${join(dir, 'log.db')}`;
  expect((await runCli(['init', '--workspace', 'acme', '--db', sqlite])).code).toBe(0);
  const demo = await runCli(['demo', '--events', '600', '--db', sqlite]);
  expect(demo.code, demo.stderr).toBe(0);
  const events = Array.from({ length: 50 }, (_, i) => ({
    action: 'job.created',
    occurred_at: new Date(Date.UTC(2026, 0, 1 + i)).toISOString(),
    actor: { type: 'user', id: 'u1', email: 'alex@example.com' },
    targets: [{ type: 'job', id: `job_${i}` }],
  }));
  writeFileSync(join(dir, 'acme.ndjson'), events.map((e) => JSON.stringify(e)).join('\n'));
  expect(
    (await runCli(['ingest', '--workspace', 'acme', '--db', sqlite, join(dir, 'acme.ndjson')]))
      .code,
  ).toBe(0);
});

afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await release?.();
});

type Report = { workspace: string; ok: boolean; head: { seq: number; hash: string } };

async function heads(db: string): Promise<Report[]> {
  const result = await runCli(['verify', '--db', db, '--json']);
  expect(result.code, result.stderr).toBe(0);
  return (JSON.parse(result.stdout) as { workspaces: Report[] }).workspaces.sort((a, b) =>
    a.workspace.localeCompare(b.workspace),
  );
}

describe('trailkeep copy', () => {
  it('moves every workspace to PostgreSQL with identical chains, and resumes as a no-op', async () => {
    const copied = await runCli(['copy', '--from', sqlite, '--to', postgres, '--json']);
    expect(copied.code, copied.stderr).toBe(0);
    expect(JSON.parse(copied.stdout)).toMatchObject({ workspaces: 5, events: 650 });
    const source = await heads(sqlite);
    const target = await heads(postgres);
    const summary = (reports: Report[]): unknown =>
      reports.map(({ workspace, ok, head }) => ({ workspace, ok, head }));
    expect(summary(target)).toEqual(summary(source));
    expect(target).toHaveLength(5);
    expect(target.every((r) => r.ok)).toBe(true);
    const again = await runCli(['copy', '--from', sqlite, '--to', postgres, '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ events: 0 });
    const page = await runCli([
      'query',
      '--workspace',
      'acme',
      '--db',
      postgres,
      '--json',
      'action:job.created',
    ]);
    expect(JSON.parse(page.stdout).count).toEqual({ value: 50, capped: false });
  });

  it('migrate --app-role creates a role that may append but never change events', async () => {
    const migrated = await runCli(['migrate', '--db', postgres, '--app-role', 'trailkeep_app_cli']);
    expect(migrated.code, migrated.stderr).toBe(0);
    expect(migrated.stdout).toContain(
      'Role "trailkeep_app_cli" may append and read but never change events',
    );
    const name = new URL(postgres).pathname.slice(1);
    const denied = await server.psql(
      `SET ROLE trailkeep_app_cli; UPDATE events SET action = 'x' WHERE false;`,
      { database: name },
    );
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toMatch(/permission denied/);
    const refused = await runCli(['migrate', '--db', sqlite, '--app-role', 'x']);
    expect(refused.code).toBe(2);
    expect(refused.stderr.trim()).toBe('trailkeep: --app-role needs a postgres:// database');
  });
});
