/**
 * The baseline side of every figure: the same database read and written by the plainest code
 * possible, with hand-written SQL over the indexes that Trailkeep's schema already has. Each
 * engine implements RawLog; nothing here goes through the Store or the service.
 */
import { performance } from 'node:perf_hooks';
import type { StoredEvent } from '../../src/core/event.js';
import type { Position } from '../../src/core/query/filter.js';
import { parseStoreUrl } from '../../src/store/open.js';

/** One filter family, with the values the hand-written query needs. */
export type HandQuery =
  | { kind: 'all'; before?: Position }
  | { kind: 'time'; since: string; until: string }
  | { kind: 'action'; action: string }
  | { kind: 'category'; category: string }
  /** Actors whose id, name or email contains `substring`; optionally only of `actorType`. */
  | { kind: 'actor'; substring: string; actorType?: string }
  | { kind: 'target'; type: string; id: string }
  /** IP keys (src/core/ip.ts) from `lo` to `hi`, hex. */
  | { kind: 'ip'; lo: string; hi: string }
  | { kind: 'combo'; category: string; actorType: string; outcome: string };

/** What verify hashes for one row. */
export interface ChainBytes {
  seq: number;
  prevHash: string;
  body: string;
}

export interface RawLog {
  /** The newest `limit` matching events, newest first. */
  page(workspace: string, query: HandQuery, limit: number): Promise<StoredEvent[]>;
  /** Matching events, at most `cap`. */
  count(workspace: string, query: HandQuery, cap: number): Promise<number>;
  /** The facet values computed with GROUP BY over the events, as if no counters were kept. */
  groupByFacets(workspace: string): Promise<number>;
  /** Events that name the entity among their targets, oldest first. */
  entity(workspace: string, type: string, id: string): Promise<StoredEvent[]>;
  /** Rows from `fromSeq` in seq order: what verify reads. */
  chain(workspace: string, fromSeq: number, limit: number): Promise<ChainBytes[]>;
  /**
   * Every stored body of the workspace, newest first, handed to `write` as text chunks;
   * returns how many rows were read.
   */
  streamBodies(workspace: string, write: (chunk: string) => Promise<void>): Promise<number>;
  /** Bytes on disk of the log's tables and indexes, by part. */
  sizeBytes(): Promise<Record<string, number>>;
  close(): Promise<void>;
}

export interface WriteTime {
  /** Wall time of the write transaction. */
  ms: number;
  /** CPU time (user + system) of this process during it. */
  cpuMs: number;
}

/** Starts a clock; calling the result reads wall and CPU time since. */
export function startClock(): () => WriteTime {
  const cpu = process.cpuUsage();
  const start = performance.now();
  return () => {
    const used = process.cpuUsage(cpu);
    return { ms: performance.now() - start, cpuMs: (used.user + used.system) / 1000 };
  };
}

/**
 * Copies already-stored rows from one database into a fresh one of the same schema, batch by
 * batch, timing only the writes.
 */
export interface RowCopier {
  /** Copies seqs [fromSeq, toSeq] of `workspace` in one transaction; times only the writes. */
  copy(workspace: string, fromSeq: number, toSeq: number): Promise<WriteTime>;
  close(): Promise<void>;
}

export async function openRaw(url: string): Promise<RawLog> {
  const location = parseStoreUrl(url);
  if (location.engine === 'sqlite') {
    const { openSqliteRaw } = await import('./sqlite-raw.js');
    return openSqliteRaw(location.path);
  }
  const { openPostgresRaw } = await import('./postgres-raw.js');
  return openPostgresRaw(location.url);
}

export async function openCopier(sourceUrl: string, targetUrl: string): Promise<RowCopier> {
  const source = parseStoreUrl(sourceUrl);
  const target = parseStoreUrl(targetUrl);
  if (source.engine === 'sqlite' && target.engine === 'sqlite') {
    const { openSqliteCopier } = await import('./sqlite-raw.js');
    return openSqliteCopier(source.path, target.path);
  }
  if (source.engine === 'postgres' && target.engine === 'postgres') {
    const { openPostgresCopier } = await import('./postgres-raw.js');
    return openPostgresCopier(source.url, target.url);
  }
  throw new Error('the baseline copies rows between two databases of one engine');
}

/** `?, ?, ?` rows for a multi-row INSERT. */
export function valuesList(rows: number, columns: number, numbered: boolean): string {
  const parts: string[] = [];
  let n = 0;
  for (let r = 0; r < rows; r += 1) {
    const cells: string[] = [];
    for (let c = 0; c < columns; c += 1) cells.push(numbered ? `$${++n}` : '?');
    parts.push(`(${cells.join(', ')})`);
  }
  return parts.join(', ');
}
