/**
 * Migration 5 builds the Merkle tree of every workspace a database already holds, from the
 * stored chain hashes, on both engines: the database is taken back to before it (table dropped,
 * version unrecorded) and opened again. The backfilled tree is the reference tree of the chain,
 * and appends continue it.
 */
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgresStore } from '../../src/store/postgres/index.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import type { Store } from '../../src/store/store.js';
import { ReferenceTree, refLeafHash } from '../support/merkle-reference.js';
import { createDatabase, usePostgres, type PostgresServer } from '../support/postgres.js';
import { generateDrafts } from './contract.js';

const SIZES = { small: 3, tiles: 600 };

async function fill(store: Store): Promise<void> {
  for (const [ws, n] of Object.entries(SIZES)) {
    await store.createWorkspace({ id: ws, name: ws, settings: {} });
    for (let i = 0; i < n; i += 250) {
      await store.append(ws, generateDrafts(ws, Math.min(250, n - i), 50 + i));
    }
  }
  await store.createWorkspace({ id: 'empty', name: 'empty', settings: {} });
}

async function expectReferenceTrees(store: Store): Promise<void> {
  for (const ws of [...Object.keys(SIZES), 'empty']) {
    const hashes: string[] = [];
    for await (const row of store.scanChain(ws, 1)) hashes.push(row.hash);
    const ref = new ReferenceTree(hashes.map((h) => refLeafHash(Buffer.from(h, 'hex'))));
    expect(await store.treeSize(ws)).toBe(hashes.length);
    for (const size of [0, 1, 255, 256, 257, 512, hashes.length]) {
      if (size > hashes.length) continue;
      expect((await store.treeRoot(ws, size)).equals(ref.root(size)), `${ws} ${size}`).toBe(true);
    }
  }
}

async function appendAndCheck(store: Store): Promise<void> {
  await store.append('tiles', generateDrafts('tiles', 40, 999));
  await expectReferenceTrees(store);
}

describe('migration 5 backfills the Merkle tree', () => {
  let folder: string;
  beforeAll(() => {
    folder = mkdtempSync(join(tmpdir(), 'trailkeep-tree-backfill-'));
  });
  afterAll(() => rmSync(folder, { recursive: true, force: true }));

  it('on SQLite', async () => {
    const path = join(folder, 'log.db');
    const before = await openSqliteStore(path);
    await fill(before);
    await before.close();
    const raw = new Database(path);
    // Back to version 4: without the tree, nor the tables of migrations 6 (retention) and 7
    // (witnesses).
    raw.exec(
      'DROP TABLE tree_nodes; DROP TABLE pruned_events; DROP TABLE prune_runs; ' +
        'DROP TABLE legal_holds; DROP TABLE retention_policies; DROP TABLE witnesses; ' +
        'DELETE FROM schema_migrations WHERE version >= 5;',
    );
    raw.close();
    const after = await openSqliteStore(path);
    try {
      await expectReferenceTrees(after);
      await appendAndCheck(after);
    } finally {
      await after.close();
    }
  });

  describe('on PostgreSQL', () => {
    let server: PostgresServer;
    let release: () => Promise<void>;
    beforeAll(async () => {
      ({ server, release } = await usePostgres());
    });
    afterAll(async () => {
      await release();
    });

    it('rebuilds every workspace', async () => {
      const url = await createDatabase(server, 'tree_backfill');
      const before = await openPostgresStore(url);
      await fill(before);
      await before.close();
      const database = new URL(url).pathname.slice(1);
      const dropped = await server.psql(
        // Migration 6 changed the tree's guard; taking the table away takes that along.
        // Migration 7's tables and functions go too (its guard functions are replaced anew), and
        // migration 8's witnesses.
        'DROP TABLE tree_nodes, pruned_events, prune_runs, legal_holds, retention_policies, ' +
          'witnesses; ' +
          'DROP FUNCTION trailkeep_prune(text, bigint[], text, text, text, integer, text, text); ' +
          'DROP FUNCTION trailkeep_hold_history(); ' +
          'DELETE FROM trailkeep_migrations WHERE version >= 5;',
        { database },
      );
      expect(dropped.code, dropped.stderr).toBe(0);
      const after = await openPostgresStore(url);
      try {
        await expectReferenceTrees(after);
        await appendAndCheck(after);
      } finally {
        await after.close();
      }
    });
  });
});
