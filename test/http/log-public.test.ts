/**
 * Who may read the verifiable log: a read credential of the workspace, or anyone once an owner
 * made the workspace's log public; inclusion proofs (they name event ids) never without one. The
 * setting is data on the workspace, changed by owners only and audited; one workspace's setting
 * never opens another's log.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, startOn } from './engines.js';
import {
  call,
  event,
  login,
  seedWorkspace,
  type Credential,
  type Seeded,
  type Server,
  type Session,
} from './support.js';

const LOG_PATHS = [
  'log/checkpoint',
  'log/tile/0/000.p/1',
  'log/tile/entries/000.p/1',
  'log/consistency?from=0&to=1',
  'log/vkeys',
];

describe.each(ENGINES)('a public log on %s', (engine) => {
  let server: Server;
  let acme: Seeded;
  let other: Seeded;
  let owner: Session;
  let eventId: string;

  const setPublic = (options: { as: Credential }, body: unknown) =>
    call(server, 'PUT', '/api/v1/workspaces/acme/settings/log', { ...options, body });

  beforeAll(async () => {
    server = await startOn(engine, 'log_public', { rateLimit: false });
    acme = await seedWorkspace(server, 'acme');
    other = await seedWorkspace(server, 'other');
    for (const ws of [acme, other]) {
      const res = await call(server, 'POST', `/api/v1/workspaces/${ws.workspace}/events`, {
        as: { key: ws.keys.ingest },
        body: event(`evt_${ws.workspace}`),
      });
      expect(res.status).toBe(201);
    }
    eventId = 'evt_acme';
    owner = await login(server, acme.people.owner);
  });

  afterAll(async () => {
    await server?.close();
  });

  it('is private by default: no credential, no log', async () => {
    const setting = await call(server, 'GET', '/api/v1/workspaces/acme/settings/log', {
      as: { key: acme.keys.read },
    });
    expect(setting.body).toEqual({ public: false });
    for (const path of [...LOG_PATHS, `events/${eventId}/proof`]) {
      const res = await call(server, 'GET', `/api/v1/workspaces/acme/${path}`);
      expect(res.status, path).toBe(401);
    }
  });

  it('only an owner may change it, with a well-formed body, and nothing changes otherwise', async () => {
    const admin = await login(server, acme.people.admin);
    const auditor = await login(server, acme.people.auditor);
    for (const as of [
      { session: admin },
      { session: auditor },
      { key: acme.keys.admin },
      { key: acme.keys.read },
      { key: other.keys.admin },
    ]) {
      const res = await setPublic({ as }, { public: true });
      expect(res.status).toBe(403);
    }
    const outsider = await login(server, other.people.owner);
    expect((await setPublic({ as: { session: outsider } }, { public: true })).status).toBe(404);
    for (const body of [{ public: 'yes' }, {}, { public: true, extra: 1 }, [true], 'true']) {
      const res = await setPublic({ as: { session: owner } }, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
    }
    const setting = await call(server, 'GET', '/api/v1/workspaces/acme/settings/log', {
      as: { session: owner },
    });
    expect(setting.body).toEqual({ public: false });
    expect((await call(server, 'GET', '/api/v1/workspaces/acme/log/checkpoint')).status).toBe(401);
  });

  it('an owner makes it public: the log endpoints answer anyone, proofs still need a key', async () => {
    const res = await setPublic({ as: { session: owner } }, { public: true });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ public: true });
    for (const path of LOG_PATHS) {
      const anonymous = await call(server, 'GET', `/api/v1/workspaces/acme/${path}`);
      expect(anonymous.status, path).toBe(200);
      // A person whose role cannot read the log, and another workspace's key, read it too now.
      const member = await login(server, acme.people.member);
      expect(
        (await call(server, 'GET', `/api/v1/workspaces/acme/${path}`, { as: { session: member } }))
          .status,
      ).toBe(200);
    }
    const tile = await call(server, 'GET', '/api/v1/workspaces/acme/log/tile/0/000.p/1');
    expect(tile.headers.get('cache-control')).toBe('public, max-age=10');
    const keyed = await call(server, 'GET', '/api/v1/workspaces/acme/log/tile/0/000.p/1', {
      as: { key: acme.keys.read },
    });
    expect(keyed.headers.get('cache-control')).toBe('private, max-age=10');
    const proof = await call(server, 'GET', `/api/v1/workspaces/acme/events/${eventId}/proof`);
    expect(proof.status).toBe(401);
    // Errors of a public log stay precise.
    const beyond = await call(server, 'GET', '/api/v1/workspaces/acme/log/tile/0/001');
    expect(beyond.status).toBe(404);
    expect((beyond.body as { code: string }).code).toBe('tile_not_found');
  });

  it("one workspace's public log opens no other, and an unknown workspace looks private", async () => {
    for (const path of LOG_PATHS) {
      expect((await call(server, 'GET', `/api/v1/workspaces/other/${path}`)).status, path).toBe(
        401,
      );
      expect((await call(server, 'GET', `/api/v1/workspaces/nope/${path}`)).status, path).toBe(401);
    }
  });

  it('every change is audited, and making it private again closes it', async () => {
    const res = await setPublic({ as: { session: owner } }, { public: false });
    expect(res.body).toEqual({ public: false });
    // Setting the value it already has records nothing.
    await setPublic({ as: { session: owner } }, { public: false });
    for (const path of LOG_PATHS) {
      expect((await call(server, 'GET', `/api/v1/workspaces/acme/${path}`)).status, path).toBe(401);
    }
    const page = await call(
      server,
      'GET',
      '/api/v1/workspaces/acme/events?action=trailkeep.settings.changed',
      { as: { key: acme.keys.read } },
    );
    const changes = (
      page.body as { events: Array<{ changes: unknown; actor: { email?: string } }> }
    ).events.map((e) => [e.actor.email, e.changes]);
    expect(changes).toEqual([
      [acme.people.owner, [{ field: 'log.public', old: true, new: false }]],
      [acme.people.owner, [{ field: 'log.public', old: false, new: true }]],
    ]);
  });
});
