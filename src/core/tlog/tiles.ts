/**
 * C2SP tlog-tiles (c2sp.org/tlog-tiles), height 8: the Merkle tree published as static "tiles".
 * Tile (L, N) holds the node hashes at level 8·L with indexes N·256 … N·256+255; a partial tile
 * (the right edge of a tree whose size is not a multiple) holds the first W of them. The levels
 * between are recomputed by hashing, so a store that keeps just these hashes keeps the whole tree:
 * about 256/255 times the leaf hashes, and any other node is the hash of at most 128 of them.
 *
 * Entry bundles (tile/entries/N) hold the entries of leaves N·256 …, each as a big-endian uint16
 * length and the bytes.
 */
import { TrailkeepError } from '../errors.js';
import { quote } from './text.js';
import {
  HASH_SIZE,
  MerkleFrontier,
  nodeHash,
  type AsyncHashReader,
  type HashPlan,
  type HashReader,
  type NodeRef,
} from './merkle.js';

export const TILE_HEIGHT = 8;
export const TILE_WIDTH = 256;
/** tlog-tiles allows tile levels 0 to 63. */
const MAX_TILE_LEVEL = 63;
const MAX_ENTRY_SIZE = 0xffff;
const MAX_PATH = 64;

/** A tile as published for one tree size: width 256 is a full tile, less a partial one. */
export interface TileRef {
  readonly level: number;
  readonly index: number;
  readonly width: number;
}

export interface TileData {
  readonly tile: TileRef;
  /** width × 32 bytes: the tile's hashes, concatenated. */
  readonly data: Buffer;
}

/** Reads tiles in one batch: exactly width × 32 bytes per tile (a prefix of a wider stored one). */
export type TileReader = (tiles: readonly TileRef[]) => readonly Uint8Array[];
export type AsyncTileReader = (tiles: readonly TileRef[]) => Promise<readonly Uint8Array[]>;

/** Node hashes at levels 0, 8, 16 … are the tiles' contents; others are recomputed. */
export interface TileSlot {
  readonly level: number;
  readonly index: number;
  /** Position of the node's hash in the tile, 0 to 255. */
  readonly offset: number;
}

function bad(message: string): TrailkeepError {
  return new TrailkeepError('bad_request', message);
}

function checkCount(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw bad(`${name} must be a whole number >= 0, not ${value}`);
  }
}

/** Where a node's hash is stored, or undefined for the levels tiles do not store. */
export function tileSlot(node: NodeRef): TileSlot | undefined {
  if (node.level % TILE_HEIGHT !== 0) return undefined;
  const index = Math.floor(node.index / TILE_WIDTH);
  return { level: node.level / TILE_HEIGHT, index, offset: node.index - index * TILE_WIDTH };
}

/** How many level-8·L hashes a tree of `size` leaves has: floor(size / 256^L). */
function hashesAtTileLevel(level: number, size: number): number {
  return Math.floor(size / TILE_WIDTH ** level);
}

/** The width of tile (level, index) in a tree of `size` leaves; 0 when it does not exist. */
export function tileWidth(level: number, index: number, size: number): number {
  const available = hashesAtTileLevel(level, size) - index * TILE_WIDTH;
  return Math.max(0, Math.min(TILE_WIDTH, available));
}

/**
 * The tiles a log publishes when it grows from `oldSize` to `newSize` leaves: every tile that is
 * new or wider, level by level, left to right.
 */
export function tilesChanged(oldSize: number, newSize: number): TileRef[] {
  checkCount('old tree size', oldSize);
  checkCount('new tree size', newSize);
  if (oldSize > newSize) throw bad(`the tree cannot shrink from ${oldSize} to ${newSize}`);
  const tiles: TileRef[] = [];
  for (let level = 0; hashesAtTileLevel(level, newSize) > 0; level += 1) {
    const first = Math.floor(hashesAtTileLevel(level, oldSize) / TILE_WIDTH);
    const end = Math.ceil(hashesAtTileLevel(level, newSize) / TILE_WIDTH);
    for (let index = first; index < end; index += 1) {
      const width = tileWidth(level, index, newSize);
      if (width > tileWidth(level, index, oldSize)) tiles.push({ level, index, width });
    }
  }
  return tiles;
}

/** Every tile of a tree of `size` leaves. */
export function tilesOfTree(size: number): TileRef[] {
  return tilesChanged(0, size);
}

/** The node hashes that make up a tile, for a store that has a hash reader but no tiles yet. */
export function tileDataPlan(tile: TileRef): HashPlan<Buffer> {
  checkTile(tile);
  const level = tile.level * TILE_HEIGHT;
  const nodes: NodeRef[] = [];
  for (let i = 0; i < tile.width; i += 1) nodes.push({ level, index: tile.index * TILE_WIDTH + i });
  return { nodes, finish: (hashes) => Buffer.concat(hashes) };
}

/** All tiles of the tree of the given leaf hashes (for a backfill, or to check a store). */
export function tilesFromLeafHashes(leafHashes: Iterable<Uint8Array>): TileData[] {
  const frontier = MerkleFrontier.empty();
  const filled = new Map<string, { tile: { level: number; index: number }; hashes: Buffer[] }>();
  for (const leaf of leafHashes) {
    for (const node of frontier.append(leaf)) {
      const slot = tileSlot(node);
      if (slot === undefined) continue;
      const key = `${slot.level}/${slot.index}`;
      let entry = filled.get(key);
      if (entry === undefined) {
        entry = { tile: { level: slot.level, index: slot.index }, hashes: [] };
        filled.set(key, entry);
      }
      entry.hashes.push(node.hash);
    }
  }
  return [...filled.values()]
    .map(({ tile, hashes }) => ({
      tile: { ...tile, width: hashes.length },
      data: Buffer.concat(hashes),
    }))
    .sort((a, b) => a.tile.level - b.tile.level || a.tile.index - b.tile.index);
}

/** What a batch of nodes needs from tiles, and how to compute them from the tiles' bytes. */
export interface TilePlan<T> {
  readonly tiles: readonly TileRef[];
  finish(data: readonly Uint8Array[]): T;
}

/**
 * Reads node hashes of the tree of `size` leaves from its tiles. A node at level 8·L + r is the
 * hash of 2^r consecutive hashes of one tile at tile level L; every node of one batch that falls
 * in the same tile shares one read. Tiles are taken as stored: a proof built from altered tiles
 * fails when it is verified against a signed checkpoint, not here.
 */
export function nodesFromTilesPlan(size: number, nodes: readonly NodeRef[]): TilePlan<Buffer[]> {
  checkCount('tree size', size);
  const tiles: TileRef[] = [];
  const tileNumbers = new Map<string, number>();
  const places = nodes.map(({ level, index }) => {
    checkCount('node level', level);
    checkCount('node index', index);
    if ((index + 1) * 2 ** level > size) {
      throw new TrailkeepError(
        'internal',
        `node (${level}, ${index}) is not complete in a tree of ${size} leaves`,
      );
    }
    const tileLevel = Math.floor(level / TILE_HEIGHT);
    const depth = level - tileLevel * TILE_HEIGHT;
    const first = index * 2 ** depth;
    const tileIndex = Math.floor(first / TILE_WIDTH);
    const key = `${tileLevel}/${tileIndex}`;
    let tileNumber = tileNumbers.get(key);
    if (tileNumber === undefined) {
      tileNumber = tiles.length;
      tileNumbers.set(key, tileNumber);
      tiles.push({
        level: tileLevel,
        index: tileIndex,
        width: tileWidth(tileLevel, tileIndex, size),
      });
    }
    return { tileNumber, offset: first - tileIndex * TILE_WIDTH, depth };
  });
  return {
    tiles,
    finish(data) {
      if (data.length !== tiles.length) {
        throw new TrailkeepError(
          'internal',
          `the tile reader returned ${data.length} tiles for ${tiles.length}`,
        );
      }
      data.forEach((bytes, i) => {
        const tile = tiles[i]!;
        if (bytes.length !== tile.width * HASH_SIZE) {
          throw new TrailkeepError(
            'internal',
            `the tile reader returned ${bytes.length} bytes for ${tilePath(tile)}, not ${tile.width * HASH_SIZE}`,
          );
        }
      });
      const split = tiles.map((tile, i) => splitTile(tile, data[i]!));
      return places.map(({ tileNumber, offset, depth }) => {
        let row = split[tileNumber]!.slice(offset, offset + 2 ** depth);
        while (row.length > 1) {
          const next: Buffer[] = [];
          for (let i = 0; i < row.length; i += 2) next.push(nodeHash(row[i]!, row[i + 1]!));
          row = next;
        }
        return row[0]!;
      });
    },
  };
}

/** A HashReader over the tiles of the tree of `size` leaves (Go's tlog.TileHashReader). */
export function tileHashReader(size: number, readTiles: TileReader): HashReader {
  return (nodes) => {
    const plan = nodesFromTilesPlan(size, nodes);
    return plan.finish(plan.tiles.length === 0 ? [] : readTiles(plan.tiles));
  };
}

export function asyncTileHashReader(size: number, readTiles: AsyncTileReader): AsyncHashReader {
  return async (nodes) => {
    const plan = nodesFromTilesPlan(size, nodes);
    return plan.finish(plan.tiles.length === 0 ? [] : await readTiles(plan.tiles));
  };
}

function checkTile(tile: TileRef): void {
  const { level, index, width } = tile;
  if (!Number.isSafeInteger(level) || level < 0 || level > MAX_TILE_LEVEL) {
    throw bad(`a tile level is a whole number from 0 to ${MAX_TILE_LEVEL}, not ${level}`);
  }
  checkCount('tile index', index);
  if (!Number.isSafeInteger(width) || width < 1 || width > TILE_WIDTH) {
    throw bad(`a tile width is a whole number from 1 to ${TILE_WIDTH}, not ${width}`);
  }
}

/** N in a tile path: zero-padded 3-digit elements, all but the last prefixed with x. */
export function formatTileIndex(index: number): string {
  checkCount('tile index', index);
  let digits = String(index);
  digits = digits.padStart(Math.ceil(digits.length / 3) * 3, '0');
  const parts: string[] = [];
  for (let i = 0; i < digits.length; i += 3) parts.push(digits.slice(i, i + 3));
  return parts.map((part, i) => (i < parts.length - 1 ? `x${part}` : part)).join('/');
}

function widthSuffix(width: number): string {
  return width === TILE_WIDTH ? '' : `.p/${width}`;
}

/** tile/<L>/<N>[.p/<W>] */
export function tilePath(tile: TileRef): string {
  checkTile(tile);
  return `tile/${tile.level}/${formatTileIndex(tile.index)}${widthSuffix(tile.width)}`;
}

/** tile/entries/<N>[.p/<W>] */
export function entryBundlePath(index: number, width: number): string {
  checkTile({ level: 0, index, width });
  return `tile/entries/${formatTileIndex(index)}${widthSuffix(width)}`;
}

export type TilePath =
  | { readonly kind: 'tile'; readonly tile: TileRef }
  | { readonly kind: 'entries'; readonly index: number; readonly width: number };

const TILE_PATH = /^tile\/(entries|0|[1-9][0-9]?)\/((?:x[0-9]{3}\/)*[0-9]{3})(?:\.p\/([0-9]+))?$/;

/**
 * Parses a tile or entry bundle path, accepting only the one spelling tlog-tiles allows (no
 * leading zeros, no empty x000 element, a width of 1 to 255 only on partial tiles), so that one
 * resource never has two names.
 */
export function parseTilePath(path: string): TilePath {
  // The longest real path (index 2^53, a partial width) is under 50 characters.
  const match = path.length > MAX_PATH ? null : TILE_PATH.exec(path);
  if (match === null) throw bad(`${quote(path)} is not a tlog-tiles path`);
  const [, levelText, indexText, widthText] = match as unknown as [string, string, string, string?];
  const index = Number(indexText.replaceAll('x', '').replaceAll('/', ''));
  const width = widthText === undefined ? TILE_WIDTH : Number(widthText);
  if (!Number.isSafeInteger(index) || formatTileIndex(index) !== indexText) {
    throw bad(`${quote(path)}: the tile index is not in its canonical form, or not below 2^53`);
  }
  if (
    widthText !== undefined &&
    (width < 1 || width >= TILE_WIDTH || String(width) !== widthText)
  ) {
    throw bad(`${quote(path)}: a partial tile's width is 1 to 255 without leading zeros`);
  }
  if (levelText === 'entries') return { kind: 'entries', index, width };
  const level = Number(levelText);
  if (level > MAX_TILE_LEVEL)
    throw bad(`${quote(path)}: the tile level is above ${MAX_TILE_LEVEL}`);
  return { kind: 'tile', tile: { level, index, width } };
}

/** An entry bundle: each entry as a big-endian uint16 length followed by its bytes. */
export function encodeEntryBundle(entries: readonly Uint8Array[]): Buffer {
  if (entries.length === 0 || entries.length > TILE_WIDTH) {
    throw bad(`an entry bundle holds 1 to ${TILE_WIDTH} entries, not ${entries.length}`);
  }
  const parts: Buffer[] = [];
  for (const entry of entries) {
    if (entry.length > MAX_ENTRY_SIZE) {
      throw bad(`an entry is at most ${MAX_ENTRY_SIZE} bytes, not ${entry.length}`);
    }
    const length = Buffer.alloc(2);
    length.writeUInt16BE(entry.length);
    parts.push(length, Buffer.from(entry));
  }
  return Buffer.concat(parts);
}

/** Splits an entry bundle; with `width`, it must hold exactly that many entries. */
export function decodeEntryBundle(bundle: Uint8Array, width?: number): Buffer[] {
  const bytes = Buffer.from(bundle.buffer, bundle.byteOffset, bundle.byteLength);
  const entries: Buffer[] = [];
  let at = 0;
  while (at < bytes.length) {
    if (entries.length === TILE_WIDTH)
      throw bad(`an entry bundle holds at most ${TILE_WIDTH} entries`);
    if (at + 2 > bytes.length) throw bad(`entry ${entries.length} of the bundle has a cut length`);
    const length = bytes.readUInt16BE(at);
    if (at + 2 + length > bytes.length) {
      throw bad(`entry ${entries.length} of the bundle is cut: ${length} bytes announced`);
    }
    entries.push(Buffer.from(bytes.subarray(at + 2, at + 2 + length)));
    at += 2 + length;
  }
  if (entries.length === 0) throw bad('an entry bundle is never empty');
  if (width !== undefined && entries.length !== width) {
    throw bad(`the entry bundle holds ${entries.length} entries, not ${width}`);
  }
  return entries;
}

/** Checks that a tile's bytes are whole hashes and as many as its width. */
export function splitTile(tile: TileRef, data: Uint8Array): Buffer[] {
  checkTile(tile);
  if (data.length !== tile.width * HASH_SIZE) {
    throw bad(`${tilePath(tile)} has ${data.length} bytes, not ${tile.width * HASH_SIZE}`);
  }
  const hashes: Buffer[] = [];
  for (let i = 0; i < tile.width; i += 1) {
    hashes.push(Buffer.from(data.subarray(i * HASH_SIZE, (i + 1) * HASH_SIZE)));
  }
  return hashes;
}
