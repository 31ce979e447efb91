/**
 * Retention and legal hold over the network: only an owner sets the policy, places and
 * releases holds and runs a pruning; each is recorded in the log; bad input gets a precise
 * problem; and every main read endpoint of a pruned workspace answers (no 500), without the
 * pruned bodies, while verify reports the pruned range by policy.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  call,
  event,
  login,
  seedWorkspace,
  startServer,
  type Seeded,
  type Server,
  type Session,
} from './support.js';

const REAL_NOW = Date.now();
let now = REAL_NOW - 400 * 86_400_000;
let server: Server;
let seeded: Seeded;
let owner: Session;
let admin: Session;
const WS = '/api/v1/workspaces/acme';
let pruneRanges: [number, number][] = [];

beforeAll(async () => {
  server = await startServer({}, { clock: () => new Date(now) });
  seeded = await seedWorkspace(server, 'acme');
  owner = await login(server, seeded.people.owner);
  admin = await login(server, seeded.people.admin);
  const old = Array.from({ length: 6 }, (_, i) =>
    event(`evt_old_${i}`, {
      occurred_at: new Date(now - 86_400_000).toISOString(),
      targets: [{ type: 'account', id: i === 2 ? 'acct_hold' : `acct_${i}`, name: `Account ${i}` }],
    }),
  );
  const sent = await call(server, 'POST', `${WS}/events`, {
    as: { key: seeded.keys.ingest },
    body: { events: old },
  });
  expect(sent.status).toBeLessThan(300);
  now = REAL_NOW;
  await call(server, 'POST', `${WS}/events`, {
    as: { key: seeded.keys.ingest },
    body: event('evt_new', { targets: [{ type: 'account', id: 'acct_0' }] }),
  });
});

afterAll(async () => {
  await server.close();
});

async function actions(): Promise<string[]> {
  const page = await call(server, 'GET', `${WS}/events?limit=200`, {
    as: { key: seeded.keys.read },
  });
  return (page.body as { events: { action: string }[] }).events.map((e) => e.action);
}

describe('retention over HTTP', () => {
  it('is off by default, and pruning without a policy is refused', async () => {
    const shown = await call(server, 'GET', `${WS}/retention`, { as: { key: seeded.keys.read } });
    expect(shown).toMatchObject({ status: 200, body: { policy: null } });
    const refused = await call(server, 'POST', `${WS}/retention/prune`, {
      as: { session: owner },
      body: {},
    });
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ code: 'retention_not_set' });
  });

  it('only an owner sets the policy, with a precise error for a bad period', async () => {
    for (const as of [{ session: admin }, { key: seeded.keys.admin }]) {
      const refused = await call(server, 'PUT', `${WS}/retention`, { as, body: { days: 30 } });
      expect(refused.status).toBe(403);
      expect(refused.body).toMatchObject({ code: 'forbidden' });
    }
    for (const days of [0, -1, 36_501, 1.5]) {
      const bad = await call(server, 'PUT', `${WS}/retention`, {
        as: { session: owner },
        body: { days },
      });
      expect(bad.status).toBe(400);
      expect(bad.headers.get('content-type')).toContain('application/problem+json');
    }
    const bad = await call(server, 'PUT', `${WS}/retention`, {
      as: { session: owner },
      body: { days: '30' },
    });
    expect(bad.status).toBe(400);
    const set = await call(server, 'PUT', `${WS}/retention`, {
      as: { session: owner },
      body: { days: 30 },
    });
    expect(set).toMatchObject({ status: 200, body: { policy: { days: 30 } } });
    expect((await actions()).filter((a) => a === 'trailkeep.retention.changed')).toHaveLength(1);
  });

  it('a hold keeps what it covers; a run is audited; a released hold is gone', async () => {
    const missingReason = await call(server, 'POST', `${WS}/holds`, {
      as: { session: owner },
      body: { target_id: 'acct_hold' },
    });
    expect(missingReason.status).toBe(400);
    const created = await call(server, 'POST', `${WS}/holds`, {
      as: { session: owner },
      body: { target_id: 'acct_hold', reason: 'litigation 2026-17' },
    });
    expect(created.status).toBe(201);
    const hold = created.body as { id: string; target_id: string };
    expect(hold.target_id).toBe('acct_hold');

    const dry = await call(server, 'POST', `${WS}/retention/prune`, {
      as: { session: owner },
      body: { dry_run: true },
    });
    // The old events: the workspace's own records of its set-up, then evt_old_0..5.
    expect(dry.body).toMatchObject({ dry_run: true, held: 1, holds: [hold.id] });
    const planned = (dry.body as { count: number }).count;
    expect(planned).toBeGreaterThanOrEqual(5);
    const run = await call(server, 'POST', `${WS}/retention/prune`, {
      as: { session: owner },
      body: {},
    });
    expect(run.status).toBe(200);
    expect(run.body).toMatchObject({ dry_run: false, count: planned, held: 1, policy_days: 30 });
    const heldSeq = (
      await call(server, 'GET', `${WS}/events/evt_old_2`, {
        as: { key: seeded.keys.read },
      })
    ).body as { seq: number };
    const ranges = (run.body as { ranges: [number, number][] }).ranges;
    expect(ranges).toEqual([
      [1, heldSeq.seq - 1],
      [heldSeq.seq + 1, planned + 1],
    ]);
    pruneRanges = ranges;
    const audited = await call(
      server,
      'GET',
      `${WS}/events?q=${encodeURIComponent('action:trailkeep.retention.pruned')}`,
      {
        as: { key: seeded.keys.read },
      },
    );
    expect((audited.body as { events: { metadata: unknown }[] }).events[0]?.metadata).toMatchObject(
      {
        count: planned,
        policy_days: 30,
        holds: [hold.id],
      },
    );

    const released = await call(server, 'POST', `${WS}/holds/${hold.id}/release`, {
      as: { session: owner },
      body: { reason: 'case closed' },
    });
    expect(released.body).toMatchObject({ id: hold.id, release_reason: 'case closed' });
    const again = await call(server, 'POST', `${WS}/holds/${hold.id}/release`, {
      as: { session: owner },
      body: { reason: 'case closed' },
    });
    expect(again.status).toBe(404);
    expect(again.body).toMatchObject({ code: 'hold_not_found' });
    const holds = await call(server, 'GET', `${WS}/holds`, { as: { session: admin } });
    expect((holds.body as { holds: unknown[] }).holds).toHaveLength(1);
  });

  it('every main read endpoint answers on the pruned workspace, without the pruned bodies', async () => {
    const read = { as: { key: seeded.keys.read } };
    const auditor = { as: { session: await login(server, seeded.people.auditor) } };
    const paths = [
      `${WS}/events`,
      `${WS}/events?q=${encodeURIComponent('target:acct_1')}&count=true`,
      `${WS}/events/evt_new`,
      `${WS}/facets`,
      `${WS}/actors?prefix=agent`,
      `${WS}/entities/account/acct_hold/history`,
      `${WS}/export?format=ndjson`,
      `${WS}/export?format=csv`,
      `${WS}/export/count`,
      `${WS}/verify`,
      `${WS}/checkpoint`,
      `${WS}/log/vkeys`,
      `${WS}/retention`,
      `${WS}/holds`,
    ];
    for (const path of paths) {
      for (const as of [read, auditor]) {
        const response = await call(server, 'GET', path, as);
        expect([path, response.status]).toEqual([path, 200]);
      }
    }
    const gone = await call(server, 'GET', `${WS}/events/evt_old_0`, read);
    expect(gone.status).toBe(404);
    expect(gone.body).toMatchObject({ code: 'event_not_found' });
    const kept = await call(server, 'GET', `${WS}/events/evt_old_2`, read);
    expect(kept.status).toBe(200);
    const exported = await call(server, 'GET', `${WS}/export?format=ndjson`, read);
    expect(exported.text).not.toContain('evt_old_0');
    expect(exported.text).toContain('evt_old_2');
    // An entity whose every event was pruned has no history left: the usual 404, not a 500.
    const history = await call(server, 'GET', `${WS}/entities/account/acct_1/history`, read);
    expect(history.status).toBe(404);
    expect(history.headers.get('content-type')).toContain('application/problem+json');
    expect(history.text).not.toContain('evt_old_1');

    const verify = await call(server, 'GET', `${WS}/verify`, read);
    expect(verify.body).toMatchObject({
      ok: true,
      pruned: pruneRanges.map(([from, to]) => ({ from, to, policy_days: 30 })),
    });
  });
});
