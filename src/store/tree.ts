/**
 * The per-workspace Merkle tree as the stores keep it (docs/storage.md, "The Merkle tree"). Each
 * engine stores the node hashes at tile levels 0, 8, 16 … (exactly the C2SP tiles' contents), one
 * row per node, inserted in the append transaction and never changed. Everything else here is
 * engine-neutral: which rows an append adds, the frontier kept per workspace so an append costs
 * O(log n), and roots and proofs computed from the tiles an engine reads.
 */
import { TrailkeepError } from '../core/errors.js';
import {
  MerkleFrontier,
  consistencyProofPlan,
  eventLeafHash,
  inclusionProofPlan,
  leafIndexOfSeq,
  rootPlan,
  runPlan,
  runPlanAsync,
  type HashPlan,
} from '../core/tlog/merkle.js';
import {
  TILE_HEIGHT,
  asyncTileHashReader,
  tileWidth,
  tileHashReader,
  type TileRef,
} from '../core/tlog/tiles.js';

/** What the stores answer about a workspace's tree; all sizes are numbers of leaves (events). */
export interface TreeReader {
  /** How many leaves the stored tree holds: the head's seq when tree and chain are in step. */
  treeSize(workspace: string): Promise<number>;
  /** The root of the tree of the first `size` leaves (size ≤ treeSize). */
  treeRoot(workspace: string, size: number): Promise<Buffer>;
  /** The inclusion proof of the event with `seq` in the tree of `size` leaves. */
  inclusionProof(workspace: string, seq: number, size: number): Promise<Buffer[]>;
  /** The consistency proof from the tree of `from` leaves to the tree of `to` leaves. */
  consistencyProof(workspace: string, from: number, to: number): Promise<Buffer[]>;
  /** Tiles as published for a tree at least as large as each tile: width × 32 bytes each. */
  readTiles(workspace: string, tiles: readonly TileRef[]): Promise<Buffer[]>;
}

/** One stored row: a node at a tile level (0, 8, 16 …). */
export interface TreeRow {
  readonly level: number;
  readonly index: number;
  readonly hash: Buffer;
}

/**
 * Adds the events' chain hashes (in seq order, continuing the frontier) and returns the rows to
 * store: the completed nodes at tile levels. The frontier is changed in place.
 */
export function growTree(frontier: MerkleFrontier, eventHashes: readonly string[]): TreeRow[] {
  const rows: TreeRow[] = [];
  for (const hash of eventHashes) {
    for (const node of frontier.append(eventLeafHash(hash))) {
      if (node.level % TILE_HEIGHT === 0) rows.push(node);
    }
  }
  return rows;
}

/**
 * The frontier of each workspace's tree at the size last committed by this process. A writer
 * takes it under the workspace lock only when its size is the head's seq; otherwise another
 * process appended (or this one never did) and the writer rebuilds it from the stored tiles.
 * Writers work on a copy and `commit` it only after their transaction committed, so a rolled
 * back batch never leaves a frontier ahead of the stored tree.
 */
export class FrontierCache {
  readonly #frontiers = new Map<string, MerkleFrontier>();

  /** See BenchOnlyTreeOptions: the write paths then add no tree rows at all. */
  constructor(readonly skipTreeWritesForBench = false) {}

  /** A copy of the cached frontier when it has `size` leaves. */
  take(workspace: string, size: number): MerkleFrontier | undefined {
    const cached = this.#frontiers.get(workspace);
    return cached !== undefined && cached.size === size ? cached.clone() : undefined;
  }

  commit(workspace: string, frontier: MerkleFrontier): void {
    this.#frontiers.set(workspace, frontier);
  }
}

/**
 * Bench only: `npm run bench` opens a second store with this to measure what the tree costs an
 * append (bench/scenarios/tree.ts), the same ingest with and without it. Only the engines' own
 * openers take it; openStore, the CLI, a database URL and HTTP cannot set it. A store so opened
 * leaves its tree behind its chain, which verify reports (tree_mismatch) and proofs refuse.
 */
export interface BenchOnlyTreeOptions {
  benchOnlySkipTreeWrites?: boolean;
}

function checkSize(what: string, value: number, treeSize: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new TrailkeepError('bad_request', `${what} must be a whole number >= 0, not ${value}`);
  }
  if (value > treeSize) {
    throw new TrailkeepError(
      'bad_request',
      `${what} ${value} is larger than the workspace's tree (${treeSize} events)`,
    );
  }
}

function checkSeq(seq: number, size: number): void {
  if (!Number.isSafeInteger(seq) || seq < 1 || seq > size) {
    throw new TrailkeepError(
      'bad_request',
      `event seq ${seq} is not in a tree of ${size} events (seq 1 to ${size})`,
    );
  }
}

/** The plans behind TreeReader, each for the size whose tiles it reads. */
export const treePlans = {
  root(size: number, treeSize: number): { size: number; plan: HashPlan<Buffer> } {
    checkSize('tree size', size, treeSize);
    return { size, plan: rootPlan(size) };
  },
  inclusion(
    seq: number,
    size: number,
    treeSize: number,
  ): { size: number; plan: HashPlan<Buffer[]> } {
    checkSize('tree size', size, treeSize);
    checkSeq(seq, size);
    return { size, plan: inclusionProofPlan(leafIndexOfSeq(seq), size) };
  },
  consistency(
    from: number,
    to: number,
    treeSize: number,
  ): { size: number; plan: HashPlan<Buffer[]> } {
    checkSize('old tree size', from, treeSize);
    checkSize('new tree size', to, treeSize);
    return { size: to, plan: consistencyProofPlan(from, to) };
  },
};

/** Refuses tiles the tree of `treeSize` leaves does not have (yet) at the width asked. */
export function checkTiles(tiles: readonly TileRef[], treeSize: number): void {
  for (const tile of tiles) {
    if (tile.width > tileWidth(tile.level, tile.index, treeSize)) {
      throw new TrailkeepError(
        'not_found',
        `tile ${tile.level}/${tile.index} of width ${tile.width} is not in the workspace's tree ` +
          `(${treeSize} events)`,
      );
    }
  }
}

/** Tiles read by an engine: one batch of (level, first index, width) ranges. */
export type TileRowsReader<R> = (tiles: readonly TileRef[]) => R;

export function runTreePlan<T>(
  { size, plan }: { size: number; plan: HashPlan<T> },
  readTiles: TileRowsReader<readonly Uint8Array[]>,
): T {
  return runPlan(plan, tileHashReader(size, readTiles));
}

export function runTreePlanAsync<T>(
  { size, plan }: { size: number; plan: HashPlan<T> },
  readTiles: TileRowsReader<Promise<readonly Uint8Array[]>>,
): Promise<T> {
  return runPlanAsync(plan, asyncTileHashReader(size, readTiles));
}

/** The frontier of the stored tree of `size` leaves, from its tiles. */
export function frontierPlan(size: number): { size: number; plan: HashPlan<MerkleFrontier> } {
  return { size, plan: MerkleFrontier.plan(size) };
}

/**
 * A tile as an engine reads it in one aggregate over its range of rows: how many rows there are,
 * how many of them hold a 32-byte hash, and their hashes concatenated in index order. One value
 * per tile instead of one row object and one Buffer per hash: a proof in a million-event tree
 * reads three tiles, and reading them row by row cost more than all of its hashing.
 */
export interface TileAggregate {
  rows: number;
  hashes32: number;
  bytes: Buffer;
}

/**
 * Checks that the aggregate read for a tile is its hashes. The rows come from the index range
 * [first, first + width) of a table keyed (workspace, level, idx), so as many rows as the width
 * are exactly those indexes. A gap means the tree table lost or never got rows, which verify
 * reports; proofs refuse to be built from it.
 */
export function tileFromAggregate(tile: TileRef, read: TileAggregate): Buffer {
  const complete =
    read.rows === tile.width &&
    read.hashes32 === tile.width &&
    read.bytes.length === tile.width * 32;
  if (!complete) {
    throw new TrailkeepError(
      'integrity_broken',
      `the tree table holds ${read.rows} of the ${tile.width} hashes of tile ` +
        `${tile.level}/${tile.index}: the stored Merkle tree is incomplete`,
    );
  }
  return read.bytes;
}
