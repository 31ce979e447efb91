/**
 * Acceptance: the real `trailkeep serve` is killed and restarted twice while two senders record
 * 10,000 events; every event arrives exactly once, and each sender's events carry increasing
 * `seq` in the order they were recorded.
 */
import { rm } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { TrailkeepClient, type StoredEvent } from '../../src/client/index.js';
import { freePort, initDatabase, startServe, type ServeProcess } from './support/trailkeep.js';

const PER_SENDER = 5000;
const cleanups: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('delivery across server restarts', () => {
  it('delivers 10,000 events exactly once and in order per sender', async () => {
    const { dir, db, keys } = await initDatabase();
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const port = await freePort();
    let server: ServeProcess = await startServe(db, port);
    cleanups.push(() => server.stop('SIGKILL'));

    const errors: unknown[] = [];
    const sender = () =>
      new TrailkeepClient({
        url: server.url,
        workspace: 'acme',
        apiKey: keys.ingest,
        batchSize: 100,
        flushIntervalMs: 20,
        retry: { baseMs: 20, maxMs: 250 },
        requestTimeoutMs: 5000,
        onError: (error) => errors.push(error),
      });
    const senders = { alpha: sender(), beta: sender() };
    let n = 0;
    const recordUpTo = async (limit: number) => {
      for (; n < limit; n++) {
        for (const [name, client] of Object.entries(senders)) {
          await client.record({
            action: 'job.created',
            actor: { type: 'automation', id: `sender-${name}` },
            targets: [{ type: 'job', id: `${name}-${n}` }],
            metadata: { sender: name, n },
          });
        }
        // Let the senders work while the test records, so that stops hit requests in flight.
        if (n % 250 === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      }
    };

    await recordUpTo(1500);
    await server.stop('SIGKILL');
    await recordUpTo(2500);
    server = await startServe(db, port);
    await recordUpTo(3500);
    await server.stop('SIGTERM');
    await recordUpTo(4500);
    server = await startServe(db, port);
    await recordUpTo(PER_SENDER);
    await Promise.all(Object.values(senders).map((client) => client.close()));
    expect(errors).toEqual([]);

    const reader = new TrailkeepClient({ url: server.url, workspace: 'acme', apiKey: keys.read });
    const stored: StoredEvent[] = [];
    for await (const event of reader.events({ q: 'action:job.created', limit: 200 }))
      stored.push(event);
    expect(stored).toHaveLength(2 * PER_SENDER);
    expect(new Set(stored.map((e) => e.id)).size).toBe(2 * PER_SENDER);
    for (const name of Object.keys(senders)) {
      const mine = stored
        .filter((e) => e.metadata['sender'] === name)
        .sort((a, b) => a.seq - b.seq);
      expect(mine.map((e) => e.metadata['n'])).toEqual(
        Array.from({ length: PER_SENDER }, (_, i) => i),
      );
    }
    await reader.close();
  });
});
