/**
 * Real Trailkeep servers for the SDK's acceptance tests: in this process (buildApp over a real
 * SQLite file on 127.0.0.1, for tests that tune limits), or the real `trailkeep serve` binary in
 * a child process (for tests that stop and restart it).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp, type AppOptions } from '../../../src/http/app.js';
import { AccountService } from '../../../src/service/accounts.js';
import { LogService } from '../../../src/service/log-service.js';
import { openStore } from '../../../src/store/open.js';
import type { FastifyInstance } from 'fastify';
import { BIN, runCli } from '../../support/cli.js';

export interface Keys {
  ingest: string;
  read: string;
  admin: string;
}

export interface InProcessServer {
  url: string;
  workspace: string;
  keys: Keys;
  app: FastifyInstance;
  close(): Promise<void>;
}

/** Cheap scrypt: the same code path, a lower cost. */
const TEST_SCRYPT = { N: 1024, r: 8, p: 1 };

export async function startInProcess(
  options: Partial<Omit<AppOptions, 'log' | 'accounts'>> = {},
  workspace = 'acme',
): Promise<InProcessServer> {
  const dir = await mkdtemp(join(tmpdir(), 'tk-sdk-'));
  const store = await openStore(`sqlite:${join(dir, 'trailkeep.db')}`);
  const log = await LogService.open(store);
  const accounts = new AccountService(store, { scrypt: TEST_SCRYPT });
  const init = await accounts.initWorkspace({
    workspace,
    ownerEmail: `owner@${workspace}.test`,
    ownerPassword: 'correct horse battery staple',
    keyScopes: ['ingest', 'read', 'admin'],
  });
  const app = await buildApp({ log, accounts, webRoot: join(dir, 'no-viewer'), ...options });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    workspace,
    keys: init.keys as Keys,
    app,
    async close() {
      await app.close();
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A database with one workspace and its keys, made with `trailkeep init`. */
export async function initDatabase(
  workspace = 'acme',
): Promise<{ dir: string; db: string; keys: Keys }> {
  const dir = await mkdtemp(join(tmpdir(), 'tk-sdk-serve-'));
  const db = `sqlite:${join(dir, 'trailkeep.db')}`;
  const result = await runCli([
    'init',
    '--db',
    db,
    '--workspace',
    workspace,
    '--owner',
    `owner@${workspace}.test`,
    '--json',
  ]);
  if (result.code !== 0) throw new Error(`trailkeep init failed: ${result.stderr}`);
  const { keys } = JSON.parse(result.stdout) as { keys: Keys };
  return { dir, db, keys };
}

export interface ServeProcess {
  url: string;
  child: ChildProcess;
  /** SIGTERM (graceful) or SIGKILL, and wait for the process to end. */
  stop(signal: 'SIGTERM' | 'SIGKILL'): Promise<void>;
}

/** `trailkeep serve --db DB --port PORT` as a child process; resolves once it listens. */
export function startServe(db: string, port: number): Promise<ServeProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        BIN,
        'serve',
        '--db',
        db,
        '--port',
        String(port),
        '--host',
        '127.0.0.1',
        '--json',
        '--log-level',
        'error',
      ],
      { env: { ...process.env, TRAILKEEP_DB: '' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    const exited = new Promise<void>((done) => child.once('exit', () => done()));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      const line = stdout.split('\n').find((l) => l.startsWith('{') && l.includes('"url"'));
      if (line === undefined) return;
      const { url } = JSON.parse(line) as { url: string };
      resolve({
        url,
        child,
        async stop(signal) {
          if (child.exitCode === null && child.signalCode === null) child.kill(signal);
          await exited;
        },
      });
    });
    child.once('exit', (code) =>
      reject(new Error(`trailkeep serve exited (${code}) before listening: ${stderr}`)),
    );
  });
}
