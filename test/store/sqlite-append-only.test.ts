/**
 * The events and event_targets tables refuse UPDATE and DELETE in the database itself, whoever
 * connects, and so do the rows of actors and facet_counts except their counters; and when
 * someone drops the triggers to tamper with an indexed copy, scanChain hands verify the altered
 * column so it differs from indexedColumns(body).
 */
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { indexedColumns } from '../../src/core/columns.js';
import type { StoredEvent } from '../../src/core/event.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import type { ChainRow, Store } from '../../src/store/store.js';
import { makeDraft } from './contract.js';

const folder = mkdtempSync(join(tmpdir(), 'trailkeep-sqlite-append-only-'));
const path = join(folder, 'log.db');
let store: Store;

beforeAll(async () => {
  store = await openSqliteStore(path);
  await store.createWorkspace({ id: 'acme', name: 'Acme', settings: {} });
  await store.append('acme', [
    makeDraft('acme', {
      targets: [
        { type: 'job', id: 'j1' },
        { type: 'user', id: 'u_9' },
      ],
    }),
    makeDraft('acme'),
  ]);
});
afterAll(async () => {
  await store.close();
  rmSync(folder, { recursive: true, force: true });
});

async function chain(): Promise<ChainRow[]> {
  const rows: ChainRow[] = [];
  for await (const row of store.scanChain('acme', 1)) rows.push(row);
  return rows;
}

function withRawConnection<T>(work: (db: Database.Database) => T): T {
  const db = new Database(path);
  try {
    return work(db);
  } finally {
    db.close();
  }
}

describe('append-only tables', () => {
  const refused = [
    `UPDATE events SET action = 'job.deleted'`,
    `UPDATE events SET body = replace(body, 'job.created', 'job.deleted') WHERE seq = 1`,
    'DELETE FROM events WHERE seq = 2',
    'DELETE FROM events',
    `UPDATE event_targets SET id = 'j2'`,
    'DELETE FROM event_targets',
  ];
  for (const sql of refused) {
    it(`refuses through an independent connection: ${sql}`, async () => {
      const before = await chain();
      withRawConnection((db) => {
        expect(() => db.prepare(sql).run()).toThrow('trailkeep: events are append-only');
      });
      expect(await chain()).toEqual(before);
    });
  }

  for (const sql of [`UPDATE tree_nodes SET hash = x'00'`, 'DELETE FROM tree_nodes']) {
    it(`refuses through an independent connection: ${sql}`, async () => {
      const root = await store.treeRoot('acme', 2);
      withRawConnection((db) => {
        expect(() => db.prepare(sql).run()).toThrow('trailkeep: the Merkle tree is append-only');
      });
      expect(await store.treeRoot('acme', 2)).toEqual(root);
    });
  }

  const derived = [
    `UPDATE actors SET name_lc = 'someone'`,
    `UPDATE actors SET email_lc = NULL, event_count = 0`,
    `UPDATE actors SET ws = ws + 1`,
    `UPDATE actors SET akey = akey + 100`,
    'DELETE FROM actors',
    `UPDATE facet_counts SET value = 'job.deleted' WHERE kind = 'action'`,
    'DELETE FROM facet_counts',
  ];
  for (const sql of derived) {
    it(`refuses what a derived row describes to change: ${sql}`, async () => {
      const before = JSON.stringify([await store.facets('acme'), await chain()]);
      withRawConnection((db) => {
        expect(() => db.prepare(sql).run()).toThrow('trailkeep: derived rows are append-only');
      });
      expect(JSON.stringify([await store.facets('acme'), await chain()])).toBe(before);
    });
  }

  it('lets the counters grow, as appends do (verify recomputes them)', () => {
    withRawConnection((db) => {
      expect(db.prepare('UPDATE actors SET event_count = event_count + 1').run().changes).toBe(1);
      expect(db.prepare('UPDATE facet_counts SET n = n + 1').run().changes).toBeGreaterThan(1);
      db.prepare('UPDATE actors SET event_count = event_count - 1').run();
      db.prepare('UPDATE facet_counts SET n = n - 1').run();
    });
  });
});

describe('tampering with an indexed copy', () => {
  it('shows in scanChain columns when the triggers were dropped first', async () => {
    withRawConnection((db) => {
      db.exec(`DROP TRIGGER events_no_update; DROP TRIGGER event_targets_no_update;
        UPDATE events SET action = 'job.deleted', occurred_ms = occurred_ms + 1 WHERE seq = 1;
        UPDATE event_targets SET id = 'j2' WHERE pos = 0;`);
    });
    const [first] = await chain();
    const expected = indexedColumns(
      JSON.parse(first!.body) as Omit<StoredEvent, 'prev_hash' | 'hash'>,
    );
    expect(first!.columns).not.toEqual(expected);
    expect(first!.columns['action']).toBe('job.deleted');
    expect(first!.columns['occurred_at']).not.toBe(expected.occurred_at);
    expect(first!.columns['targets']).toBe('[["job","j2"],["user","u_9"]]');
    expect(expected.targets).toBe('[["job","j1"],["user","u_9"]]');
  });
});
