/**
 * What only PostgreSQL has: the database itself refuses changes to the log (through `psql`, as
 * an operator or an attacker with a SQL prompt would try), the least-privilege service role,
 * monthly partitions made ahead and on demand, and the operator-facing errors (unreachable
 * database, schema newer than the code).
 */
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TrailkeepError } from '../../src/core/errors.js';
import { ChainVerifier } from '../../src/core/verify.js';
import { createPool, inTransaction } from '../../src/store/postgres/driver.js';
import {
  createAppRole,
  createAppRoleAt,
  openPostgresStore,
} from '../../src/store/postgres/index.js';
import { LATEST_VERSION } from '../../src/store/postgres/migrations.js';
import type { Store } from '../../src/store/store.js';
import { createDatabase, usePostgres, type PostgresServer } from '../support/postgres.js';
import { makeDraft } from './contract.js';

let server: PostgresServer;
let release: () => Promise<void>;

beforeAll(async () => {
  ({ server, release } = await usePostgres());
});

afterAll(async () => {
  await release();
});

async function rejection(promise: Promise<unknown>): Promise<TrailkeepError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof TrailkeepError) return error;
    throw error;
  }
  throw new Error('expected a TrailkeepError');
}

const nameOf = (url: string) => new URL(url).pathname.slice(1);

describe('PostgreSQL: the log is append-only in the database', () => {
  let url: string;
  let store: Store;
  const sql = (text: string) => server.psql(text, { database: nameOf(url) });

  beforeAll(async () => {
    url = await createDatabase(server, 'append_only');
    store = await openPostgresStore(url);
    await store.createWorkspace({ id: 'acme', name: 'Acme', settings: {} });
    await store.append('acme', [
      makeDraft('acme', { id: 'e1' }),
      makeDraft('acme', { id: 'e2', occurred_at: '2019-03-04T05:06:07.089Z' }),
    ]);
  });

  afterAll(async () => {
    await store.close();
  });

  it.each([
    ['UPDATE events SET action = $$forged$$', 'UPDATE on events'],
    ['DELETE FROM events WHERE id = $$e1$$', 'DELETE on events'],
    ['TRUNCATE events', 'TRUNCATE on events'],
    ['UPDATE event_ids SET seq = 9', 'UPDATE on event_ids'],
    ['DELETE FROM event_ids', 'DELETE on event_ids'],
    ['DELETE FROM event_targets', 'DELETE on event_targets'],
    ['UPDATE event_targets SET id = $$x$$', 'UPDATE on event_targets'],
    ['UPDATE tree_nodes SET hash = $$\\x00$$', 'UPDATE on tree_nodes'],
    ['DELETE FROM tree_nodes', 'DELETE on tree_nodes'],
    ['TRUNCATE tree_nodes', 'TRUNCATE on tree_nodes'],
    ['UPDATE actors SET name_lc = $$x$$', 'UPDATE on actors'],
    ['UPDATE actors SET events = 0, actor_name = $$x$$', 'UPDATE on actors'],
    ['DELETE FROM actors', 'DELETE on actors'],
    ['TRUNCATE actors', 'TRUNCATE on actors'],
    ['UPDATE facet_counts SET value = $$x$$', 'UPDATE on facet_counts'],
    ['DELETE FROM facet_counts', 'DELETE on facet_counts'],
    ['TRUNCATE facet_counts', 'TRUNCATE on facet_counts'],
    // Straight at a partition, bypassing the parent table.
    ['DELETE FROM events_2019_03', 'DELETE on events_2019_03'],
    ['TRUNCATE events_2019_03', 'TRUNCATE on events_2019_03'],
    ['TRUNCATE events_default', 'TRUNCATE on events_default'],
  ])('refuses %s even to the superuser', async (statement, refusal) => {
    const result = await sql(statement);
    expect(result.code).not.toBe(0);
    // Row triggers fire on the partition that holds the row, and name it.
    const [op, table] = refusal.split(' on ') as [string, string];
    expect(result.stderr).toMatch(
      new RegExp(
        `trailkeep: ${op} on ${table}(_\\d{4}_\\d{2})? is refused: the audit log is append-only`,
      ),
    );
    const left = await sql('SELECT count(*) AS n FROM events');
    expect(left.stdout).toMatch(/\b2\b/);
    expect((await store.getEvent('acme', 'e1'))?.action).toBe('job.created');
    expect((await store.facets('acme')).actors).toEqual([
      { type: 'user', id: 'u_1', name: 'Alex Kim', email: 'alex@example.com', count: 2 },
    ]);
  });

  it('lets the counters of actors and facet_counts grow, as appends do', async () => {
    const result = await sql(
      'UPDATE actors SET events = events + 1; UPDATE facet_counts SET events = events + 1; ' +
        'UPDATE actors SET events = events - 1; UPDATE facet_counts SET events = events - 1',
    );
    expect(result.code, result.stderr).toBe(0);
  });

  it('keeps each month in its own partition, made on demand for a late event', async () => {
    const result = await sql(`SELECT tableoid::regclass AS part, id FROM events ORDER BY id`);
    expect(result.stdout).toMatch(/events_2026_05\s*\|\s*e1/);
    expect(result.stdout).toMatch(/events_2019_03\s*\|\s*e2/);
  });

  it('creates the months around now at migrate', async () => {
    const now = new Date();
    const ahead = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 3, 1));
    const name = `events_${ahead.getUTCFullYear()}_${String(ahead.getUTCMonth() + 1).padStart(2, '0')}`;
    const result = await sql(`SELECT to_regclass('${name}') IS NOT NULL AS present`);
    expect(result.stdout).toMatch(/\bt\b/);
  });
});

describe('PostgreSQL: the least-privilege service role', () => {
  it('appends and reads, but may not update, delete or truncate the log', async () => {
    const ownerUrl = await createDatabase(server, 'app_role');
    const owner = await openPostgresStore(ownerUrl);
    const pool = await createPool(ownerUrl);
    const role = `tk_app_${process.pid}`;
    try {
      await owner.createWorkspace({ id: 'acme', name: 'Acme', settings: {} });
      await createAppRole(pool, role, { password: 'app-secret' });
      // Safe to run again, here through the URL form the CLI uses.
      await createAppRoleAt(ownerUrl, role, { password: 'app-secret' });

      const appUrl = new URL(ownerUrl);
      appUrl.username = role;
      appUrl.password = 'app-secret';
      const app = await openPostgresStore(appUrl.toString());
      try {
        const [first] = await app.append('acme', [
          makeDraft('acme', { id: 'by-app' }),
          // A month no migration made: the role gets it through trailkeep_ensure_month.
          makeDraft('acme', { id: 'old', occurred_at: '2015-01-02T00:00:00.000Z' }),
        ]);
        expect(first?.event.seq).toBe(1);
        expect((await app.getEvent('acme', 'old'))?.seq).toBe(2);
        expect(await app.head('acme')).toMatchObject({ seq: 2 });
        // People join by invitation: the role invites, replaces and accepts.
        await app.createUser({
          id: 'usr_app',
          email: 'kim@example.com',
          name: null,
          password_hash: 'h',
        });
        for (const id of ['inv_app_1', 'inv_app_2']) {
          await app.createInvitation({
            id,
            workspace: 'acme',
            email: 'kim@example.com',
            role: 'auditor',
            name: null,
            token_hash: `hash-${id}`,
            invited_by: null,
            created_at: '2026-01-01T00:00:00.000Z',
            expires_at: '2099-01-01T00:00:00.000Z',
          });
        }
        expect(
          await app.acceptInvitation('inv_app_2', 'usr_app', '2026-01-02T00:00:00.000Z'),
        ).toMatchObject({ role: 'auditor' });
      } finally {
        await app.close();
      }

      const database = nameOf(ownerUrl);
      for (const statement of [
        'UPDATE events SET action = $$x$$',
        'DELETE FROM events',
        'TRUNCATE events',
        'DELETE FROM event_ids',
        'UPDATE event_targets SET id = $$x$$',
        'DELETE FROM events_2015_01',
        'CREATE TABLE sneaky (x int)',
        // Of an actors row or a counter only the count may change; and reindex's way through
        // the guards is the owner's alone.
        'UPDATE actors SET name_lc = $$x$$',
        'UPDATE facet_counts SET value = $$x$$',
        `SET trailkeep.reindex = 'on'; DELETE FROM actors`,
        `SET trailkeep.reindex = 'on'; UPDATE event_targets SET name_lc = $$x$$`,
        `SET trailkeep.reindex = 'on'; DELETE FROM facet_counts`,
        `SET trailkeep.reindex = 'on'; DELETE FROM tree_nodes`,
      ]) {
        const result = await server.psql(`SET ROLE ${role}; ${statement}`, { database });
        expect(result.code, statement).not.toBe(0);
        expect(result.stderr, statement).toContain('permission denied');
      }
      const service = await openPostgresStore(appUrl.toString());
      try {
        const refused = await service.reindex('acme').catch((error: unknown) => error);
        expect(refused).toBeInstanceOf(TrailkeepError);
        expect(refused).toMatchObject({
          code: 'forbidden',
          message: expect.stringContaining('reindex must connect as the owner') as unknown,
        });
        expect(await service.head('acme')).toMatchObject({ seq: 2 });
      } finally {
        await service.close();
      }
      // Granted UPDATE, the role would still meet the guard: it is not the tables' owner.
      await pool.query(`GRANT UPDATE, DELETE ON actors TO ${role}`);
      const guarded = await server.psql(
        `SET ROLE ${role}; SET trailkeep.reindex = 'on'; UPDATE actors SET name_lc = $$x$$`,
        { database },
      );
      expect(guarded.stderr).toContain('trailkeep: UPDATE on actors is refused');
      expect((await owner.reindex('acme')).events).toBe(2);
    } finally {
      await pool.end();
      await owner.close();
    }
  });
});

describe('PostgreSQL: durability', () => {
  it('forces synchronous_commit on for appends even where the database turns it off', async () => {
    const url = await createDatabase(server, 'async_commit');
    const altered = await server.psql(`ALTER DATABASE ${nameOf(url)} SET synchronous_commit = off`);
    expect(altered.code).toBe(0);
    const pool = await createPool(url);
    try {
      const setting = async (db: { query: typeof pool.query }) =>
        (await db.query<{ synchronous_commit: string }>('SHOW synchronous_commit')).rows[0]
          ?.synchronous_commit;
      expect(await setting(pool)).toBe('off');
      expect(await inTransaction(pool, setting, { durable: true })).toBe('on');
      // LOCAL: the pooled connection goes back to the database's default afterwards.
      expect(await inTransaction(pool, setting)).toBe('off');
    } finally {
      await pool.end();
    }
  });
});

describe('PostgreSQL: errors an operator can act on', () => {
  it('refuses a database migrated by a newer Trailkeep', async () => {
    const url = await createDatabase(server, 'too_new');
    await (await openPostgresStore(url)).close();
    const future = LATEST_VERSION + 1;
    const marked = await server.psql(
      `INSERT INTO trailkeep_migrations (version, name) VALUES (${future}, 'from the future')`,
      { database: nameOf(url) },
    );
    expect(marked.code).toBe(0);
    const error = await rejection(openPostgresStore(url));
    expect(error.code).toBe('schema_too_new');
    expect(error.message).toContain(`version ${future}`);
  });

  it('says which address it cannot reach, without a stack trace in the message', async () => {
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const address = probe.address();
        probe.close(() => resolve(typeof address === 'object' && address ? address.port : 1));
      });
    });
    const error = await rejection(
      openPostgresStore(`postgres://trailkeep@127.0.0.1:${port}/trailkeep`, {
        connectionTimeoutMs: 2000,
      }),
    );
    expect(error.code).toBe('store_unavailable');
    expect(error.message).toMatch(
      new RegExp(`^cannot reach PostgreSQL at 127\\.0\\.0\\.1:${port}: `),
    );
    expect(error.message).not.toContain('\n');
  });

  it('treats a missing database as unavailable, naming the problem', async () => {
    const url = new URL(server.url);
    url.pathname = '/no_such_database';
    const error = await rejection(openPostgresStore(url.toString()));
    expect(error.code).toBe('store_unavailable');
    expect(error.message).toContain('no_such_database');
  });
});

describe('PostgreSQL: backup and restore', () => {
  it('pg_dump then pg_restore into an empty database keeps the chain verifiable', async () => {
    const sourceUrl = await createDatabase(server, 'backup_source');
    const source = await openPostgresStore(sourceUrl);
    const folder = await mkdtemp(join(tmpdir(), 'trailkeep-pg-dump-'));
    // The server's own user writes the dump when the tests run as root.
    await chmod(folder, 0o777);
    try {
      await source.createWorkspace({ id: 'acme', name: 'Acme', settings: {} });
      await source.append('acme', [
        makeDraft('acme', { id: 'a1' }),
        makeDraft('acme', { id: 'a2', occurred_at: '2020-02-02T02:02:02.002Z' }),
        makeDraft('acme', { id: 'a3', actor: { type: 'system', id: 'system' } }),
      ]);
      const dump = join(folder, 'trailkeep.dump');
      const dumped = await server.client('pg_dump', ['-Fc', '-f', dump, nameOf(sourceUrl)]);
      expect(dumped.stderr).toBe('');
      expect(dumped.code).toBe(0);

      const targetUrl = await createDatabase(server, 'backup_target');
      const restored = await server.client('pg_restore', [
        '--exit-on-error',
        '-d',
        nameOf(targetUrl),
        dump,
      ]);
      expect(restored.stderr).toBe('');
      expect(restored.code).toBe(0);

      const target = await openPostgresStore(targetUrl);
      try {
        const verifier = new ChainVerifier('acme');
        for await (const row of target.scanChain('acme', 1)) {
          expect(verifier.check(row)).toBeUndefined();
        }
        expect(verifier.checked).toBe(3);
        expect(await target.head('acme')).toEqual(await source.head('acme'));
        // The restored database takes new events after the old ones, partitions included.
        const [next] = await target.append('acme', [
          makeDraft('acme', { id: 'a4', occurred_at: '2021-07-07T07:07:07.007Z' }),
        ]);
        expect(next?.event.seq).toBe(4);
        expect(next?.event.prev_hash).toBe((await source.head('acme')).hash);
      } finally {
        await target.close();
      }
    } finally {
      await source.close();
      await rm(folder, { recursive: true, force: true });
    }
  });
});
