/**
 * The Merkle tree in PostgreSQL: table tree_nodes (schema version 5), the node hashes at tile
 * levels (0, 8, 16 …) keyed (workspace, level, idx). See src/store/tree.ts for what is
 * engine-neutral. bytea comes back as lower-case hex (driver.ts) and goes in through decode().
 */
import { TrailkeepError } from '../../core/errors.js';
import { MerkleFrontier } from '../../core/tlog/merkle.js';
import { TILE_HEIGHT, TILE_WIDTH, type TileRef } from '../../core/tlog/tiles.js';
import {
  FrontierCache,
  checkTiles,
  frontierPlan,
  growTree,
  runTreePlanAsync,
  tileFromAggregate,
  treePlans,
  type TreeRow,
} from '../tree.js';
import type { Queryable } from './driver.js';

/** Events read per statement by the backfill, so memory stays flat on a large log. */
const BACKFILL_BATCH = 10_000;

async function insertRows(
  db: Queryable,
  workspace: string,
  rows: readonly TreeRow[],
): Promise<void> {
  if (rows.length === 0) return;
  await db.query(
    `INSERT INTO tree_nodes (workspace, level, idx, hash)
     SELECT $1, level, idx, decode(hash, 'hex')
       FROM unnest($2::smallint[], $3::bigint[], $4::text[]) AS r (level, idx, hash)`,
    [
      workspace,
      rows.map((r) => r.level),
      rows.map((r) => r.index),
      rows.map((r) => r.hash.toString('hex')),
    ],
  );
}

/**
 * Adds chain hashes (in seq order, continuing `frontier`, which changes in place) to the stored
 * tree; returns how many rows that stored.
 */
export async function growStoredTree(
  db: Queryable,
  workspace: string,
  frontier: MerkleFrontier,
  eventHashes: readonly string[],
): Promise<number> {
  const rows = growTree(frontier, eventHashes);
  await insertRows(db, workspace, rows);
  return rows.length;
}

/** Builds the tree of every workspace from its stored chain hashes (migration 5). */
export async function backfillTree(db: Queryable): Promise<void> {
  const workspaces = await db.query<{ workspace: string }>(
    'SELECT workspace FROM workspace_heads ORDER BY workspace',
  );
  for (const { workspace } of workspaces.rows) {
    const frontier = MerkleFrontier.empty();
    for (;;) {
      const batch = await db.query<{ hash: string }>(
        'SELECT hash FROM events WHERE workspace = $1 AND seq > $2 ORDER BY seq LIMIT $3',
        [workspace, frontier.size, BACKFILL_BATCH],
      );
      if (batch.rows.length === 0) break;
      await growStoredTree(
        db,
        workspace,
        frontier,
        batch.rows.map((r) => r.hash),
      );
    }
  }
}

/** All tiles of one batch in one statement, each as one aggregate (see TileAggregate). */
async function readTiles(
  db: Queryable,
  workspace: string,
  tiles: readonly TileRef[],
): Promise<Buffer[]> {
  const result = await db.query<{ rows: string; full: string; hashes: string | null }>(
    `SELECT count(t_n.idx) AS rows, count(*) FILTER (WHERE octet_length(t_n.hash) = 32) AS full,
            string_agg(t_n.hash, ''::bytea ORDER BY t_n.idx) AS hashes
       FROM unnest($2::smallint[], $3::bigint[], $4::bigint[]) WITH ORDINALITY AS t (level, lo, hi, n)
       LEFT JOIN tree_nodes t_n ON t_n.workspace = $1 AND t_n.level = t.level
                               AND t_n.idx >= t.lo AND t_n.idx < t.hi
      GROUP BY t.n
      ORDER BY t.n`,
    [
      workspace,
      tiles.map((t) => t.level * TILE_HEIGHT),
      tiles.map((t) => t.index * TILE_WIDTH),
      tiles.map((t) => t.index * TILE_WIDTH + t.width),
    ],
  );
  return tiles.map((tile, i) => {
    const row = result.rows[i];
    return tileFromAggregate(tile, {
      rows: Number(row?.rows ?? 0),
      hashes32: Number(row?.full ?? 0),
      bytes: Buffer.from(row?.hashes ?? '', 'hex'),
    });
  });
}

async function treeSize(db: Queryable, workspace: string): Promise<number> {
  const result = await db.query<{ last: string | null }>(
    'SELECT max(idx) AS last FROM tree_nodes WHERE workspace = $1 AND level = 0',
    [workspace],
  );
  const last = result.rows[0]?.last ?? null;
  return last === null ? 0 : Number(last) + 1;
}

/**
 * Adds the sealed events' hashes to the tree, inside the append transaction that holds the
 * workspace's head lock, after the head of `headSeq` events. Returns the new frontier, for the
 * caller to commit once the transaction has.
 */
export async function extendTree(
  tx: Queryable,
  frontiers: FrontierCache,
  workspace: string,
  headSeq: number,
  eventHashes: readonly string[],
): Promise<MerkleFrontier> {
  const frontier =
    frontiers.take(workspace, headSeq) ??
    (await runTreePlanAsync(frontierPlan(headSeq), (tiles) => readTiles(tx, workspace, tiles)));
  await growStoredTree(tx, workspace, frontier, eventHashes);
  return frontier;
}

/** The size of an existing workspace's tree, in one round trip (every proof starts with it). */
async function requireSize(db: Queryable, workspace: string): Promise<number> {
  const result = await db.query<{ known: boolean; last: string | null }>(
    `SELECT EXISTS (SELECT 1 FROM workspaces WHERE id = $1) AS known,
            (SELECT max(idx) FROM tree_nodes WHERE workspace = $1 AND level = 0) AS last`,
    [workspace],
  );
  const row = result.rows[0];
  if (row?.known !== true) {
    throw new TrailkeepError('workspace_not_found', `no workspace "${workspace}"`);
  }
  return row.last === null ? 0 : Number(row.last) + 1;
}

/**
 * TreeReader over a pool. Stored nodes never change, so the size read first and the tiles read
 * after it agree without a shared snapshot: a concurrent append only adds rows past that size.
 */
export function postgresTree(db: Queryable) {
  const sized = (workspace: string): Promise<number> => requireSize(db, workspace);
  const reader = (workspace: string) => (tiles: readonly TileRef[]) =>
    readTiles(db, workspace, tiles);
  return {
    async treeSize(workspace: string): Promise<number> {
      return treeSize(db, workspace);
    },
    async treeRoot(workspace: string, size: number): Promise<Buffer> {
      const plan = treePlans.root(size, await sized(workspace));
      return runTreePlanAsync(plan, reader(workspace));
    },
    async inclusionProof(workspace: string, seq: number, size: number): Promise<Buffer[]> {
      const plan = treePlans.inclusion(seq, size, await sized(workspace));
      return runTreePlanAsync(plan, reader(workspace));
    },
    async consistencyProof(workspace: string, from: number, to: number): Promise<Buffer[]> {
      const plan = treePlans.consistency(from, to, await sized(workspace));
      return runTreePlanAsync(plan, reader(workspace));
    },
    async readTiles(workspace: string, tiles: readonly TileRef[]): Promise<Buffer[]> {
      checkTiles(tiles, await sized(workspace));
      return tiles.length === 0 ? [] : readTiles(db, workspace, tiles);
    },
  };
}
