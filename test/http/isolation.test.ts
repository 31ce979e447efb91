/**
 * Workspace isolation over a real server: every workspace route of the OpenAPI document, tried
 * with every credential kind of workspace "acme" against workspace "globex" and against one that
 * does not exist. Keys get `workspace_mismatch`, people `workspace_not_found` (the same answer
 * whether the workspace exists or not), nothing is written to the other workspace, and no answer
 * within "acme" ever shows or counts "globex" data.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  call,
  event,
  login,
  seedWorkspace,
  startServer,
  type Credential,
  type Seeded,
  type Server,
} from './support.js';

let server: Server;
let acme: Seeded;
let globex: Seeded;
let globexKeyId: string;
let globexUserId: string;
const credentials = new Map<string, Credential>();

interface Doc {
  paths: Record<string, Record<string, unknown>>;
}
let doc: Doc;

beforeAll(async () => {
  server = await startServer({ rateLimit: false });
  acme = await seedWorkspace(server, 'acme');
  globex = await seedWorkspace(server, 'globex');
  const acmeEvents = Array.from({ length: 7 }, (_, i) =>
    event(`acme-${i}`, { action: 'job.created', actor: { type: 'user', id: `u_acme_${i}` } }),
  );
  const globexEvents = Array.from({ length: 11 }, (_, i) =>
    event(`globex-${i}`, {
      action: 'customer.deleted',
      actor: { type: 'automation', id: `secret_globex_actor_${i}` },
      targets: [{ type: 'customer', id: `cust_${i}`, name: 'Globex Corp' }],
    }),
  );
  expect(
    (
      await call(server, 'POST', '/api/v1/workspaces/acme/events', {
        as: { key: acme.keys.ingest },
        body: { events: acmeEvents },
      })
    ).status,
  ).toBe(201);
  expect(
    (
      await call(server, 'POST', '/api/v1/workspaces/globex/events', {
        as: { key: globex.keys.ingest },
        body: { events: globexEvents },
      })
    ).status,
  ).toBe(201);
  globexKeyId = (await server.accounts.listKeys('globex'))[0]!.id;
  globexUserId = (await server.accounts.findMember('globex', globex.people.auditor)).user_id;
  for (const role of ['owner', 'admin', 'auditor', 'member'] as const) {
    credentials.set(`${role} session`, { session: await login(server, acme.people[role]) });
  }
  for (const scope of ['ingest', 'read', 'admin'] as const) {
    credentials.set(`${scope} key`, { key: acme.keys[scope] });
  }
  doc = (await call(server, 'GET', '/openapi.json')).body as Doc;
});

afterAll(async () => {
  await server.close();
});

function concrete(template: string, ws: string): string {
  return template
    .replace('{ws}', ws)
    .replace('/events/{id}', '/events/globex-0')
    .replace('/keys/{id}', `/keys/${globexKeyId}`)
    .replace('{user_id}', globexUserId)
    .replace('{type}', 'customer')
    .replace('{id}', 'cust_0');
}

function bodyFor(method: string, template: string): unknown {
  if (method === 'POST' && template.endsWith('/events')) return event('intruder-1');
  if (method === 'POST' && template.endsWith('/keys')) return { name: 'intruder', scope: 'admin' };
  if (method === 'POST' && template.endsWith('/members')) {
    return { email: 'intruder@acme.test', role: 'owner' };
  }
  if (method === 'PATCH') return { role: 'owner' };
  return undefined;
}

async function globexState(): Promise<unknown> {
  return {
    head: await server.store.head('globex'),
    keys: (await server.store.listApiKeys('globex')).map((k) => [k.id, k.revoked_at]),
    members: (await server.store.listMembers('globex')).map((m) => [m.user_id, m.role]),
  };
}

describe('another workspace, with every credential of acme', () => {
  test('every workspace route refuses, identically for an existing and a missing workspace', async () => {
    const before = await globexState();
    const routes = Object.entries(doc.paths)
      .filter(([path]) => path.includes('{ws}'))
      .flatMap(([path, ops]) => Object.keys(ops).map((m) => [m.toUpperCase(), path] as const));
    expect(routes.length).toBeGreaterThanOrEqual(13);
    const failures: string[] = [];
    for (const [name, credential] of credentials) {
      const isKey = name.endsWith('key');
      for (const [method, template] of routes) {
        const answers = [];
        for (const ws of ['globex', 'ghost']) {
          const body = bodyFor(method, template);
          const answer = await call(server, method, concrete(template, ws), {
            as: credential,
            ...(body === undefined ? {} : { body }),
          });
          answers.push(answer);
          const problem = answer.body as { code?: string; detail?: string } | undefined;
          const [status, code] = isKey ? [403, 'workspace_mismatch'] : [404, 'workspace_not_found'];
          if (answer.status !== status || problem?.code !== code) {
            failures.push(
              `${name} ${method} ${template} (${ws}): ${answer.status} ${answer.text.slice(0, 160)}`,
            );
          }
          if (answer.text.includes('secret_globex_actor') || answer.text.includes('Globex Corp')) {
            failures.push(`${name} ${method} ${template} (${ws}) leaked globex data`);
          }
        }
        const [real, ghost] = answers.map((a) =>
          JSON.stringify({ ...(a.body as object), instance: '', detail: '' }),
        );
        if (real !== ghost)
          failures.push(`${name} ${method} ${template}: existence leaks (${real} vs ${ghost})`);
      }
    }
    expect(failures).toEqual([]);
    expect(await globexState()).toEqual(before);
  });
});

describe('inside acme nothing of globex shows or counts', () => {
  const read = (): Credential => credentials.get('read key');

  test('pages and counts cover acme only', async () => {
    const page = await call(server, 'GET', '/api/v1/workspaces/acme/events?limit=200', {
      as: read(),
    });
    const body = page.body as {
      events: Array<{ id: string; workspace: string }>;
      count: { value: number };
    };
    expect(body.events.every((e) => e.workspace === 'acme')).toBe(true);
    expect(body.events.some((e) => e.id.startsWith('globex'))).toBe(false);
    expect(body.count.value).toBe(body.events.length);
    const filtered = await call(
      server,
      'GET',
      '/api/v1/workspaces/acme/events?action=customer.deleted',
      { as: read() },
    );
    expect(filtered.body).toMatchObject({ events: [], count: { value: 0, capped: false } });
  });

  test('facets and actor suggestions hold no globex values', async () => {
    const facets = await call(server, 'GET', '/api/v1/workspaces/acme/facets', { as: read() });
    expect(facets.status).toBe(200);
    expect(facets.text).not.toContain('customer.deleted');
    expect(facets.text).not.toContain('secret_globex_actor');
    const actors = await call(server, 'GET', '/api/v1/workspaces/acme/actors?prefix=secret', {
      as: read(),
    });
    expect(actors.body).toEqual({ actors: [] });
  });

  test("a globex event id under acme's path is not found", async () => {
    const answer = await call(server, 'GET', '/api/v1/workspaces/acme/events/globex-0', {
      as: read(),
    });
    expect(answer.status).toBe(404);
    expect((answer.body as { code: string }).code).toBe('event_not_found');
  });

  test('a globex cursor cannot page through acme', async () => {
    const page = await call(server, 'GET', '/api/v1/workspaces/globex/events?limit=2', {
      as: { key: globex.keys.read },
    });
    const cursor = (page.body as { next_cursor: string }).next_cursor;
    const answer = await call(
      server,
      'GET',
      `/api/v1/workspaces/acme/events?cursor=${encodeURIComponent(cursor)}`,
      { as: read() },
    );
    expect(answer.status).toBe(400);
    expect((answer.body as { code: string }).code).toBe('cursor_invalid');
  });

  test('keys, members and workspaces of acme list nothing of globex', async () => {
    const admin = credentials.get('admin key');
    const keys = await call(server, 'GET', '/api/v1/workspaces/acme/keys', { as: admin });
    const keyIds = (keys.body as { keys: Array<{ id: string }> }).keys.map((k) => k.id);
    expect(keyIds).not.toContain(globexKeyId);
    const members = await call(server, 'GET', '/api/v1/workspaces/acme/members', { as: admin });
    expect(members.text).not.toContain('globex.test');
    const workspaces = await call(server, 'GET', '/api/v1/workspaces', {
      as: credentials.get('owner session'),
    });
    expect(workspaces.body).toEqual({ workspaces: [{ id: 'acme', name: 'acme', role: 'owner' }] });
  });

  test("globex's key and member ids under acme's path are not found and stay untouched", async () => {
    const admin = credentials.get('admin key');
    const revoke = await call(server, 'DELETE', `/api/v1/workspaces/acme/keys/${globexKeyId}`, {
      as: admin,
    });
    expect(revoke.status).toBe(404);
    const patch = await call(server, 'PATCH', `/api/v1/workspaces/acme/members/${globexUserId}`, {
      as: admin,
      body: { role: 'owner' },
    });
    expect(patch.status).toBe(404);
    const stillWorks = await call(server, 'GET', '/api/v1/workspaces/globex/keys', {
      as: { key: globex.keys.admin },
    });
    expect(stillWorks.status).toBe(200);
    expect(await server.accounts.role('globex', globexUserId)).toBe('auditor');
  });
});
