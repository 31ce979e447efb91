/**
 * Pruning has one way through, on both engines; everything else stays refused by the database
 * itself, and what a database writer forges around a tombstone is caught by verify.
 * - SQLite: ad-hoc UPDATE and DELETE of events, tombstones, runs and holds are refused by the
 *   triggers; a tombstone without a recorded run, or with a rewritten hash, fails verify.
 * - PostgreSQL: the same refusals even to the superuser; the service role may call
 *   trailkeep_prune (and prunes through it) but its own DELETE is refused even with the prune
 *   flag set, and trailkeep_prune refuses a seq the policy does not allow.
 */
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAppRole, openPostgresStore } from '../../src/store/postgres/index.js';
import { createPool } from '../../src/store/postgres/driver.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import type { PruneRequest, Store } from '../../src/store/store.js';
import { createDatabase, usePostgres, type PostgresServer } from '../support/postgres.js';
import { makeDraft } from './contract.js';
import { verifyAll } from './retention-contract.js';

const DAY = 86_400_000;
const OLD = Date.parse('2025-01-01T00:00:00.000Z');
const old = (day: number): string => new Date(OLD + day * DAY).toISOString();

/** Five events received in early 2025 (seq 2 names the held target), one received now. */
async function seed(store: Store): Promise<void> {
  await store.createWorkspace({ id: 'acme', name: 'Acme', settings: {} });
  await store.append(
    'acme',
    [0, 1, 2, 3, 4].map((day) =>
      makeDraft('acme', {
        id: `e${day + 1}`,
        received_at: old(day),
        occurred_at: old(day),
        targets: [{ type: 'account', id: day === 1 ? 'acct_held' : `acct_${day}` }],
      }),
    ),
  );
  await store.append('acme', [
    makeDraft('acme', { id: 'e6', received_at: new Date().toISOString() }),
  ]);
  await store.setRetention('acme', { days: 30, set_at: old(0), set_by: null });
  await store.createHold({
    id: 'hold_1',
    workspace: 'acme',
    target_id: 'acct_held',
    reason: 'litigation',
    created_by: null,
    created_at: old(5),
  });
}

const RUN: PruneRequest = {
  run: 'prune_1',
  at: old(200),
  cutoff: old(100),
  policy_days: 30,
};

describe('SQLite: pruning is the one way through', () => {
  const folder = mkdtempSync(join(tmpdir(), 'trailkeep-retention-tamper-'));
  const path = join(folder, 'log.db');
  let store: Store;

  beforeAll(async () => {
    store = await openSqliteStore(path);
    await seed(store);
    expect((await store.prune('acme', RUN)).ranges).toEqual([
      [1, 1],
      [3, 5],
    ]);
  });
  afterAll(async () => {
    await store.close();
    rmSync(folder, { recursive: true, force: true });
  });

  function raw<T>(work: (db: Database.Database) => T): T {
    const db = new Database(path);
    try {
      return work(db);
    } finally {
      db.close();
    }
  }

  it.each([
    ['DELETE FROM events', 'events are append-only'],
    [`UPDATE events SET body = '{}' WHERE seq = 2`, 'events are append-only'],
    ['DELETE FROM event_targets', 'events are append-only'],
    ['DELETE FROM pruned_events', 'tombstones and pruning runs are append-only'],
    [`UPDATE pruned_events SET hash = x'00'`, 'tombstones and pruning runs are append-only'],
    [`UPDATE pruned_events SET run = 'prune_x'`, 'tombstones and pruning runs are append-only'],
    ['DELETE FROM prune_runs', 'tombstones and pruning runs are append-only'],
    [`UPDATE prune_runs SET ranges = '[]'`, 'tombstones and pruning runs are append-only'],
    ['DELETE FROM legal_holds', 'a legal hold is never deleted'],
    [`UPDATE legal_holds SET target_id = 'other'`, 'a legal hold is never deleted'],
    [`UPDATE legal_holds SET reason = 'x', released_at = 'now'`, 'a legal hold is never deleted'],
    ['DELETE FROM tree_nodes', 'the Merkle tree is append-only'],
  ])('refuses %s', async (statement, message) => {
    expect(() => raw((db) => db.exec(statement))).toThrow(message);
    expect((await verifyAll(store, 'acme')).problem).toBeUndefined();
  });

  it('a released hold cannot be reopened or released again', async () => {
    await store.releaseHold('acme', 'hold_1', { at: old(300), by: null, reason: 'done' });
    expect(() => raw((db) => db.exec(`UPDATE legal_holds SET released_at = NULL`))).toThrow(
      'a legal hold is never deleted',
    );
    expect(() => raw((db) => db.exec(`UPDATE legal_holds SET released_at = 'later'`))).toThrow(
      'a legal hold is never deleted',
    );
  });

  it('verify catches a body removed outside a pruning run, and a rewritten tombstone', async () => {
    const copy = join(folder, 'forged.db');
    raw((db) => db.exec(`VACUUM INTO '${copy}'`));
    const forge = (statements: string): void => {
      const db = new Database(copy);
      try {
        db.exec('DROP TRIGGER events_no_delete; DROP TRIGGER event_targets_no_delete');
        db.exec(statements);
      } finally {
        db.close();
      }
    };
    // seq 2 (the held event) "pruned" by hand: a tombstone naming a run that never happened.
    forge(`INSERT INTO pruned_events (ws, seq, prev_hash, hash, run)
             SELECT ws, seq, prev_hash, hash, 'prune_forged' FROM events WHERE seq = 2;
           DELETE FROM event_targets WHERE seq = 2; DELETE FROM events WHERE seq = 2;`);
    const forged = await openSqliteStore(copy);
    try {
      const { problem } = await verifyAll(forged, 'acme');
      expect(problem).toMatchObject({ seq: 2, kind: 'missing' });
      expect(problem?.message).toContain('no recorded pruning run covers it');
    } finally {
      await forged.close();
    }

    const second = join(folder, 'forged-hash.db');
    raw((db) => db.exec(`VACUUM INTO '${second}'`));
    const db = new Database(second);
    try {
      db.exec('DROP TRIGGER pruned_events_no_update');
      db.exec(`UPDATE pruned_events SET hash = zeroblob(32) WHERE seq = 3`);
    } finally {
      db.close();
    }
    const rewritten = await openSqliteStore(second);
    try {
      const { problem } = await verifyAll(rewritten, 'acme');
      expect(problem).toMatchObject({ kind: 'altered', seq: 3 });
    } finally {
      await rewritten.close();
    }
  });
});

describe('PostgreSQL: pruning is the one way through', () => {
  let server: PostgresServer;
  let release: () => Promise<void>;
  let url: string;
  let store: Store;
  const role = `tk_prune_${process.pid}`;
  const sql = (text: string) => server.psql(text, { database: new URL(url).pathname.slice(1) });

  beforeAll(async () => {
    ({ server, release } = await usePostgres());
    url = await createDatabase(server, 'retention_tamper');
    store = await openPostgresStore(url);
    await seed(store);
    const pool = await createPool(url);
    try {
      await createAppRole(pool, role, { password: 'app-secret' });
    } finally {
      await pool.end();
    }
  });
  afterAll(async () => {
    await store.close();
    await release();
  });

  it('refuses a seq the policy does not allow, even through trailkeep_prune', async () => {
    const call = (seqs: string, cutoff = old(100)) =>
      sql(
        `SET ROLE ${role}; SELECT trailkeep_prune('acme', ARRAY[${seqs}]::bigint[], 'prune_x', ` +
          `'${old(200)}', '${cutoff}', 30, '[]', '[]')`,
      );
    for (const [seqs, cutoff] of [
      ['2', old(100)], // held
      ['6', old(100)], // the newest, and recent
      ['1', new Date(Date.now() + DAY).toISOString()], // a cut-off the policy does not allow
    ] as const) {
      const result = await call(seqs, cutoff);
      expect(result.code, seqs).not.toBe(0);
      expect(result.stderr).toContain('trailkeep: pruning');
    }
    expect((await sql('SELECT count(*) FROM pruned_events')).stdout).toMatch(/\b0\b/);
  });

  it('the service role prunes through the function, and nothing else of the log moves', async () => {
    const appUrl = new URL(url);
    appUrl.username = role;
    appUrl.password = 'app-secret';
    const app = await openPostgresStore(appUrl.toString());
    try {
      expect((await app.prune('acme', RUN)).ranges).toEqual([
        [1, 1],
        [3, 5],
      ]);
      expect((await verifyAll(app, 'acme')).problem).toBeUndefined();
    } finally {
      await app.close();
    }
    for (const statement of [
      'DELETE FROM events',
      `SET trailkeep.prune = 'on'; DELETE FROM events`,
      `SET trailkeep.prune = 'on'; DELETE FROM event_targets`,
      `SET trailkeep.prune = 'on'; DELETE FROM facet_counts`,
      'DELETE FROM pruned_events',
      'UPDATE prune_runs SET ranges = $$[]$$',
      'DELETE FROM legal_holds',
      'UPDATE legal_holds SET reason = $$x$$',
    ]) {
      const result = await sql(`SET ROLE ${role}; ${statement}`);
      expect(result.code, statement).not.toBe(0);
      expect(result.stderr, statement).toContain('permission denied');
    }
  });

  it.each([
    ['DELETE FROM events WHERE seq = 2', 'DELETE on events'],
    ['DELETE FROM pruned_events', 'DELETE on pruned_events'],
    [`SET trailkeep.prune = 'on'; DELETE FROM pruned_events`, 'DELETE on pruned_events'],
    ['UPDATE pruned_events SET hash = $$\\x00$$', 'UPDATE on pruned_events'],
    ['TRUNCATE pruned_events', 'TRUNCATE on pruned_events'],
    ['DELETE FROM prune_runs', 'DELETE on prune_runs'],
    ['TRUNCATE prune_runs', 'TRUNCATE on prune_runs'],
    ['DELETE FROM legal_holds', 'DELETE on legal_holds'],
    ['UPDATE legal_holds SET target_id = $$other$$', 'UPDATE on legal_holds'],
  ])('refuses %s even to the superuser', async (statement, refusal) => {
    const result = await sql(statement);
    expect(result.code).not.toBe(0);
    // Row triggers fire on the partition that holds the row, and name it.
    const [op, table] = refusal.split(' on ') as [string, string];
    expect(result.stderr).toMatch(
      new RegExp(`trailkeep: ${op} on ${table}(_\\d{4}_\\d{2})? is refused`),
    );
    expect((await verifyAll(store, 'acme')).problem).toBeUndefined();
  });

  it('verify catches a body removed outside a pruning run', async () => {
    const forged = await sql(`BEGIN;
      ALTER TABLE events DISABLE TRIGGER USER;
      ALTER TABLE event_targets DISABLE TRIGGER USER;
      ALTER TABLE event_ids DISABLE TRIGGER USER;
      INSERT INTO pruned_events SELECT workspace, seq, prev_hash, hash, 'prune_forged'
        FROM events WHERE seq = 2;
      DELETE FROM event_targets WHERE seq = 2;
      DELETE FROM event_ids WHERE seq = 2;
      DELETE FROM events WHERE seq = 2;
      ALTER TABLE events ENABLE TRIGGER USER;
      ALTER TABLE event_targets ENABLE TRIGGER USER;
      ALTER TABLE event_ids ENABLE TRIGGER USER;
      COMMIT;`);
    expect(forged.code, forged.stderr).toBe(0);
    const { problem } = await verifyAll(store, 'acme');
    expect(problem).toMatchObject({ seq: 2, kind: 'missing' });
    expect(problem?.message).toContain('no recorded pruning run covers it');
  });
});
