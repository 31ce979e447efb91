/**
 * Where each engine's databases live during a run: SQLite files in a temporary folder, and a
 * throwaway PostgreSQL server (the test harness's, restarted with benchmark settings).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import pg from 'pg';
import { parseStoreUrl } from '../../src/store/open.js';
import {
  createDatabase,
  findPostgresBinDir,
  startPostgres,
  type PostgresServer,
} from '../../test/support/postgres.js';
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

/**
 * Settings for a 2-core machine with a few GB to spare. The test harness starts its servers
 * with 32 MB of shared buffers, which suits tests, not a million-event log.
 */
const BENCH_SETTINGS: Record<string, string> = {
  shared_buffers: '512MB',
  max_wal_size: '4GB',
  checkpoint_timeout: '15min',
  effective_cache_size: '4GB',
  work_mem: '16MB',
  maintenance_work_mem: '256MB',
  random_page_cost: '1.1',
  fsync: 'on',
  synchronous_commit: 'on',
};

function run(file: string, args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(file, [...args], { timeout: 120_000 }, (error, _stdout, stderr) => {
      if (error) reject(new Error(`${file} ${args.join(' ')} failed: ${stderr || error.message}`));
      else resolve();
    });
  });
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

/** Restarts the harness's server with BENCH_SETTINGS (command-line -c options win over files). */
async function restartWithBenchSettings(server: PostgresServer): Promise<void> {
  const binDir = findPostgresBinDir();
  if (binDir === undefined) throw new Error('PostgreSQL binaries disappeared');
  const dataDir = await queryOne(server.url, 'SHOW data_directory');
  const socketDir = await queryOne(server.url, 'SHOW unix_socket_directories');
  const port = new URL(server.url).port;
  const options = [
    `-c port=${port}`,
    '-c listen_addresses=127.0.0.1',
    `-c unix_socket_directories=${socketDir}`,
    '-c max_connections=200',
    ...Object.entries(BENCH_SETTINGS).map(([k, v]) => `-c ${k}=${v}`),
  ].join(' ');
  const args = ['-D', dataDir, '-o', options, '-l', join(dirname(dataDir), 'server.log')];
  const pgCtl = join(binDir, 'pg_ctl');
  const restart = [...args, '-w', '-t', '120', '-m', 'fast', 'restart'];
  if (process.getuid?.() === 0) await run('runuser', ['-u', 'postgres', '--', pgCtl, ...restart]);
  else await run(pgCtl, restart);
}

async function startPostgresForBench(): Promise<EngineServer> {
  const server = await startPostgres();
  try {
    await restartWithBenchSettings(server);
    const version = await queryOne(server.url, 'SHOW server_version');
    const settings: Record<string, string> = {};
    for (const key of Object.keys(BENCH_SETTINGS)) {
      settings[key] = await queryOne(server.url, `SHOW ${key}`);
    }
    return {
      name: 'postgres',
      version,
      settings,
      createDatabase: (label) => createDatabase(server, label),
      dropDatabase: async (url) => {
        const name = new URL(url).pathname.slice(1);
        await server.psql(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
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
