/**
 * People over a real server: sign-in, the cookie's attributes, CSRF on state-changing requests,
 * sign-out, sign-in throttling, and the self-audit events that admin actions leave behind.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  call,
  login,
  PASSWORD,
  seedWorkspace,
  startServer,
  type Seeded,
  type Server,
} from './support.js';

let server: Server;
let ws: Seeded;

beforeAll(async () => {
  server = await startServer({ rateLimit: false });
  ws = await seedWorkspace(server, 'acme');
});

afterAll(async () => {
  await server.close();
});

interface StoredEventLike {
  action: string;
  outcome: string;
  category: string;
  actor: { type: string; id: string; email?: string };
  targets: Array<{ type: string; id: string; name?: string }>;
  changes: Array<{ field: string; old?: unknown; new?: unknown }>;
  context: { ip?: string; user_agent?: string; request_id?: string };
}

async function selfAudit(action: string): Promise<StoredEventLike[]> {
  const page = await call(
    server,
    'GET',
    `/api/v1/workspaces/acme/events?action=${encodeURIComponent(action)}&limit=200`,
    { as: { key: ws.keys.read } },
  );
  return (page.body as { events: StoredEventLike[] }).events;
}

describe('sign-in and the session cookie', () => {
  test('a good password sets an HttpOnly, SameSite=Lax cookie and returns the CSRF token', async () => {
    const answer = await call(server, 'POST', '/api/v1/session', {
      body: { email: 'OWNER@acme.test ', password: PASSWORD },
    });
    expect(answer.status).toBe(200);
    const cookie = answer.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^tk_session=[A-Za-z0-9_-]{43};/);
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Lax');
    expect(cookie).toContain('Path=/');
    expect(cookie).not.toContain('Secure');
    expect(answer.body).toMatchObject({
      user: { email: 'owner@acme.test' },
      csrf_token: expect.any(String),
      workspaces: [{ id: 'acme', name: 'acme', role: 'owner' }],
    });
  });

  test('the cookie is Secure when the server is told TLS ends at a proxy', async () => {
    const secure = await startServer({ secureCookies: true });
    try {
      await seedWorkspace(secure, 'acme');
      const answer = await call(secure, 'POST', '/api/v1/session', {
        body: { email: 'owner@acme.test', password: PASSWORD },
      });
      expect(answer.headers.get('set-cookie')).toContain('Secure');
    } finally {
      await secure.close();
    }
  });

  test('a wrong password and an unknown email get the same 401', async () => {
    const wrong = await call(server, 'POST', '/api/v1/session', {
      body: { email: ws.people.admin, password: 'not the password' },
    });
    const unknown = await call(server, 'POST', '/api/v1/session', {
      body: { email: 'nobody@acme.test', password: 'not the password' },
    });
    expect([wrong.status, unknown.status]).toEqual([401, 401]);
    expect((wrong.body as { detail: string }).detail).toBe(
      (unknown.body as { detail: string }).detail,
    );
    expect(wrong.headers.get('set-cookie')).toBeNull();
  });

  test('state-changing requests with the cookie need the CSRF token', async () => {
    const session = await login(server, ws.people.owner);
    const body = JSON.stringify({ name: 'csrf test', scope: 'read' });
    const headers = { cookie: session.cookie, 'content-type': 'application/json' };
    const without = await fetch(`${server.url}/api/v1/workspaces/acme/keys`, {
      method: 'POST',
      headers,
      body,
    });
    expect(without.status).toBe(403);
    expect(((await without.json()) as { code: string }).code).toBe('csrf_failed');
    const wrong = await fetch(`${server.url}/api/v1/workspaces/acme/keys`, {
      method: 'POST',
      headers: { ...headers, 'x-csrf-token': 'guess' },
      body,
    });
    expect(wrong.status).toBe(403);
    const right = await fetch(`${server.url}/api/v1/workspaces/acme/keys`, {
      method: 'POST',
      headers: { ...headers, 'x-csrf-token': session.csrf },
      body,
    });
    expect(right.status).toBe(201);
    // Reads need no token.
    const read = await call(server, 'GET', '/api/v1/workspaces/acme/keys', { as: { session } });
    expect(read.status).toBe(200);
  });

  test('signing out ends the session on the server, not only in the browser', async () => {
    const session = await login(server, ws.people.auditor);
    expect((await call(server, 'GET', '/api/v1/session', { as: { session } })).status).toBe(200);
    const out = await call(server, 'DELETE', '/api/v1/session', { as: { session } });
    expect(out.status).toBe(204);
    expect(out.headers.get('set-cookie')).toMatch(/^tk_session=;/);
    const after = await call(server, 'GET', '/api/v1/session', { as: { session } });
    expect(after.status).toBe(401);
    const log = await call(server, 'GET', '/api/v1/workspaces/acme/events', { as: { session } });
    expect(log.status).toBe(401);
  });

  test('a revoked key is refused on its very next request', async () => {
    const created = await server.accounts.createKey('acme', {
      name: 'short-lived',
      scope: 'read',
      createdBy: null,
    });
    const path = '/api/v1/workspaces/acme/events';
    expect((await call(server, 'GET', path, { as: { key: created.key } })).status).toBe(200);
    const revoke = await call(
      server,
      'DELETE',
      `/api/v1/workspaces/acme/keys/${created.record.id}`,
      {
        as: { key: ws.keys.admin },
      },
    );
    expect(revoke.status).toBe(204);
    const after = await call(server, 'GET', path, { as: { key: created.key } });
    expect(after.status).toBe(401);
    expect((after.body as { code: string }).code).toBe('unauthenticated');
  });

  test('a member sees a clear no-access problem', async () => {
    const session = await login(server, ws.people.member);
    const answer = await call(server, 'GET', '/api/v1/workspaces/acme/events', { as: { session } });
    expect(answer.status).toBe(403);
    expect(answer.body).toMatchObject({
      code: 'no_audit_access',
      title: 'No access to the audit log',
      detail: expect.stringContaining("You don't have access to this workspace's audit log"),
    });
  });
});

describe('sign-in throttling', () => {
  test('after 5 failures the email is locked with 429 and Retry-After, even for the right password', async () => {
    const email = 'locked@acme.test';
    await server.accounts.addMember('acme', { email, role: 'auditor', password: PASSWORD });
    const statuses = [];
    for (let i = 0; i < 5; i++) {
      statuses.push(
        (
          await call(server, 'POST', '/api/v1/session', {
            body: { email, password: 'wrong password' },
          })
        ).status,
      );
    }
    expect(statuses).toEqual([401, 401, 401, 401, 401]);
    const locked = await call(server, 'POST', '/api/v1/session', {
      body: { email, password: PASSWORD },
    });
    expect(locked.status).toBe(429);
    expect((locked.body as { code: string }).code).toBe('login_throttled');
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  });
});

describe('self-audit', () => {
  test('admin actions, sign-ins and log views are recorded with actor, IP, user agent and request id', async () => {
    const session = await login(server, ws.people.admin);
    const adminId = (await server.accounts.findMember('acme', ws.people.admin)).user_id;

    const created = await call(server, 'POST', '/api/v1/workspaces/acme/keys', {
      as: { session },
      body: { name: 'audited key', scope: 'ingest' },
      headers: { 'user-agent': 'audit-test/1.0' },
    });
    expect(created.status).toBe(201);
    const keyId = (created.body as { id: string }).id;
    const requestId = created.headers.get('x-request-id');

    const keyEvents = await selfAudit('trailkeep.key.created');
    const keyEvent = keyEvents.find((e) => e.targets[0]?.id === keyId);
    expect(keyEvent).toMatchObject({
      category: 'trailkeep',
      outcome: 'success',
      actor: { type: 'user', id: adminId, email: ws.people.admin },
      targets: [{ type: 'api_key', id: keyId, name: 'audited key' }],
      context: { ip: '127.0.0.1', user_agent: 'audit-test/1.0', request_id: requestId },
    });
    // The secret never reaches the log.
    expect(JSON.stringify(keyEvents)).not.toContain((created.body as { key: string }).key);

    await call(server, 'DELETE', `/api/v1/workspaces/acme/keys/${keyId}`, {
      as: { key: ws.keys.admin },
    });
    const revoked = (await selfAudit('trailkeep.key.revoked')).find(
      (e) => e.targets[0]?.id === keyId,
    );
    expect(revoked?.actor).toMatchObject({ type: 'api_token' });

    const invited = await call(server, 'POST', '/api/v1/workspaces/acme/members', {
      as: { session },
      body: { email: 'newcomer@acme.test', role: 'member' },
    });
    expect(invited.status).toBe(201);
    const invitation = invited.body as { id: string; token: string };
    const invitedEvent = (await selfAudit('trailkeep.invitation.created')).find(
      (e) => e.targets[0]?.id === invitation.id,
    );
    expect(invitedEvent).toMatchObject({
      category: 'trailkeep',
      actor: { id: adminId },
      targets: [{ type: 'invitation', id: invitation.id, name: 'newcomer@acme.test' }],
      changes: [{ field: 'role', new: 'member' }],
      context: { ip: '127.0.0.1' },
    });
    // The link's secret never reaches the log.
    expect(JSON.stringify(invitedEvent)).not.toContain(invitation.token);
    const accepted = await call(server, 'POST', '/api/v1/invitations/accept', {
      body: { token: invitation.token, password: 'newcomer password 1' },
    });
    expect(accepted.status).toBe(200);
    const userId = (accepted.body as { user: { id: string } }).user.id;
    const memberEvent = (await selfAudit('trailkeep.member.added')).find(
      (e) => e.targets[0]?.id === userId,
    );
    expect(memberEvent).toMatchObject({
      category: 'trailkeep',
      actor: { type: 'user', id: userId, email: 'newcomer@acme.test' },
      changes: [{ field: 'role', new: 'member' }],
      metadata: { invitation: invitation.id },
      context: { ip: '127.0.0.1' },
    });

    const patched = await call(server, 'PATCH', `/api/v1/workspaces/acme/members/${userId}`, {
      as: { session },
      body: { role: 'auditor' },
    });
    expect(patched.status).toBe(200);
    const roleEvent = (await selfAudit('trailkeep.member.role_changed')).find(
      (e) => e.targets[0]?.id === userId,
    );
    expect(roleEvent?.changes).toEqual([{ field: 'role', old: 'member', new: 'auditor' }]);

    const signIns = await selfAudit('trailkeep.login.succeeded');
    expect(
      signIns.filter((e) => e.actor.id === adminId && e.context.ip === '127.0.0.1'),
    ).toHaveLength(1);
    const failures = await selfAudit('trailkeep.login.failed');
    expect(
      failures.some((e) => e.outcome === 'failure' && e.targets[0]?.name === ws.people.admin),
    ).toBe(true);
  });

  test('a person viewing the log is recorded once per question, not once per page', async () => {
    const session = await login(server, ws.people.auditor);
    const auditorId = (await server.accounts.findMember('acme', ws.people.auditor)).user_id;
    const viewsBefore = (await selfAudit('trailkeep.log.viewed')).filter(
      (e) => e.actor.id === auditorId,
    );
    const first = await call(
      server,
      'GET',
      '/api/v1/workspaces/acme/events?limit=2&q=category:trailkeep',
      {
        as: { session },
      },
    );
    expect(first.status).toBe(200);
    const next = (first.body as { next_cursor: string }).next_cursor;
    expect(next).toEqual(expect.any(String));
    const second = await call(
      server,
      'GET',
      `/api/v1/workspaces/acme/events?cursor=${encodeURIComponent(next)}`,
      { as: { session } },
    );
    expect(second.status).toBe(200);
    const viewsAfter = (await selfAudit('trailkeep.log.viewed')).filter(
      (e) => e.actor.id === auditorId,
    );
    expect(viewsAfter.length - viewsBefore.length).toBe(1);
    // Reading with a key (a program, not a person) is not a view.
    const total = (await selfAudit('trailkeep.log.viewed')).length;
    await call(server, 'GET', '/api/v1/workspaces/acme/events?q=action:job.*', {
      as: { key: ws.keys.read },
    });
    expect((await selfAudit('trailkeep.log.viewed')).length).toBe(total);
  });

  test('a sign-in is recorded in the workspace the session reaches, once, not in every workspace', async () => {
    await seedWorkspace(server, 'other');
    const email = 'two-places@acme.test';
    await server.accounts.addMember('acme', { email, role: 'auditor', password: PASSWORD });
    await server.accounts.addMember('other', { email, role: 'auditor' });
    const userId = (await server.accounts.findMember('acme', email)).user_id;
    const mine = async (workspace: string) => {
      const page = await call(
        server,
        'GET',
        `/api/v1/workspaces/${workspace}/events?action=trailkeep.login.succeeded&limit=200`,
        { as: { key: workspace === 'acme' ? ws.keys.read : otherKey } },
      );
      return (page.body as { events: StoredEventLike[] }).events.filter(
        (e) => e.actor.id === userId,
      );
    };
    const otherKey = (
      (
        await call(server, 'POST', '/api/v1/workspaces/other/keys', {
          as: { session: await login(server, 'owner@other.test') },
          body: { name: 'reader', scope: 'read' },
        })
      ).body as { key: string }
    ).key;

    const session = await login(server, email);
    expect(await mine('acme')).toHaveLength(0);
    for (let i = 0; i < 3; i++) {
      const page = await call(server, 'GET', '/api/v1/workspaces/acme/events?limit=1', {
        as: { session },
      });
      expect(page.status).toBe(200);
    }
    expect(await mine('acme')).toHaveLength(1);
    expect(await mine('other')).toHaveLength(0);
    await call(server, 'GET', '/api/v1/workspaces/other/events?limit=1', { as: { session } });
    expect(await mine('other')).toHaveLength(1);
  });

  test('the same question asked again is one view; own events refuse to be forged', async () => {
    const session = await login(server, ws.people.auditor);
    const auditorId = (await server.accounts.findMember('acme', ws.people.auditor)).user_id;
    const views = async () =>
      (await selfAudit('trailkeep.log.viewed')).filter(
        (e) => e.actor.id === auditorId && JSON.stringify(e).includes('operation:delete'),
      ).length;
    for (let i = 0; i < 4; i++) {
      await call(server, 'GET', '/api/v1/workspaces/acme/events?q=operation:delete', {
        as: { session },
      });
    }
    expect(await views()).toBe(1);
    const forged = await call(server, 'POST', '/api/v1/workspaces/acme/events', {
      as: { key: ws.keys.ingest },
      body: { action: 'trailkeep.login.succeeded', actor: { type: 'user', id: 'u_x' } },
    });
    expect(forged.status).toBe(400);
    expect(forged.body).toMatchObject({
      code: 'validation_failed',
      detail: expect.stringContaining('$.action starts with "trailkeep."'),
    });
  });
});
