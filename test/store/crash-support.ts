/**
 * What the SIGKILL durability tests share (sqlite-durability.test.ts, postgres-crash.test.ts):
 * a writer process killed in the middle of an ingest, and the checks that the log it leaves is
 * whole: every acknowledged event kept, seq gapless, the chain verified, and the Merkle tree in
 * step with it.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { expect } from 'vitest';
import { eventHash } from '../../src/core/chain.js';
import { LogService } from '../../src/service/log-service.js';
import type { Store } from '../../src/store/store.js';
import { ReferenceTree, refLeafHash } from '../support/merkle-reference.js';

const fixture = join(import.meta.dirname, 'fixtures', 'append-then-wait.ts');

export interface Acknowledged {
  seqs: number[];
  ids: string[];
}

/**
 * Runs a writer child on `database` until it has acknowledged `batches` batches of `batchSize`,
 * then kills it with SIGKILL: it is then in the middle of its next append.
 */
export async function appendThenKill(
  database: string,
  workspace: string,
  batches: number,
  batchSize = 50,
): Promise<Acknowledged[]> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', fixture, database, workspace, String(batchSize)],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
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

/**
 * The log after the crashes: every acknowledged event is there with its hash, seq runs 1 to the
 * head without a gap (including anything committed after the last acknowledgement), verify
 * (chain, derived rows and every stored tile) passes, the tree holds exactly the head's seq
 * leaves, and its roots are those of a reference tree computed afresh from the chain hashes.
 * Returns the head's seq.
 */
export async function expectLogInStep(
  store: Store,
  workspace: string,
  acknowledged: readonly Acknowledged[],
): Promise<number> {
  const head = await store.head(workspace);
  expect(head.seq).toBeGreaterThanOrEqual(Math.max(0, ...acknowledged.flatMap((a) => a.seqs)));
  for (const id of acknowledged.flatMap((a) => a.ids)) {
    const event = await store.getEvent(workspace, id);
    expect(event?.id).toBe(id);
    expect(eventHash(event!)).toBe(event!.hash);
  }
  const hashes: string[] = [];
  const seqs: number[] = [];
  for await (const row of store.scanChain(workspace, 1)) {
    seqs.push(row.seq);
    hashes.push(row.hash);
  }
  expect(seqs).toEqual(Array.from({ length: head.seq }, (_, i) => i + 1));

  const report = await (await LogService.open(store)).verify(workspace);
  expect(report.problem).toBeUndefined();
  expect(report).toMatchObject({ ok: true, checked: head.seq });

  expect(await store.treeSize(workspace)).toBe(head.seq);
  const ref = new ReferenceTree(hashes.map((h) => refLeafHash(Buffer.from(h, 'hex'))));
  const sizes = new Set([1, 255, 256, 257, head.seq - 1, head.seq]);
  for (const size of [...sizes].filter((s) => s >= 1 && s <= head.seq)) {
    expect((await store.treeRoot(workspace, size)).equals(ref.root(size)), `root ${size}`).toBe(
      true,
    );
  }
  return head.seq;
}
