/**
 * The Merkle tree part of the Store contract (runStoreContract calls it for every engine): after
 * random appends, re-sends, refused batches, imports and appends by a second store on the same
 * database, the stored tree is the RFC 9162 tree of the chain hashes. Roots, proofs and tiles
 * are compared with test/support/merkle-reference.ts, which shares no code with src/core/tlog,
 * and every proof is checked with the verifiers.
 */
import fc from 'fast-check';
import { expect } from 'vitest';
import { sealBatch } from '../../src/core/chain.js';
import { TrailkeepError } from '../../src/core/errors.js';
import { EMPTY_HEAD, type EventDraft } from '../../src/core/event.js';
import { verifyConsistency, verifyInclusion } from '../../src/core/tlog/merkle.js';
import { tilesFromLeafHashes, tilesOfTree } from '../../src/core/tlog/tiles.js';
import type { Store } from '../../src/store/store.js';
import { ReferenceTree, refLeafHash } from '../support/merkle-reference.js';

export interface TreeContractContext {
  store: () => Store;
  open: () => Promise<Store>;
  workspace: (label?: string) => Promise<string>;
  test: (name: string, body: () => Promise<void>) => void;
  generateDrafts: (workspace: string, count: number, seed?: number) => EventDraft[];
  makeDraft: (workspace: string, overrides?: Partial<EventDraft>) => EventDraft;
}

async function chainHashes(store: Store, ws: string): Promise<string[]> {
  const hashes: string[] = [];
  for await (const row of store.scanChain(ws, 1)) hashes.push(row.hash);
  return hashes;
}

function reference(hashes: readonly string[]): ReferenceTree {
  return new ReferenceTree(hashes.map((h) => refLeafHash(Buffer.from(h, 'hex'))));
}

export async function code(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof TrailkeepError) return error.code;
    throw error;
  }
  throw new Error('expected a TrailkeepError');
}

/** Sizes worth checking in a tree of n leaves: the edges, the tile borders and a few more. */
function sizesToCheck(n: number, extra: readonly number[]): number[] {
  const sizes = [0, 1, 2, 3, 255, 256, 257, 511, 512, 513, n - 1, n, ...extra];
  return [...new Set(sizes.filter((s) => s >= 0 && s <= n))].sort((a, b) => a - b);
}

/** Checks the whole stored tree of `ws` against the reference built from its chain. */
async function expectTreeFollowsChain(store: Store, ws: string, picks: number[]): Promise<void> {
  const hashes = await chainHashes(store, ws);
  const n = hashes.length;
  expect(await store.treeSize(ws)).toBe(n);
  expect((await store.head(ws)).seq).toBe(n);
  const ref = reference(hashes);
  const sizes = sizesToCheck(
    n,
    picks.map((p) => p % (n + 1)),
  );
  for (const size of sizes) {
    const root = await store.treeRoot(ws, size);
    expect(root.equals(ref.root(size))).toBe(true);
    if (size === 0) continue;
    for (const seq of [1, size, ...picks.map((p) => (p % size) + 1)]) {
      const proof = await store.inclusionProof(ws, seq, size);
      expect(proof).toEqual(ref.inclusion(seq - 1, size));
      expect(verifyInclusion(seq - 1, size, ref.leaves[seq - 1]!, proof, root)).toBe(true);
    }
    for (const from of [0, 1, size, ...picks.map((p) => p % (size + 1))]) {
      const proof = await store.consistencyProof(ws, from, size);
      expect(proof).toEqual(ref.consistency(from, size));
      expect(verifyConsistency(from, size, proof, ref.root(from), root)).toBe(true);
    }
  }
  const tiles = tilesOfTree(n);
  const expected = tilesFromLeafHashes(ref.leaves);
  const stored = await store.readTiles(ws, tiles);
  expect(stored).toEqual(expected.map((t) => t.data));
}

export function treeContract(ctx: TreeContractContext): void {
  const { test } = ctx;

  test('the tree follows the chain through appends, re-sends and refused batches', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 180 }), { minLength: 1, maxLength: 5 }),
        fc.array(fc.nat(), { minLength: 2, maxLength: 4 }),
        fc.boolean(),
        async (batches, picks, resend) => {
          const store = ctx.store();
          const ws = await ctx.workspace('tree');
          const sent: EventDraft[] = [];
          for (const [i, count] of batches.entries()) {
            const drafts = ctx.generateDrafts(ws, count, 100 + i);
            // A re-sent event comes back stored and adds no leaf.
            const again = resend && sent.length > 0 ? [sent[sent.length - 1]!] : [];
            await store.append(ws, [...again, ...drafts]);
            sent.push(...drafts);
            // A batch refused whole (an id stored with other content) adds no leaf either.
            if (sent.length > 0) {
              const clash = { ...sent[0]!, action: 'clash.refused' };
              const refused = [ctx.makeDraft(ws), clash];
              expect(await code(store.append(ws, refused))).toBe('event_id_conflict');
            }
          }
          await expectTreeFollowsChain(store, ws, picks);
        },
      ),
      { numRuns: 6 },
    );
  });

  test('another writer on the same database continues the same tree', async () => {
    const first = ctx.store();
    const second = await ctx.open();
    try {
      const ws = await ctx.workspace('tree-two');
      const writers = [first, second, second, first, first, second];
      for (const [i, writer] of writers.entries()) {
        await writer.append(ws, ctx.generateDrafts(ws, 60 + i * 17, 300 + i));
      }
      await expectTreeFollowsChain(first, ws, [7, 300]);
      await expectTreeFollowsChain(second, ws, [11, 400]);
    } finally {
      await second.close();
    }
  });

  test('imported events join the tree like appended ones', async () => {
    const store = ctx.store();
    const ws = await ctx.workspace('tree-import');
    const sealed = sealBatch(EMPTY_HEAD, ctx.generateDrafts(ws, 270, 31)).map((s) => s.event);
    await store.importEvents(ws, sealed.slice(0, 100));
    await store.importEvents(ws, sealed.slice(100));
    await store.append(ws, [ctx.makeDraft(ws)]);
    await expectTreeFollowsChain(store, ws, [5, 260]);
  });

  test('refuses sizes, seqs and tiles the tree does not have', async () => {
    const store = ctx.store();
    const ws = await ctx.workspace('tree-refusals');
    expect(await store.treeSize(ws)).toBe(0);
    expect((await store.treeRoot(ws, 0)).toString('hex')).toBe(
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    );
    await store.append(ws, ctx.generateDrafts(ws, 3, 41));
    expect(await code(store.treeRoot(ws, 4))).toBe('bad_request');
    expect(await code(store.treeRoot(ws, -1))).toBe('bad_request');
    expect(await code(store.treeRoot(ws, 1.5))).toBe('bad_request');
    expect(await code(store.inclusionProof(ws, 0, 3))).toBe('bad_request');
    expect(await code(store.inclusionProof(ws, 4, 3))).toBe('bad_request');
    expect(await code(store.inclusionProof(ws, 3, 2))).toBe('bad_request');
    expect(await code(store.inclusionProof(ws, 1, 4))).toBe('bad_request');
    expect(await code(store.consistencyProof(ws, 3, 2))).toBe('bad_request');
    expect(await code(store.consistencyProof(ws, 1, 4))).toBe('bad_request');
    expect(await code(store.readTiles(ws, [{ level: 0, index: 0, width: 4 }]))).toBe('not_found');
    expect(await code(store.readTiles(ws, [{ level: 0, index: 1, width: 1 }]))).toBe('not_found');
    expect(await code(store.readTiles(ws, [{ level: 1, index: 0, width: 1 }]))).toBe('not_found');
    const missing = `${ws}-missing`;
    expect(await code(store.treeRoot(missing, 0))).toBe('workspace_not_found');
    expect(await code(store.inclusionProof(missing, 1, 1))).toBe('workspace_not_found');
    // Another workspace's tree is not this one's.
    const other = await ctx.workspace('tree-other');
    expect(await store.treeSize(other)).toBe(0);
    expect(await code(store.inclusionProof(other, 1, 1))).toBe('bad_request');
  });
}
