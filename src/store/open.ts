/**
 * Opens the store a `--db` URL names: `sqlite:PATH`, `sqlite://PATH`, a bare file path, or
 * `postgres://` / `postgresql://`. Each engine is loaded only when it is chosen.
 */
import { TrailkeepError } from '../core/errors.js';
import type { Store } from './store.js';

export type StoreLocation =
  { engine: 'sqlite'; path: string } | { engine: 'postgres'; url: string };

/** Where a `--db` value points, without opening anything. */
export function parseStoreUrl(url: string): StoreLocation {
  const trimmed = url.trim();
  if (trimmed === '') throw new TrailkeepError('bad_request', 'the database URL is empty');
  if (/^postgres(ql)?:\/\//i.test(trimmed)) return { engine: 'postgres', url: trimmed };
  const sqlite = /^sqlite:(\/\/)?(.*)$/i.exec(trimmed);
  if (sqlite !== null) {
    const path = sqlite[2] ?? '';
    if (path === '') throw new TrailkeepError('bad_request', `"${url}" names no SQLite file`);
    return { engine: 'sqlite', path };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed)) {
    throw new TrailkeepError(
      'bad_request',
      `unsupported database URL "${url}": use sqlite:PATH or postgres://...`,
    );
  }
  return { engine: 'sqlite', path: trimmed };
}

interface PostgresModule {
  openPostgresStore: (url: string) => Promise<Store>;
}

export interface OpenOptions {
  /**
   * SQLite page cache in MiB. Long sequential reads (export, verify, copy) read each page once,
   * so a small cache keeps their memory flat without slowing them.
   */
  cacheSizeMb?: number;
}

/** For processes that only stream (export, verify, copy): memory stays flat at any size. */
export const STREAMING_READS: Readonly<OpenOptions> = Object.freeze({ cacheSizeMb: 8 });

export async function openStore(url: string, options: OpenOptions = {}): Promise<Store> {
  const location = parseStoreUrl(url);
  if (location.engine === 'sqlite') {
    const { openSqliteStore } = await import('./sqlite/index.js');
    return openSqliteStore(
      location.path,
      options.cacheSizeMb === undefined ? {} : { cacheSizeMb: options.cacheSizeMb },
    );
  }
  // A variable specifier keeps the PostgreSQL driver out of SQLite-only processes.
  const postgresModule = './postgres/index.js';
  const { openPostgresStore } = (await import(postgresModule)) as PostgresModule;
  return openPostgresStore(location.url);
}
