/**
 * verify checks the stored Merkle tree against the chain: a tree hash altered, a tree row
 * removed or added directly in the SQLite file (append-only triggers dropped) is reported as
 * `tree_mismatch` naming the table, while the chain itself still verifies.
 */
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LogService } from '../../src/service/log-service.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';

const EVENTS = 300;
let dir: string;
let pristine: string;
let run = 0;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tk-tree-tamper-'));
  pristine = join(dir, 'pristine.db');
  const store = await openSqliteStore(pristine);
  await store.createWorkspace({ id: 'acme', name: 'Acme', settings: {} });
  const log = await LogService.open(store);
  const events = Array.from({ length: EVENTS }, (_, i) => ({
    id: `evt_${i + 1}`,
    action: 'job.updated',
    occurred_at: new Date(Date.UTC(2026, 4, 1, 9, i)).toISOString(),
    actor: { type: 'user', id: `u_${i % 4}` },
    targets: [{ type: 'job', id: `job_${i % 5}` }],
  }));
  for (let i = 0; i < EVENTS; i += 100)
    await log.ingest('acme', { events: events.slice(i, i + 100) });
  await store.close();
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function verifyAfter(
  attack: (db: Database.Database) => void,
): Promise<{ ok: boolean; kind?: string; message?: string }> {
  run += 1;
  const file = join(dir, `run-${run}.db`);
  copyFileSync(pristine, file);
  const db = new Database(file);
  db.exec('DROP TRIGGER tree_nodes_no_update; DROP TRIGGER tree_nodes_no_delete;');
  attack(db);
  db.close();
  const store = await openSqliteStore(file);
  try {
    const report = await (await LogService.open(store)).verify('acme');
    return report.problem
      ? { ok: report.ok, kind: report.problem.kind, message: report.problem.message }
      : { ok: report.ok };
  } finally {
    await store.close();
  }
}

describe('verify checks the stored tree against the chain', () => {
  it('an untouched copy verifies', async () => {
    expect(await verifyAfter(() => undefined)).toEqual({ ok: true });
  });

  it('one changed byte of any stored tree hash', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(0, 8),
        fc.nat(),
        fc.integer({ min: 0, max: 31 }),
        async (level, pick, at) => {
          const result = await verifyAfter((db) => {
            const rows = db
              .prepare('SELECT idx, hash FROM tree_nodes WHERE level = ? ORDER BY idx')
              .all(level) as { idx: number; hash: Buffer }[];
            const row = rows[pick % rows.length]!;
            row.hash[at] = row.hash[at]! ^ 0x01;
            db.prepare('UPDATE tree_nodes SET hash = ? WHERE level = ? AND idx = ?').run(
              row.hash,
              level,
              row.idx,
            );
          });
          expect(result.ok).toBe(false);
          expect(result.kind).toBe('tree_mismatch');
          expect(result.message).toContain('tree_nodes');
        },
      ),
      { numRuns: 8 },
    );
  });

  it('a tree row removed (the last or one in the middle) or one added', async () => {
    const attacks = [
      `DELETE FROM tree_nodes WHERE level = 0 AND idx = ${EVENTS - 1}`,
      'DELETE FROM tree_nodes WHERE level = 0 AND idx = 17',
      'DELETE FROM tree_nodes WHERE level = 8',
      `INSERT INTO tree_nodes (ws, level, idx, hash) SELECT ws, 0, ${EVENTS}, hash
         FROM tree_nodes WHERE level = 0 AND idx = 0`,
    ];
    for (const sql of attacks) {
      const result = await verifyAfter((db) => db.exec(sql));
      expect(result, sql).toMatchObject({ ok: false, kind: 'tree_mismatch' });
      expect(result.message).toContain('tree_nodes');
    }
  });
});
