/** Schema versions: migrations run once on open, and a newer file than the code is refused. */
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TrailkeepError } from '../../src/core/errors.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import { LogService } from '../../src/service/log-service.js';
import { LATEST_VERSION, MIGRATIONS } from '../../src/store/sqlite/schema.js';
import { generateDrafts } from './contract.js';

const folder = mkdtempSync(join(tmpdir(), 'trailkeep-sqlite-migrations-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

function versions(path: string): number[] {
  const db = new Database(path, { readonly: true });
  try {
    return (
      db.prepare('SELECT version FROM schema_migrations ORDER BY version').all() as {
        version: number;
      }[]
    ).map((row) => row.version);
  } finally {
    db.close();
  }
}

describe('SQLite migrations', () => {
  it('records each version once, however often the file is opened and migrated', async () => {
    const path = join(folder, 'twice.db');
    const first = await openSqliteStore(path);
    const second = await openSqliteStore(path);
    await Promise.all([first.migrate(), second.migrate()]);
    await first.close();
    await second.close();
    expect(versions(path)).toEqual(MIGRATIONS.map((m) => m.version));
  });

  it('version 2 indexes the actors a version-1 file already holds, and every new one', async () => {
    const path = join(folder, 'from-v1.db');
    const old = new Database(path);
    old.exec(
      'CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL) STRICT',
    );
    old.exec(MIGRATIONS.find((m) => m.version === 1)!.sql);
    old
      .prepare(`INSERT INTO schema_migrations VALUES (1, 'initial', ?)`)
      .run('2026-01-01T00:00:00Z');
    old
      .prepare(`INSERT INTO workspaces VALUES (1, 'acme', 'Acme', '2026-01-01T00:00:00Z', '{}')`)
      .run();
    old
      .prepare(
        `INSERT INTO actors (ws, type, id, name, email, id_lc, name_lc, email_lc)
         VALUES (1, 'user', 'u_1', 'Alex Kim', 'Alex@Example.com', 'u_1', 'alex kim', 'alex@example.com')`,
      )
      .run();
    old.close();
    // Read-only, the file is not migrated: actor searches scan instead of failing.
    const reader = await openSqliteStore(path, { readonly: true });
    const alex = { clauses: [{ key: 'actor' as const, negated: false, values: ['alex@'] }] };
    expect(await reader.count('acme', alex, 10)).toBe(0);
    expect(await reader.page('acme', alex, { limit: 5, direction: 'older' })).toEqual([]);
    await reader.close();
    const store = await openSqliteStore(path);
    await store.migrate();
    await store.close();
    const db = new Database(path);
    try {
      db.prepare(
        `INSERT INTO actors (ws, type, id, name, email, id_lc, name_lc, email_lc)
         VALUES (1, 'agent', 'a_9', NULL, 'ci@example.com', 'a_9', NULL, 'ci@example.com')`,
      ).run();
      const found = (phrase: string): string[] =>
        (
          db
            .prepare(
              `SELECT a.id FROM actors a WHERE a.akey IN
                 (SELECT rowid FROM actors_search WHERE actors_search MATCH ?) ORDER BY a.id`,
            )
            .all(`"${phrase}"`) as { id: string }[]
        ).map((row) => row.id);
      expect(found('alex@')).toEqual(['u_1']);
      expect(found('example.com')).toEqual(['a_9', 'u_1']);
      expect(found('kim')).toEqual(['u_1']);
      expect(found('nobody')).toEqual([]);
    } finally {
      db.close();
    }
    expect(versions(path)).toEqual(MIGRATIONS.map((m) => m.version));
  });

  it('version 4 guards the actors and facet counters of a version-3 file, which verifies', async () => {
    const path = join(folder, 'from-v2.db');
    const made = await openSqliteStore(path);
    await made.createWorkspace({ id: 'acme', name: 'Acme', settings: {} });
    await made.append('acme', generateDrafts('acme', 120, 5));
    await made.close();
    // Back to what version 3 left: the same tables without migration 4's triggers (and without
    // the tree of migration 5, which the upgrade builds again, nor migration 6's tables).
    const old = new Database(path);
    for (const name of [
      'actors_no_update',
      'actors_no_delete',
      'facet_counts_no_update',
      'facet_counts_no_delete',
    ]) {
      old.exec(`DROP TRIGGER ${name}`);
    }
    old.exec('DROP TABLE tree_nodes');
    // Later migrations' tables too, so that what is left is exactly version 3.
    old.exec(
      'DROP TABLE pruned_events; DROP TABLE prune_runs; DROP TABLE legal_holds; ' +
        'DROP TABLE retention_policies; DROP TABLE witnesses',
    );
    old.exec('DELETE FROM schema_migrations WHERE version > 3');
    old.exec(`UPDATE actors SET name_lc = name_lc WHERE akey = 1`);
    old.close();
    expect(versions(path)).toEqual([1, 2, 3]);

    const store = await openSqliteStore(path);
    try {
      expect(versions(path)).toEqual(MIGRATIONS.map((m) => m.version));
      const log = await LogService.open(store);
      expect((await log.verify('acme')).ok).toBe(true);
      const db = new Database(path);
      try {
        expect(() => db.exec(`UPDATE actors SET name_lc = 'x'`)).toThrow(
          'trailkeep: derived rows are append-only',
        );
        expect(() => db.exec('DELETE FROM facet_counts')).toThrow(
          'trailkeep: derived rows are append-only',
        );
      } finally {
        db.close();
      }
      await store.append('acme', generateDrafts('acme', 5, 6));
      expect((await log.verify('acme')).ok).toBe(true);
    } finally {
      await store.close();
    }
  });

  it('switches the file to the WAL journal', async () => {
    const path = join(folder, 'pragmas.db');
    const store = await openSqliteStore(path);
    await store.close();
    const db = new Database(path, { readonly: true });
    try {
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    } finally {
      db.close();
    }
  });

  it('refuses a file whose schema is newer than this code, read-write or read-only', async () => {
    const path = join(folder, 'future.db');
    await (await openSqliteStore(path)).close();
    const db = new Database(path);
    db.prepare(
      `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, 'future', ?)`,
    ).run(LATEST_VERSION + 1, new Date().toISOString());
    db.close();
    for (const options of [{}, { readonly: true }]) {
      const error: unknown = await openSqliteStore(path, options).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TrailkeepError);
      expect((error as TrailkeepError).code).toBe('schema_too_new');
      expect((error as TrailkeepError).message).toContain(`version ${LATEST_VERSION + 1}`);
    }
  });

  it('opens read-only without writing and still reads', async () => {
    const path = join(folder, 'readonly.db');
    const writer = await openSqliteStore(path);
    await writer.createWorkspace({ id: 'acme', name: 'Acme', settings: {} });
    await writer.close();
    const reader = await openSqliteStore(path, { readonly: true });
    try {
      expect((await reader.getWorkspace('acme'))?.name).toBe('Acme');
      await expect(reader.createWorkspace({ id: 'b', name: 'B', settings: {} })).rejects.toThrow();
    } finally {
      await reader.close();
    }
  });
});
