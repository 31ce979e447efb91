/**
 * The RFC 6962 / RFC 9162 Merkle tree over a workspace's events (docs/integrity.md, "Verifiable
 * log"): leaf hash = SHA-256(0x00 ‖ entry), node hash = SHA-256(0x01 ‖ left ‖ right), and the
 * entry of the event with seq N is leaf N-1: the 32 raw bytes of that event's chain hash.
 *
 * Everything here works on "nodes": the hash of a complete subtree, named by its level (0 for
 * leaves) and its index within that level, so node (L, i) covers leaves [i·2^L, (i+1)·2^L).
 * Those are the only hashes a store keeps, so proofs and roots are computed in two steps: a
 * plan names the nodes it needs, the store reads them in one batch (sync or async), and the plan
 * turns them into the result. The stores never need to know RFC 9162's recursions.
 *
 * Sizes and indexes are JavaScript numbers (exact up to 2^53); no bitwise operator is used on
 * them because those truncate to 32 bits.
 */
import { hash as digest } from 'node:crypto';
import { TrailkeepError } from '../errors.js';

export const HASH_SIZE = 32;

/** The hash of the complete subtree of 2^level leaves starting at leaf index·2^level. */
export interface NodeRef {
  readonly level: number;
  readonly index: number;
}

export interface NodeHash extends NodeRef {
  readonly hash: Buffer;
}

/** Reads node hashes in one batch: the answer holds one 32-byte hash per requested node. */
export type HashReader = (nodes: readonly NodeRef[]) => readonly Uint8Array[];
export type AsyncHashReader = (nodes: readonly NodeRef[]) => Promise<readonly Uint8Array[]>;

/** What a computation needs from the stored tree, and how it finishes once it has them. */
export interface HashPlan<T> {
  readonly nodes: readonly NodeRef[];
  finish(hashes: readonly Uint8Array[]): T;
}

const LEAF_PREFIX = Buffer.from([0x00]);

/** MTH({}) = SHA-256 of the empty string. */
export const EMPTY_ROOT: Buffer = digest('sha256', Buffer.alloc(0), 'buffer');

export function leafHash(entry: Uint8Array): Buffer {
  return digest('sha256', Buffer.concat([LEAF_PREFIX, entry]), 'buffer');
}

export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  const input = Buffer.allocUnsafe(1 + 2 * HASH_SIZE);
  input[0] = 0x01;
  input.set(left, 1);
  input.set(right, 1 + HASH_SIZE);
  return digest('sha256', input, 'buffer');
}

/** Trailkeep's log entry for an event: the 32 raw bytes of its chain hash. */
export function eventLeafEntry(eventHashHex: string): Buffer {
  if (!/^[0-9a-f]{64}$/.test(eventHashHex)) {
    throw new TrailkeepError('bad_request', 'an event hash must be 64 lower-case hex digits');
  }
  return Buffer.from(eventHashHex, 'hex');
}

export function eventLeafHash(eventHashHex: string): Buffer {
  return leafHash(eventLeafEntry(eventHashHex));
}

/** The event with seq N is leaf N-1. */
export function leafIndexOfSeq(seq: number): number {
  return seq - 1;
}

export function isHash(value: Uint8Array): boolean {
  return value.length === HASH_SIZE;
}

export function sameHash(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === HASH_SIZE && b.length === HASH_SIZE && Buffer.from(a).equals(b);
}

function checkSize(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new TrailkeepError('bad_request', `${name} must be a whole number >= 0, not ${value}`);
  }
}

/** The largest power of two strictly below n (n >= 2): RFC 9162's k. */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function isPowerOfTwo(n: number): boolean {
  let m = n;
  while (m > 1 && m % 2 === 0) m /= 2;
  return m === 1;
}

function powerOfTwo(exponent: number): number {
  return 2 ** exponent;
}

/**
 * The complete subtrees that make up leaves [start, end), left to right, largest first. Every
 * range that RFC 9162's recursions hash starts at a multiple of a power of two at least as large
 * as itself, so it splits like a tree size: one node per set bit of its length.
 */
function rangeNodes(start: number, end: number): NodeRef[] {
  const nodes: NodeRef[] = [];
  let at = start;
  let remaining = end - start;
  let level = 0;
  while (powerOfTwo(level + 1) <= remaining) level += 1;
  for (; remaining > 0; level -= 1) {
    const width = powerOfTwo(level);
    if (width <= remaining) {
      nodes.push({ level, index: at / width });
      at += width;
      remaining -= width;
    }
  }
  return nodes;
}

/** MTH of a range from the hashes of its rangeNodes: folded from the right, as RFC 9162 does. */
function foldRange(hashes: readonly Uint8Array[]): Buffer {
  let acc: Buffer = Buffer.from(hashes[hashes.length - 1]!);
  for (let i = hashes.length - 2; i >= 0; i -= 1) acc = nodeHash(hashes[i]!, acc);
  return acc;
}

/** A plan made of ranges whose hashes it needs, finished by hashing each range. */
function rangesPlan<T>(
  ranges: readonly (readonly [number, number])[],
  finish: (hashes: Buffer[]) => T,
): HashPlan<T> {
  const perRange = ranges.map(([start, end]) => rangeNodes(start, end));
  return {
    nodes: perRange.flat(),
    finish(hashes) {
      let at = 0;
      const hashed = perRange.map((nodes) => {
        const slice = hashes.slice(at, at + nodes.length);
        at += nodes.length;
        return foldRange(slice);
      });
      return finish(hashed);
    },
  };
}

/** The root (MTH) of the tree of the first `size` leaves. */
export function rootPlan(size: number): HashPlan<Buffer> {
  checkSize('tree size', size);
  if (size === 0) return { nodes: [], finish: () => Buffer.from(EMPTY_ROOT) };
  return rangesPlan([[0, size]], ([root]) => root!);
}

/** The nodes of a tree of `size` leaves that a frontier keeps (one per set bit of size). */
export function frontierNodes(size: number): NodeRef[] {
  checkSize('tree size', size);
  return rangeNodes(0, size);
}

/** RFC 9162 §2.1.3.1 PATH(m, D[n]): from the leaf's sibling up to the root's child. */
export function inclusionProofPlan(index: number, size: number): HashPlan<Buffer[]> {
  checkSize('leaf index', index);
  checkSize('tree size', size);
  if (index >= size) {
    throw new TrailkeepError(
      'bad_request',
      `leaf index ${index} is not in a tree of ${size} leaves`,
    );
  }
  const ranges: [number, number][] = [];
  const path = (m: number, lo: number, hi: number): void => {
    if (hi - lo === 1) return;
    const k = splitPoint(hi - lo);
    if (m - lo < k) {
      path(m, lo, lo + k);
      ranges.push([lo + k, hi]);
    } else {
      path(m, lo + k, hi);
      ranges.push([lo, lo + k]);
    }
  };
  path(index, 0, size);
  return rangesPlan(ranges, (hashes) => hashes);
}

/**
 * RFC 9162 §2.1.4.1 PROOF(m, D[n]). An old size of 0 or of the new size needs no proof (the
 * empty tree is a prefix of every tree; a tree is its own prefix), as tlog-witness expects.
 */
export function consistencyProofPlan(oldSize: number, newSize: number): HashPlan<Buffer[]> {
  checkSize('old tree size', oldSize);
  checkSize('new tree size', newSize);
  if (oldSize > newSize) {
    throw new TrailkeepError(
      'bad_request',
      `a tree of ${oldSize} leaves cannot be a prefix of one of ${newSize}`,
    );
  }
  const ranges: [number, number][] = [];
  const subproof = (m: number, lo: number, hi: number, complete: boolean): void => {
    if (lo + m === hi) {
      if (!complete) ranges.push([lo, hi]);
      return;
    }
    const k = splitPoint(hi - lo);
    if (m <= k) {
      subproof(m, lo, lo + k, complete);
      ranges.push([lo + k, hi]);
    } else {
      subproof(m - k, lo + k, hi, false);
      ranges.push([lo, lo + k]);
    }
  };
  if (oldSize > 0 && oldSize < newSize) subproof(oldSize, 0, newSize, true);
  return rangesPlan(ranges, (hashes) => hashes);
}

function checkAnswer(plan: HashPlan<unknown>, hashes: readonly Uint8Array[]): void {
  if (hashes.length !== plan.nodes.length) {
    throw new TrailkeepError(
      'internal',
      `the hash reader returned ${hashes.length} hashes for ${plan.nodes.length} nodes`,
    );
  }
  hashes.forEach((h, i) => {
    if (h.length !== HASH_SIZE) {
      const { level, index } = plan.nodes[i]!;
      throw new TrailkeepError(
        'internal',
        `the hash reader returned ${h.length} bytes for node (${level}, ${index}), not ${HASH_SIZE}`,
      );
    }
  });
}

export function runPlan<T>(plan: HashPlan<T>, read: HashReader): T {
  const hashes = plan.nodes.length === 0 ? [] : read(plan.nodes);
  checkAnswer(plan, hashes);
  return plan.finish(hashes);
}

export async function runPlanAsync<T>(plan: HashPlan<T>, read: AsyncHashReader): Promise<T> {
  const hashes = plan.nodes.length === 0 ? [] : await read(plan.nodes);
  checkAnswer(plan, hashes);
  return plan.finish(hashes);
}

export function treeRoot(size: number, read: HashReader): Buffer {
  return runPlan(rootPlan(size), read);
}

export function proveInclusion(index: number, size: number, read: HashReader): Buffer[] {
  return runPlan(inclusionProofPlan(index, size), read);
}

export function proveConsistency(oldSize: number, newSize: number, read: HashReader): Buffer[] {
  return runPlan(consistencyProofPlan(oldSize, newSize), read);
}

/** No proof in a tree of up to 2^64 leaves is longer: a longer one is refused unread. */
const MAX_PROOF_HASHES = 128;

function allHashes(...values: readonly (Uint8Array | readonly Uint8Array[])[]): boolean {
  return values.every((v) => (v instanceof Uint8Array ? isHash(v) : v.every(isHash)));
}

function isBit(n: number): boolean {
  return n % 2 === 1;
}

function half(n: number): number {
  return Math.floor(n / 2);
}

/**
 * The walk both RFC 9162 verifiers share: fn is the node's index and sn the last index at the
 * current level; each proof hash joins on the left (the node is a right child, or the rightmost
 * node with no right sibling at this level, which is skipped up to where it has one) or on the
 * right. True when the walk ends exactly at the root (sn reaches 0 with the last hash).
 */
function climb(
  fn0: number,
  sn0: number,
  path: readonly Uint8Array[],
  joinLeft: (hash: Uint8Array) => void,
  joinRight: (hash: Uint8Array) => void,
): boolean {
  let fn = fn0;
  let sn = sn0;
  for (const p of path) {
    if (sn === 0) return false;
    if (isBit(fn) || fn === sn) {
      joinLeft(p);
      while (!isBit(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      joinRight(p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0;
}

/**
 * RFC 9162 §2.1.3.2: whether `proof` shows that the leaf with hash `leaf` is at `index` in the
 * tree of `size` leaves whose root is `root`.
 */
export function verifyInclusion(
  index: number,
  size: number,
  leaf: Uint8Array,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): boolean {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size)) return false;
  if (index < 0 || index >= size || proof.length > MAX_PROOF_HASHES) return false;
  if (!allHashes(leaf, proof, root)) return false;
  let r: Buffer = Buffer.from(leaf);
  const reachesRoot = climb(
    index,
    size - 1,
    proof,
    (p) => (r = nodeHash(p, r)),
    (p) => (r = nodeHash(r, p)),
  );
  return reachesRoot && r.equals(root);
}

/**
 * RFC 9162 §2.1.4.2: whether `proof` shows that the tree of `oldSize` leaves with root `oldRoot`
 * is a prefix of the tree of `newSize` leaves with root `newRoot`. An old size of 0 needs an empty
 * proof and the empty tree's root; equal sizes need an empty proof and equal roots.
 */
export function verifyConsistency(
  oldSize: number,
  newSize: number,
  proof: readonly Uint8Array[],
  oldRoot: Uint8Array,
  newRoot: Uint8Array,
): boolean {
  if (!Number.isSafeInteger(oldSize) || !Number.isSafeInteger(newSize)) return false;
  if (oldSize < 0 || oldSize > newSize || proof.length > MAX_PROOF_HASHES) return false;
  if (!allHashes(proof, oldRoot, newRoot)) return false;
  if (oldSize === newSize) return proof.length === 0 && sameHash(oldRoot, newRoot);
  if (oldSize === 0) return proof.length === 0 && sameHash(oldRoot, EMPTY_ROOT);
  if (proof.length === 0) return false;
  // An old tree that is a complete subtree is itself the first node of the path.
  const path = isPowerOfTwo(oldSize) ? [oldRoot, ...proof] : [...proof];
  let fn = oldSize - 1;
  let sn = newSize - 1;
  while (isBit(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  let fr: Buffer = Buffer.from(path[0]!);
  let sr: Buffer = Buffer.from(path[0]!);
  const reachesRoot = climb(
    fn,
    sn,
    path.slice(1),
    (c) => {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
    },
    (c) => (sr = nodeHash(sr, c)),
  );
  return reachesRoot && fr.equals(oldRoot) && sr.equals(newRoot);
}

/**
 * The right edge of the tree (a "compact range" from leaf 0): the hashes of the complete subtrees
 * of the current size, largest first. Appending a leaf costs at most log2(size) hashes and names
 * every node that became complete, so a store can persist the tree as it grows without reading
 * anything back; the root of the current size comes from the frontier alone.
 */
export class MerkleFrontier {
  #size: number;
  readonly #hashes: Buffer[];

  private constructor(size: number, hashes: Buffer[]) {
    this.#size = size;
    this.#hashes = hashes;
  }

  static empty(): MerkleFrontier {
    return new MerkleFrontier(0, []);
  }

  /** Resumes from stored nodes: read frontierNodes(size) and pass their hashes in that order. */
  static fromHashes(size: number, hashes: readonly Uint8Array[]): MerkleFrontier {
    const nodes = frontierNodes(size);
    if (hashes.length !== nodes.length || !hashes.every(isHash)) {
      throw new TrailkeepError(
        'internal',
        `a frontier of size ${size} needs ${nodes.length} hashes of ${HASH_SIZE} bytes`,
      );
    }
    return new MerkleFrontier(
      size,
      hashes.map((h) => Buffer.from(h)),
    );
  }

  static plan(size: number): HashPlan<MerkleFrontier> {
    return {
      nodes: frontierNodes(size),
      finish: (hashes) => MerkleFrontier.fromHashes(size, hashes),
    };
  }

  get size(): number {
    return this.#size;
  }

  /** The frontier's nodes with their hashes, largest first. */
  nodes(): NodeHash[] {
    return frontierNodes(this.#size).map((node, i) => ({ ...node, hash: this.#hashes[i]! }));
  }

  /** Adds the next leaf; returns the nodes completed by it, the leaf itself first. */
  append(leaf: Uint8Array): NodeHash[] {
    if (!isHash(leaf)) {
      throw new TrailkeepError('internal', `a leaf hash has ${HASH_SIZE} bytes`);
    }
    if (this.#size >= Number.MAX_SAFE_INTEGER) {
      throw new TrailkeepError('internal', 'the tree cannot grow past 2^53 - 1 leaves');
    }
    let hash: Buffer = Buffer.from(leaf);
    let index = this.#size;
    let level = 0;
    const completed: NodeHash[] = [{ level, index, hash }];
    // Each trailing set bit of the old size is a subtree that the new leaf's side now matches.
    for (let s = this.#size; isBit(s); s = half(s)) {
      hash = nodeHash(this.#hashes.pop()!, hash);
      level += 1;
      index = half(index);
      completed.push({ level, index, hash });
    }
    this.#hashes.push(hash);
    this.#size += 1;
    return completed;
  }

  root(): Buffer {
    return this.#hashes.length === 0 ? Buffer.from(EMPTY_ROOT) : foldRange(this.#hashes);
  }

  clone(): MerkleFrontier {
    return new MerkleFrontier(this.#size, [...this.#hashes]);
  }
}
