/** A key's last use shows in the key list, so owners can find and revoke keys nobody uses. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, seedWorkspace, startServer, type Seeded, type Server } from './support.js';

let server: Server;
let seeded: Seeded;

beforeAll(async () => {
  server = await startServer();
  seeded = await seedWorkspace(server, 'usage');
});

afterAll(async () => server?.close());

describe('API key last use', () => {
  it('is empty until the key is used, then records when', async () => {
    const admin = { key: seeded.keys.admin };
    const before = await call(server, 'GET', '/api/v1/workspaces/usage/keys', { as: admin });
    const keys = (before.body as { keys: Array<{ scope: string; last_used_at: string | null }> })
      .keys;
    expect(keys.find((k) => k.scope === 'ingest')?.last_used_at).toBeNull();
    const started = Date.now();
    const sent = await call(server, 'POST', '/api/v1/workspaces/usage/events', {
      as: { key: seeded.keys.ingest },
      body: { action: 'job.created', actor: { type: 'user', id: 'u1' } },
    });
    expect(sent.status).toBe(201);
    const after = await call(server, 'GET', '/api/v1/workspaces/usage/keys', { as: admin });
    const ingest = (
      after.body as { keys: Array<{ scope: string; last_used_at: string | null }> }
    ).keys.find((k) => k.scope === 'ingest');
    expect(ingest?.last_used_at).not.toBeNull();
    expect(Date.parse(ingest!.last_used_at!)).toBeGreaterThanOrEqual(started - 1000);
  });
});
