/**
 * Several Store instances with their own pools (as separate processes would have) writing to
 * the same workspaces of one PostgreSQL database at once: seq stays gapless, the chain valid,
 * every acknowledged event is stored exactly once, and idempotent retries from any instance
 * store nothing twice. Also: migrations racing from several instances on an empty database.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashLink } from '../../src/core/chain.js';
import { indexedColumns } from '../../src/core/columns.js';
import type { EventDraft, StoredEvent } from '../../src/core/event.js';
import { ZERO_HASH } from '../../src/core/event.js';
import { ChainVerifier } from '../../src/core/verify.js';
import { openPostgresStore } from '../../src/store/postgres/index.js';
import { MIGRATIONS } from '../../src/store/postgres/migrations.js';
import type { ChainRow, Store } from '../../src/store/store.js';
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

async function chainOf(store: Store, workspace: string): Promise<ChainRow[]> {
  const rows: ChainRow[] = [];
  for await (const row of store.scanChain(workspace, 1)) rows.push(row);
  return rows;
}

function expectValidChain(workspace: string, rows: readonly ChainRow[]): void {
  const verifier = new ChainVerifier(workspace);
  for (const row of rows) expect(verifier.check(row)).toBeUndefined();
  let previous = ZERO_HASH;
  rows.forEach((row, index) => {
    expect(row.seq).toBe(index + 1);
    expect(row.prev_hash).toBe(previous);
    expect(hashLink(row.prev_hash, row.body)).toBe(row.hash);
    const body = JSON.parse(row.body) as Omit<StoredEvent, 'prev_hash' | 'hash'>;
    expect(row.columns).toEqual(indexedColumns(body));
    previous = row.hash;
  });
}

describe('PostgreSQL: many instances appending to the same workspaces', () => {
  const INSTANCES = 3;
  const BATCHES_PER_INSTANCE = 40;
  const WORKSPACES = ['alpha', 'beta'];
  let stores: Store[] = [];

  beforeAll(async () => {
    const url = await createDatabase(server, 'concurrency');
    // Opening them together also races their migrations.
    stores = await Promise.all(
      Array.from({ length: INSTANCES }, () => openPostgresStore(url, { poolSize: 4 })),
    );
    for (const id of WORKSPACES) {
      await stores[0]!.createWorkspace({ id, name: id, settings: {} });
    }
  });

  afterAll(async () => {
    await Promise.all(stores.map((s) => s.close()));
  });

  it('keeps seq gapless, the chain valid and every acknowledged id exactly once', async () => {
    const acknowledged = new Map<string, Map<string, number>>(
      WORKSPACES.map((w) => [w, new Map()]),
    );
    const sent = new Map<string, EventDraft[]>(WORKSPACES.map((w) => [w, []]));

    const record = (workspace: string, events: readonly StoredEvent[]) => {
      const acks = acknowledged.get(workspace)!;
      for (const event of events) {
        const seen = acks.get(event.id);
        // A retry must come back with the place of the first store, never a second one.
        if (seen !== undefined) expect(event.seq).toBe(seen);
        acks.set(event.id, event.seq);
      }
    };

    const run = async (instance: number) => {
      for (let batch = 0; batch < BATCHES_PER_INSTANCE; batch += 1) {
        const workspace = WORKSPACES[(instance + batch) % WORKSPACES.length]!;
        const size = 1 + ((instance * 7 + batch) % 4);
        const drafts = Array.from({ length: size }, (_, i) =>
          makeDraft(workspace, {
            id: `evt-${instance}-${batch}-${i}`,
            action: ['job.created', 'REPOSITORY_RUN_CLAIM', 'delete'][i % 3]!,
            // Some events belong to other months: partitions are made on demand under load.
            occurred_at: new Date(Date.UTC(2026, 4 - (batch % 3), 10, 9, batch, i)).toISOString(),
          }),
        );
        sent.get(workspace)!.push(...drafts);
        const store = stores[instance]!;
        const appended = await store.append(workspace, drafts);
        expect(appended.every((a) => a.created)).toBe(true);
        record(
          workspace,
          appended.map((a) => a.event),
        );
        if (batch % 5 === 0) {
          // A client retry (its first answer was lost) through another instance, and the same
          // retry racing through a third one: both are answered from what is stored.
          const later = drafts.map((d) => ({ ...d, received_at: new Date().toISOString() }));
          const retries = await Promise.all([
            stores[(instance + 1) % INSTANCES]!.append(workspace, later),
            stores[(instance + 2) % INSTANCES]!.append(workspace, later),
          ]);
          for (const retry of retries) {
            expect(retry.every((a) => !a.created)).toBe(true);
            record(
              workspace,
              retry.map((a) => a.event),
            );
          }
        }
      }
    };
    await Promise.all(Array.from({ length: INSTANCES }, (_, i) => run(i)));

    for (const workspace of WORKSPACES) {
      const rows = await chainOf(stores[1]!, workspace);
      const drafts = sent.get(workspace)!;
      expect(rows).toHaveLength(drafts.length);
      expectValidChain(workspace, rows);
      const stored = new Map(rows.map((r) => [r.id, r.seq]));
      expect(stored.size).toBe(rows.length);
      for (const [id, seq] of acknowledged.get(workspace)!) expect(stored.get(id)).toBe(seq);
      const last = rows[rows.length - 1]!;
      for (const store of stores) {
        expect(await store.head(workspace)).toEqual({ seq: last.seq, hash: last.hash });
      }
    }
  });
});

describe('PostgreSQL: migrations', () => {
  it('run once when several instances open an empty database at the same moment', async () => {
    const url = await createDatabase(server, 'migrate_race');
    const stores = await Promise.all([1, 2, 3].map(() => openPostgresStore(url)));
    try {
      await Promise.all(stores.map((s) => s.migrate()));
      const database = new URL(url).pathname.slice(1);
      const ledger = await server.psql(
        'SELECT version, count(*) FROM trailkeep_migrations GROUP BY version ORDER BY version',
        { database },
      );
      expect(ledger.code).toBe(0);
      const lines = ledger.stdout
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => /^\d+\s*\|\s*\d+$/.test(l));
      expect(lines).toHaveLength(MIGRATIONS.length);
      for (const line of lines) expect(line).toMatch(/\|\s*1$/);
      await stores[0]!.createWorkspace({ id: 'w', name: 'w', settings: {} });
      const [appended] = await stores[2]!.append('w', [makeDraft('w')]);
      expect(appended?.event.seq).toBe(1);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });
});
