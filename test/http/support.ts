/**
 * Helpers for HTTP tests: a real SQLite file in a temp directory, the real services, and the
 * real app listening on 127.0.0.1 (port 0). Requests go over the network with fetch.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp, type AppOptions } from '../../src/http/app.js';
import { AccountService } from '../../src/service/accounts.js';
import { LogService, type ServiceOptions } from '../../src/service/log-service.js';
import { openStore } from '../../src/store/open.js';
import type { KeyScope, Role, Store } from '../../src/store/store.js';

/** Cheap scrypt for tests: the format and code path are the same, only the cost is lower. */
export const TEST_SCRYPT = { N: 1024, r: 8, p: 1 };
export const PASSWORD = 'correct horse battery staple';

export interface Server {
  app: FastifyInstance;
  url: string;
  store: Store;
  log: LogService;
  accounts: AccountService;
  dir: string;
  close(): Promise<void>;
}

export async function startServer(
  options: Partial<Omit<AppOptions, 'log' | 'accounts'>> = {},
  service: ServiceOptions = {},
): Promise<Server> {
  const dir = mkdtempSync(join(tmpdir(), 'trailkeep-http-'));
  const store = await openStore(`sqlite:${join(dir, 'trailkeep.db')}`);
  const log = await LogService.open(store, service);
  const accounts = new AccountService(store, { scrypt: TEST_SCRYPT });
  const app = await buildApp({
    log,
    accounts,
    webRoot: join(dir, 'no-viewer'),
    ...options,
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return {
    app,
    url: `http://127.0.0.1:${address.port}`,
    store,
    log,
    accounts,
    dir,
    async close() {
      await app.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Seeded {
  workspace: string;
  keys: Record<KeyScope, string>;
  /** email per role */
  people: Record<Role, string>;
}

/** A workspace with an owner, one person per other role and one key per scope. */
export async function seedWorkspace(server: Server, workspace: string): Promise<Seeded> {
  const owner = `owner@${workspace}.test`;
  const init = await server.accounts.initWorkspace({
    workspace,
    ownerEmail: owner,
    ownerPassword: PASSWORD,
    keyScopes: ['ingest', 'read', 'admin'],
  });
  const people = { owner } as Record<Role, string>;
  for (const role of ['admin', 'auditor', 'member'] as const) {
    const email = `${role}@${workspace}.test`;
    await server.accounts.addMember(workspace, { email, role, password: PASSWORD });
    people[role] = email;
  }
  return { workspace, keys: init.keys as Record<KeyScope, string>, people };
}

export interface Session {
  cookie: string;
  csrf: string;
}

export async function login(server: Server, email: string, password = PASSWORD): Promise<Session> {
  const response = await fetch(`${server.url}/api/v1/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password }),
  });
  if (response.status !== 200)
    throw new Error(`login ${email}: ${response.status} ${await response.text()}`);
  const body = (await response.json()) as { csrf_token: string };
  const setCookie = response.headers.get('set-cookie') ?? '';
  const cookie = setCookie.split(';')[0] ?? '';
  return { cookie, csrf: body.csrf_token };
}

export type Credential = { key: string } | { session: Session } | undefined;

export async function call(
  server: Server,
  method: string,
  path: string,
  options: { as?: Credential; body?: unknown; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: unknown; headers: Headers; text: string }> {
  const headers: Record<string, string> = { ...options.headers };
  const as = options.as;
  if (as && 'key' in as) headers['authorization'] = `Bearer ${as.key}`;
  if (as && 'session' in as) {
    headers['cookie'] = as.session.cookie;
    if (method !== 'GET') headers['x-csrf-token'] = as.session.csrf;
  }
  let body: string | undefined;
  if (options.body !== undefined) {
    body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
    headers['content-type'] ??= 'application/json';
  }
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers,
    ...(body ? { body } : {}),
  });
  const text = await response.text();
  let parsed: unknown = undefined;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  return { status: response.status, body: parsed, headers: response.headers, text };
}

/** A valid event in the engineering-workspace style. */
export function event(
  id: string,
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    id,
    action: 'REPOSITORY_RUN_CLAIM',
    occurred_at: '2026-05-12T09:30:00.000Z',
    actor: { type: 'agent', id: 'agent_7', name: 'Build agent' },
    targets: [{ type: 'workspace repo', id: 'repo_1', name: 'payments' }],
    ...overrides,
  };
}
