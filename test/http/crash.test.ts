/**
 * Crash safety of the real CLI server: 4 clients send 20,000 events in batches with fixed ids,
 * retrying on any failure, while the server process is killed with SIGKILL at random moments (at
 * least 10 times) and restarted. Afterwards every acknowledged event is stored exactly once,
 * nothing else is stored, seq has no gap and the chain verifies.
 *
 * Runs `node bin/trailkeep.js serve` from a snapshot of dist/ (rebuilt by
 * test/support/build-global.ts when sources are newer), so that another test run rebuilding dist/
 * meanwhile cannot hand a restart half-written modules. Kills are spread over the run by progress
 * (every ~1/12 of the events, with random jitter in count and time), so they land while clients
 * are sending however fast or slow the machine is.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { MATCH_ALL } from '../../src/core/query/filter.js';
import { LogService } from '../../src/service/log-service.js';
import { openStore } from '../../src/store/open.js';
import { streamEvents } from '../../src/store/stored-text.js';
import { exited, freePort, sleep, snapshotBuild, startServe } from './process-support.js';

const CLIENTS = 4;
const EVENTS_PER_CLIENT = 5_000;
const BATCH = 50;
const KILLS = 12;

const dir = mkdtempSync(join(tmpdir(), 'trailkeep-crash-'));
const db = `sqlite:${join(dir, 'trailkeep.db')}`;
let child: ChildProcess | undefined;

afterAll(() => {
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

test('SIGKILL at random moments loses no acknowledged event and stores none twice', async () => {
  const bin = snapshotBuild(dir);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const serveArgs = ['--db', db, '--port', String(port), '--json', '--log-level', 'error'];
  const startServer = (): ReturnType<typeof startServe> => startServe(bin, serveArgs, url, dir);
  const first = await startServer();
  child = first.process;
  const credentials = JSON.parse(
    first
      .stdout()
      .split('\n')
      .find((line) => line.includes('"keys"')) ?? '{}',
  ) as { keys?: { ingest?: string }; workspace?: string };
  const key = credentials.keys?.ingest;
  const workspace = credentials.workspace ?? 'default';
  expect(key).toMatch(/^tk_ingest_/);

  const sent = new Set<string>();
  const acknowledged = new Map<string, number>();
  const unexpected: string[] = [];
  let retries = 0;

  async function client(c: number): Promise<void> {
    for (let start = 0; start < EVENTS_PER_CLIENT; start += BATCH) {
      const events = Array.from({ length: BATCH }, (_, j) => {
        const id = `c${c}-${start + j}`;
        sent.add(id);
        return {
          id,
          action: 'job.created',
          occurred_at: '2026-05-12T09:30:00.000Z',
          actor: { type: 'automation', id: `runner-${c}` },
          targets: [{ type: 'job', id: `job-${start + j}` }],
        };
      });
      const body = JSON.stringify({ events });
      for (;;) {
        try {
          const response = await fetch(`${url}/api/v1/workspaces/${workspace}/events`, {
            method: 'POST',
            headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
            body,
            signal: AbortSignal.timeout(10_000),
          });
          const text = await response.text();
          if (response.status === 200 || response.status === 201) {
            const answer = JSON.parse(text) as { events: Array<{ id: string; seq: number }> };
            for (const e of answer.events) acknowledged.set(e.id, e.seq);
            break;
          }
          // 503 (overloaded) and 429 (rate limited) ask for a retry; anything else is a bug.
          if (response.status !== 503 && response.status !== 429) {
            unexpected.push(`${response.status} ${text.slice(0, 200)}`);
          }
        } catch {
          // Connection refused or reset: the server is down; retry the same ids.
        }
        retries += 1;
        await sleep(20);
      }
    }
  }

  let sending = true;
  const clients = Promise.all(Array.from({ length: CLIENTS }, (_, c) => client(c))).finally(
    () => (sending = false),
  );
  const total = CLIENTS * EVENTS_PER_CLIENT;
  let kills = 0;
  let killsWhileSending = 0;
  for (let k = 1; k <= KILLS; k++) {
    const threshold = ((k - 0.5) * total) / (KILLS + 1) + Math.random() * (total / (KILLS + 1));
    while (sending && acknowledged.size < threshold) await sleep(5);
    await sleep(Math.random() * 30);
    const current = child;
    if (sending) killsWhileSending += 1;
    current.kill('SIGKILL');
    await exited(current);
    kills += 1;
    child = (await startServer()).process;
  }
  await clients;
  // A graceful stop at the end: SIGTERM drains and closes the store.
  const last = child;
  last.kill('SIGTERM');
  await exited(last);
  expect(last.exitCode).toBe(0);

  expect(unexpected).toEqual([]);
  expect(kills).toBe(KILLS);
  expect(killsWhileSending).toBeGreaterThanOrEqual(10);
  expect(retries).toBeGreaterThan(0);
  expect(acknowledged.size).toBe(CLIENTS * EVENTS_PER_CLIENT);

  const store = await openStore(db);
  try {
    const stored: Array<{ id: string; seq: number }> = [];
    for await (const e of streamEvents(store, workspace, MATCH_ALL, { order: 'oldest' })) {
      stored.push({ id: e.id, seq: e.seq });
    }
    const ids = stored.map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.filter((id) => !sent.has(id))).toEqual([]);
    expect([...acknowledged.keys()].filter((id) => !ids.includes(id))).toEqual([]);
    const bySeq = new Map(stored.map((e) => [e.id, e.seq]));
    for (const [id, seq] of acknowledged) expect(bySeq.get(id)).toBe(seq);
    const seqs = stored.map((e) => e.seq).sort((a, b) => a - b);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
    const report = await (await LogService.open(store)).verify(workspace);
    expect(report.ok).toBe(true);
    expect(report.checked).toBe(CLIENTS * EVENTS_PER_CLIENT);
  } finally {
    await store.close();
  }
}, 240_000);
