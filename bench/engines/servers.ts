/**
 * Where each engine's databases live during a run: SQLite files in a temporary folder, and a
 * throwaway PostgreSQL server with benchmark settings (./pg-server.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { parseStoreUrl } from '../../src/store/open.js';
import { BENCH_SETTINGS, startBenchPostgres } from './pg-server.js';
import type { EngineName } from '../options.js';

export interface EngineServer {
  readonly name: EngineName;
  readonly version: string;
  /** Settings that shape the figures, for the report. */
  readonly settings: Record<string, string>;
  /** A new, empty database; returns its --db URL. */
  createDatabase(label: string): Promise<string>;
  dropDatabase(url: string): Promise<void>;
  /** What autovacuum would do on its own a little later: fresh statistics, visibility map. */
  settle(url: string): Promise<void>;
  stop(): Promise<void>;
}

export async function startEngine(name: EngineName): Promise<EngineServer> {
  return name === 'sqlite' ? startSqlite() : startPostgresForBench();
}

async function startSqlite(): Promise<EngineServer> {
  const { sqliteVersion } = await import('./sqlite-raw.js');
  const dir = mkdtempSync(join(tmpdir(), 'trailkeep-bench-'));
  return {
    name: 'sqlite',
    version: sqliteVersion(),
    settings: {
      journal_mode: 'WAL',
      synchronous: 'FULL',
      cache_size: '64 MiB per connection',
      directory: dir,
    },
    createDatabase: (label) => Promise.resolve(`sqlite:${join(dir, `${label}.db`)}`),
    dropDatabase: (url) => {
      const { path } = parseStoreUrl(url) as { path: string };
      for (const suffix of ['', '-wal', '-shm']) rmSync(`${path}${suffix}`, { force: true });
      return Promise.resolve();
    },
    settle: () => Promise.resolve(),
    stop: () => {
      rmSync(dir, { recursive: true, force: true });
      return Promise.resolve();
    },
  };
}

async function queryOne(url: string, sql: string): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const result = await client.query<Record<string, string>>(sql);
    return Object.values(result.rows[0] ?? {})[0] ?? '';
  } finally {
    await client.end();
  }
}

function databaseUrl(serverUrl: string, name: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

async function startPostgresForBench(): Promise<EngineServer> {
  const server = await startBenchPostgres();
  try {
    const version = await queryOne(server.url, 'SHOW server_version');
    const settings: Record<string, string> = {};
    for (const key of Object.keys(BENCH_SETTINGS).filter((k) => k !== 'max_connections')) {
      settings[key] = await queryOne(server.url, `SHOW ${key}`);
    }
    return {
      name: 'postgres',
      version,
      settings,
      createDatabase: async (label) => {
        const name = `bench_${label.replace(/[^a-z0-9_]/gi, '_').toLowerCase()}`;
        await queryOne(server.url, `CREATE DATABASE ${name}`);
        return databaseUrl(server.url, name);
      },
      dropDatabase: async (url) => {
        const name = new URL(url).pathname.slice(1);
        await queryOne(server.url, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      },
      settle: async (url) => {
        const client = new pg.Client({ connectionString: url });
        await client.connect();
        try {
          await client.query('VACUUM (ANALYZE)');
        } finally {
          await client.end();
        }
      },
      stop: () => server.stop(),
    };
  } catch (error) {
    await server.stop();
    throw error;
  }
}
