/**
 * The full permission matrix against a real server: every route x every credential kind
 * (owner, admin, auditor and member sessions; ingest, read and admin keys; nothing), with the
 * exact status and error code, and every successful body checked against the route's schema.
 * A route in the OpenAPI document without a row here fails the test.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ResponseChecker } from './schema-check.js';
import {
  call,
  event,
  login,
  seedWorkspace,
  startServer,
  type Credential,
  type Seeded,
  type Server,
  type Session,
} from './support.js';

type Who = 'owner' | 'admin' | 'auditor' | 'member' | 'ingest' | 'read' | 'admin_key' | 'none';
const EVERYONE: Who[] = [
  'owner',
  'admin',
  'auditor',
  'member',
  'ingest',
  'read',
  'admin_key',
  'none',
];

type Outcome = number | [number, string];
type Expectation = Record<Who, Outcome>;

const WRITE: Expectation = {
  owner: [403, 'forbidden'],
  admin: [403, 'forbidden'],
  auditor: [403, 'forbidden'],
  member: [403, 'no_audit_access'],
  ingest: 201,
  read: [403, 'forbidden'],
  admin_key: 201,
  none: [401, 'unauthenticated'],
};
const READ: Expectation = {
  owner: 200,
  admin: 200,
  auditor: 200,
  member: [403, 'no_audit_access'],
  ingest: [403, 'forbidden'],
  read: 200,
  admin_key: 200,
  none: [401, 'unauthenticated'],
};
function manage(ok: number): Expectation {
  return {
    owner: ok,
    admin: ok,
    auditor: [403, 'forbidden'],
    member: [403, 'no_audit_access'],
    ingest: [403, 'forbidden'],
    read: [403, 'forbidden'],
    admin_key: ok,
    none: [401, 'unauthenticated'],
  };
}
const ANY: Expectation = { ...READ, member: 200, ingest: 200 };
const SESSION_ONLY: Expectation = {
  owner: 200,
  admin: 200,
  auditor: 200,
  member: 200,
  ingest: [401, 'unauthenticated'],
  read: [401, 'unauthenticated'],
  admin_key: [401, 'unauthenticated'],
  none: [401, 'unauthenticated'],
};
/** Routes for people: keys are refused, nobody is unauthenticated. */
function peopleOnly(ok: Outcome): Expectation {
  return {
    owner: ok,
    admin: ok,
    auditor: ok,
    member: ok,
    ingest: [403, 'forbidden'],
    read: [403, 'forbidden'],
    admin_key: [403, 'forbidden'],
    none: [401, 'unauthenticated'],
  };
}
function all(status: number): Expectation {
  return Object.fromEntries(EVERYONE.map((w) => [w, status])) as Expectation;
}

interface Prepared {
  path?: string;
  body?: unknown;
}

interface Row {
  method: string;
  /** The OpenAPI path template. */
  template: string;
  expect: Expectation;
  /** Builds the concrete path and body for one call (fresh targets for destructive routes). */
  prepare?: (n: number) => Prepared | Promise<Prepared>;
  /** Routes owned by other modules: only checked when the server has them. */
  optional?: boolean;
}

let server: Server;
let ws: Seeded;
let eventId: string;
let targetUserId: string;
const sessions = new Map<Who, Session>();

function credential(who: Who): Credential {
  switch (who) {
    case 'ingest':
    case 'read':
      return { key: ws.keys[who] };
    case 'admin_key':
      return { key: ws.keys.admin };
    case 'none':
      return undefined;
    default:
      return { session: sessions.get(who)! };
  }
}

const P = '/api/v1/workspaces/{ws}';
const rows: Row[] = [
  { method: 'GET', template: '/healthz', expect: all(200) },
  { method: 'GET', template: '/api/v1/healthz', expect: all(200) },
  { method: 'GET', template: '/openapi.json', expect: all(200) },
  {
    method: 'POST',
    template: '/api/v1/session',
    expect: all(200),
    prepare: () => ({
      body: { email: ws.people.auditor, password: 'correct horse battery staple' },
    }),
  },
  { method: 'GET', template: '/api/v1/session', expect: SESSION_ONLY },
  { method: 'GET', template: '/api/v1/workspaces', expect: ANY },
  {
    method: 'POST',
    template: `${P}/events`,
    expect: WRITE,
    prepare: (n) => ({ body: event(`matrix-${n}`) }),
  },
  { method: 'GET', template: `${P}/events`, expect: READ },
  {
    method: 'GET',
    template: `${P}/events/{id}`,
    expect: READ,
    prepare: () => ({ path: `/api/v1/workspaces/acme/events/${eventId}` }),
  },
  { method: 'GET', template: `${P}/facets`, expect: READ },
  { method: 'GET', template: `${P}/actors`, expect: READ },
  { method: 'GET', template: `${P}/verify`, expect: READ },
  { method: 'GET', template: `${P}/checkpoint`, expect: READ },
  { method: 'GET', template: `${P}/log/vkeys`, expect: READ },
  { method: 'GET', template: `${P}/log/checkpoint`, expect: READ },
  {
    method: 'GET',
    template: `${P}/log/tile/{path}`,
    expect: READ,
    prepare: () => ({ path: '/api/v1/workspaces/acme/log/tile/0/000.p/1' }),
  },
  {
    method: 'GET',
    template: `${P}/log/consistency`,
    expect: READ,
    prepare: () => ({ path: '/api/v1/workspaces/acme/log/consistency?from=0&to=1' }),
  },
  {
    method: 'GET',
    template: `${P}/events/{id}/proof`,
    expect: READ,
    prepare: () => ({ path: `/api/v1/workspaces/acme/events/${eventId}/proof` }),
  },
  { method: 'GET', template: `${P}/settings/log`, expect: READ },
  {
    method: 'PUT',
    template: `${P}/settings/log`,
    // Opening the log to everyone is an owner's decision: admins may not.
    expect: {
      ...manage(200),
      admin: [403, 'forbidden'],
      admin_key: [403, 'forbidden'],
    },
    prepare: () => ({ body: { public: false } }),
  },
  { method: 'GET', template: `${P}/export`, expect: READ, optional: true },
  { method: 'GET', template: `${P}/export/count`, expect: READ, optional: true },
  {
    method: 'GET',
    template: `${P}/entities/{type}/{id}/history`,
    expect: READ,
    optional: true,
    prepare: () => ({
      path: '/api/v1/workspaces/acme/entities/workspace%20repo/repo_1/history',
    }),
  },
  { method: 'GET', template: `${P}/keys`, expect: manage(200) },
  {
    method: 'POST',
    template: `${P}/keys`,
    expect: manage(201),
    prepare: (n) => ({ body: { name: `matrix ${n}`, scope: 'read' } }),
  },
  {
    method: 'DELETE',
    template: `${P}/keys/{id}`,
    expect: manage(204),
    prepare: async (n) => {
      const created = await server.accounts.createKey('acme', {
        name: `doomed ${n}`,
        scope: 'ingest',
        createdBy: null,
      });
      return { path: `/api/v1/workspaces/acme/keys/${created.record.id}` };
    },
  },
  { method: 'GET', template: `${P}/members`, expect: manage(200) },
  {
    method: 'POST',
    template: `${P}/members`,
    expect: manage(201),
    prepare: (n) => ({ body: { email: `new${n}@acme.test`, role: 'auditor' } }),
  },
  {
    method: 'PATCH',
    template: `${P}/members/{user_id}`,
    expect: manage(200),
    prepare: () => ({
      path: `/api/v1/workspaces/acme/members/${targetUserId}`,
      body: { role: 'member' },
    }),
  },
  {
    method: 'GET',
    template: `${P}/invitations`,
    expect: manage(200),
  },
  {
    method: 'DELETE',
    template: `${P}/invitations/{id}`,
    expect: manage(204),
    prepare: async (n) => {
      const created = await server.accounts.invite('acme', {
        email: `withdrawn${n}@acme.test`,
        role: 'auditor',
        invitedBy: null,
      });
      return { path: `/api/v1/workspaces/acme/invitations/${created.invitation.id}` };
    },
  },
  { method: 'GET', template: '/api/v1/invitations', expect: peopleOnly(200) },
  {
    method: 'POST',
    template: '/api/v1/invitations/{id}/accept',
    expect: peopleOnly([404, 'invitation_invalid']),
    prepare: () => ({ path: '/api/v1/invitations/inv_unknown/accept' }),
  },
  {
    method: 'POST',
    template: '/api/v1/invitations/accept',
    expect: { ...peopleOnly([404, 'invitation_invalid']), none: [404, 'invitation_invalid'] },
    prepare: () => ({ body: { token: 'not-a-token', password: 'correct horse battery staple' } }),
  },
  // Last: it ends the session it is called with.
  { method: 'DELETE', template: '/api/v1/session', expect: all(204) },
];

let checker: ResponseChecker;
let documented: Set<string>;

beforeAll(async () => {
  server = await startServer({ rateLimit: false });
  ws = await seedWorkspace(server, 'acme');
  const target = await server.accounts.addMember('acme', {
    email: 'target@acme.test',
    role: 'member',
    password: 'correct horse battery staple',
  });
  targetUserId = target.membership.user_id;
  const sent = await call(server, 'POST', '/api/v1/workspaces/acme/events', {
    as: { key: ws.keys.ingest },
    body: event('matrix-seed'),
  });
  expect(sent.status).toBe(201);
  eventId = 'matrix-seed';
  for (const role of ['owner', 'admin', 'auditor', 'member'] as const) {
    sessions.set(role, await login(server, ws.people[role]));
  }
  const doc = (await call(server, 'GET', '/openapi.json')).body as ConstructorParameters<
    typeof ResponseChecker
  >[0];
  checker = new ResponseChecker(doc);
  documented = new Set(
    Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`),
    ),
  );
});

afterAll(async () => {
  await server.close();
});

test('every documented route has a row in the matrix', () => {
  const covered = new Set(rows.map((r) => `${r.method} ${r.template}`));
  const missing = [...documented].filter((route) => !covered.has(route));
  expect(missing, 'add these routes to the permission matrix').toEqual([]);
});

describe('role x route', () => {
  let n = 0;
  for (const row of rows) {
    test(`${row.method} ${row.template}`, async () => {
      if (row.optional && !documented.has(`${row.method} ${row.template}`)) return;
      const failures: string[] = [];
      for (const who of EVERYONE) {
        n += 1;
        const prepared = (await row.prepare?.(n)) ?? {};
        const path = prepared.path ?? row.template.replace('{ws}', 'acme');
        const response = await call(server, row.method, path, {
          as: credential(who),
          ...(prepared.body === undefined ? {} : { body: prepared.body }),
        });
        const expected = row.expect[who];
        const [status, code] = typeof expected === 'number' ? [expected, undefined] : expected;
        const actualCode = (response.body as { code?: string } | undefined)?.code;
        if (response.status !== status || (code !== undefined && actualCode !== code)) {
          failures.push(
            `${who}: expected ${status}${code ? ` ${code}` : ''}, got ${response.status} ${actualCode ?? ''} ${response.text.slice(0, 200)}`,
          );
          continue;
        }
        if (status >= 400) {
          expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
        } else if (row.template !== '/openapi.json') {
          const problems = checker.check(
            row.method,
            row.template,
            status,
            response.body,
            response.headers.get('content-type') ?? undefined,
          );
          if (problems.length > 0)
            failures.push(`${who}: body does not match the schema: ${problems.join('; ')}`);
        }
      }
      expect(failures).toEqual([]);
    });
  }
});
