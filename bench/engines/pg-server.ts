/**
 * A throwaway PostgreSQL server for a benchmark run, started from the machine's own binaries
 * (initdb, pg_ctl) on a free port of 127.0.0.1 with settings for a 2-core machine, its data in a
 * temporary folder removed when it stops. It mirrors test/support/postgres.ts (which the build
 * cannot include, as it leans on vitest) with the benchmark's settings instead of the tests'.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, realpathSync } from 'node:fs';
import { chown, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';

/** Settings for a 2-core machine with a few GB to spare; durability as in production. */
export const BENCH_SETTINGS: Readonly<Record<string, string>> = {
  shared_buffers: '512MB',
  max_wal_size: '4GB',
  checkpoint_timeout: '15min',
  effective_cache_size: '4GB',
  work_mem: '16MB',
  maintenance_work_mem: '256MB',
  random_page_cost: '1.1',
  fsync: 'on',
  synchronous_commit: 'on',
  max_connections: '200',
};

export interface BenchPostgres {
  /** `postgres://postgres@127.0.0.1:PORT/postgres`, trust authentication. */
  url: string;
  stop(): Promise<void>;
}

function findBinDir(): string | undefined {
  const hasAll = (dir: string): boolean =>
    ['initdb', 'pg_ctl'].every((name) => existsSync(join(dir, name)));
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    const initdb = join(dir, 'initdb');
    if (dir !== '' && existsSync(initdb)) {
      const real = dirname(realpathSync(initdb));
      if (hasAll(real)) return real;
      if (hasAll(dir)) return dir;
    }
  }
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((name) => /^\d+(\.\d+)?$/.test(name))
    .sort((a, b) => Number(b) - Number(a));
  return versions.map((v) => join(root, v, 'bin')).find(hasAll);
}

function run(file: string, args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(
      file,
      [...args],
      { timeout: 120_000, env: { ...process.env, LC_ALL: 'C' } },
      (error, _stdout, stderr) => {
        if (error) reject(new Error(`${file} ${args[0] ?? ''} failed: ${stderr || error.message}`));
        else resolve();
      },
    );
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function postgresIds(): Promise<{ uid: number; gid: number }> {
  const line = (await readFile('/etc/passwd', 'utf8'))
    .split('\n')
    .find((l) => l.startsWith('postgres:'));
  const [, , uid, gid] = line?.split(':') ?? [];
  if (uid === undefined || gid === undefined) {
    throw new Error('running as root, but there is no `postgres` user to run the server as');
  }
  return { uid: Number(uid), gid: Number(gid) };
}

export async function startBenchPostgres(): Promise<BenchPostgres> {
  const binDir = findBinDir();
  if (binDir === undefined) {
    throw new Error(
      'PostgreSQL server binaries (initdb, pg_ctl) were not found on PATH or under ' +
        '/usr/lib/postgresql/*/bin; install PostgreSQL or run with --engines sqlite',
    );
  }
  // PostgreSQL refuses to run as root: then every binary runs as the `postgres` user.
  const asRoot = process.getuid?.() === 0;
  const pgRun = (binary: string, args: readonly string[]): Promise<void> =>
    asRoot
      ? run('runuser', ['-u', 'postgres', '--', join(binDir, binary), ...args])
      : run(join(binDir, binary), args);
  const root = await mkdtemp(join(tmpdir(), 'trailkeep-bench-pg-'));
  const dataDir = join(root, 'data');
  const socketDir = join(root, 'sock');
  await mkdir(dataDir, { mode: 0o700 });
  await mkdir(socketDir, { mode: 0o700 });
  if (asRoot) {
    const { uid, gid } = await postgresIds();
    for (const path of [root, dataDir, socketDir]) await chown(path, uid, gid);
  }
  try {
    await pgRun('initdb', [
      '-D',
      dataDir,
      '-U',
      'postgres',
      '--auth=trust',
      '--encoding=UTF8',
      '--locale=C',
      '--no-sync',
    ]);
    const port = await freePort();
    const options = [
      `-c port=${port}`,
      '-c listen_addresses=127.0.0.1',
      `-c unix_socket_directories=${socketDir}`,
      ...Object.entries(BENCH_SETTINGS).map(([k, v]) => `-c ${k}=${v}`),
    ].join(' ');
    const log = join(root, 'server.log');
    await pgRun('pg_ctl', ['-D', dataDir, '-o', options, '-l', log, '-w', '-t', '120', 'start']);
    let stopped = false;
    return {
      url: `postgres://postgres@127.0.0.1:${port}/postgres`,
      stop: async () => {
        if (stopped) return;
        stopped = true;
        await pgRun('pg_ctl', ['-D', dataDir, '-m', 'fast', '-w', 'stop']).catch(() => undefined);
        await rm(root, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await pgRun('pg_ctl', ['-D', dataDir, '-m', 'immediate', '-w', 'stop']).catch(() => undefined);
    await rm(root, { recursive: true, force: true });
    throw error;
  }
}
