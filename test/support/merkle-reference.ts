/**
 * A reference Merkle tree for tests, written straight from RFC 9162's recursive definitions over
 * an array of leaf hashes (MTH, PATH, PROOF), with none of src/core/tlog's node planning, so the
 * two can be compared. Slow on purpose: only for trees of a few thousand leaves.
 */
import { createHash } from 'node:crypto';
import type { HashReader, NodeRef } from '../../src/core/tlog/merkle.js';

function sha256(...parts: Uint8Array[]): Buffer {
  const h = createHash('sha256');
  for (const part of parts) h.update(part);
  return h.digest();
}

export function refLeafHash(entry: Uint8Array): Buffer {
  return sha256(Buffer.from([0]), entry);
}

function refNodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  return sha256(Buffer.from([1]), left, right);
}

function k(n: number): number {
  let p = 1;
  while (p * 2 < n) p *= 2;
  return p;
}

export class ReferenceTree {
  /** levels[L][i] = hash of the complete subtree (L, i). */
  readonly levels: Buffer[][];
  readonly #roots = new Map<number, Buffer>();

  constructor(readonly leaves: readonly Buffer[]) {
    this.levels = [[...leaves]];
    for (let row = this.levels[0]!; row.length > 1;) {
      const next: Buffer[] = [];
      for (let i = 0; i + 1 < row.length; i += 2) next.push(refNodeHash(row[i]!, row[i + 1]!));
      this.levels.push(next);
      row = next;
    }
  }

  /** MTH(D[lo:hi]) by the RFC's recursion. */
  mth(lo: number, hi: number): Buffer {
    const n = hi - lo;
    if (n === 0) return sha256();
    if (n === 1) return this.leaves[lo]!;
    // A complete aligned subtree is a node of the bottom-up levels, built independently above.
    const level = Math.log2(n);
    if (Number.isInteger(level) && lo % n === 0) return this.levels[level]![lo / n]!;
    // Memoize roots only: they are asked for again and again by the properties.
    if (lo === 0 && this.#roots.has(hi)) return this.#roots.get(hi)!;
    const split = k(n);
    const value = refNodeHash(this.mth(lo, lo + split), this.mth(lo + split, hi));
    if (lo === 0) this.#roots.set(hi, value);
    return value;
  }

  root(size: number): Buffer {
    return this.mth(0, size);
  }

  /** PATH(m, D[lo:hi]). */
  path(m: number, lo: number, hi: number): Buffer[] {
    const n = hi - lo;
    if (n <= 1) return [];
    const split = k(n);
    return m - lo < split
      ? [...this.path(m, lo, lo + split), this.mth(lo + split, hi)]
      : [...this.path(m, lo + split, hi), this.mth(lo, lo + split)];
  }

  inclusion(index: number, size: number): Buffer[] {
    return this.path(index, 0, size);
  }

  /** SUBPROOF(m, D[lo:hi], b). */
  subproof(m: number, lo: number, hi: number, b: boolean): Buffer[] {
    const n = hi - lo;
    if (m === n) return b ? [] : [this.mth(lo, hi)];
    const split = k(n);
    return m <= split
      ? [...this.subproof(m, lo, lo + split, b), this.mth(lo + split, hi)]
      : [...this.subproof(m - split, lo + split, hi, false), this.mth(lo, lo + split)];
  }

  consistency(oldSize: number, newSize: number): Buffer[] {
    if (oldSize === 0 || oldSize === newSize) return [];
    return this.subproof(oldSize, 0, newSize, true);
  }

  node({ level, index }: NodeRef): Buffer {
    const hash = this.levels[level]?.[index];
    if (hash === undefined) throw new Error(`no node (${level}, ${index})`);
    return hash;
  }

  /** A hash reader over the complete nodes, counting the nodes read. */
  reader(counter?: { nodes: number; calls: number }): HashReader {
    return (nodes) => {
      if (counter !== undefined) {
        counter.nodes += nodes.length;
        counter.calls += 1;
      }
      return nodes.map((n) => this.node(n));
    };
  }
}

/** Distinct, deterministic leaf hashes: leaf i hashes the 4-byte big-endian i after a seed. */
export function leafHashes(count: number, seed = 0): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < count; i += 1) {
    const entry = Buffer.alloc(8);
    entry.writeUInt32BE(seed, 0);
    entry.writeUInt32BE(i, 4);
    out.push(refLeafHash(entry));
  }
  return out;
}
