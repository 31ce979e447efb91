import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, usePostgres, type PostgresServer } from '../support/postgres.js';

describe('the PostgreSQL test harness', () => {
  let server: PostgresServer;
  let release: () => Promise<void>;
  beforeAll(async () => {
    ({ server, release } = await usePostgres());
  });
  afterAll(async () => {
    await release();
  });

  it('runs SQL through psql in a database of its own', async () => {
    const url = await createDatabase(server, 'harness');
    const database = new URL(url).pathname.slice(1);
    const result = await server.psql('SELECT 40 + 2 AS answer', { database });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('42');
  });

  it('reports SQL errors with psql exit code and message', async () => {
    const result = await server.psql('SELECT * FROM no_such_table');
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('no_such_table');
  });
});
