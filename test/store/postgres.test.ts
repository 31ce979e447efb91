/**
 * The shared Store contract, unchanged, against a real PostgreSQL server (the shared one of
 * test/support/postgres-global.ts, or one this file starts).
 */
import { afterAll, beforeAll } from 'vitest';
import { openPostgresStore } from '../../src/store/postgres/index.js';
import { createDatabase, usePostgres } from '../support/postgres.js';
import { runStoreContract } from './contract.js';

let url: string | undefined;
let release: (() => Promise<void>) | undefined;

beforeAll(async () => {
  const { server, release: done } = await usePostgres();
  release = done;
  url = await createDatabase(server, 'contract');
});

afterAll(async () => {
  await release?.();
});

runStoreContract({
  name: 'postgres',
  open: () => {
    if (url === undefined) throw new Error('the PostgreSQL test server did not start');
    return openPostgresStore(url);
  },
});
