/**
 * Three real `trailkeep serve` processes on one PostgreSQL database, and several HTTP clients
 * appending to the same workspace through all of them at once, retrying the way a real client
 * does (a lost answer is re-sent with the same ids, through another process). Afterwards every
 * acknowledged event is stored exactly once at the place it was acknowledged with, seq has no
 * gap, and verify passes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LogService } from '../../src/service/log-service.js';
import { openPostgresStore } from '../../src/store/postgres/index.js';
import { BIN } from '../support/cli.js';
import { createDatabase, usePostgres, type PostgresServer } from '../support/postgres.js';

interface Serving {
  child: ChildProcess;
  url: string;
  firstStart: { keys?: { ingest?: string } } | undefined;
}

/** Starts `trailkeep serve` and resolves with the JSON line it prints once it listens. */
function startServe(db: string): Promise<Serving> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [BIN, 'serve', '--db', db, '--port', '0', '--json', '--log-level', 'error'],
      { env: { ...process.env, TRAILKEEP_DB: '' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      const line = stdout.split('\n').find((l) => l.startsWith('{'));
      if (line === undefined || !stdout.includes('\n')) return;
      const parsed = JSON.parse(line) as { url: string; keys?: { ingest?: string } };
      resolve({ child, url: parsed.url, firstStart: parsed.keys ? parsed : undefined });
    });
    child.on('exit', (code) =>
      reject(new Error(`trailkeep serve exited with ${code} before listening: ${stderr}`)),
    );
  });
}

async function stopServe(serving: Serving): Promise<void> {
  if (serving.child.exitCode !== null) return;
  await new Promise<void>((resolve) => {
    serving.child.once('exit', () => resolve());
    serving.child.kill('SIGTERM');
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Ack {
  id: string;
  seq: number;
  hash: string;
  created: boolean;
}

describe('PostgreSQL: three serve processes taking concurrent load on one database', () => {
  let server: PostgresServer;
  let release: () => Promise<void>;
  let db: string;
  const servers: Serving[] = [];
  let ingestKey: string;

  beforeAll(async () => {
    ({ server, release } = await usePostgres());
    db = await createDatabase(server, 'serve_processes');
    const first = await startServe(db);
    servers.push(first);
    ingestKey = first.firstStart?.keys?.ingest ?? '';
    expect(ingestKey).not.toBe('');
    // The other two start together on the now-initialized database.
    servers.push(...(await Promise.all([startServe(db), startServe(db)])));
  });

  afterAll(async () => {
    await Promise.all(servers.map(stopServe));
    await release?.();
  });

  /** Sends one batch, retrying through the next process on 429, 503 or a network error. */
  async function send(batch: object[], startAt: number): Promise<{ status: number; acks: Ack[] }> {
    for (let attempt = 0; attempt < 20; attempt += 1) {
      const target = servers[(startAt + attempt) % servers.length]!;
      const response = await fetch(`${target.url}/api/v1/workspaces/default/events`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ingestKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ events: batch }),
      }).catch((error: unknown) => error as Error);
      if (response instanceof Error) {
        // The connection failed: the batch may or may not be stored; re-send it elsewhere.
        await sleep(100);
        continue;
      }
      const body = (await response.json()) as { events?: Ack[] };
      if (response.status === 429 || response.status === 503) {
        await sleep(Math.min(1000, Number(response.headers.get('retry-after') ?? '1') * 200));
        continue;
      }
      expect([200, 201], JSON.stringify(body)).toContain(response.status);
      return { status: response.status, acks: body.events ?? [] };
    }
    throw new Error('no process accepted the batch');
  }

  it('stores every acknowledged event once, without gaps, and verifies', async () => {
    const CLIENTS = 5;
    const BATCHES = 12;
    const acknowledged = new Map<string, Ack>();
    const sentIds = new Set<string>();
    const record = (acks: readonly Ack[]) => {
      for (const ack of acks) {
        const earlier = acknowledged.get(ack.id);
        if (earlier !== undefined)
          expect(ack).toMatchObject({ seq: earlier.seq, hash: earlier.hash });
        else acknowledged.set(ack.id, ack);
      }
    };

    const client = async (c: number) => {
      for (let b = 0; b < BATCHES; b += 1) {
        // Set by the client, as the SDK does, so a re-send carries the very same event.
        const occurredAt = new Date().toISOString();
        const batch = Array.from({ length: 1 + ((c + b) % 5) }, (_, i) => {
          const id = `c${c}-b${b}-e${i}`;
          sentIds.add(id);
          return {
            id,
            occurred_at: occurredAt,
            action: ['job.created', 'REPOSITORY_RUN_CLAIM', 'customer.updated'][i % 3],
            actor: { type: c % 2 ? 'agent' : 'user', id: `client-${c}`, name: `Client ${c}` },
            targets: [{ type: 'job', id: `job-${b}` }],
            metadata: { client: c, batch: b },
          };
        });
        const first = await send(batch, c + b);
        expect(first.acks).toHaveLength(batch.length);
        record(first.acks);
        if (b % 3 === 0) {
          // The answer "was lost": the client sends the same events again elsewhere.
          const retry = await send(batch, c + b + 1);
          expect(retry.status).toBe(200);
          expect(retry.acks.every((a) => !a.created)).toBe(true);
          record(retry.acks);
        }
      }
    };
    await Promise.all(Array.from({ length: CLIENTS }, (_, c) => client(c)));

    const store = await openPostgresStore(db);
    try {
      const seqs: number[] = [];
      const ids = new Map<string, number>();
      for await (const row of store.scanChain('default', 1)) {
        if (row.id.startsWith('c')) {
          expect(ids.has(row.id)).toBe(false);
          ids.set(row.id, row.seq);
        }
        seqs.push(row.seq);
      }
      expect(seqs).toEqual(seqs.map((_, i) => i + 1));
      expect(new Set(ids.keys())).toEqual(sentIds);
      for (const [id, ack] of acknowledged) expect(ids.get(id)).toBe(ack.seq);

      const log = await LogService.open(store);
      const report = await log.verify('default');
      expect(report.problem).toBeUndefined();
      expect(report.ok).toBe(true);
      expect(report.checked).toBe(seqs.length);
    } finally {
      await store.close();
    }
  });
});
