/**
 * PostgreSQL that stops taking writes, for real: the database is switched to
 * `default_transaction_read_only` (what a failover onto a standby looks like to the service)
 * and the service's connections are cut so that new ones pick it up. An append is then a 503
 * `store_io_error` with Retry-After, not a 500; /healthz answers 503 while the store cannot
 * write and 200 again once it can, by its own probe write; nothing acknowledged is lost and
 * the refused batch is accepted whole afterwards. Also: a NUL that reaches PostgreSQL through
 * a path no check covered is the request's fault (400), not a 500.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createDatabase, usePostgres, type PostgresServer } from '../support/postgres.js';
import { call, event, seedWorkspace, startServer, type Seeded, type Server } from './support.js';

let pg: PostgresServer;
let release: () => Promise<void>;
let url: string;
let server: Server;
let seeded: Seeded;

const database = () => new URL(url).pathname.slice(1);

beforeAll(async () => {
  ({ server: pg, release } = await usePostgres());
  url = await createDatabase(pg, 'cannot_write');
  server = await startServer({ db: url, rateLimit: false });
  seeded = await seedWorkspace(server, 'acme');
});

afterAll(async () => {
  await server?.close();
  await pg.psql(`ALTER DATABASE ${database()} RESET default_transaction_read_only`);
  await release();
});

/** Ends the service's connections so that its pool opens new ones with the new default. */
async function reconnect(): Promise<void> {
  const result = await pg.psql(
    `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
      WHERE datname = '${database()}' AND application_name = 'trailkeep'`,
  );
  expect(result.code).toBe(0);
}

/**
 * The answer once the pool has dropped the connections that were cut: each of those fails one
 * query as `store_unavailable` (503, retry) and leaves the pool.
 */
async function settled(request: () => ReturnType<typeof call>): ReturnType<typeof call> {
  for (let attempt = 0; ; attempt++) {
    const answer = await request();
    const code = (answer.body as { code?: string } | undefined)?.code;
    if (code !== 'store_unavailable' || attempt >= 20) return answer;
  }
}

const append = (ids: string[]) =>
  call(server, 'POST', '/api/v1/workspaces/acme/events', {
    as: { key: seeded.keys.ingest },
    body: { events: ids.map((id) => event(id)) },
  });
const health = () => call(server, 'GET', '/healthz');

it('a read-only PostgreSQL answers 503 store_io_error, health says so, and nothing is lost', async () => {
  expect((await append(['ok-1', 'ok-2'])).status).toBe(201);

  await pg.psql(`ALTER DATABASE ${database()} SET default_transaction_read_only = on`);
  await reconnect();
  const refused = await settled(() => append(['no-1', 'no-2', 'no-3']));
  expect(refused.status).toBe(503);
  expect(refused.body).toMatchObject({ code: 'store_io_error' });
  expect(refused.headers.get('retry-after')).toBe('5');

  const degraded = await settled(health);
  expect(degraded.status).toBe(503);
  expect(degraded.body).toMatchObject({
    code: 'store_io_error',
    store: 'postgres',
    can_write: false,
  });
  await pg.psql(`ALTER DATABASE ${database()} RESET default_transaction_read_only`);
  await reconnect();
  expect((await settled(health)).status).toBe(200);

  const again = await append(['no-1', 'no-2', 'no-3']);
  expect(again.status).toBe(201);
  expect((again.body as { events: Array<{ created: boolean }> }).events).toEqual([
    expect.objectContaining({ created: true }),
    expect.objectContaining({ created: true }),
    expect.objectContaining({ created: true }),
  ]);
  expect((await server.log.verify('acme')).ok).toBe(true);
});

it('a NUL that reaches PostgreSQL unchecked is a 400, not a 500', async () => {
  const answer = await call(server, 'POST', '/api/v1/session', {
    body: { email: 'a\u0000b@acme.test', password: 'correct horse battery staple' },
  });
  expect(answer.status).toBeLessThan(500);
});
