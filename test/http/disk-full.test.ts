/**
 * A full disk, for real: `trailkeep serve` runs under a file size limit (`ulimit -S -f`; Node
 * ignores SIGXFSZ, so a write past the limit fails with EFBIG instead of killing the process)
 * and ingest goes on until SQLite cannot write. The refused append is a 503 with a clear code
 * and Retry-After, never a 500; /healthz says the store cannot write; once the limit is lifted
 * (prlimit on the running process) a health check's probe write clears that. After a hard
 * restart every acknowledged event is there exactly once, nothing of a refused batch is, and
 * the chain verifies.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { MATCH_ALL } from '../../src/core/query/filter.js';
import { AccountService } from '../../src/service/accounts.js';
import { LogService } from '../../src/service/log-service.js';
import { openStore } from '../../src/store/open.js';
import { streamEvents } from '../../src/store/stored-text.js';
import { exited, freePort, healthy, sleep, snapshotBuild } from './process-support.js';
import { PASSWORD, TEST_SCRYPT } from './support.js';

const dir = mkdtempSync(join(tmpdir(), 'trailkeep-disk-full-'));
const file = join(dir, 'trailkeep.db');
const db = `sqlite:${file}`;
/** Room left under the limit when the server starts. */
const HEADROOM_KB = 384;
const BATCH = 20;
let child: ChildProcess | undefined;

afterAll(() => {
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

/** `serve` under a soft file size limit of `limitKb` KiB (none when undefined). */
async function serve(bin: string, port: number, limitKb?: number): Promise<ChildProcess> {
  const node = `exec "${process.execPath}" "${bin}" serve --db "${db}" --port ${port} --log-level error`;
  const proc = spawn(
    'bash',
    ['-c', limitKb === undefined ? node : `ulimit -S -f ${limitKb} && ${node}`],
    {
      cwd: dir,
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  proc.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 1200; i++) {
    if (proc.exitCode !== null) throw new Error(`server exited ${proc.exitCode}: ${stderr}`);
    if (await healthy(url)) return proc;
    await sleep(25);
  }
  proc.kill('SIGKILL');
  throw new Error(`server did not start: ${stderr}`);
}

function batch(prefix: string, size: number): Array<Record<string, unknown>> {
  return Array.from({ length: size }, (_, i) => ({
    id: `${prefix}-${i}`,
    action: 'job.created',
    occurred_at: '2026-05-12T09:30:00.000Z',
    actor: { type: 'automation', id: 'runner' },
    targets: [{ type: 'job', id: `${prefix}-${i}` }],
    // Incompressible enough that each batch takes real room in the file.
    metadata: { blob: `${prefix}-${i}-`.repeat(120) },
  }));
}

test('a full disk answers 503 with a clear code, health says so, and nothing acknowledged is lost', async () => {
  // A workspace and a key, written before the limit.
  const setup = await openStore(db);
  const accounts = new AccountService(setup, { scrypt: TEST_SCRYPT });
  await LogService.open(setup);
  const init = await accounts.initWorkspace({
    workspace: 'acme',
    ownerEmail: 'owner@acme.test',
    ownerPassword: PASSWORD,
    keyScopes: ['ingest'],
  });
  const key = (init.keys as Record<string, string>)['ingest'] ?? '';
  await setup.close();

  const bin = snapshotBuild(dir);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const limitKb = Math.ceil(statSync(file).size / 1024) + HEADROOM_KB;
  child = await serve(bin, port, limitKb);
  const pid = child.pid;

  const send = async (events: Array<Record<string, unknown>>) => {
    const response = await fetch(`${url}/api/v1/workspaces/acme/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ events }),
    });
    const body = (await response.json()) as {
      code?: string;
      detail?: string;
      events?: Array<{ created: boolean }>;
    };
    return { status: response.status, body, retryAfter: response.headers.get('retry-after') };
  };
  const health = async () => {
    const response = await fetch(`${url}/healthz`);
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  const acknowledged = new Set<string>();
  const refused = new Set<string>();
  let failure: Awaited<ReturnType<typeof send>> | undefined;
  let failedBatch: Array<Record<string, unknown>> = [];
  for (let b = 0; b < 1000 && failure === undefined; b++) {
    const events = batch(`b${b}`, BATCH);
    const answer = await send(events);
    const ids = events.map((e) => String(e['id']));
    if (answer.status === 201) ids.forEach((id) => acknowledged.add(id));
    else {
      failure = answer;
      failedBatch = events;
      ids.forEach((id) => refused.add(id));
    }
  }
  expect(acknowledged.size).toBeGreaterThan(0);
  expect(failure).toMatchObject({
    status: 503,
    body: { code: expect.stringMatching(/^store_(full|io_error)$/) },
  });
  expect(Number(failure?.retryAfter)).toBeGreaterThan(0);

  // The health check probes with a tiny write, which may still fit; single events use up the
  // rest until even that fails. Each is acknowledged or refused, never anything else.
  let degraded: Awaited<ReturnType<typeof health>> | undefined;
  for (let i = 0; i < 2000 && degraded === undefined; i++) {
    const answer = await health();
    if (answer.status === 503) {
      degraded = answer;
      break;
    }
    expect(answer.status).toBe(200);
    const one = batch(`s${i}`, 1);
    const sent = await send(one);
    expect([201, 503]).toContain(sent.status);
    (sent.status === 201 ? acknowledged : refused).add(String(one[0]?.['id']));
  }
  expect(degraded?.body).toMatchObject({
    status: 503,
    code: expect.stringMatching(/^store_(full|io_error)$/),
    store: 'sqlite',
    can_write: false,
  });
  expect(String(degraded?.body['detail'])).toMatch(/^The store cannot write \(since /);

  // Room again: the next health check's probe succeeds and clears the state.
  execFileSync('prlimit', ['--pid', String(pid), '--fsize=unlimited:']);
  expect((await health()).status).toBe(200);

  // A hard stop, then the file as a fresh process sees it.
  child.kill('SIGKILL');
  await exited(child);
  const store = await openStore(db);
  const log = await LogService.open(store);
  const stored = new Map<string, number>();
  for await (const event of streamEvents(store, 'acme', MATCH_ALL, { order: 'oldest' })) {
    stored.set(event.id, (stored.get(event.id) ?? 0) + 1);
  }
  const missing = [...acknowledged].filter((id) => stored.get(id) !== 1);
  const leaked = [...refused].filter((id) => stored.has(id));
  expect({ missing, leaked }).toEqual({ missing: [], leaked: [] });
  expect((await log.verify('acme')).ok).toBe(true);
  await store.close();

  // And the refused batch goes in whole once there is room, on a restarted server.
  child = await serve(bin, port);
  const again = await send(failedBatch);
  expect(again.status).toBe(201);
  expect(again.body.events?.filter((e) => e.created)).toHaveLength(BATCH);
});
