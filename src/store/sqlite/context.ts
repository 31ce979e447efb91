/**
 * What every part of the SQLite adapter shares: the connection, a bounded cache of prepared
 * statements (filters produce a handful of distinct SQL texts), the workspace-key lookup and
 * the write transaction.
 */
import { TrailkeepError } from '../../core/errors.js';
import type { SqliteDatabase, SqliteStatement } from './driver.js';
import { sqliteErrorCode } from './driver.js';

const STATEMENT_CACHE_SIZE = 256;

export class SqliteContext {
  private readonly statements = new Map<string, SqliteStatement>();
  /** Workspace slug -> integer key. Workspaces are never deleted, so entries never go stale. */
  private readonly workspaceKeys = new Map<string, number>();

  constructor(
    readonly db: SqliteDatabase,
    readonly now: () => string,
    /** See FilterStats.sortBudget. */
    readonly sortBudget: number,
    /**
     * Whether the file has the actor substring index (schema version 2). Only a file opened
     * read-only, which is never migrated, can lack it; its searches then scan the actors.
     */
    readonly actorIndex = true,
    /**
     * Whether the file has the retention tables (schema version 6); like actorIndex, only a
     * file opened read-only can lack them, and then it holds no tombstones.
     */
    readonly retentionTables = true,
  ) {}

  /** A prepared statement for `sql`, reused across calls (least recently used evicted). */
  statement(sql: string): SqliteStatement {
    const cached = this.statements.get(sql);
    if (cached !== undefined) {
      this.statements.delete(sql);
      this.statements.set(sql, cached);
      return cached;
    }
    const prepared = this.db.prepare(sql);
    this.statements.set(sql, prepared);
    if (this.statements.size > STATEMENT_CACHE_SIZE) {
      const oldest = this.statements.keys().next().value;
      if (oldest !== undefined) this.statements.delete(oldest);
    }
    return prepared;
  }

  /** The integer key of a workspace, or undefined when there is no such workspace. */
  workspaceKey(id: string): number | undefined {
    const cached = this.workspaceKeys.get(id);
    if (cached !== undefined) return cached;
    const row = this.statement('SELECT wsk FROM workspaces WHERE id = ?').get(id) as
      { wsk: number } | undefined;
    if (row !== undefined) this.workspaceKeys.set(id, row.wsk);
    return row?.wsk;
  }

  requireWorkspaceKey(id: string): number {
    const key = this.workspaceKey(id);
    if (key === undefined) {
      throw new TrailkeepError('workspace_not_found', `workspace "${id}" does not exist`);
    }
    return key;
  }

  /**
   * Runs `work` in one IMMEDIATE transaction: the write lock is taken before anything is read,
   * so the head read inside cannot be overtaken by another process. A lock that stays busy past
   * busy_timeout becomes `overloaded` (503 with Retry-After), never an unbounded wait.
   */
  write<T>(work: () => T): T {
    try {
      this.statement('BEGIN IMMEDIATE').run();
    } catch (error) {
      throw busyAsOverloaded(error);
    }
    try {
      const result = work();
      this.statement('COMMIT').run();
      return result;
    } catch (error) {
      if (this.db.inTransaction) this.statement('ROLLBACK').run();
      throw busyAsOverloaded(error);
    }
  }
}

function busyAsOverloaded(error: unknown): unknown {
  const code = sqliteErrorCode(error);
  if (code === 'SQLITE_BUSY' || code === 'SQLITE_BUSY_SNAPSHOT') {
    return new TrailkeepError('overloaded', 'the SQLite database is locked by another writer', {
      retryAfter: 1,
      cause: error,
    });
  }
  return error;
}
