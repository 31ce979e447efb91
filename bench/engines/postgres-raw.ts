/** The PostgreSQL baseline: the `pg` driver and hand-written SQL over Trailkeep's own indexes. */
import pg from 'pg';
import type { HashedBody } from '../../src/core/chain.js';
import type { StoredEvent } from '../../src/core/event.js';
import type { ChainBytes, HandQuery, RawLog, RowCopier, WriteTime } from './raw.js';
import { startClock, valuesList } from './raw.js';

type Param = string | number | null;

interface BodyRow {
  body: string;
  prev_hash: string;
  hash: string;
}

function toEvent(row: BodyRow): StoredEvent {
  const body = JSON.parse(row.body) as HashedBody;
  return { ...body, prev_hash: row.prev_hash, hash: row.hash };
}

/** Parameters numbered in the order they are added. */
class Params {
  readonly values: Param[] = [];
  add(value: Param): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

function where(workspace: string, query: HandQuery): { sql: string; params: Param[] } {
  const p = new Params();
  const wsParam = p.add(workspace);
  const ws = `e.workspace = ${wsParam}`;
  const actors = (substring: string): string => {
    const like = p.add(`%${substring.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
    return (
      `(e.actor_type, e.actor_id) IN (SELECT actor_type, actor_id FROM actors ` +
      `WHERE workspace = ${wsParam} AND (id_lc LIKE ${like} OR name_lc LIKE ${like} OR email_lc LIKE ${like}))`
    );
  };
  let sql: string;
  switch (query.kind) {
    case 'all':
      sql =
        query.before === undefined
          ? ws
          : `${ws} AND (e.occurred_at, e.seq) < (${p.add(query.before.occurred_at)}::timestamptz, ${p.add(query.before.seq)}::bigint)`;
      break;
    case 'time':
      sql = `${ws} AND e.occurred_at >= ${p.add(query.since)}::timestamptz AND e.occurred_at < ${p.add(query.until)}::timestamptz`;
      break;
    case 'action':
      sql = `${ws} AND lower(e.action) = ${p.add(query.action.toLowerCase())}`;
      break;
    case 'category':
      sql = `${ws} AND lower(e.category) = ${p.add(query.category.toLowerCase())}`;
      break;
    case 'actor':
      sql = `${ws} AND ${actors(query.substring)}`;
      if (query.actorType !== undefined) sql += ` AND e.actor_type = ${p.add(query.actorType)}`;
      break;
    case 'target':
      sql =
        `${ws} AND (e.occurred_at, e.seq) IN (SELECT occurred_at, seq FROM event_targets ` +
        `WHERE workspace = ${wsParam} AND type = ${p.add(query.type)} AND id = ${p.add(query.id)})`;
      break;
    case 'ip':
      sql = `${ws} AND e.ip_key BETWEEN decode(${p.add(query.lo)}, 'hex') AND decode(${p.add(query.hi)}, 'hex')`;
      break;
    case 'combo':
      sql =
        `${ws} AND lower(e.category) = ${p.add(query.category.toLowerCase())} ` +
        `AND e.actor_type = ${p.add(query.actorType)} AND e.outcome = ${p.add(query.outcome)}`;
      break;
  }
  return { sql, params: p.values };
}

class PostgresRaw implements RawLog {
  constructor(private readonly pool: pg.Pool) {}

  async page(workspace: string, query: HandQuery, limit: number): Promise<StoredEvent[]> {
    const { sql, params } = where(workspace, query);
    const result = await this.pool.query<BodyRow>(
      `SELECT e.body, e.prev_hash, e.hash FROM events e WHERE ${sql}
        ORDER BY e.occurred_at DESC, e.seq DESC LIMIT ${limit}`,
      params,
    );
    return result.rows.map(toEvent);
  }

  async count(workspace: string, query: HandQuery, cap: number): Promise<number> {
    const { sql, params } = where(workspace, query);
    const result = await this.pool.query<{ n: string }>(
      `SELECT count(*) AS n FROM (SELECT 1 FROM events e WHERE ${sql} LIMIT ${cap}) capped`,
      params,
    );
    return Number(result.rows[0]?.n ?? 0);
  }

  async groupByFacets(workspace: string): Promise<number> {
    let groups = 0;
    for (const column of ['action', 'category', 'actor_type', 'outcome']) {
      const result = await this.pool.query(
        `SELECT ${column}, count(*) FROM events WHERE workspace = $1 GROUP BY ${column}`,
        [workspace],
      );
      groups += result.rows.length;
    }
    const actors = await this.pool.query(
      `SELECT actor_type, actor_id, count(*) FROM events WHERE workspace = $1
        GROUP BY actor_type, actor_id`,
      [workspace],
    );
    const types = await this.pool.query(
      'SELECT type, count(*) FROM event_targets WHERE workspace = $1 GROUP BY type',
      [workspace],
    );
    return groups + actors.rows.length + types.rows.length;
  }

  async entity(workspace: string, type: string, id: string): Promise<StoredEvent[]> {
    const result = await this.pool.query<BodyRow>(
      `SELECT e.body, e.prev_hash, e.hash FROM events e
        WHERE e.workspace = $1 AND (e.occurred_at, e.seq) IN
          (SELECT occurred_at, seq FROM event_targets WHERE workspace = $1 AND type = $2 AND id = $3)
        ORDER BY e.occurred_at, e.seq`,
      [workspace, type, id],
    );
    return result.rows.map(toEvent);
  }

  async chain(workspace: string, fromSeq: number, limit: number): Promise<ChainBytes[]> {
    const result = await this.pool.query<{ seq: string; prev_hash: string; body: string }>(
      'SELECT seq, prev_hash, body FROM events WHERE workspace = $1 AND seq >= $2 ORDER BY seq LIMIT $3',
      [workspace, fromSeq, limit],
    );
    return result.rows.map((r) => ({ seq: Number(r.seq), prevHash: r.prev_hash, body: r.body }));
  }

  async streamBodies(workspace: string, write: (chunk: string) => Promise<void>): Promise<number> {
    let n = 0;
    let after: { at: string; seq: string } | undefined;
    for (;;) {
      const result: pg.QueryResult<{ body: string; at: string; seq: string }> =
        await this.pool.query(
          `SELECT body, occurred_at::text AS at, seq FROM events
            WHERE workspace = $1 ${after === undefined ? '' : 'AND (occurred_at, seq) < ($2::timestamptz, $3::bigint)'}
            ORDER BY occurred_at DESC, seq DESC LIMIT 1000`,
          after === undefined ? [workspace] : [workspace, after.at, after.seq],
        );
      if (result.rows.length === 0) return n;
      let chunk = '';
      for (const row of result.rows) chunk += row.body + '\n';
      await write(chunk);
      n += result.rows.length;
      const last = result.rows[result.rows.length - 1]!;
      if (result.rows.length < 1000) return n;
      after = { at: last.at, seq: last.seq };
    }
  }

  async sizeBytes(): Promise<Record<string, number>> {
    const result = await this.pool.query<{ part: string; bytes: string }>(
      `SELECT 'events' AS part, sum(pg_total_relation_size(relid))::bigint AS bytes
         FROM pg_partition_tree('events')
       UNION ALL
       SELECT relname::text, pg_total_relation_size(oid)
         FROM pg_class WHERE relname IN ('event_ids', 'event_targets', 'actors', 'facet_counts')
                        AND relkind = 'r'`,
    );
    return Object.fromEntries(result.rows.map((r) => [r.part, Number(r.bytes)]));
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}

/** bytea (hashes since schema version 2) read as lower-case hex, as the adapter reads it. */
const hexBytea = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === 17 && format !== 'binary'
      ? (value: string) => value.slice(2)
      : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

export function openPostgresRaw(url: string): RawLog {
  return new PostgresRaw(new pg.Pool({ connectionString: url, max: 2, types: hexBytea }));
}

const EVENT_COLUMNS = [
  'workspace',
  'seq',
  'id',
  'occurred_at',
  'action',
  'category',
  'outcome',
  'operation',
  'actor_type',
  'actor_id',
  'actor_name',
  'actor_email',
  'ip_key',
  'prev_hash',
  'hash',
  'body',
  'metadata',
];
const ID_COLUMNS = ['workspace', 'id', 'seq', 'occurred_at'];
const TARGET_COLUMNS = [
  'workspace',
  'seq',
  'pos',
  'occurred_at',
  'type',
  'id',
  'type_lc',
  'name_lc',
];

/** Reads columns as text (bytea as a Buffer), so they go back in exactly as they came out. */
function asText(columns: readonly string[]): string {
  return columns
    .map((c) => (c === 'occurred_at' || c === 'metadata' ? `${c}::text` : c))
    .join(', ');
}

class PostgresCopier implements RowCopier {
  private client: pg.PoolClient | undefined;

  constructor(
    private readonly source: pg.Pool,
    private readonly target: pg.Pool,
  ) {}

  private async read(
    table: string,
    columns: readonly string[],
    workspace: string,
    from: number,
    to: number,
  ): Promise<Param[][]> {
    const result = await this.source.query<Param[]>({
      text: `SELECT ${asText(columns)} FROM ${table} WHERE workspace = $1 AND seq BETWEEN $2 AND $3`,
      values: [workspace, from, to],
      rowMode: 'array',
    });
    return result.rows;
  }

  /** One prepared multi-row INSERT per row count (at most 1,000 rows, under 65,535 parameters). */
  private async insert(
    client: pg.PoolClient,
    table: string,
    columns: readonly string[],
    rows: readonly Param[][],
  ): Promise<void> {
    for (let start = 0; start < rows.length; start += 1000) {
      const part = rows.slice(start, start + 1000);
      await client.query({
        name: `baseline_${table}_${part.length}`,
        text: `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${valuesList(part.length, columns.length, true)}`,
        values: part.flat(),
      });
    }
  }

  async copy(workspace: string, fromSeq: number, toSeq: number): Promise<WriteTime> {
    const ids = await this.read('event_ids', ID_COLUMNS, workspace, fromSeq, toSeq);
    const events = await this.read('events', EVENT_COLUMNS, workspace, fromSeq, toSeq);
    const targets = await this.read('event_targets', TARGET_COLUMNS, workspace, fromSeq, toSeq);
    this.client ??= await this.target.connect();
    const client = this.client;
    const clock = startClock();
    await client.query('BEGIN');
    try {
      await this.insert(client, 'event_ids', ID_COLUMNS, ids);
      await this.insert(client, 'events', EVENT_COLUMNS, events);
      await this.insert(client, 'event_targets', TARGET_COLUMNS, targets);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK');
      throw error;
    }
    return clock();
  }

  async close(): Promise<void> {
    this.client?.release();
    await this.source.end();
    await this.target.end();
  }
}

export function openPostgresCopier(sourceUrl: string, targetUrl: string): RowCopier {
  return new PostgresCopier(
    new pg.Pool({ connectionString: sourceUrl, max: 1 }),
    new pg.Pool({ connectionString: targetUrl, max: 1 }),
  );
}
