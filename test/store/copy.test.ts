/**
 * `copyStore` from a real SQLite file to a real PostgreSQL database: every workspace, person,
 * membership, key and secret arrives, and every event arrives with the same seq and hash, so
 * the chain verifies on the target. An interrupted copy resumes; a target whose chain differs
 * is refused.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TrailkeepError } from '../../src/core/errors.js';
import type { StoredEvent } from '../../src/core/event.js';
import { MATCH_ALL } from '../../src/core/query/filter.js';
import { ChainVerifier } from '../../src/core/verify.js';
import { copyStore } from '../../src/store/copy.js';
import { openPostgresStore } from '../../src/store/postgres/index.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import type { ChainRow, Store } from '../../src/store/store.js';
import { streamEvents } from '../../src/store/stored-text.js';
import { createDatabase, usePostgres, type PostgresServer } from '../support/postgres.js';
import { makeDraft } from './contract.js';

let server: PostgresServer;
let release: () => Promise<void>;
let folder: string;

beforeAll(async () => {
  ({ server, release } = await usePostgres());
  folder = await mkdtemp(join(tmpdir(), 'trailkeep-copy-'));
});

afterAll(async () => {
  await release();
  await rm(folder, { recursive: true, force: true });
});

async function all<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

const ACTIONS = ['Job Created', 'REPOSITORY_RUN_CLAIM', 'customer.updated', 'ssh', 'delete'];

/** Appends `count` varied events in batches, spread over a few months. */
async function seedEvents(store: Store, workspace: string, count: number, from = 0) {
  for (let start = from; start < from + count; start += 25) {
    const drafts = Array.from({ length: Math.min(25, from + count - start) }, (_, i) => {
      const n = start + i;
      return makeDraft(workspace, {
        id: `${workspace}-evt-${n}`,
        action: ACTIONS[n % ACTIONS.length]!,
        occurred_at: new Date(Date.UTC(2026, n % 4, 1 + (n % 27), 8, n % 60)).toISOString(),
        actor:
          n % 3 === 0
            ? { type: 'automation', id: 'runner-7' }
            : { type: 'user', id: `u_${n % 5}`, name: `Zoë ${n % 5}`, email: `p${n % 5}@ex.com` },
        targets: n % 4 === 0 ? [] : [{ type: 'job', id: `j${n % 9}`, name: `Job ${n % 9}` }],
        changes: [{ field: 'state', old: 'ready', new: `s${n}` }],
        context: n % 2 === 0 ? { ip: '203.0.113.7', request_id: `req_${n}` } : {},
        metadata: n % 5 === 0 ? { build_reason: 'autostart', attempt: n } : {},
      });
    });
    await store.append(workspace, drafts);
  }
}

async function expectSameLog(source: Store, target: Store, workspace: string): Promise<void> {
  const sourceHead = await source.head(workspace);
  expect(await target.head(workspace)).toEqual(sourceHead);
  const sourceRows: ChainRow[] = await all(source.scanChain(workspace, 1));
  const targetRows: ChainRow[] = await all(target.scanChain(workspace, 1));
  expect(targetRows.map((r) => [r.seq, r.id, r.prev_hash, r.hash, r.body])).toEqual(
    sourceRows.map((r) => [r.seq, r.id, r.prev_hash, r.hash, r.body]),
  );
  const verifier = new ChainVerifier(workspace);
  for (const row of targetRows) expect(verifier.check(row)).toBeUndefined();
  expect(verifier.head).toEqual(sourceHead);
  const sourceEvents: StoredEvent[] = await all(
    streamEvents(source, workspace, MATCH_ALL, { order: 'oldest' }),
  );
  const targetEvents: StoredEvent[] = await all(
    streamEvents(target, workspace, MATCH_ALL, { order: 'oldest' }),
  );
  expect(targetEvents).toEqual(sourceEvents);
}

describe('copyStore: SQLite to PostgreSQL', () => {
  let source: Store;
  let target: Store;

  beforeAll(async () => {
    source = await openSqliteStore(join(folder, 'source.db'));
    target = await openPostgresStore(await createDatabase(server, 'copy_target'));

    for (const id of ['jobs', 'devplatform', 'empty']) {
      await source.createWorkspace({
        id,
        name: `Workspace ${id}`,
        settings: { schemas: { user: { hashed_password: 'secret' } } },
        created_at: '2025-12-01T00:00:00.000Z',
      });
    }
    await source.createUser({
      id: 'usr_1',
      email: 'Alex@Example.com',
      name: 'Alex Kim',
      password_hash: 'scrypt$abc',
    });
    await source.createUser({
      id: 'usr_2',
      email: 'sam@example.com',
      name: null,
      password_hash: 'x',
    });
    await source.setMembership('jobs', 'usr_1', 'owner');
    await source.setMembership('jobs', 'usr_2', 'auditor');
    await source.setMembership('devplatform', 'usr_2', 'admin');
    for (const [id, scope, revoked] of [
      ['key_1', 'ingest', null],
      ['key_2', 'read', '2026-02-02T00:00:00.000Z'],
    ] as const) {
      await source.createApiKey({
        id,
        workspace: 'jobs',
        name: `${scope} key`,
        scope,
        prefix: `tk_${scope}_${id}`,
        hash: `hash-of-${id}`,
        created_at: '2026-01-01T00:00:00.000Z',
        created_by: 'usr_1',
      });
      if (revoked !== null) await source.revokeApiKey('jobs', id, revoked);
    }
    for (const [id, email] of [
      ['inv_1', 'kim@example.com'],
      ['inv_2', 'lee@example.com'],
    ] as const) {
      await source.createInvitation({
        id,
        workspace: 'jobs',
        email,
        role: 'auditor',
        name: null,
        token_hash: `token-hash-of-${id}`,
        invited_by: 'usr_1',
        created_at: id === 'inv_1' ? '2026-01-03T00:00:00.000Z' : '2026-01-04T00:00:00.000Z',
        expires_at: '2099-01-01T00:00:00.000Z',
      });
    }
    await source.ensureSecret('cursor_key', 'c3VwZXItc2VjcmV0LWN1cnNvci1rZXktMzItYnl0ZXMhIQ==');
    // A database from before signing keys moved out: its old key pair rows travel along.
    await source.ensureSecret('checkpoint_private_key', 'old private key PEM');
    await source.ensureSecret('checkpoint_public_key', 'old public key PEM');
    await seedEvents(source, 'jobs', 120);
    await seedEvents(source, 'devplatform', 40);
  });

  afterAll(async () => {
    await source.close();
    await target.close();
  });

  it('moves every workspace, person, key, secret and event with identical hashes', async () => {
    const progress: [number, number | undefined][] = [];
    const result = await copyStore(source, target, {
      batchSize: 50,
      onProgress: (done, total) => progress.push([done, total]),
    });
    expect(result).toEqual({ workspaces: 3, events: 160 });
    expect(progress[0]).toEqual([0, 160]);
    expect(progress[progress.length - 1]).toEqual([160, 160]);

    expect(await target.listWorkspaces()).toEqual(await source.listWorkspaces());
    for (const ws of ['jobs', 'devplatform', 'empty']) await expectSameLog(source, target, ws);
    expect(await target.head('empty')).toEqual({ seq: 0, hash: '0'.repeat(64) });

    const strip = <T extends { created_at: string }>(rows: T[]) =>
      rows.map(({ created_at: _created, ...rest }) => rest);
    expect(strip(await target.listUsers())).toEqual(strip(await source.listUsers()));
    for (const ws of ['jobs', 'devplatform']) {
      expect(strip(await target.listMembers(ws))).toEqual(strip(await source.listMembers(ws)));
    }
    expect(await target.listApiKeys('jobs')).toEqual(await source.listApiKeys('jobs'));
    // Links already handed out keep working after the move.
    expect(await target.listInvitations('jobs')).toEqual(await source.listInvitations('jobs'));
    expect(await target.listInvitations('jobs')).toHaveLength(2);
    expect((await target.getApiKeyByPrefix('tk_read_key_2'))?.revoked_at).toBe(
      '2026-02-02T00:00:00.000Z',
    );
    for (const name of ['cursor_key', 'checkpoint_private_key', 'checkpoint_public_key']) {
      expect(await target.ensureSecret(name, 'not this')).toBe(
        await source.ensureSecret(name, 'nor this'),
      );
    }
    // The facets and filters on the target are built from the copied rows.
    expect(await target.facets('jobs')).toEqual(await source.facets('jobs'));
  });

  it('resumes after the target head, copying only what is new', async () => {
    await seedEvents(source, 'jobs', 30, 1000);
    const result = await copyStore(source, target, { batchSize: 7 });
    expect(result).toEqual({ workspaces: 3, events: 30 });
    await expectSameLog(source, target, 'jobs');
    // A copy with nothing new is a no-op.
    expect(await copyStore(source, target)).toEqual({ workspaces: 3, events: 0 });
  });

  it('refuses a target whose chain differs from the source, before writing anything', async () => {
    const other = await openPostgresStore(await createDatabase(server, 'copy_diverged'));
    try {
      await other.createWorkspace({ id: 'jobs', name: 'Workspace jobs', settings: {} });
      await other.append('jobs', [makeDraft('jobs', { id: 'something-else' })]);
      const error = await copyStore(source, other).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TrailkeepError);
      expect((error as TrailkeepError).code).toBe('integrity_broken');
      expect((error as TrailkeepError).message).toContain('workspace "jobs" on the target');
      expect((await other.head('jobs')).seq).toBe(1);
      expect(await other.getWorkspace('devplatform')).toBeUndefined();
      expect(await other.listUsers()).toEqual([]);
    } finally {
      await other.close();
    }
  });

  it('refuses a target that already has other service secrets', async () => {
    const used = await openPostgresStore(await createDatabase(server, 'copy_used'));
    try {
      await used.ensureSecret('cursor_key', 'a-different-key');
      const error = await copyStore(source, used).catch((e: unknown) => e);
      expect((error as TrailkeepError).code).toBe('already_exists');
      expect((error as TrailkeepError).message).toContain('cursor_key');
      expect(await used.listWorkspaces()).toEqual([]);
    } finally {
      await used.close();
    }
  });
});

describe('copyStore: a workspace with pruned bodies', () => {
  it('is refused with a clear error naming the first pruned seq, not half-copied silently', async () => {
    const source = await openSqliteStore(join(folder, 'pruned-source.db'));
    const target = await openSqliteStore(join(folder, 'pruned-target.db'));
    try {
      await source.createWorkspace({ id: 'acme', name: 'Acme', settings: {} });
      const old = (day: number) => new Date(Date.UTC(2025, 0, 1 + day)).toISOString();
      await source.append(
        'acme',
        [0, 1, 2].map((day) => makeDraft('acme', { received_at: old(day), occurred_at: old(day) })),
      );
      await source.setRetention('acme', { days: 30, set_at: old(0), set_by: null });
      await source.prune('acme', {
        run: 'prune_copy',
        at: old(100),
        cutoff: old(2),
        policy_days: 30,
      });
      const refused = await copyStore(source, target).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(TrailkeepError);
      expect(refused).toMatchObject({
        code: 'bad_request',
        message: expect.stringContaining('pruned by its retention policy from seq 1') as unknown,
      });
      expect(await target.head('acme')).toMatchObject({ seq: 0 });
    } finally {
      await source.close();
      await target.close();
    }
  });
});
