/**
 * GET /workspaces/{ws}/verify over the network reports a derived row edited to hide events
 * with its table, row, column and both values, in the documented response shape.
 */
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, event, seedWorkspace, startServer, type Seeded, type Server } from './support.js';

let server: Server;
let seeded: Seeded;

beforeAll(async () => {
  server = await startServer();
  seeded = await seedWorkspace(server, 'acme');
  const events = Array.from({ length: 5 }, (_, i) =>
    event(`evt_${i + 1}`, { targets: [{ type: 'job', id: `job_${i}`, name: `Job ${i}` }] }),
  );
  const ingested = await call(server, 'POST', '/api/v1/workspaces/acme/events', {
    as: { key: seeded.keys.ingest },
    body: { events },
  });
  expect(ingested.status).toBeLessThan(300);
});

afterAll(async () => {
  await server.close();
});

describe('GET /workspaces/{ws}/verify', () => {
  it('names the derived row, its column and both values', async () => {
    const read = { as: { key: seeded.keys.read } };
    expect((await call(server, 'GET', '/api/v1/workspaces/acme/verify', read)).body).toMatchObject({
      ok: true,
      checked: 5,
    });
    const raw = new Database(join(server.dir, 'trailkeep.db'));
    try {
      raw.exec('DROP TRIGGER event_targets_no_update');
      raw.exec(`UPDATE event_targets SET name_lc = 'job 9' WHERE seq = 3`);
    } finally {
      raw.close();
    }
    const response = await call(server, 'GET', '/api/v1/workspaces/acme/verify', read);
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      workspace: 'acme',
      ok: false,
      problem: {
        seq: 3,
        id: 'evt_3',
        kind: 'derived_mismatch',
        table: 'event_targets',
        key: 'seq 3 pos 0',
        column: 'name_lc',
        expected: 'job 2',
        found: 'job 9',
      },
    });
  });
});
