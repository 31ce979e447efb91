import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ReferenceTree, leafHashes } from '../../../test/support/merkle-reference.js';
import {
  EMPTY_ROOT,
  MerkleFrontier,
  consistencyProofPlan,
  eventLeafHash,
  frontierNodes,
  inclusionProofPlan,
  leafHash,
  nodeHash,
  proveConsistency,
  proveInclusion,
  rootPlan,
  runPlan,
  runPlanAsync,
  treeRoot,
  verifyConsistency,
  verifyInclusion,
  type NodeRef,
} from './merkle.js';

// One tree shared by every property: leaf i is the same whatever size a run looks at.
const MAX = 3000;
const tree = new ReferenceTree(leafHashes(MAX));
const read = tree.reader();

const sizes = fc.integer({ min: 1, max: MAX });
const leafInTree = sizes.chain((size) =>
  fc.record({ size: fc.constant(size), index: fc.integer({ min: 0, max: size - 1 }) }),
);
const twoSizes = fc
  .tuple(fc.integer({ min: 0, max: MAX }), fc.integer({ min: 0, max: MAX }))
  .map(([a, b]) => ({ oldSize: Math.min(a, b), newSize: Math.max(a, b) }));

function flipByte(proof: readonly Buffer[], which: number, byte: number, bit: number): Buffer[] {
  return proof.map((h, i) => {
    if (i !== which % proof.length) return h;
    const copy = Buffer.from(h);
    copy[byte % copy.length]! ^= 1 << (bit % 8);
    return copy;
  });
}

const mutation = fc.record({
  which: fc.nat(),
  byte: fc.nat(),
  bit: fc.nat({ max: 7 }),
  other: fc.integer({ min: 0, max: MAX }),
  extra: fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b)),
});

describe('Merkle tree (RFC 9162)', () => {
  it('the leaf hash prefixes 0x00; an event leaf is the raw bytes of its chain hash', () => {
    const hash = 'ab'.repeat(32);
    expect(eventLeafHash(hash)).toEqual(leafHash(Buffer.from(hash, 'hex')));
    expect(() => eventLeafHash('AB'.repeat(32))).toThrow('64 lower-case hex digits');
    expect(treeRoot(0, read)).toEqual(EMPTY_ROOT);
  });

  it('roots from nodes equal the recursive definition, for every size', () => {
    fc.assert(
      fc.property(sizes, (size) => {
        expect(treeRoot(size, read)).toEqual(tree.root(size));
        // A root reads one node per set bit of the size: log2(size) at most.
        expect(rootPlan(size).nodes.length).toBeLessThanOrEqual(Math.ceil(Math.log2(size + 1)));
      }),
      { numRuns: 300 },
    );
  });

  it('every inclusion proof is PATH(m, D[n]), verifies, and reads O(log n) nodes', () => {
    fc.assert(
      fc.property(leafInTree, ({ index, size }) => {
        const proof = proveInclusion(index, size, read);
        expect(proof).toEqual(tree.inclusion(index, size));
        expect(verifyInclusion(index, size, tree.leaves[index]!, proof, tree.root(size))).toBe(
          true,
        );
        expect(inclusionProofPlan(index, size).nodes.length).toBeLessThanOrEqual(
          2 * Math.ceil(Math.log2(size + 1)),
        );
      }),
      { numRuns: 300 },
    );
  });

  it('no altered inclusion proof verifies', () => {
    fc.assert(
      fc.property(leafInTree, mutation, ({ index, size }, m) => {
        const leaf = tree.leaves[index]!;
        const root = tree.root(size);
        const proof = proveInclusion(index, size, read);
        const refuses = (i: number, n: number, p: readonly Buffer[], r: Buffer, l = leaf): void =>
          expect(verifyInclusion(i, n, l, p, r)).toBe(false);
        if (proof.length > 0) {
          refuses(index, size, flipByte(proof, m.which, m.byte, m.bit), root);
          refuses(index, size, proof.slice(0, -1), root);
          refuses(index, size, proof.slice(1), root);
        }
        refuses(index, size, [...proof, m.extra], root);
        refuses(index, size, [m.extra, ...proof], root);
        refuses(index, size, [...proof, root], root);
        const otherIndex = m.other % size;
        if (otherIndex !== index) refuses(otherIndex, size, proof, root);
        // Another size with that tree's real root: the proof is for this tree, not that one.
        const otherSize = Math.max(index + 1, m.other);
        if (otherSize !== size) refuses(index, otherSize, proof, tree.root(otherSize));
        refuses(index, size, proof, root, m.extra);
        refuses(index, size, proof, m.extra);
        refuses(index, size, proof, EMPTY_ROOT);
        refuses(size, size, proof, root);
        refuses(-1, size, proof, root);
        refuses(index, size, proof, root.subarray(1));
      }),
      { numRuns: 300 },
    );
  });

  it('every consistency proof is PROOF(m, D[n]) and verifies', () => {
    fc.assert(
      fc.property(twoSizes, ({ oldSize, newSize }) => {
        const proof = proveConsistency(oldSize, newSize, read);
        expect(proof).toEqual(tree.consistency(oldSize, newSize));
        const oldRoot = tree.root(oldSize);
        const newRoot = tree.root(newSize);
        expect(verifyConsistency(oldSize, newSize, proof, oldRoot, newRoot)).toBe(true);
        expect(consistencyProofPlan(oldSize, newSize).nodes.length).toBeLessThanOrEqual(
          2 * Math.ceil(Math.log2(newSize + 1)),
        );
      }),
      { numRuns: 300 },
    );
  });

  it('no altered consistency proof verifies', () => {
    fc.assert(
      fc.property(twoSizes, mutation, ({ oldSize, newSize }, m) => {
        const oldRoot = tree.root(oldSize);
        const newRoot = tree.root(newSize);
        const proof = proveConsistency(oldSize, newSize, read);
        const refuses = (
          a: number,
          b: number,
          p: readonly Buffer[],
          ra: Buffer,
          rb: Buffer,
        ): void => expect(verifyConsistency(a, b, p, ra, rb)).toBe(false);
        if (proof.length > 0) {
          refuses(oldSize, newSize, flipByte(proof, m.which, m.byte, m.bit), oldRoot, newRoot);
          refuses(oldSize, newSize, proof.slice(0, -1), oldRoot, newRoot);
          refuses(oldSize, newSize, proof.slice(1), oldRoot, newRoot);
          refuses(oldSize, newSize, [proof[0]!, ...proof], oldRoot, newRoot);
          refuses(oldSize, newSize, [], oldRoot, newRoot);
        }
        refuses(oldSize, newSize, [...proof, m.extra], oldRoot, newRoot);
        refuses(oldSize, newSize, [m.extra, ...proof], oldRoot, newRoot);
        refuses(oldSize, newSize, [...proof, newRoot], oldRoot, newRoot);
        // The empty tree is a prefix of every tree, whatever its root.
        if (oldSize > 0) refuses(oldSize, newSize, proof, oldRoot, m.extra);
        refuses(oldSize, newSize, proof, m.extra, newRoot);
        if (oldSize !== newSize) refuses(oldSize, newSize, proof, newRoot, oldRoot);
        // Other sizes with those trees' real roots: only their own proof would do (the empty
        // proof from 0 is every tree's).
        const onlyIfTheirs = (a: number, b: number): void =>
          expect(verifyConsistency(a, b, proof, tree.root(a), tree.root(b))).toBe(
            Buffer.concat(proof).equals(Buffer.concat(tree.consistency(a, b))),
          );
        onlyIfTheirs(m.other % (newSize + 1), newSize);
        onlyIfTheirs(oldSize, Math.max(oldSize, m.other));
        refuses(newSize + 1, newSize, proof, newRoot, newRoot);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses a proof longer than any tree could need without reading it', () => {
    const long = Array.from({ length: 129 }, () => EMPTY_ROOT);
    // Reading the last element would throw: the length alone must decide.
    Object.defineProperty(long, 128, {
      get: () => {
        throw new Error('read');
      },
    });
    expect(verifyInclusion(0, 2, EMPTY_ROOT, long, EMPTY_ROOT)).toBe(false);
    expect(verifyConsistency(1, 3, long, EMPTY_ROOT, EMPTY_ROOT)).toBe(false);
  });

  it('a consistency proof from 0 needs the empty root; equal sizes need equal roots', () => {
    const root = tree.root(5);
    expect(verifyConsistency(0, 5, [], EMPTY_ROOT, root)).toBe(true);
    expect(verifyConsistency(0, 5, [], root, root)).toBe(false);
    expect(verifyConsistency(0, 0, [], EMPTY_ROOT, EMPTY_ROOT)).toBe(true);
    expect(verifyConsistency(5, 5, [], root, root)).toBe(true);
    expect(verifyConsistency(5, 5, [], root, tree.root(4))).toBe(false);
    expect(verifyConsistency(5, 5, [root], root, root)).toBe(false);
  });

  it('refuses impossible ranges with a clear message', () => {
    expect(() => inclusionProofPlan(3, 3)).toThrow('leaf index 3 is not in a tree of 3 leaves');
    expect(() => consistencyProofPlan(4, 3)).toThrow(
      'a tree of 4 leaves cannot be a prefix of one of 3',
    );
    expect(() => rootPlan(-1)).toThrow('tree size must be a whole number >= 0');
    expect(() => rootPlan(2 ** 53)).toThrow('tree size must be a whole number >= 0');
    expect(() => runPlan(rootPlan(3), () => [])).toThrow('returned 0 hashes for 2 nodes');
    expect(() => runPlan(rootPlan(1), () => [Buffer.alloc(31)])).toThrow(
      'returned 31 bytes for node (0, 0), not 32',
    );
  });

  it('works with an asynchronous reader, in one batch', async () => {
    const counter = { nodes: 0, calls: 0 };
    const sync = tree.reader(counter);
    const proof = await runPlanAsync(inclusionProofPlan(1234, 2999), (nodes) =>
      Promise.resolve(sync(nodes)),
    );
    expect(proof).toEqual(tree.inclusion(1234, 2999));
    expect(counter.calls).toBe(1);
  });

  it('is exact beyond 2^32 leaves (no 32-bit bitwise arithmetic)', () => {
    // The plan for a huge tree names nodes only; the arithmetic on the sizes is what is checked.
    const size = 2 ** 40 + 2 ** 33 + 5;
    const nodes = frontierNodes(size);
    expect(nodes).toEqual([
      { level: 40, index: 0 },
      { level: 33, index: 2 ** 7 },
      { level: 2, index: (2 ** 40 + 2 ** 33) / 4 },
      { level: 0, index: 2 ** 40 + 2 ** 33 + 4 },
    ]);
    const last = inclusionProofPlan(size - 1, size).nodes;
    expect(last).toContainEqual({ level: 40, index: 0 });
    // A tree whose 2^40+ leaves are all equal: node (L, i) is h_L for every i, so the hashes of
    // any size are cheap and consistent, and the verifiers' shifts run on these sizes.
    const levels = [leafHash(Buffer.from('same'))];
    for (let l = 1; l <= 41; l += 1) levels.push(nodeHash(levels[l - 1]!, levels[l - 1]!));
    const fake = (n: NodeRef): Buffer => levels[n.level]!;
    const proof = proveInclusion(size - 1, size, (ns) => ns.map(fake));
    const root = treeRoot(size, (ns) => ns.map(fake));
    expect(verifyInclusion(size - 1, size, levels[0]!, proof, root)).toBe(true);
    expect(verifyInclusion(size - 2, size, levels[0]!, proof, root)).toBe(false);
    expect(verifyInclusion(size - 1, size + 1, levels[0]!, proof, root)).toBe(false);
    const oldSize = 2 ** 33 + 3;
    const consistency = proveConsistency(oldSize, size, (ns) => ns.map(fake));
    const oldRoot = treeRoot(oldSize, (ns) => ns.map(fake));
    expect(verifyConsistency(oldSize, size, consistency, oldRoot, root)).toBe(true);
    expect(verifyConsistency(oldSize, size, consistency, oldRoot, EMPTY_ROOT)).toBe(false);
  });
});

describe('MerkleFrontier', () => {
  it('appending leaf by leaf gives the recursive root at every size and names each new node', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 600 }), fc.nat({ max: MAX - 600 }), (start, offset) => {
        // Start anywhere: resume from stored nodes, as a store does after a restart.
        const frontier = runPlan(MerkleFrontier.plan(start), read);
        expect(frontier.root()).toEqual(tree.root(start));
        for (let size = start; size < start + (offset % 600); size += 1) {
          const completed = frontier.append(tree.leaves[size]!);
          // The leaf, then one node per trailing set bit of the old size: O(log n) hashes.
          expect(completed[0]).toEqual({ level: 0, index: size, hash: tree.leaves[size] });
          expect(completed).toHaveLength(1 + Math.log2(((size ^ (size + 1)) + 1) / 2));
          for (const node of completed) expect(node.hash).toEqual(tree.node(node));
          expect(frontier.size).toBe(size + 1);
          expect(frontier.root()).toEqual(tree.root(size + 1));
        }
        expect(frontier.nodes().map(({ level, index }) => ({ level, index }))).toEqual(
          frontierNodes(frontier.size),
        );
      }),
      { numRuns: 60 },
    );
  });

  it('a clone grows apart from its original', () => {
    const frontier = MerkleFrontier.empty();
    frontier.append(tree.leaves[0]!);
    const copy = frontier.clone();
    copy.append(tree.leaves[1]!);
    expect(frontier.root()).toEqual(tree.root(1));
    expect(copy.root()).toEqual(tree.root(2));
  });

  it('refuses a wrong number of stored hashes and a leaf hash of the wrong length', () => {
    expect(() => MerkleFrontier.fromHashes(3, [tree.leaves[0]!])).toThrow(
      'a frontier of size 3 needs 2 hashes of 32 bytes',
    );
    expect(() => MerkleFrontier.empty().append(Buffer.alloc(33))).toThrow(
      'a leaf hash has 32 bytes',
    );
  });
});
