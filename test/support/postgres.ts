/**
 * A throwaway PostgreSQL server for tests, started from the machine's own binaries (initdb,
 * pg_ctl, psql) on a free port of 127.0.0.1, with its data in a fresh temporary folder that is
 * removed when it stops. There is no mock: when no PostgreSQL is installed, starting fails with
 * what to install, so a test run can never pass by silently skipping the PostgreSQL suite.
 *
 * Several test files share one server through test/support/postgres-global.ts; each file makes
 * its own database with `createDatabase` so that files stay independent.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, realpathSync } from 'node:fs';
import { chown, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';

export interface PostgresServer {
  /** `postgres://postgres@127.0.0.1:PORT/postgres`, trust authentication. */
  url: string;
  /** Runs SQL through the real `psql` client; never throws for SQL errors (see `code`). */
  psql(sql: string, options?: { database?: string }): Promise<CommandResult>;
  /**
   * Runs another client program of the same installation (pg_dump, pg_restore, ...) against
   * this server: connection flags are added before `args`.
   */
  client(binary: string, args: readonly string[]): Promise<CommandResult>;
  /** Stops the server and removes its data. */
  stop(): Promise<void>;
}

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

const INSTALL_HINT =
  'PostgreSQL server binaries (initdb, pg_ctl, psql) were not found on PATH or under ' +
  '/usr/lib/postgresql/*/bin. Install them (Debian/Ubuntu: `apt-get install postgresql`; ' +
  'macOS: `brew install postgresql`) and run the tests again.';

/** The folder holding initdb, pg_ctl and psql of one installation, or undefined. */
export function findPostgresBinDir(): string | undefined {
  const hasAll = (dir: string) =>
    ['initdb', 'pg_ctl', 'psql'].every((name) => existsSync(join(dir, name)));
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    const initdb = join(dir, 'initdb');
    if (dir && existsSync(initdb)) {
      // /usr/local/bin/initdb is often a link into the versioned folder that also holds pg_ctl.
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
  for (const version of versions) {
    const dir = join(root, version, 'bin');
    if (hasAll(dir)) return dir;
  }
  return undefined;
}

function run(file: string, args: readonly string[], timeoutMs = 60_000): Promise<CommandResult> {
  return new Promise((resolve) => {
    execFile(
      file,
      [...args],
      { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, LC_ALL: 'C' } },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr: stderr || (error && code !== 0 ? error.message : '') });
      },
    );
  });
}

interface Runner {
  run(binary: string, args: readonly string[], timeoutMs?: number): Promise<CommandResult>;
}

/** PostgreSQL refuses to run as root, so as root every binary runs as the `postgres` user. */
function runnerFor(binDir: string): Runner {
  const isRoot = process.getuid?.() === 0;
  return {
    run: (binary, args, timeoutMs) =>
      isRoot
        ? run('runuser', ['-u', 'postgres', '--', join(binDir, binary), ...args], timeoutMs)
        : run(join(binDir, binary), args, timeoutMs),
  };
}

async function postgresIds(): Promise<{ uid: number; gid: number }> {
  const passwd = await readFile('/etc/passwd', 'utf8');
  const line = passwd.split('\n').find((l) => l.startsWith('postgres:'));
  const [, , uid, gid] = line?.split(':') ?? [];
  if (uid === undefined || gid === undefined) {
    throw new Error(
      'Running as root, but there is no `postgres` user to run the server as. ' +
        'Install the server package (`apt-get install postgresql`), which creates it.',
    );
  }
  return { uid: Number(uid), gid: Number(gid) };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function failure(step: string, result: CommandResult): Error {
  return new Error(
    `PostgreSQL test server: ${step} failed (exit ${result.code}): ${result.stderr}`,
  );
}

const ROOT_PREFIX = 'trailkeep-pg-';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the servers and folders of earlier test runs that died without stopping theirs (a
 * killed vitest never runs its teardown). Only folders this harness made, whose owning test
 * process is gone, are touched.
 */
async function reapOrphans(runner: Runner): Promise<void> {
  const entries = await readdir(tmpdir()).catch(() => [] as string[]);
  for (const name of entries.filter((n) => n.startsWith(ROOT_PREFIX))) {
    const root = join(tmpdir(), name);
    const owner = Number(await readFile(join(root, 'owner.pid'), 'utf8').catch(() => 'NaN'));
    if (!Number.isInteger(owner) || isAlive(owner)) continue;
    if (existsSync(join(root, 'data', 'postmaster.pid'))) {
      await runner.run('pg_ctl', ['-D', join(root, 'data'), '-m', 'immediate', '-w', 'stop']);
    }
    await rm(root, { recursive: true, force: true });
  }
}

/**
 * Starts a fresh server; about a second on a quiet machine. `settings` are extra `-c` options
 * over the tests' small defaults (the benchmark passes its own).
 */
export async function startPostgres(
  settings: Readonly<Record<string, string>> = {},
): Promise<PostgresServer> {
  const binDir = findPostgresBinDir();
  if (binDir === undefined) throw new Error(INSTALL_HINT);
  const runner = runnerFor(binDir);
  await reapOrphans(runner);

  const root = await mkdtemp(join(tmpdir(), ROOT_PREFIX));
  await writeFile(join(root, 'owner.pid'), String(process.pid));
  const dataDir = join(root, 'data');
  const socketDir = join(root, 'sock');
  await mkdir(dataDir, { mode: 0o700 });
  await mkdir(socketDir, { mode: 0o700 });
  if (process.getuid?.() === 0) {
    const { uid, gid } = await postgresIds();
    for (const path of [root, dataDir, socketDir]) await chown(path, uid, gid);
  }

  const cleanUp = () => rm(root, { recursive: true, force: true });
  try {
    const init = await runner.run('initdb', [
      '-D',
      dataDir,
      '-U',
      'postgres',
      '--auth=trust',
      '--encoding=UTF8',
      '--locale=C',
      // The server itself runs with fsync=on; only the one-off cluster creation skips it.
      '--no-sync',
    ]);
    if (init.code !== 0) throw failure('initdb', init);

    let port = 0;
    let started: CommandResult | undefined;
    // A free port can be taken between choosing and binding it: try a few.
    for (let attempt = 0; attempt < 3; attempt += 1) {
      port = await freePort();
      const options = [
        `-c port=${port}`,
        '-c listen_addresses=127.0.0.1',
        `-c unix_socket_directories=${socketDir}`,
        '-c fsync=on',
        '-c max_connections=200',
        '-c shared_buffers=32MB',
        ...Object.entries(settings).map(([name, value]) => `-c ${name}=${value}`),
      ].join(' ');
      started = await runner.run('pg_ctl', [
        '-D',
        dataDir,
        '-o',
        options,
        '-l',
        join(root, 'server.log'),
        '-w',
        '-t',
        '60',
        'start',
      ]);
      if (started.code === 0) break;
    }
    if (started === undefined || started.code !== 0) {
      const log = await readFile(join(root, 'server.log'), 'utf8').catch(() => '');
      throw failure('pg_ctl start', {
        code: started?.code ?? 1,
        stdout: '',
        stderr: `${started?.stderr ?? ''}\n${log}`,
      });
    }

    let stopped = false;
    return {
      url: `postgres://postgres@127.0.0.1:${port}/postgres`,
      psql: (sql, options) => psqlAt(runner, port, sql, options),
      client: (binary, args) => clientAt(runner, port, binary, args),
      stop: async () => {
        if (stopped) return;
        stopped = true;
        await runner.run('pg_ctl', ['-D', dataDir, '-m', 'fast', '-w', 'stop']);
        await cleanUp();
      },
    };
  } catch (error) {
    await runner.run('pg_ctl', ['-D', dataDir, '-m', 'immediate', '-w', 'stop']);
    await cleanUp();
    throw error;
  }
}

function clientAt(
  runner: Runner,
  port: number,
  binary: string,
  args: readonly string[],
): Promise<CommandResult> {
  return runner.run(binary, ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', ...args]);
}

function psqlAt(
  runner: Runner,
  port: number,
  sql: string,
  options: { database?: string } = {},
): Promise<CommandResult> {
  return runner.run('psql', [
    '-X',
    '-q',
    '-v',
    'ON_ERROR_STOP=1',
    '-h',
    '127.0.0.1',
    '-p',
    String(port),
    '-U',
    'postgres',
    '-d',
    options.database ?? 'postgres',
    '-c',
    sql,
  ]);
}

/**
 * A handle on a server that another process started (the shared server of
 * postgres-global.ts): the same `psql`, and a `stop` that leaves the server running.
 */
export function serverAt(url: string): PostgresServer {
  const binDir = findPostgresBinDir();
  if (binDir === undefined) throw new Error(INSTALL_HINT);
  const runner = runnerFor(binDir);
  const port = Number(new URL(url).port);
  return {
    url,
    psql: (sql, options) => psqlAt(runner, port, sql, options),
    client: (binary, args) => clientAt(runner, port, binary, args),
    stop: () => Promise.resolve(),
  };
}

/** The URL of `database` on the same server as `serverUrl`. */
export function databaseUrl(serverUrl: string, database: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

let databaseCounter = 0;

/**
 * Creates a new, empty database on the server and returns its URL. Names carry the process id
 * and a counter so that test files running in parallel never collide.
 */
export async function createDatabase(
  server: Pick<PostgresServer, 'psql' | 'url'>,
  prefix = 'test',
): Promise<string> {
  databaseCounter += 1;
  const name = `${prefix.replace(/[^a-z0-9_]/gi, '_').toLowerCase()}_${process.pid}_${databaseCounter}`;
  const result = await server.psql(`CREATE DATABASE ${name}`);
  if (result.code !== 0) throw failure(`CREATE DATABASE ${name}`, result);
  return databaseUrl(server.url, name);
}

/**
 * The server for one test file: the shared one of postgres-global.ts when vitest.config.ts
 * runs it, else a server of this file's own. Call in `beforeAll`, and `release` in `afterAll`.
 */
export async function usePostgres(): Promise<{
  server: PostgresServer;
  release: () => Promise<void>;
}> {
  const { inject } = await import('vitest');
  // Typed loosely so this module also compiles where postgres-global.ts's declaration is not
  // included (the benchmark build reuses startPostgres).
  const shared = (inject as (key: string) => unknown)('postgresUrl') as string | undefined;
  if (shared !== undefined) return { server: serverAt(shared), release: () => Promise.resolve() };
  const own = await startPostgres();
  return { server: own, release: () => own.stop() };
}
