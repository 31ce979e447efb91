/**
 * Adding a member is an invitation: the answer to the inviter is the same whether or not the
 * address has an account (and says nothing of other workspaces), the person is not a member
 * until they accept, and acceptance is audited. Real server, real SQLite file.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  PASSWORD,
  call,
  login,
  seedWorkspace,
  startServer,
  type Seeded,
  type Server,
  type Session,
} from './support.js';

let server: Server;
let acme: Seeded;
let globex: Seeded;
let admin: Session;
let globexOwnerId: string;

const MEMBERS = '/api/v1/workspaces/acme/members';

beforeAll(async () => {
  server = await startServer({ rateLimit: false });
  acme = await seedWorkspace(server, 'acme');
  globex = await seedWorkspace(server, 'globex');
  globexOwnerId = (await server.accounts.findMember('globex', globex.people.owner)).user_id;
  admin = await login(server, acme.people.admin);
});

afterAll(async () => {
  await server.close();
});

interface Created {
  id: string;
  email: string;
  role: string;
  status: string;
  token: string;
  accept_path: string;
  created_at: string;
  expires_at: string;
}

async function invite(
  email: string,
  role = 'auditor',
  as: { session: Session } | { key: string } = { session: admin },
) {
  return call(server, 'POST', MEMBERS, { as, body: { email, role } });
}

/** The answer with everything that must differ per invitation replaced by its kind. */
function shapeOf(answer: Awaited<ReturnType<typeof call>>): unknown {
  const body = answer.body as Record<string, unknown>;
  return {
    status: answer.status,
    headers: [...answer.headers.keys()].sort(),
    body: Object.fromEntries(
      Object.entries(body)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([key, value]) => [
          key,
          ['id', 'token', 'accept_path', 'email', 'created_at', 'expires_at'].includes(key)
            ? typeof value
            : value,
        ]),
    ),
  };
}

describe('inviting', () => {
  test('the answer is the same whether or not the address has an account', async () => {
    const people = await server.store.listUsers();
    const loner = await server.accounts.addMember('globex', {
      email: 'loner@elsewhere.test',
      role: 'member',
      password: PASSWORD,
    });
    const addresses = [
      globex.people.owner, // an account, owner of another workspace
      globex.people.auditor.toUpperCase(), // the same, spelled differently
      'nobody-at-all@example.com', // no account
      loner.membership.email,
    ];
    const answers = [];
    for (const email of addresses) answers.push(await invite(email));
    const shapes = answers.map(shapeOf);
    for (const shape of shapes) expect(shape).toEqual(shapes[0]);
    expect(answers[0]!.status).toBe(201);
    for (const [i, answer] of answers.entries()) {
      const body = answer.body as Created;
      expect(body).toMatchObject({
        email: addresses[i]!.toLowerCase(),
        role: 'auditor',
        status: 'invited',
      });
      expect(body.id).toMatch(/^inv_/);
      expect(body.accept_path).toBe(`/invite#${body.token}`);
      expect(Date.parse(body.expires_at)).toBeGreaterThan(Date.parse(body.created_at));
      // Nothing about any account or the other workspace (beyond the address typed).
      const rest = answer.text.replaceAll(body.email, '');
      for (const secret of [globexOwnerId, loner.membership.user_id, 'globex', 'Globex']) {
        expect(rest).not.toContain(secret);
      }
      expect(rest).not.toMatch(/usr_|password|user_id/);
    }
    // Nobody was added, and no account was made.
    expect((await server.accounts.listMembers('acme')).map((m) => m.email)).not.toEqual(
      expect.arrayContaining([globex.people.owner]),
    );
    expect(await server.store.listMembershipsOfUser(globexOwnerId)).toHaveLength(1);
    expect((await server.store.listUsers()).length).toBe(people.length + 1);
  });

  test('any address, with or without an account, gets an answer of one shape', async () => {
    const accounts = [globex.people.admin, globex.people.member, acme.people.owner];
    let reference: unknown;
    let n = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.boolean(),
        fc.constantFrom('admin', 'auditor', 'member'),
        fc.constantFrom(...accounts),
        async (existing, role, account) => {
          n += 1;
          const email = existing ? account : `fresh-${n}@nowhere.test`;
          const answer = await invite(email, role);
          // An address already in acme is the one difference acme's admin may see.
          if (email === acme.people.owner) {
            expect(answer.status).toBe(409);
            return;
          }
          const shape = shapeOf(answer) as { body: Record<string, unknown> };
          const normalized = { ...shape, body: { ...shape.body, role: 'x' } };
          reference ??= normalized;
          expect(normalized).toEqual(reference);
        },
      ),
      { numRuns: 40 },
    );
  });

  test('an admin key invites the same way; only owners invite owners', async () => {
    const byKey = await invite('keyed@nowhere.test', 'admin', { key: acme.keys.admin });
    expect(byKey.status).toBe(201);
    const owner = await invite(globex.people.owner, 'owner');
    expect(owner.status).toBe(403);
    expect((owner.body as { code: string }).code).toBe('forbidden');
  });

  test('the old password field is refused rather than ignored', async () => {
    const answer = await call(server, 'POST', MEMBERS, {
      as: { session: admin },
      body: { email: 'pw@nowhere.test', role: 'member', password: 'a chosen password' },
    });
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({
      code: 'bad_request',
      issues: [{ path: '$.password', message: 'is not an accepted field' }],
    });
  });
});

describe('accepting', () => {
  test('the person is not a member until they accept, signed in; acceptance is audited', async () => {
    const created = (await invite(globex.people.owner, 'auditor')).body as Created;
    expect(await server.accounts.role('acme', globexOwnerId)).toBeUndefined();

    const owner = await login(server, globex.people.owner);
    const before = await call(server, 'GET', '/api/v1/workspaces/acme/events', {
      as: { session: owner },
    });
    expect(before.status).toBe(404);

    const mine = await call(server, 'GET', '/api/v1/invitations', { as: { session: owner } });
    expect(mine.status).toBe(200);
    expect((mine.body as { invitations: unknown[] }).invitations).toEqual([
      {
        id: created.id,
        workspace: 'acme',
        workspace_name: 'acme',
        role: 'auditor',
        expires_at: created.expires_at,
      },
    ]);

    // Someone else cannot accept it, and learns nothing from trying.
    const other = await login(server, globex.people.admin);
    const stolen = await call(server, 'POST', `/api/v1/invitations/${created.id}/accept`, {
      as: { session: other },
    });
    const unknown = await call(server, 'POST', '/api/v1/invitations/inv_nothing/accept', {
      as: { session: other },
    });
    expect(stolen.status).toBe(404);
    expect({ ...(stolen.body as object), instance: '' }).toEqual({
      ...(unknown.body as object),
      instance: '',
    });
    expect(await server.accounts.role('acme', globexOwnerId)).toBeUndefined();

    const accepted = await call(server, 'POST', `/api/v1/invitations/${created.id}/accept`, {
      as: { session: owner },
    });
    expect(accepted.status).toBe(200);
    expect(accepted.body).toEqual({ workspace: { id: 'acme', name: 'acme', role: 'auditor' } });
    expect(await server.accounts.role('acme', globexOwnerId)).toBe('auditor');
    const now = await call(server, 'GET', '/api/v1/workspaces/acme/events', {
      as: { session: owner },
    });
    expect(now.status).toBe(200);

    const again = await call(server, 'POST', `/api/v1/invitations/${created.id}/accept`, {
      as: { session: owner },
    });
    expect(again.status).toBe(404);
    expect((again.body as { code: string }).code).toBe('invitation_invalid');

    const audit = await call(
      server,
      'GET',
      '/api/v1/workspaces/acme/events?action=trailkeep.member.added&limit=100',
      { as: { key: acme.keys.read } },
    );
    const events = (audit.body as { events: Array<Record<string, unknown>> }).events;
    expect(
      events.find((e) => (e['targets'] as Array<{ id: string }>)[0]?.id === globexOwnerId),
    ).toMatchObject({
      actor: { type: 'user', id: globexOwnerId, email: globex.people.owner },
      changes: [{ field: 'role', new: 'auditor' }],
      metadata: { invitation: created.id, invited_role: 'auditor' },
    });
  });

  test('a new person sets a password with the link and is signed in; the link works once', async () => {
    const created = (await invite('newbie@nowhere.test', 'member')).body as Created;
    const weak = await call(server, 'POST', '/api/v1/invitations/accept', {
      body: { token: created.token, password: 'short' },
    });
    expect(weak.status).toBe(400);
    const accepted = await call(server, 'POST', '/api/v1/invitations/accept', {
      body: { token: created.token, password: 'newbie password 1', name: 'New Bie' },
    });
    expect(accepted.status).toBe(200);
    expect(accepted.headers.get('set-cookie')).toMatch(/^tk_session=.*HttpOnly/i);
    expect(accepted.body).toMatchObject({
      user: { email: 'newbie@nowhere.test', name: 'New Bie' },
      workspaces: [{ id: 'acme', role: 'member' }],
    });
    await login(server, 'newbie@nowhere.test', 'newbie password 1');
    const reused = await call(server, 'POST', '/api/v1/invitations/accept', {
      body: { token: created.token, password: 'another password 2' },
    });
    expect(reused.status).toBe(404);
    expect((reused.body as { code: string }).code).toBe('invitation_invalid');
    await login(server, 'newbie@nowhere.test', 'newbie password 1');
  });

  test("the link never sets an existing account's password: it takes that password", async () => {
    const created = (await invite(globex.people.member, 'auditor')).body as Created;
    const memberId = (await server.accounts.findMember('globex', globex.people.member)).user_id;
    const guessed = await call(server, 'POST', '/api/v1/invitations/accept', {
      body: { token: created.token, password: 'the inviter guesses' },
    });
    expect(guessed.status).toBe(401);
    expect((guessed.body as { code: string }).code).toBe('unauthenticated');
    expect(await server.accounts.role('acme', memberId)).toBeUndefined();
    await login(server, globex.people.member); // the password is unchanged

    const accepted = await call(server, 'POST', '/api/v1/invitations/accept', {
      body: { token: created.token, password: PASSWORD },
    });
    expect(accepted.status).toBe(200);
    expect(await server.accounts.role('acme', memberId)).toBe('auditor');
  });

  test('guessing an account password through a link is throttled like sign-in', async () => {
    const email = 'guarded@elsewhere.test';
    await server.accounts.addMember('globex', { email, role: 'member', password: PASSWORD });
    const created = (await invite(email, 'auditor')).body as Created;
    const statuses = [];
    for (let i = 0; i < 6; i++) {
      const answer = await call(server, 'POST', '/api/v1/invitations/accept', {
        body: { token: created.token, password: `guess number ${i}` },
      });
      statuses.push(answer.status);
    }
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
    // The failures are audited where the account's own admins look: not in acme.
    const acmeFailures = await call(
      server,
      'GET',
      '/api/v1/workspaces/acme/events?action=trailkeep.login.failed&limit=100',
      { as: { key: acme.keys.read } },
    );
    expect(acmeFailures.text).not.toContain(email);
  });

  test('signed in as someone else, the link is refused and stays open', async () => {
    const created = (await invite('third@nowhere.test', 'member')).body as Created;
    const other = await login(server, globex.people.auditor);
    const refused = await call(server, 'POST', '/api/v1/invitations/accept', {
      as: { session: other },
      body: { token: created.token },
    });
    expect(refused.status).toBe(403);
    const listed = await call(server, 'GET', '/api/v1/workspaces/acme/invitations', {
      as: { session: admin },
    });
    expect(
      (listed.body as { invitations: Array<{ id: string }> }).invitations.map((i) => i.id),
    ).toContain(created.id);
  });

  test('a withdrawn or replaced invitation no longer works', async () => {
    const first = (await invite('twice@nowhere.test', 'member')).body as Created;
    const second = (await invite('twice@nowhere.test', 'auditor')).body as Created;
    const replaced = await call(server, 'POST', '/api/v1/invitations/accept', {
      body: { token: first.token, password: 'twice password 1' },
    });
    expect(replaced.status).toBe(404);
    const withdrawn = await call(
      server,
      'DELETE',
      `/api/v1/workspaces/acme/invitations/${second.id}`,
      { as: { session: admin } },
    );
    expect(withdrawn.status).toBe(204);
    const refused = await call(server, 'POST', '/api/v1/invitations/accept', {
      body: { token: second.token, password: 'twice password 1' },
    });
    expect(refused.status).toBe(404);
    expect(await server.store.getUserByEmail('twice@nowhere.test')).toBeUndefined();
    // Another workspace's admin cannot withdraw acme's invitations.
    const third = (await invite('thrice@nowhere.test', 'member')).body as Created;
    const globexAdmin = await login(server, globex.people.admin);
    const foreign = await call(
      server,
      'DELETE',
      `/api/v1/workspaces/globex/invitations/${third.id}`,
      { as: { session: globexAdmin } },
    );
    expect(foreign.status).toBe(404);
  });
});
