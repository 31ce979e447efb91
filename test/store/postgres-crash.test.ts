/**
 * The SQLite SIGKILL test's twin on a real PostgreSQL server (test/support/postgres.ts): writer
 * processes are killed in the middle of an ingest, again and again, and after each round the
 * log is whole, with tree, chain and seq in step. Two writers share the workspace, with batch
 * sizes that straddle tile boundaries at different places, so a restarted writer finds a tree
 * the other one grew and must rebuild its frontier from the stored tiles; and a killed writer's
 * open transaction (head lock, events, tree rows) must vanish as one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/open.js';
import { createDatabase, usePostgres, type PostgresServer } from '../support/postgres.js';
import { appendThenKill, expectLogInStep, type Acknowledged } from './crash-support.js';

let server: PostgresServer;
let release: () => Promise<void>;

beforeAll(async () => {
  ({ server, release } = await usePostgres());
});
afterAll(() => release());

describe('PostgreSQL durability of the tree', () => {
  // Six writer processes start one after another on two shared cores: generous, never timed.
  it(
    'keeps tree, chain and seq in step across repeated SIGKILLs of its writers',
    { timeout: 300_000 },
    async () => {
      const url = await createDatabase(server, 'crash');
      // Migrate once up front, so the writers race on appends rather than on the schema.
      await (await openStore(url)).close();
      const workspace = 'crashy';
      const acknowledged: Acknowledged[] = [];
      let lastSeq = 0;
      for (let round = 0; round < 3; round += 1) {
        const rounds = await Promise.all([
          appendThenKill(url, workspace, 2 + round, 37),
          appendThenKill(url, workspace, 1 + round, 170),
        ]);
        acknowledged.push(...rounds.flat());
        const store = await openStore(url);
        try {
          const seq = await expectLogInStep(store, workspace, acknowledged);
          expect(seq).toBeGreaterThan(lastSeq);
          lastSeq = seq;
        } finally {
          await store.close();
        }
      }
    },
  );
});
