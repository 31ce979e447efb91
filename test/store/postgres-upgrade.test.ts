/**
 * Upgrading a PostgreSQL database made by schema version 1 (hashes and IP keys as hex text, a
 * `targets` text copy in events, four target indexes) to the current schema: every stored byte
 * survives, verify passes with the same heads and hashes, and every query answers as on a
 * database that was made with the current schema from the start. Version 1 rows are written
 * here exactly as the version 1 adapter wrote them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sealBatch, type SealedEvent } from '../../src/core/chain.js';
import { indexedColumns } from '../../src/core/columns.js';
import { EMPTY_HEAD } from '../../src/core/event.js';
import { ChainVerifier } from '../../src/core/verify.js';
import { LogService } from '../../src/service/log-service.js';
import { createPool, type Pool, type Queryable } from '../../src/store/postgres/driver.js';
import { openPostgresStore } from '../../src/store/postgres/index.js';
import {
  LATEST_VERSION,
  MIGRATIONS,
  recordedVersion,
} from '../../src/store/postgres/migrations.js';
import { monthOf } from '../../src/store/postgres/partitions.js';
import type { Store } from '../../src/store/store.js';
import { streamEvents } from '../../src/store/stored-text.js';
import { createDatabase, usePostgres, type PostgresServer } from '../support/postgres.js';
import { FILTER_CASES, generateDrafts } from './contract.js';

let server: PostgresServer;
let release: () => Promise<void>;

beforeAll(async () => {
  ({ server, release } = await usePostgres());
});

afterAll(async () => {
  await release();
});

const WS = 'acme';
const V1 = MIGRATIONS.find((m) => m.version === 1);

/** A database at schema version 1, with the workspace and the months `times` fall in. */
async function versionOneDatabase(
  label: string,
  times: readonly string[],
): Promise<{ url: string; pool: Pool }> {
  if (V1 === undefined) throw new Error('no migration 1');
  const url = await createDatabase(server, label);
  const pool = await createPool(url);
  await pool.query(V1.sql);
  await pool.query(`CREATE TABLE trailkeep_migrations (
    version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
  await pool.query(`INSERT INTO trailkeep_migrations (version, name) VALUES (1, $1)`, [V1.name]);
  for (const month of new Set(times.map(monthOf))) {
    await pool.query('SELECT trailkeep_ensure_month($1::date)', [month]);
  }
  await pool.query(
    `INSERT INTO workspaces (id, name, created_at, settings) VALUES ($1, 'Acme', $2, '{}')`,
    [WS, '2026-01-01T00:00:00.000Z'],
  );
  await pool.query(`INSERT INTO workspace_heads (workspace, seq, hash) VALUES ($1, 0, $2)`, [
    WS,
    EMPTY_HEAD.hash,
  ]);
  return { url, pool };
}

/** The version 1 adapter's insert: hex text hashes and IP keys, the targets text copy. */
async function writeVersionOne(db: Queryable, sealed: readonly SealedEvent[]): Promise<void> {
  for (const { event, body } of sealed) {
    const c = indexedColumns(event);
    await db.query(
      `INSERT INTO event_ids (workspace, id, seq, occurred_at) VALUES ($1, $2, $3, $4)`,
      [WS, c.id, c.seq, c.occurred_at],
    );
    await db.query(
      `INSERT INTO events (workspace, seq, id, occurred_at, action, category, outcome, operation,
                           actor_type, actor_id, actor_name, actor_email, ip_key, targets,
                           prev_hash, hash, body, metadata)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)`,
      [
        WS,
        c.seq,
        c.id,
        c.occurred_at,
        c.action,
        c.category,
        c.outcome,
        c.operation,
        c.actor_type,
        c.actor_id,
        c.actor_name,
        c.actor_email,
        c.ip_key,
        c.targets,
        event.prev_hash,
        event.hash,
        body,
        JSON.stringify(event.metadata),
      ],
    );
    for (const [pos, target] of event.targets.entries()) {
      await db.query(
        `INSERT INTO event_targets (workspace, seq, pos, occurred_at, type, id, type_lc, name_lc)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
        [
          WS,
          event.seq,
          pos,
          event.occurred_at,
          target.type,
          target.id,
          target.type.toLowerCase(),
          target.name?.toLowerCase() ?? null,
        ],
      );
    }
  }
  const last = sealed[sealed.length - 1];
  if (last !== undefined) {
    await db.query('UPDATE workspace_heads SET seq = $2, hash = $3 WHERE workspace = $1', [
      WS,
      last.event.seq,
      last.event.hash,
    ]);
  }
}

/** Copies the counters (the same tables in both versions) from the reference database. */
async function copyCounters(from: Pool, to: Pool): Promise<void> {
  const actors = await from.query<Record<string, string>>('SELECT * FROM actors');
  for (const row of actors.rows) {
    const columns = Object.keys(row);
    await to.query(
      `INSERT INTO actors (${columns.join(', ')}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')})`,
      Object.values(row),
    );
  }
  const facets = await from.query<Record<string, string>>('SELECT * FROM facet_counts');
  for (const row of facets.rows) {
    await to.query(
      'INSERT INTO facet_counts (workspace, kind, value, events) VALUES ($1, $2, $3, $4)',
      [row['workspace'] ?? '', row['kind'] ?? '', row['value'] ?? '', row['events'] ?? ''],
    );
  }
}

describe('PostgreSQL: upgrading a version 1 database', () => {
  let sealed: SealedEvent[];
  let reference: Store;
  let referencePool: Pool;
  let upgraded: Store;
  let oldPool: Pool;
  let before: { seq: string; hash: string; prev_hash: string; body: string; ip: string | null }[];

  beforeAll(async () => {
    sealed = sealBatch(EMPTY_HEAD, generateDrafts(WS, 400, 11));
    const times = sealed.map((s) => s.event.occurred_at);

    // The same events, sealed once, in a database made with the current schema.
    const referenceUrl = await createDatabase(server, 'upgrade_reference');
    reference = await openPostgresStore(referenceUrl);
    await reference.createWorkspace({ id: WS, name: 'Acme', settings: {} });
    await reference.importEvents(
      WS,
      sealed.map((s) => s.event),
    );
    referencePool = await createPool(referenceUrl);

    const old = await versionOneDatabase('upgrade_v1', times);
    oldPool = old.pool;
    await writeVersionOne(oldPool, sealed);
    await copyCounters(referencePool, oldPool);
    before = (
      await oldPool.query<{
        seq: string;
        hash: string;
        prev_hash: string;
        body: string;
        ip: string | null;
      }>('SELECT seq, hash, prev_hash, body, ip_key AS ip FROM events ORDER BY seq')
    ).rows;
    expect(before).toHaveLength(400);

    upgraded = await openPostgresStore(old.url);
  });

  afterAll(async () => {
    await upgraded.close();
    await reference.close();
    await referencePool.end();
    await oldPool.end();
  });

  it('records the latest version and converts the columns', async () => {
    expect(await recordedVersion(oldPool)).toBe(LATEST_VERSION);
    const types = await oldPool.query<{ column_name: string; data_type: string }>(
      `SELECT column_name, data_type FROM information_schema.columns
        WHERE table_name = 'events' AND column_name IN ('prev_hash', 'hash', 'ip_key', 'targets')
        ORDER BY column_name`,
    );
    expect(types.rows).toEqual([
      { column_name: 'hash', data_type: 'bytea' },
      { column_name: 'ip_key', data_type: 'bytea' },
      { column_name: 'prev_hash', data_type: 'bytea' },
    ]);
  });

  it('keeps every stored byte: bodies, hashes and IP keys read back as before', async () => {
    const after = await oldPool.query<(typeof before)[number]>(
      'SELECT seq, hash, prev_hash, body, ip_key AS ip FROM events ORDER BY seq',
    );
    expect(after.rows).toEqual(before);
    const hex = await oldPool.query<{ n: string }>(
      `SELECT count(*) AS n FROM events
        WHERE encode(hash, 'hex') = ANY($1::text[])`,
      [sealed.map((s) => s.event.hash)],
    );
    expect(Number(hex.rows[0]?.n)).toBe(400);
  });

  it('verifies with the same head and hashes', async () => {
    const verifier = new ChainVerifier(WS);
    const hashes: string[] = [];
    for await (const row of upgraded.scanChain(WS, 1)) {
      expect(verifier.check(row)).toBeUndefined();
      hashes.push(row.hash);
    }
    expect(verifier.checked).toBe(400);
    expect(hashes).toEqual(sealed.map((s) => s.event.hash));
    expect(await upgraded.head(WS)).toEqual(await reference.head(WS));
    expect((await upgraded.head(WS)).hash).toBe(sealed[399]?.event.hash);
  });

  it('verifies every derived row the version 1 adapter wrote, and guards them', async () => {
    const report = await (await LogService.open(upgraded)).verify(WS);
    expect(report.problem).toBeUndefined();
    expect(report.ok).toBe(true);
    const guards = await oldPool.query<{ name: string }>(
      `SELECT tgname AS name FROM pg_trigger WHERE NOT tgisinternal
          AND tgrelid IN ('actors'::regclass, 'facet_counts'::regclass) ORDER BY tgname`,
    );
    expect(guards.rows.map((row) => row.name)).toEqual([
      'actors_append_only',
      'actors_no_truncate',
      'facet_counts_append_only',
      'facet_counts_no_truncate',
    ]);
  });

  it('answers every filter as a database made with the current schema', async () => {
    for (const [name, filter] of Object.entries(FILTER_CASES)) {
      const request = { limit: 500, direction: 'older' as const };
      const got = await upgraded.page(WS, filter, request);
      const want = await reference.page(WS, filter, request);
      expect(got, name).toEqual(want);
      expect(await upgraded.count(WS, filter, 10_001), name).toBe(
        await reference.count(WS, filter, 10_001),
      );
    }
    expect(await upgraded.facets(WS)).toEqual(await reference.facets(WS));
    const some = sealed[123]?.event;
    if (some === undefined) throw new Error('no event 123');
    expect(await upgraded.getEvent(WS, some.id)).toEqual(some);
    const target = some.targets[0];
    if (target !== undefined) {
      expect(await upgraded.entityEvents(WS, target.type, target.id)).toEqual(
        await reference.entityEvents(WS, target.type, target.id),
      );
    }
    const all = async (store: Store) => {
      const events = [];
      for await (const e of streamEvents(store, WS, { clauses: [] }, { order: 'oldest' })) {
        events.push(e);
      }
      return events;
    };
    const streamed = await all(upgraded);
    expect(streamed).toHaveLength(400);
    expect(streamed).toEqual(await all(reference));
  });

  it('takes new events after the upgraded head', async () => {
    const [next] = await upgraded.append(WS, generateDrafts(WS, 1, 99));
    expect(next?.event.seq).toBe(401);
    expect(next?.event.prev_hash).toBe(sealed[399]?.event.hash);
  });
});

describe('PostgreSQL: an upgrade that cannot convert exactly', () => {
  it('refuses and leaves the version 1 database as it was', async () => {
    const [one] = sealBatch(EMPTY_HEAD, generateDrafts(WS, 1, 5));
    if (one === undefined) throw new Error('nothing sealed');
    const { url, pool } = await versionOneDatabase('upgrade_refused', [one.event.occurred_at]);
    try {
      const upper = { ...one, event: { ...one.event, hash: one.event.hash.toUpperCase() } };
      await writeVersionOne(pool, [upper]);
      await expect(openPostgresStore(url)).rejects.toThrow(/not lower-case hex/);
      expect(await recordedVersion(pool)).toBe(1);
      const row = await pool.query<{ hash: string; targets: string }>(
        'SELECT hash, targets FROM events',
      );
      expect(row.rows).toEqual([
        { hash: upper.event.hash, targets: indexedColumns(one.event).targets },
      ]);
    } finally {
      await pool.end();
    }
  });
});
