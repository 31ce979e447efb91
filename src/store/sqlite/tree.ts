/**
 * The Merkle tree in SQLite: table tree_nodes (schema version 5), the node hashes at tile levels
 * (0, 8, 16 …) keyed (ws, level, idx). See src/store/tree.ts for what is engine-neutral.
 */
import { MerkleFrontier } from '../../core/tlog/merkle.js';
import { TILE_HEIGHT, TILE_WIDTH, type TileRef } from '../../core/tlog/tiles.js';
import {
  FrontierCache,
  frontierPlan,
  growTree,
  runTreePlan,
  tileFromAggregate,
  treePlans,
  type TreeRow,
} from '../tree.js';
import type { SqliteContext } from './context.js';
import type { SqliteDatabase, SqliteStatement } from './driver.js';

const INSERT_NODE = 'INSERT INTO tree_nodes (ws, level, idx, hash) VALUES (?, ?, ?, ?)';
/** One tile in one row (see TileAggregate); hex() because group_concat would read blobs as text. */
const READ_TILE = `SELECT count(*) AS n, sum(length(hash) = 32) AS full,
    group_concat(hex(hash), '' ORDER BY idx) AS hex
  FROM tree_nodes WHERE ws = ? AND level = ? AND idx >= ? AND idx < ?`;
/** Events read per statement by the backfill, so memory stays flat on a large log. */
const BACKFILL_BATCH = 10_000;

function insertRows(insert: SqliteStatement, ws: number, rows: readonly TreeRow[]): void {
  for (const row of rows) insert.run(ws, row.level, row.index, row.hash);
}

/** Builds the tree of every workspace from its stored chain hashes (migration 5). */
export function backfillTree(db: SqliteDatabase): void {
  const insert = db.prepare(INSERT_NODE);
  const batch = db.prepare(
    'SELECT seq, hash FROM events WHERE ws = ? AND seq > ? ORDER BY seq LIMIT ?',
  );
  const workspaces = db.prepare('SELECT wsk FROM workspaces').all() as { wsk: number }[];
  for (const { wsk } of workspaces) {
    const frontier = MerkleFrontier.empty();
    for (;;) {
      const rows = batch.all(wsk, frontier.size, BACKFILL_BATCH) as {
        seq: number;
        hash: Buffer;
      }[];
      if (rows.length === 0) break;
      insertRows(
        insert,
        wsk,
        growTree(
          frontier,
          rows.map((r) => r.hash.toString('hex')),
        ),
      );
    }
  }
}

/**
 * Adds chain hashes (in seq order, continuing `frontier`, which changes in place) to the stored
 * tree; returns how many rows that stored.
 */
export function growStoredTree(
  context: SqliteContext,
  ws: number,
  frontier: MerkleFrontier,
  eventHashes: readonly string[],
): number {
  const rows = growTree(frontier, eventHashes);
  insertRows(context.statement(INSERT_NODE), ws, rows);
  return rows.length;
}

function readTiles(context: SqliteContext, ws: number, tiles: readonly TileRef[]): Buffer[] {
  const read = context.statement(READ_TILE);
  return tiles.map((tile) => {
    const first = tile.index * TILE_WIDTH;
    const row = read.get(ws, tile.level * TILE_HEIGHT, first, first + tile.width) as {
      n: number;
      full: number | null;
      hex: string | null;
    };
    return tileFromAggregate(tile, {
      rows: row.n,
      hashes32: row.full ?? 0,
      bytes: Buffer.from(row.hex ?? '', 'hex'),
    });
  });
}

export function treeSize(context: SqliteContext, ws: number): number {
  const row = context
    .statement('SELECT max(idx) AS last FROM tree_nodes WHERE ws = ? AND level = 0')
    .get(ws) as { last: number | null };
  return row.last === null ? 0 : row.last + 1;
}

/**
 * Adds the sealed events' hashes to the tree, inside the append transaction, after the head of
 * `headSeq` events. Returns the new frontier, for the caller to commit once the transaction has.
 */
export function extendTree(
  context: SqliteContext,
  frontiers: FrontierCache,
  workspace: string,
  ws: number,
  headSeq: number,
  eventHashes: readonly string[],
): MerkleFrontier {
  const frontier =
    frontiers.take(workspace, headSeq) ??
    runTreePlan(frontierPlan(headSeq), (tiles) => readTiles(context, ws, tiles));
  growStoredTree(context, ws, frontier, eventHashes);
  return frontier;
}

/** TreeReader's answers for one workspace, read in one snapshot (the caller's). */
export const sqliteTree = {
  size: treeSize,
  root(context: SqliteContext, ws: number, size: number): Buffer {
    return runTreePlan(treePlans.root(size, treeSize(context, ws)), (t) =>
      readTiles(context, ws, t),
    );
  },
  inclusion(context: SqliteContext, ws: number, seq: number, size: number): Buffer[] {
    return runTreePlan(treePlans.inclusion(seq, size, treeSize(context, ws)), (t) =>
      readTiles(context, ws, t),
    );
  },
  consistency(context: SqliteContext, ws: number, from: number, to: number): Buffer[] {
    return runTreePlan(treePlans.consistency(from, to, treeSize(context, ws)), (t) =>
      readTiles(context, ws, t),
    );
  },
  tiles: readTiles,
};
