/** The SQLite baseline: better-sqlite3 and hand-written SQL over Trailkeep's own indexes. */
import Database from 'better-sqlite3';
import { statSync } from 'node:fs';
import type { HashedBody } from '../../src/core/chain.js';
import type { StoredEvent } from '../../src/core/event.js';
import type { ChainBytes, HandQuery, RawLog, RowCopier, WriteTime } from './raw.js';
import { startClock, valuesList } from './raw.js';

type Param = string | number | bigint | Buffer | null;

interface BodyRow {
  body: string;
  prev_hash: Buffer;
  hash: Buffer;
}

function toEvent(row: BodyRow): StoredEvent {
  const body = JSON.parse(row.body) as HashedBody;
  return { ...body, prev_hash: row.prev_hash.toString('hex'), hash: row.hash.toString('hex') };
}

/** The same settings the store uses (src/store/sqlite/index.ts), so both sides run alike. */
function configure(db: Database.Database): void {
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('cache_size = -65536');
  db.pragma('temp_store = MEMORY');
}

class SqliteRaw implements RawLog {
  private readonly keys = new Map<string, number>();

  constructor(
    private readonly db: Database.Database,
    private readonly path: string,
  ) {}

  private ws(workspace: string): number {
    let key = this.keys.get(workspace);
    if (key === undefined) {
      const row = this.db.prepare('SELECT wsk FROM workspaces WHERE id = ?').get(workspace) as
        { wsk: number } | undefined;
      if (row === undefined) throw new Error(`no workspace ${workspace}`);
      key = row.wsk;
      this.keys.set(workspace, key);
    }
    return key;
  }

  /** The hand-written WHERE for one filter family. */
  private where(workspace: string, query: HandQuery): { sql: string; params: Param[] } {
    const ws = this.ws(workspace);
    switch (query.kind) {
      case 'all':
        return query.before === undefined
          ? { sql: 'e.ws = ?', params: [ws] }
          : {
              sql: 'e.ws = ? AND (e.occurred_ms, e.seq) < (?, ?)',
              params: [ws, Date.parse(query.before.occurred_at), query.before.seq],
            };
      case 'time':
        return {
          sql: 'e.ws = ? AND e.occurred_ms >= ? AND e.occurred_ms < ?',
          params: [ws, Date.parse(query.since), Date.parse(query.until)],
        };
      case 'action':
        return { sql: 'e.ws = ? AND e.action = ?', params: [ws, query.action] };
      case 'category':
        return { sql: 'e.ws = ? AND e.category = ?', params: [ws, query.category] };
      case 'actor': {
        const s = query.substring;
        const actors =
          'e.actor_key IN (SELECT akey FROM actors WHERE ws = ? AND ' +
          '(instr(id_lc, ?) > 0 OR instr(name_lc, ?) > 0 OR instr(email_lc, ?) > 0))';
        return query.actorType === undefined
          ? { sql: `e.ws = ? AND ${actors}`, params: [ws, ws, s, s, s] }
          : {
              sql: `e.ws = ? AND ${actors} AND e.actor_type = ?`,
              params: [ws, ws, s, s, s, query.actorType],
            };
      }
      case 'target':
        return {
          sql: 'e.ws = ? AND e.eid IN (SELECT eid FROM event_targets WHERE ws = ? AND id = ? AND type = ?)',
          params: [ws, ws, query.id, query.type],
        };
      case 'ip':
        return {
          sql: 'e.ws = ? AND e.ip BETWEEN ? AND ?',
          params: [ws, Buffer.from(query.lo, 'hex'), Buffer.from(query.hi, 'hex')],
        };
      case 'combo':
        return {
          sql: 'e.ws = ? AND e.category = ? AND e.actor_type = ? AND e.outcome = ?',
          params: [ws, query.category, query.actorType, query.outcome],
        };
    }
  }

  page(workspace: string, query: HandQuery, limit: number): Promise<StoredEvent[]> {
    const { sql, params } = this.where(workspace, query);
    const rows = this.db
      .prepare(
        `SELECT e.body, e.prev_hash, e.hash FROM events e WHERE ${sql}
         ORDER BY e.occurred_ms DESC, e.seq DESC LIMIT ?`,
      )
      .all(...params, limit) as BodyRow[];
    return Promise.resolve(rows.map(toEvent));
  }

  count(workspace: string, query: HandQuery, cap: number): Promise<number> {
    const { sql, params } = this.where(workspace, query);
    const row = this.db
      .prepare(`SELECT count(*) AS n FROM (SELECT 1 FROM events e WHERE ${sql} LIMIT ?)`)
      .get(...params, cap) as { n: number };
    return Promise.resolve(row.n);
  }

  groupByFacets(workspace: string): Promise<number> {
    const ws = this.ws(workspace);
    let groups = 0;
    for (const column of ['action', 'category', 'actor_type', 'outcome', 'actor_key']) {
      groups += this.db
        .prepare(`SELECT ${column}, count(*) FROM events WHERE ws = ? GROUP BY ${column}`)
        .all(ws).length;
    }
    groups += this.db
      .prepare('SELECT type, count(*) FROM event_targets WHERE ws = ? GROUP BY type')
      .all(ws).length;
    return Promise.resolve(groups);
  }

  entity(workspace: string, type: string, id: string): Promise<StoredEvent[]> {
    const ws = this.ws(workspace);
    const rows = this.db
      .prepare(
        `SELECT e.body, e.prev_hash, e.hash FROM events e WHERE e.eid IN
           (SELECT eid FROM event_targets WHERE ws = ? AND id = ? AND type = ?)
         ORDER BY e.occurred_ms, e.seq`,
      )
      .all(ws, id, type) as BodyRow[];
    return Promise.resolve(rows.map(toEvent));
  }

  chain(workspace: string, fromSeq: number, limit: number): Promise<ChainBytes[]> {
    const rows = this.db
      .prepare(
        'SELECT seq, prev_hash, body FROM events WHERE ws = ? AND seq >= ? ORDER BY seq LIMIT ?',
      )
      .all(this.ws(workspace), fromSeq, limit) as {
      seq: number;
      prev_hash: Buffer;
      body: string;
    }[];
    return Promise.resolve(
      rows.map((r) => ({ seq: r.seq, prevHash: r.prev_hash.toString('hex'), body: r.body })),
    );
  }

  async streamBodies(workspace: string, write: (chunk: string) => Promise<void>): Promise<number> {
    const rows = this.db
      .prepare('SELECT body FROM events WHERE ws = ? ORDER BY occurred_ms DESC, seq DESC')
      .pluck()
      .iterate(this.ws(workspace)) as IterableIterator<string>;
    let n = 0;
    let chunk = '';
    for (const body of rows) {
      chunk += body + '\n';
      n += 1;
      if (chunk.length >= 65_536) {
        await write(chunk);
        chunk = '';
      }
    }
    if (chunk !== '') await write(chunk);
    return n;
  }

  sizeBytes(): Promise<Record<string, number>> {
    // Fold the WAL back into the main file, then measure both: what a backup would copy.
    this.db.pragma('wal_checkpoint(TRUNCATE)');
    const size = (path: string): number => {
      try {
        return statSync(path).size;
      } catch {
        return 0;
      }
    };
    return Promise.resolve({ database: size(this.path), wal: size(`${this.path}-wal`) });
  }

  close(): Promise<void> {
    this.db.close();
    return Promise.resolve();
  }
}

export function openSqliteRaw(path: string): RawLog {
  const db = new Database(path, { fileMustExist: true });
  db.pragma('cache_size = -65536');
  db.pragma('busy_timeout = 5000');
  return new SqliteRaw(db, path);
}

const EVENT_COLUMNS = [
  'eid',
  'ws',
  'seq',
  'id',
  'occurred_ms',
  'action',
  'category',
  'outcome',
  'operation',
  'actor_type',
  'actor_key',
  'ip',
  'prev_hash',
  'hash',
  'body',
];
const TARGET_COLUMNS = ['eid', 'pos', 'ws', 'type', 'id', 'name_lc', 'occurred_ms', 'seq'];

/** Multi-row INSERTs, prepared once per row count. */
class MultiRowInsert {
  private readonly statements = new Map<number, Database.Statement>();

  constructor(
    private readonly db: Database.Database,
    private readonly table: string,
    private readonly columns: readonly string[],
    private readonly maxRows: number,
  ) {}

  run(rows: readonly Param[][]): void {
    for (let start = 0; start < rows.length; start += this.maxRows) {
      const part = rows.slice(start, start + this.maxRows);
      let statement = this.statements.get(part.length);
      if (statement === undefined) {
        statement = this.db.prepare(
          `INSERT INTO ${this.table} (${this.columns.join(', ')}) VALUES ${valuesList(part.length, this.columns.length, false)}`,
        );
        this.statements.set(part.length, statement);
      }
      statement.run(...part.flat());
    }
  }
}

class SqliteCopier implements RowCopier {
  private readonly keys = new Map<string, number>();
  private readonly readEvents: Database.Statement;
  private readonly readTargets: Database.Statement;
  private readonly insertEvents: MultiRowInsert;
  private readonly insertTargets: MultiRowInsert;

  constructor(
    private readonly source: Database.Database,
    private readonly target: Database.Database,
  ) {
    this.readEvents = source
      .prepare(
        `SELECT ${EVENT_COLUMNS.join(', ')} FROM events WHERE ws = ? AND seq BETWEEN ? AND ? ORDER BY seq`,
      )
      .raw();
    this.readTargets = source
      .prepare(
        `SELECT ${TARGET_COLUMNS.join(', ')} FROM event_targets WHERE eid BETWEEN ? AND ? ORDER BY eid, pos`,
      )
      .raw();
    // 15 columns x 1,000 rows stays under SQLite's 32,766 bound parameters.
    this.insertEvents = new MultiRowInsert(target, 'events', EVENT_COLUMNS, 1000);
    this.insertTargets = new MultiRowInsert(target, 'event_targets', TARGET_COLUMNS, 1000);
  }

  private ws(workspace: string): number {
    let key = this.keys.get(workspace);
    if (key === undefined) {
      const row = this.source.prepare('SELECT wsk FROM workspaces WHERE id = ?').get(workspace) as
        { wsk: number } | undefined;
      if (row === undefined) throw new Error(`no workspace ${workspace}`);
      key = row.wsk;
      this.keys.set(workspace, key);
    }
    return key;
  }

  copy(workspace: string, fromSeq: number, toSeq: number): Promise<WriteTime> {
    const events = this.readEvents.all(this.ws(workspace), fromSeq, toSeq) as Param[][];
    const eids = events.map((row) => Number(row[0]));
    const targets = this.readTargets.all(Math.min(...eids), Math.max(...eids)) as Param[][];
    const clock = startClock();
    this.target.exec('BEGIN IMMEDIATE');
    try {
      this.insertEvents.run(events);
      this.insertTargets.run(targets);
      this.target.exec('COMMIT');
    } catch (error) {
      this.target.exec('ROLLBACK');
      throw error;
    }
    return Promise.resolve(clock());
  }

  close(): Promise<void> {
    this.source.close();
    this.target.close();
    return Promise.resolve();
  }
}

/** Both databases must exist; the target is a freshly migrated Trailkeep schema. */
export function openSqliteCopier(sourcePath: string, targetPath: string): RowCopier {
  const source = new Database(sourcePath, { fileMustExist: true, readonly: true });
  source.pragma('cache_size = -65536');
  const target = new Database(targetPath, { fileMustExist: true });
  configure(target);
  return new SqliteCopier(source, target);
}

/** The SQLite library version the driver was built with. */
export function sqliteVersion(): string {
  const db = new Database(':memory:');
  try {
    return String(db.prepare('SELECT sqlite_version()').pluck().get());
  } finally {
    db.close();
  }
}
