/**
 * A witness's memory: the latest checkpoint it cosigned, per log origin, in one SQLite file.
 * The spec requires the check of the old size and the update to be one atomic step (otherwise
 * two racing requests can roll a log back): `exchange` runs both inside one BEGIN IMMEDIATE
 * transaction, which also serializes several witness processes sharing the file. WAL with
 * synchronous=FULL makes a committed cosignature survive a crash; a crash before COMMIT leaves
 * the previous record exactly as it was.
 */
import Database from 'better-sqlite3';

export interface WitnessedCheckpoint {
  readonly origin: string;
  readonly size: number;
  readonly root: Buffer;
  /** The checkpoint note as the log sent it, kept as evidence. */
  readonly checkpoint: string;
  /** POSIX seconds of the cosignature. */
  readonly cosignedAt: number;
}

interface Row {
  origin: string;
  size: number;
  root: Buffer;
  checkpoint: string;
  cosigned_at: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS witnessed (
  origin TEXT PRIMARY KEY,
  size INTEGER NOT NULL CHECK (size >= 0),
  root BLOB NOT NULL CHECK (length(root) = 32),
  checkpoint TEXT NOT NULL,
  cosigned_at INTEGER NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS refusals (
  id INTEGER PRIMARY KEY,
  origin TEXT NOT NULL,
  at INTEGER NOT NULL,
  status INTEGER NOT NULL,
  reason TEXT NOT NULL,
  checkpoint TEXT NOT NULL
) STRICT;
`;

export class WitnessState {
  private readonly db: Database.Database;

  private constructor(file: string) {
    this.db = new Database(file, { timeout: 5000 });
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.exec(SCHEMA);
  }

  static open(file: string): WitnessState {
    return new WitnessState(file);
  }

  get(origin: string): WitnessedCheckpoint | undefined {
    const row = this.db.prepare('SELECT * FROM witnessed WHERE origin = ?').get(origin) as
      Row | undefined;
    return row === undefined ? undefined : fromRow(row);
  }

  list(): WitnessedCheckpoint[] {
    return (this.db.prepare('SELECT * FROM witnessed ORDER BY origin').all() as Row[]).map(fromRow);
  }

  /**
   * In one transaction: reads the stored record for `origin` and hands it to `decide`, which
   * either returns the new record to store (it is written before the transaction commits) or
   * throws, leaving the record as it was.
   */
  exchange<T>(
    origin: string,
    decide: (stored: WitnessedCheckpoint | undefined) => { next?: WitnessedCheckpoint; result: T },
  ): T {
    const run = this.db.transaction(() => {
      const { next, result } = decide(this.get(origin));
      if (next !== undefined) {
        this.db
          .prepare(
            `INSERT INTO witnessed (origin, size, root, checkpoint, cosigned_at) VALUES (?, ?, ?, ?, ?)
             ON CONFLICT (origin) DO UPDATE SET size = excluded.size, root = excluded.root,
               checkpoint = excluded.checkpoint, cosigned_at = excluded.cosigned_at`,
          )
          .run(next.origin, next.size, next.root, next.checkpoint, next.cosignedAt);
      }
      return result;
    });
    return run.immediate();
  }

  /** Evidence of a log that signed something inconsistent (the spec lets a witness keep it). */
  recordRefusal(origin: string, at: number, status: number, reason: string, note: string): void {
    this.db
      .prepare(
        'INSERT INTO refusals (origin, at, status, reason, checkpoint) VALUES (?, ?, ?, ?, ?)',
      )
      .run(origin, at, status, reason, note);
  }

  close(): void {
    this.db.close();
  }
}

function fromRow(row: Row): WitnessedCheckpoint {
  return {
    origin: row.origin,
    size: row.size,
    root: row.root,
    checkpoint: row.checkpoint,
    cosignedAt: row.cosigned_at,
  };
}
