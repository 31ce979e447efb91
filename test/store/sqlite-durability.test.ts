/**
 * An acknowledged append survives the process being killed (SIGKILL, no chance to flush or
 * close): a child appends batches in a loop, and every batch it reported before dying is in the
 * file when it is opened again, with the Merkle tree in step with the chain.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { eventHash } from '../../src/core/chain.js';
import { MATCH_ALL } from '../../src/core/query/filter.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import { ReferenceTree, refLeafHash } from '../support/merkle-reference.js';

const folder = mkdtempSync(join(tmpdir(), 'trailkeep-sqlite-durability-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

const fixture = join(import.meta.dirname, 'fixtures', 'append-then-wait.ts');

interface Acknowledged {
  seqs: number[];
  ids: string[];
}

/** Runs the child until it has acknowledged `batches` batches, then kills it with SIGKILL. */
async function appendThenKill(
  path: string,
  workspace: string,
  batches: number,
): Promise<Acknowledged[]> {
  const child = spawn(process.execPath, ['--import', 'tsx', fixture, path, workspace, '50'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<NodeJS.Signals | null>((resolve) =>
    child.once('exit', (_code, signal) => resolve(signal)),
  );
  const acknowledged: Acknowledged[] = [];
  for await (const line of createInterface({ input: child.stdout })) {
    acknowledged.push(JSON.parse(line) as Acknowledged);
    if (acknowledged.length >= batches) {
      child.kill('SIGKILL');
      break;
    }
  }
  const signal = await exited;
  if (acknowledged.length < batches) throw new Error(`child died early: ${stderr}`);
  expect(signal).toBe('SIGKILL');
  return acknowledged;
}

describe('SQLite durability', () => {
  it('keeps every acknowledged batch after the writer is killed', async () => {
    const path = join(folder, 'durable.db');
    const workspace = 'durable';
    const acknowledged: Acknowledged[] = [];
    for (let round = 0; round < 3; round += 1) {
      acknowledged.push(...(await appendThenKill(path, workspace, 2 + round)));
    }
    const store = await openSqliteStore(path);
    try {
      const seqs = acknowledged.flatMap((a) => a.seqs);
      const head = await store.head(workspace);
      expect(head.seq).toBeGreaterThanOrEqual(Math.max(...seqs));
      for (const id of acknowledged.flatMap((a) => a.ids)) {
        const event = await store.getEvent(workspace, id);
        expect(event?.id).toBe(id);
        expect(eventHash(event!)).toBe(event!.hash);
      }
      // The chain is whole: gapless and linked, including anything written after the last ack.
      const all = await store.page(workspace, MATCH_ALL, { limit: 10_000, direction: 'older' });
      expect(all.map((e) => e.seq).sort((a, b) => a - b)).toEqual(
        Array.from({ length: head.seq }, (_, i) => i + 1),
      );
      // The Merkle tree moved with the chain in the same transactions: as many leaves as the
      // head's seq, and the reference tree of the stored chain hashes (each restarted writer
      // rebuilt its frontier from the stored tiles).
      const hashes: string[] = [];
      for await (const row of store.scanChain(workspace, 1)) hashes.push(row.hash);
      expect(await store.treeSize(workspace)).toBe(head.seq);
      const ref = new ReferenceTree(hashes.map((h) => refLeafHash(Buffer.from(h, 'hex'))));
      for (const size of [1, 255, 256, 257, head.seq - 1, head.seq]) {
        expect((await store.treeRoot(workspace, size)).equals(ref.root(size))).toBe(true);
      }
    } finally {
      await store.close();
    }
  });
});
