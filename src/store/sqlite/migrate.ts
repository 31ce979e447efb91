/**
 * Applies the schema migrations in one IMMEDIATE transaction, so several processes opening the
 * same file at once serialize on SQLite's write lock and each migration runs exactly once.
 */
import { TrailkeepError } from '../../core/errors.js';
import type { SqliteDatabase } from './driver.js';
import { LATEST_VERSION, MIGRATIONS } from './schema.js';

const CREATE_LEDGER = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  applied_at TEXT NOT NULL
) STRICT`;

/** The schema version recorded in the file, 0 for a new file. */
export function recordedVersion(db: SqliteDatabase): number {
  const ledger = db
    .prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'`)
    .get();
  if (ledger === undefined) return 0;
  const row = db.prepare('SELECT max(version) AS version FROM schema_migrations').get() as {
    version: number | null;
  };
  return row.version ?? 0;
}

export function refuseNewerSchema(version: number): void {
  if (version > LATEST_VERSION) {
    throw new TrailkeepError(
      'schema_too_new',
      `the database schema is at version ${version} but this Trailkeep knows only up to ` +
        `version ${LATEST_VERSION}; upgrade Trailkeep before opening this database`,
      { extra: { database_version: version, code_version: LATEST_VERSION } },
    );
  }
}

export function migrateSchema(db: SqliteDatabase, now: () => string): void {
  db.exec('BEGIN IMMEDIATE');
  try {
    db.exec(CREATE_LEDGER);
    const current = recordedVersion(db);
    refuseNewerSchema(current);
    const record = db.prepare(
      'INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)',
    );
    for (const migration of MIGRATIONS) {
      if (migration.version <= current) continue;
      db.exec(migration.sql);
      migration.backfill?.(db);
      record.run(migration.version, migration.name, now());
    }
    db.exec('COMMIT');
  } catch (error) {
    if (db.inTransaction) db.exec('ROLLBACK');
    throw error;
  }
}
