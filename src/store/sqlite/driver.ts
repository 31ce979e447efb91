/**
 * The small part of better-sqlite3 that the adapter uses, declared here so the driver's own types
 * never leak into the rest of the codebase (the same idea as Kysely's sqlite-dialect-config).
 * The driver is loaded on first open, not when this module is imported, so a PostgreSQL-only
 * deployment never loads the native addon.
 */

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
