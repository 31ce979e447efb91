/**
 * THE ATTACK, witness side. A real `trailkeep serve` and a real `trailkeep witness serve`
 * process: events are ingested and the witness cosigns them through the service's background
 * push. Then the database owner rewrites history directly in the SQLite file (triggers dropped,
 * every later hash re-chained, the tree rebuilt by `trailkeep reindex`) and the service, on its
 * next start, signs the forged tree with the real key and sends it to the witness. The witness
 * refuses it (422 for an edited event or a rewritten last event, 409 for a truncated tail): it
 * cosigns nothing, its state is byte-for-byte what it was, the service shows the witness as
 * failing with the reason, and the checkpoint it serves carries no cosignature.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashLink } from '../../src/core/chain.js';
import { openCheckpoint } from '../../src/core/tlog/checkpoint.js';
import { parseVerifierKey } from '../../src/core/tlog/note.js';
import {
  exited,
  freePort,
  runCli,
  sleep,
  snapshotBuild,
  startServe,
} from '../http/process-support.js';

const ORIGIN = 'audit.example.com/acme';
const EVENTS = 20;

let dir: string;
let bin: string;
let db: string;
let dbFile: string;
let pristine: string;
let keyFile: string;
let stateFile: string;
let logVkey: string;
let witnessUrl: string;
let witnessVkey: string;
let witness: ChildProcess | undefined;
let server: ChildProcess | undefined;
let url: string;
let port: number;
let ingestKey: string;
let readKey: string;

async function cli(args: readonly string[]): Promise<{ code: number | null; out: string }> {
  const result = await runCli(bin, args, dir);
  return { code: result.code, out: `${result.stdout}${result.stderr}` };
}

async function startServer(): Promise<string> {
  const args = ['--db', db, '--port', String(port), '--workspace', 'acme', '--json'];
  args.push('--log-origin-host', 'audit.example.com');
  const serving = await startServe(
    bin,
    [...args, '--log-level', 'error', '--signing-key-file', keyFile],
    url,
    dir,
  );
  server = serving.process;
  return serving.stdout();
}

async function stopServer(): Promise<void> {
  if (server === undefined) return;
  server.kill('SIGTERM');
  await exited(server);
  server = undefined;
}

interface WitnessStatus {
  name: string;
  cosigned_size: number | null;
  status: string;
  last_error: string | null;
}

async function statuses(): Promise<WitnessStatus[]> {
  const response = await fetch(`${url}/api/v1/workspaces/acme/witnesses`, {
    headers: { authorization: `Bearer ${readKey}` },
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as { witnesses: WitnessStatus[] }).witnesses;
}

/** Waits (no deadline on the machine's speed beyond a generous bound) for a status. */
async function until(done: (s: WitnessStatus) => boolean): Promise<WitnessStatus> {
  for (let i = 0; i < 1200; i += 1) {
    const [status] = await statuses();
    if (status !== undefined && done(status)) return status;
    await sleep(100);
  }
  throw new Error(`the witness status never changed: ${JSON.stringify(await statuses())}`);
}

async function servedCheckpoint(): Promise<string> {
  const response = await fetch(`${url}/api/v1/workspaces/acme/log/checkpoint`, {
    headers: { authorization: `Bearer ${readKey}` },
  });
  expect(response.status).toBe(200);
  return response.text();
}

function cosignersOf(note: string): string[] {
  const opened = openCheckpoint(note, {
    origin: ORIGIN,
    logKeys: [parseVerifierKey(logVkey)],
    witnessKeys: [parseVerifierKey(witnessVkey)],
  });
  if (!opened.ok) throw new Error(opened.reason);
  return opened.value.cosignatures.map((c) => c.name);
}

/** The witness's own record, read from its state file. */
function witnessState(): unknown {
  const state = new Database(stateFile, { readonly: true });
  try {
    return state.prepare('SELECT * FROM witnessed').all();
  } finally {
    state.close();
  }
}

/** The owner's way past the append-only triggers: a raw connection to the file. */
function tamper(attack: (raw: Database.Database) => void): void {
  const raw = new Database(dbFile);
  raw.pragma('foreign_keys = OFF');
  raw.exec('DROP TRIGGER events_no_update; DROP TRIGGER events_no_delete;');
  attack(raw);
  raw.close();
}

/** Recomputes prev_hash and hash of every event from `fromSeq` on, as an attacker would. */
function rechain(raw: Database.Database, fromSeq: number): void {
  const rows = raw
    .prepare('SELECT eid, seq, body FROM events WHERE seq >= ? ORDER BY seq')
    .all(fromSeq) as { eid: number; seq: number; body: string }[];
  const before = raw.prepare('SELECT hash FROM events WHERE seq = ?').get(fromSeq - 1) as
    { hash: Buffer } | undefined;
  let prev = before === undefined ? '0'.repeat(64) : before.hash.toString('hex');
  const update = raw.prepare('UPDATE events SET prev_hash = ?, hash = ? WHERE eid = ?');
  for (const row of rows) {
    const hash = hashLink(prev, row.body);
    update.run(Buffer.from(prev, 'hex'), Buffer.from(hash, 'hex'), row.eid);
    prev = hash;
  }
}

function editBody(raw: Database.Database, seq: number): void {
  const { body } = raw.prepare('SELECT body FROM events WHERE seq = ?').get(seq) as {
    body: string;
  };
  const forged = body.replace(/"amount":(\d+)/, (_, n: string) => `"amount":${Number(n) * 1000}`);
  expect(forged).not.toBe(body);
  raw.prepare('UPDATE events SET body = ? WHERE seq = ?').run(forged, seq);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tk-witness-attack-'));
  bin = snapshotBuild(dir);
  dbFile = join(dir, 'data', 'trailkeep.db');
  db = `sqlite:${dbFile}`;
  pristine = join(dir, 'pristine.db');
  keyFile = join(dir, 'log.key');
  stateFile = join(dir, 'witness.db');
  port = await freePort();
  url = `http://127.0.0.1:${port}`;

  const generated = await cli([
    'keys',
    'signing',
    'generate',
    '--name',
    'audit.example.com',
    '--out',
    keyFile,
  ]);
  expect(generated.code, generated.out).toBe(0);
  logVkey = /audit\.example\.com\+[0-9a-f]{8}\+\S+/.exec(generated.out)?.[0] ?? '';
  expect(logVkey).not.toBe('');

  witness = spawn(
    process.execPath,
    [
      bin,
      'witness',
      'serve',
      '--port',
      '0',
      '--json',
      '--name',
      'witness.auditor.example',
      '--key-file',
      join(dir, 'witness.key'),
      '--state',
      stateFile,
      '--log',
      `${ORIGIN}=${logVkey}`,
    ],
    { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const started = await new Promise<{ url: string; vkey: string }>((resolve, reject) => {
    let out = '';
    let err = '';
    witness?.stderr?.on('data', (chunk: Buffer) => (err += chunk.toString()));
    witness?.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line !== undefined && out.includes('\n')) resolve(JSON.parse(line));
    });
    witness?.once('exit', (code) => reject(new Error(`witness exited ${code}: ${err}`)));
  });
  witnessUrl = started.url;
  witnessVkey = started.vkey;

  const first = JSON.parse(
    (await startServer()).split('\n').find((l) => l.includes('"keys"')) ?? '{}',
  ) as { keys: { ingest: string } };
  ingestKey = first.keys.ingest;
  await stopServer();
  const read = await cli([
    'keys',
    'create',
    '--db',
    db,
    '--workspace',
    'acme',
    '--scope',
    'read',
    '--json',
  ]);
  expect(read.code, read.out).toBe(0);
  readKey = (JSON.parse(read.out) as { key: string }).key;
  const added = await cli([
    'witnesses',
    'add',
    '--db',
    db,
    '--workspace',
    'acme',
    '--name',
    'auditor',
    '--url',
    witnessUrl,
    '--vkey',
    witnessVkey,
  ]);
  expect(added.code, added.out).toBe(0);

  await startServer();
  const events = Array.from({ length: EVENTS }, (_, i) => ({
    id: `evt_${i + 1}`,
    action: 'invoice.paid',
    occurred_at: new Date(Date.UTC(2026, 4, 1, 9, i)).toISOString(),
    actor: { type: 'user', id: 'u_1', email: 'alex@example.com' },
    targets: [{ type: 'invoice', id: `inv_${i + 1}` }],
    metadata: { amount: i + 1 },
  }));
  const ingested = await fetch(`${url}/api/v1/workspaces/acme/events`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ingestKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ events }),
  });
  expect(ingested.status, await ingested.text()).toBe(201);
  await stopServer();
  await startServer();
}, 300_000);

afterAll(async () => {
  await stopServer();
  witness?.kill('SIGTERM');
  if (witness) await exited(witness);
  rmSync(dir, { recursive: true, force: true });
});

describe('a witness catches a history rewritten with the real key', () => {
  let size: number;
  let honestState: unknown;

  it('the honest log is cosigned, and served with the cosignature', async () => {
    const status = await until((s) => s.status === 'ok' && (s.cosigned_size ?? 0) >= EVENTS);
    size = status.cosigned_size ?? 0;
    expect(cosignersOf(await servedCheckpoint())).toEqual(['witness.auditor.example']);
    honestState = witnessState();
    await stopServer();
    copyFileSync(dbFile, pristine);
  });

  async function attackAndRestart(
    attack: (raw: Database.Database) => void,
  ): Promise<WitnessStatus> {
    copyFileSync(pristine, dbFile);
    rmSync(`${dbFile}-wal`, { force: true });
    rmSync(`${dbFile}-shm`, { force: true });
    tamper(attack);
    const reindexed = await cli(['reindex', '--db', db, '--workspace', 'acme']);
    expect(reindexed.code, reindexed.out).toBe(0);
    // The forged chain verifies on its own: only the witness can tell.
    const verified = await cli(['verify', '--db', db, '--workspace', 'acme']);
    expect(verified.code, verified.out).toBe(0);
    await startServer();
    try {
      const status = await until((s) => s.status === 'failing');
      expect(cosignersOf(await servedCheckpoint())).toEqual([]);
      return status;
    } finally {
      await stopServer();
    }
  }

  it('an edited event, every later hash re-chained and re-signed: 422, nothing cosigned', async () => {
    const status = await attackAndRestart((raw) => {
      editBody(raw, size - 12);
      rechain(raw, size - 12);
    });
    expect(status.last_error).toContain('HTTP 422');
    expect(status.last_error).toContain('checkpoint_inconsistent');
    expect(status.cosigned_size).toBe(size);
    expect(witnessState()).toEqual(honestState);
  });

  it('a truncated tail: the witness answers 409 with its size, nothing cosigned', async () => {
    const status = await attackAndRestart((raw) => {
      raw.prepare('DELETE FROM events WHERE seq > ?').run(size - 5);
    });
    expect(status.last_error).toContain('409');
    expect(status.last_error).toContain(`size ${size}`);
    expect(witnessState()).toEqual(honestState);
  });

  it("a truncated tail with the service's witness record reset too: 409, then refused", async () => {
    const status = await attackAndRestart((raw) => {
      raw.prepare('DELETE FROM events WHERE seq > ?').run(size - 5);
      raw.prepare('UPDATE witnesses SET cosigned_size = NULL, cosigned_root = NULL').run();
    });
    expect(status.last_error).toContain(`size ${size}`);
    expect(witnessState()).toEqual(honestState);
  });

  it('the last event rewritten (same size, another root): 422, nothing cosigned', async () => {
    const status = await attackAndRestart((raw) => {
      editBody(raw, size);
      rechain(raw, size);
    });
    expect(status.last_error).toContain('HTTP 422');
    expect(witnessState()).toEqual(honestState);
  });
});
