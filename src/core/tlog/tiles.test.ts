import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { expectCanonical, laidOut } from '../../../test/support/laid-out.js';
import { ReferenceTree, leafHashes } from '../../../test/support/merkle-reference.js';
import {
  consistencyProofPlan,
  inclusionProofPlan,
  proveConsistency,
  proveInclusion,
  runPlan,
  runPlanAsync,
  treeRoot,
  type NodeRef,
} from './merkle.js';
import {
  asyncTileHashReader,
  decodeEntryBundle,
  encodeEntryBundle,
  entryBundlePath,
  formatTileIndex,
  parseTilePath,
  tileDataPlan,
  tileHashReader,
  tilePath,
  tileSlot,
  tileWidth,
  tilesChanged,
  tilesFromLeafHashes,
  tilesOfTree,
  type TileRef,
} from './tiles.js';

// Past 65,536 leaves so that level-2 tiles (nodes of level 16) exist.
const MAX = 70_000;
const tree = new ReferenceTree(leafHashes(MAX, 7));
const read = tree.reader();

/** The tiles of a tree of `size` leaves, as a store would keep them. */
function tileStore(size: number): Map<string, Buffer> {
  const store = new Map<string, Buffer>();
  for (const { tile, data } of tilesFromLeafHashes(tree.leaves.slice(0, size))) {
    store.set(`${tile.level}/${tile.index}`, data);
  }
  return store;
}

function reading(store: Map<string, Buffer>, log: TileRef[]) {
  return (tiles: readonly TileRef[]): Buffer[] =>
    tiles.map((t) => {
      log.push(t);
      return store.get(`${t.level}/${t.index}`)!.subarray(0, t.width * 32);
    });
}

// Building tiles for a 70,000-leaf tree is the slow part: share a few sizes between properties.
const storeCache = new Map<number, Map<string, Buffer>>();
function cachedStore(size: number): Map<string, Buffer> {
  let store = storeCache.get(size);
  if (store === undefined) {
    store = tileStore(size);
    storeCache.set(size, store);
  }
  return store;
}
const storeSizes = fc.constantFrom(1, 255, 256, 257, 513, 2999, 65_535, 65_536, 65_537, MAX);

describe('tlog tiles', () => {
  it('tiles computed from leaf hashes hold exactly the stored-level node hashes', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 3000 }), (size) => {
        const tiles = tilesFromLeafHashes(tree.leaves.slice(0, size));
        expect(tiles.map((t) => t.tile)).toEqual(tilesOfTree(size));
        const differing = tiles.filter(
          ({ tile, data }) => !data.equals(runPlan(tileDataPlan(tile), read)),
        );
        expect(differing.map((t) => tilePath(t.tile))).toEqual([]);
      }),
      { numRuns: 50 },
    );
  });

  it('the widths follow floor(size / 256^L) mod 256, and tiles only grow', () => {
    fc.assert(
      fc.property(fc.nat({ max: 2 ** 40 }), fc.nat({ max: 2 ** 16 }), (oldSize, growth) => {
        const newSize = oldSize + growth;
        const changed = tilesChanged(oldSize, newSize);
        const wrong = changed.filter(
          (t) =>
            t.width !== tileWidth(t.level, t.index, newSize) ||
            t.width <= tileWidth(t.level, t.index, oldSize),
        );
        expect(wrong).toEqual([]);
        // Every tile that differs between the sizes is listed: none left to the left of the first.
        for (let level = 0; level < 5; level += 1) {
          const first = changed.find((t) => t.level === level);
          if (first !== undefined && first.index > 0) {
            expect(tileWidth(level, first.index - 1, newSize)).toBe(
              tileWidth(level, first.index - 1, oldSize),
            );
          }
        }
        // The right edge: the last tile of each level is partial with the documented width.
        for (let level = 0; Math.floor(newSize / 256 ** level) > 0; level += 1) {
          const count = Math.floor(newSize / 256 ** level);
          const last = Math.ceil(count / 256) - 1;
          expect(tileWidth(level, last, newSize)).toBe(count % 256 || 256);
          expect(tileWidth(level, last + 1, newSize)).toBe(0);
        }
      }),
      { numRuns: 300 },
    );
    expect(tilesChanged(5, 5)).toEqual([]);
    expect(() => tilesChanged(6, 5)).toThrow('the tree cannot shrink from 6 to 5');
  });

  it('a tile hash reader gives the same nodes, roots and proofs as the full tree', async () => {
    await fc.assert(
      fc.asyncProperty(storeSizes, fc.nat(), fc.nat(), async (size, a, b) => {
        const store = cachedStore(size);
        const log: TileRef[] = [];
        const fromTiles = tileHashReader(size, reading(store, log));
        const index = a % size;
        const oldSize = b % (size + 1);
        expect(treeRoot(size, fromTiles)).toEqual(tree.root(size));
        expect(proveInclusion(index, size, fromTiles)).toEqual(tree.inclusion(index, size));
        expect(proveConsistency(oldSize, size, fromTiles)).toEqual(tree.consistency(oldSize, size));
        // O(log n) tiles per proof: at most two per tile level (the leaf's and the right edge's).
        log.length = 0;
        proveInclusion(index, size, fromTiles);
        const tileLevels = Math.ceil(Math.log(size + 1) / Math.log(256));
        expect(log.length).toBeLessThanOrEqual(2 * tileLevels);
        const asyncReader = asyncTileHashReader(size, (tiles) =>
          Promise.resolve(reading(store, [])(tiles)),
        );
        expect(await runPlanAsync(inclusionProofPlan(index, size), asyncReader)).toEqual(
          tree.inclusion(index, size),
        );
        expect(await runPlanAsync(consistencyProofPlan(oldSize, size), asyncReader)).toEqual(
          tree.consistency(oldSize, size),
        );
      }),
      { numRuns: 100 },
    );
  });

  it('reads any complete node of any level from the tiles', () => {
    fc.assert(
      fc.property(storeSizes, fc.nat({ max: 16 }), fc.nat(), (size, level, i) => {
        const count = Math.floor(size / 2 ** level);
        fc.pre(count > 0);
        const node: NodeRef = { level, index: i % count };
        const fromTiles = tileHashReader(size, reading(cachedStore(size), []));
        expect(fromTiles([node])).toEqual([tree.node(node)]);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses nodes outside the tree and tiles of the wrong length', () => {
    const store = cachedStore(257);
    const fromTiles = tileHashReader(257, reading(store, []));
    expect(() => fromTiles([{ level: 1, index: 128 }])).toThrow(
      'node (1, 128) is not complete in a tree of 257 leaves',
    );
    const short = tileHashReader(257, (tiles) => tiles.map(() => Buffer.alloc(64)));
    expect(() => short([{ level: 0, index: 0 }])).toThrow(
      'the tile reader returned 64 bytes for tile/0/000, not 8192',
    );
  });

  it('names the slot of each stored node', () => {
    expect(tileSlot({ level: 0, index: 1234 })).toEqual({ level: 0, index: 4, offset: 210 });
    expect(tileSlot({ level: 8, index: 256 })).toEqual({ level: 1, index: 1, offset: 0 });
    expect(tileSlot({ level: 3, index: 0 })).toBeUndefined();
  });
});

describe('tile paths', () => {
  const tiles = fc.record({
    level: fc.integer({ min: 0, max: 63 }),
    index: fc.nat({ max: Number.MAX_SAFE_INTEGER }),
    width: fc.integer({ min: 1, max: 256 }),
  });

  it('format and parse back, for tiles and entry bundles', () => {
    fc.assert(
      fc.property(tiles, (tile) => {
        expect(parseTilePath(tilePath(tile))).toEqual({ kind: 'tile', tile });
        const { index, width } = tile;
        expect(parseTilePath(entryBundlePath(index, width))).toEqual({
          kind: 'entries',
          index,
          width,
        });
      }),
      { numRuns: 500 },
    );
  });

  it('spell the index in 3-digit elements, all but the last behind an x', () => {
    expect(formatTileIndex(0)).toBe('000');
    expect(formatTileIndex(999)).toBe('999');
    expect(formatTileIndex(1000)).toBe('x001/000');
    expect(formatTileIndex(1_234_067)).toBe('x001/x234/067');
    expect(tilePath({ level: 2, index: 1_234_067, width: 8 })).toBe('tile/2/x001/x234/067.p/8');
    expect(entryBundlePath(5, 256)).toBe('tile/entries/005');
  });

  it.each([
    ['tile/00/000', 'not a tlog-tiles path'],
    ['tile/64/000', 'the tile level is above 63'],
    ['tile/0/1', 'not a tlog-tiles path'],
    ['tile/0/0001', 'not a tlog-tiles path'],
    ['tile/0/x000/001', 'not in its canonical form'],
    ['tile/0/x1/000', 'not a tlog-tiles path'],
    ['tile/0/000/', 'not a tlog-tiles path'],
    ['tile/0/000.p/0', 'a partial tile'],
    ['tile/0/000.p/256', 'a partial tile'],
    ['tile/0/000.p/08', 'a partial tile'],
    ['tile/0/000.p/', 'not a tlog-tiles path'],
    ['tile/entries/000.p/256', 'a partial tile'],
    ['tile/data/000', 'not a tlog-tiles path'],
    ['tile/8/0/000', 'not a tlog-tiles path'],
    ['/tile/0/000', 'not a tlog-tiles path'],
    ['tile/0/x009/x007/x199/x254/x740/992', 'not in its canonical form'],
  ])('refuses %s', (path, message) => {
    expect(() => parseTilePath(path)).toThrow(message);
  });

  it('refuse a huge path quickly, quoting only its start', () => {
    const huge = `tile/0/${'x001/'.repeat(200_000)}000`;
    expect(() => parseTilePath(huge)).toThrow(
      /^"tile\/0\/x001\/[x0-9/]*…" is not a tlog-tiles path$/,
    );
  });

  it('accept only canonical spellings: whatever parses formats back to itself', () => {
    const paths = laidOut(
      ['tile/'],
      ['0/', 'entries/', '63/', '64/', '00/', 'data/', '8/0/'],
      { repeat: ['x001/', 'x000/', 'x1/', '001/'] },
      ['067', '000', '1', '0001', 'x067'],
      ['', '.p/8', '.p/255', '.p/256', '.p/0', '.p/08', '.p/', '/'],
    );
    expectCanonical(
      paths,
      parseTilePath,
      (parsed) =>
        parsed.kind === 'tile'
          ? tilePath(parsed.tile)
          : entryBundlePath(parsed.index, parsed.width),
      /tlog-tiles path|canonical form|a partial tile|tile level/,
    );
  });
});

describe('entry bundles', () => {
  const entry = fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b));

  it('encode each entry as a big-endian uint16 length and its bytes, and decode back', () => {
    fc.assert(
      fc.property(fc.array(entry, { minLength: 1, maxLength: 256 }), (entries) => {
        const bundle = encodeEntryBundle(entries);
        expect(decodeEntryBundle(bundle, entries.length)).toEqual(entries);
        expect(bundle.length).toBe(entries.reduce((n, e) => n + 2 + e.length, 0));
        // Any cut, except one between entries, is refused.
        const ends = new Set<number>();
        let at = 0;
        for (const e of entries) ends.add((at += 2 + e.length));
        for (let cut = 1; cut < bundle.length; cut += Math.max(1, bundle.length >> 5)) {
          if (ends.has(cut)) continue;
          expect(() => decodeEntryBundle(bundle.subarray(0, cut))).toThrow(
            /entry \d+ of the bundle/,
          );
        }
      }),
      { numRuns: 200 },
    );
    expect(encodeEntryBundle([Buffer.from('ab'), Buffer.alloc(0)])).toEqual(
      Buffer.from([0, 2, 0x61, 0x62, 0, 0]),
    );
  });

  it('decode any bytes either to entries that encode back to them, or to a clear refusal', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
        let entries: Buffer[];
        try {
          entries = decodeEntryBundle(bytes);
        } catch (error) {
          expect((error as Error).message).toMatch(/bundle/);
          return;
        }
        expect(encodeEntryBundle(entries)).toEqual(Buffer.from(bytes));
      }),
      { numRuns: 1000 },
    );
  });

  it('refuses a wrong count, too many entries, and too long an entry', () => {
    const bundle = encodeEntryBundle([Buffer.from('a')]);
    expect(() => decodeEntryBundle(bundle, 2)).toThrow('holds 1 entries, not 2');
    expect(() => encodeEntryBundle(Array.from({ length: 257 }, () => Buffer.alloc(0)))).toThrow(
      'an entry bundle holds 1 to 256 entries, not 257',
    );
    expect(() => decodeEntryBundle(Buffer.alloc(2 * 257))).toThrow('at most 256 entries');
    expect(() => encodeEntryBundle([Buffer.alloc(65_536)])).toThrow('at most 65535 bytes');
    expect(() => decodeEntryBundle(Buffer.alloc(0))).toThrow('never empty');
  });
});
