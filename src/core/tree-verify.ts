/**
 * Verify's check of the stored Merkle tree against the chain (docs/integrity.md, "What verify
 * checks"). As verify streams the chain, the tree is rebuilt from the chain hashes (a frontier)
 * and each tile it fills is kept as a digest; then every stored tile is read and compared with
 * its digest. Every tile, not only the root: the tiles overlap (a level-8 hash is also the root
 * of a full level-0 tile), so a root can be right while a tile it does not read is wrong, and
 * a proof served from that tile would fail. Memory: 32 bytes per 256 events.
 */
import { hash as digest } from 'node:crypto';
import { TrailkeepError } from './errors.js';
import { MerkleFrontier, eventLeafHash } from './tlog/merkle.js';
import { TILE_HEIGHT, TILE_WIDTH, tilePath, type TileRef } from './tlog/tiles.js';
import type { VerifyProblem } from './verify.js';

/** Where the stores keep the tree (both engines use this name). */
const TREE_TABLE = 'tree_nodes';
/** Tiles compared per read. */
const TILES_PER_READ = 64;

export interface StoredTree {
  treeSize(): Promise<number>;
  readTiles(tiles: readonly TileRef[]): Promise<readonly Uint8Array[]>;
}

function tileDigest(data: Uint8Array): Buffer {
  return digest('sha256', data, 'buffer');
}

export class TreeVerifier {
  readonly #frontier = MerkleFrontier.empty();
  /** Per tile level: the digests of its tiles (the last one partial until the end). */
  readonly #digests: Buffer[][] = [];
  /** Per tile level: the hashes of the tile being filled. */
  readonly #open: Buffer[][] = [];

  /** Adds the next verified row's chain hash. */
  add(hash: string): void {
    for (const node of this.#frontier.append(eventLeafHash(hash))) {
      if (node.level % TILE_HEIGHT !== 0) continue;
      const level = node.level / TILE_HEIGHT;
      const open = (this.#open[level] ??= []);
      open.push(node.hash);
      if (open.length === TILE_WIDTH) {
        (this.#digests[level] ??= []).push(tileDigest(Buffer.concat(open)));
        this.#open[level] = [];
      }
    }
  }

  get size(): number {
    return this.#frontier.size;
  }

  /** Compares the store's tree with the tree of the chain's rows added so far. */
  async compare(stored: StoredTree): Promise<VerifyProblem | undefined> {
    const size = this.#frontier.size;
    const mismatch = (text: string): VerifyProblem => ({
      seq: size,
      kind: 'tree_mismatch',
      message: `the Merkle tree (table ${TREE_TABLE}) ${text}`,
    });
    const storedSize = await stored.treeSize();
    if (storedSize !== size) {
      return mismatch(
        `holds ${storedSize} events but the chain has ${size}; the tree is out of step with the chain`,
      );
    }
    const expected: { tile: TileRef; digest: Buffer }[] = [];
    this.#open.forEach((open, level) => {
      const full = this.#digests[level] ?? [];
      full.forEach((d, index) =>
        expected.push({ tile: { level, index, width: TILE_WIDTH }, digest: d }),
      );
      if (open.length > 0) {
        expected.push({
          tile: { level, index: full.length, width: open.length },
          digest: tileDigest(Buffer.concat(open)),
        });
      }
    });
    for (let i = 0; i < expected.length; i += TILES_PER_READ) {
      const batch = expected.slice(i, i + TILES_PER_READ);
      let data: readonly Uint8Array[];
      try {
        data = await stored.readTiles(batch.map((e) => e.tile));
      } catch (error) {
        if (error instanceof TrailkeepError && error.code === 'integrity_broken') {
          return mismatch(`cannot be read: ${error.message}`);
        }
        throw error;
      }
      const bad = batch.findIndex((e, j) => !tileDigest(data[j]!).equals(e.digest));
      if (bad >= 0) {
        const { tile } = batch[bad]!;
        const first = tile.index * TILE_WIDTH;
        return mismatch(
          `differs from the chain's hashes in ${tilePath(tile)} (level ${tile.level * TILE_HEIGHT}, ` +
            `nodes ${first} to ${first + tile.width - 1}); a stored tree hash was altered`,
        );
      }
    }
    return undefined;
  }
}
