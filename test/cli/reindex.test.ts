/**
 * `trailkeep verify` and `trailkeep reindex` on PostgreSQL, the real binary against a real
 * server: a target copy edited to hide events is named, reindex as the tables' owner repairs
 * it, and the least-privilege service role may not reindex at all.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { createDatabase, usePostgres, type PostgresServer } from '../support/postgres.js';

let dir: string;
let db: string;
let server: PostgresServer;
let release: () => Promise<void>;

beforeAll(async () => {
  ({ server, release } = await usePostgres());
  db = await createDatabase(server, 'cli_reindex');
  dir = mkdtempSync(join(tmpdir(), 'tk-reindex-'));
  expect((await runCli(['init', '--workspace', 'acme', '--db', db])).code).toBe(0);
  const events = Array.from({ length: 40 }, (_, i) => ({
    action: 'job.updated',
    occurred_at: new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString(),
    actor: { type: 'user', id: 'u1', email: 'alex@example.com' },
    targets: [{ type: 'job', id: `job_${i % 10}`, name: `Job ${i % 10}` }],
  }));
  writeFileSync(join(dir, 'acme.ndjson'), events.map((e) => JSON.stringify(e)).join('\n'));
  const ingest = await runCli([
    'ingest',
    '--workspace',
    'acme',
    '--db',
    db,
    join(dir, 'acme.ndjson'),
  ]);
  expect(ingest.code, ingest.stderr).toBe(0);
});

afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await release?.();
});

const matches = async (url: string): Promise<unknown> => {
  const result = await runCli([
    'query',
    '--workspace',
    'acme',
    '--db',
    url,
    '--json',
    'target:"job 7"',
  ]);
  expect(result.code, result.stderr).toBe(0);
  return (JSON.parse(result.stdout) as { count: unknown }).count;
};

describe('trailkeep reindex on PostgreSQL', () => {
  it('repairs what verify names, as the owner; the service role may not', async () => {
    const before = await matches(db);
    const name = new URL(db).pathname.slice(1);
    const hidden = await server.psql(
      `BEGIN; SET LOCAL session_replication_role = replica;
       UPDATE event_targets SET name_lc = 'job 77' WHERE workspace = 'acme' AND seq = 8; COMMIT;`,
      { database: name },
    );
    expect(hidden.code, hidden.stderr).toBe(0);
    expect(await matches(db)).not.toEqual(before);

    const broken = await runCli(['verify', '--db', db]);
    expect(broken.code).toBe(1);
    expect(broken.stdout).toContain('acme: BROKEN at seq 8 (derived_mismatch): seq 8 (');
    expect(broken.stdout).toContain(
      'event_targets seq 8 pos 0 column name_lc is "job 77" but the event says "job 7"',
    );

    const migrated = await runCli(['migrate', '--db', db, '--app-role', 'trailkeep_app_reindex']);
    expect(migrated.code, migrated.stderr).toBe(0);
    await server.psql(`ALTER ROLE trailkeep_app_reindex LOGIN PASSWORD 'app'`, { database: name });
    const app = new URL(db);
    app.username = 'trailkeep_app_reindex';
    app.password = 'app';
    const refused = await runCli(['reindex', '--db', app.toString()]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(
      /^trailkeep: reindex must connect as the owner of the Trailkeep tables/,
    );
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);

    const repaired = await runCli(['reindex', '--db', db, '--workspace', 'acme', '--json']);
    expect(repaired.code, repaired.stderr).toBe(0);
    expect(JSON.parse(repaired.stdout)).toMatchObject({
      workspace: 'acme',
      reindexed: { events: 40, rows: { event_ids: 40, event_targets: 40, actors: 1 } },
      verify: { ok: true, checked: 40 },
    });
    expect(await matches(db)).toEqual(before);
    expect((await runCli(['verify', '--db', db])).code).toBe(0);
  });
});
