/**
 * The small part of better-sqlite3 that the adapter uses, declared here so the driver's own types
 * never leak into the rest of the codebase (the same idea as Kysely's sqlite-dialect-config).
 * The driver is loaded on first open, not when this module is imported, so a PostgreSQL-only
 * deployment never loads the native addon.
 */
import { TrailkeepError, isTrailkeepError } from '../../core/errors.js';

/** A value SQLite accepts as a bound parameter. */
export type SqlParam = string | number | bigint | Buffer | null;

export interface RunResult {
  changes: number;
  lastInsertRowid: number | bigint;
}

export interface SqliteStatement {
  run(...params: readonly SqlParam[]): RunResult;
  get(...params: readonly SqlParam[]): unknown;
  all(...params: readonly SqlParam[]): unknown[];
  iterate(...params: readonly SqlParam[]): IterableIterator<unknown>;
}

export interface SqliteDatabase {
  prepare(sql: string): SqliteStatement;
  exec(sql: string): void;
  pragma(source: string, options?: { simple?: boolean }): unknown;
  close(): void;
  readonly inTransaction: boolean;
}

interface SqliteOpenOptions {
  readonly?: boolean;
  fileMustExist?: boolean;
  /** Milliseconds to wait for another connection's write lock (busy_timeout). */
  timeout?: number;
}

type SqliteConstructor = new (path: string, options?: SqliteOpenOptions) => SqliteDatabase;

let constructorPromise: Promise<SqliteConstructor> | undefined;

async function loadDriver(): Promise<SqliteConstructor> {
  const module = (await import('better-sqlite3')) as unknown as { default: SqliteConstructor };
  return module.default;
}

export async function openSqliteDatabase(
  path: string,
  options: SqliteOpenOptions,
): Promise<SqliteDatabase> {
  constructorPromise ??= loadDriver();
  const Database = await constructorPromise;
  return new Database(path, options);
}

/** The SQLite result code of a driver error (`SQLITE_BUSY`, `SQLITE_CONSTRAINT_UNIQUE`...). */
export function sqliteErrorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  const { code } = error;
  return typeof code === 'string' ? code : undefined;
}

/**
 * A driver failure that is the condition of the store rather than a bug, as a registry error:
 * a full disk (or a file size limit) and an I/O error are 503s with Retry-After, never a 500.
 * SQLite rolls the failed transaction back whole, so the refused batch left nothing behind.
 */
export function translateSqliteError(error: unknown): unknown {
  if (isTrailkeepError(error)) return error;
  const code = sqliteErrorCode(error);
  if (code === undefined) return error;
  const message = error instanceof Error ? error.message : code;
  if (code === 'SQLITE_FULL') {
    return new TrailkeepError(
      'store_full',
      `the SQLite database cannot grow (disk full or a file size limit): ${message}`,
      { retryAfter: 30, cause: error },
    );
  }
  if (code.startsWith('SQLITE_IOERR') || code.startsWith('SQLITE_CANTOPEN')) {
    return new TrailkeepError(
      'store_io_error',
      `the SQLite database failed to read or write (${code}: ${message}); check the disk, ` +
        "its free space and the server process's file size limit",
      { retryAfter: 5, cause: error },
    );
  }
  if (code === 'SQLITE_NOMEM') {
    return new TrailkeepError('overloaded', `SQLite ran out of memory: ${message}`, {
      retryAfter: 5,
      cause: error,
    });
  }
  return error;
}
