/**
 * The real `trailkeep` command as a child process: init --owner --json, keys, users, the first
 * start of serve (a new user's path from the printed credentials to reading events back), and
 * graceful shutdown with a request in flight.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { isLoopbackHost } from '../../src/cli/commands/serve.js';
import { openStore } from '../../src/store/open.js';
import { streamEvents } from '../../src/store/stored-text.js';
import {
  exited,
  freePort,
  runCli,
  snapshotBuild,
  startServe,
  type Serving,
} from './process-support.js';

let dir: string;
let bin: string;
const running: Serving[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'trailkeep-cli-'));
  bin = snapshotBuild(dir);
});

afterAll(() => {
  for (const s of running) {
    if (s.process.exitCode === null && s.process.signalCode === null) s.process.kill('SIGKILL');
  }
  rmSync(dir, { recursive: true, force: true });
  rmSync(`${dir}.signing-key`, { force: true });
});

async function cli(
  ...args: string[]
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return runCli(bin, args, dir);
}

describe('init, keys and users', () => {
  const db = (): string => `sqlite:${join(dir, 'cli.db')}`;

  test('init --owner --json prints the workspace, the owner and three keys', async () => {
    const result = await cli(
      'init',
      '--db',
      db(),
      '--workspace',
      'acme',
      '--owner',
      'Alex@Example.com',
      '--json',
    );
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const printed = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(printed).toEqual({
      workspace: 'acme',
      owner: { email: 'alex@example.com', password: expect.stringMatching(/^[0-9A-Za-z]{20}$/) },
      keys: {
        ingest: expect.stringMatching(/^tk_ingest_[0-9A-Za-z]{32}$/),
        read: expect.stringMatching(/^tk_read_[0-9A-Za-z]{32}$/),
        admin: expect.stringMatching(/^tk_admin_[0-9A-Za-z]{32}$/),
      },
    });
    const again = await cli(
      'init',
      '--db',
      db(),
      '--workspace',
      'acme',
      '--owner',
      'b@example.com',
      '--json',
    );
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('already exists');
  });

  test('keys create, list and revoke; each change is audited', async () => {
    const created = await cli(
      'keys',
      'create',
      '--db',
      db(),
      '--workspace',
      'acme',
      '--scope',
      'read',
      '--name',
      'ci reader',
      '--json',
    );
    expect(created.code).toBe(0);
    const key = JSON.parse(created.stdout) as { key: string; id: string; prefix: string };
    expect(key.key.startsWith(key.prefix)).toBe(true);

    const listed = await cli('keys', 'list', '--db', db(), '--workspace', 'acme', '--json');
    const keys = (JSON.parse(listed.stdout) as { keys: Array<Record<string, unknown>> }).keys;
    expect(keys.map((k) => k['id'])).toContain(key.id);
    expect(listed.stdout).not.toContain(key.key);
    expect(keys.every((k) => !('hash' in k))).toBe(true);

    const revoked = await cli('keys', 'revoke', key.id, '--db', db(), '--workspace', 'acme');
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toContain(`Revoked ${key.id}`);
    const bad = await cli(
      'keys',
      'create',
      '--db',
      db(),
      '--workspace',
      'acme',
      '--scope',
      'owner',
    );
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--scope must be ingest, read or admin');

    const store = await openStore(db());
    try {
      const actions = [];
      for await (const e of streamEvents(store, 'acme', { clauses: [] }, { order: 'oldest' })) {
        actions.push([e.action, e.actor.id, e.targets[0]?.id]);
      }
      expect(actions).toContainEqual(['trailkeep.key.created', 'trailkeep-cli', key.id]);
      expect(actions).toContainEqual(['trailkeep.key.revoked', 'trailkeep-cli', key.id]);
    } finally {
      await store.close();
    }
  });

  test('users add prints a generated password; users set-role changes the role', async () => {
    const added = await cli(
      'users',
      'add',
      '--db',
      db(),
      '--workspace',
      'acme',
      '--email',
      'sam@example.com',
      '--role',
      'auditor',
    );
    expect(added.code).toBe(0);
    expect(added.stdout).toMatch(/Their password \(shown only now\): [0-9A-Za-z]{20}/);
    const withPassword = await cli(
      'users',
      'add',
      '--db',
      db(),
      '--workspace',
      'acme',
      '--email',
      'kim@example.com',
      '--role',
      'member',
      '--password',
      'a chosen password',
      '--json',
    );
    expect(JSON.parse(withPassword.stdout)).toEqual({
      user_id: expect.any(String),
      email: 'kim@example.com',
      role: 'member',
    });
    const changed = await cli(
      'users',
      'set-role',
      '--db',
      db(),
      '--workspace',
      'acme',
      '--email',
      'sam@example.com',
      '--role',
      'admin',
    );
    expect(changed.code).toBe(0);
    expect(changed.stdout).toContain('sam@example.com is now admin');
    const wrongRole = await cli(
      'users',
      'add',
      '--db',
      db(),
      '--workspace',
      'acme',
      '--email',
      'x@example.com',
      '--role',
      'boss',
    );
    expect(wrongRole.code).toBe(2);
    const store = await openStore(db());
    try {
      const roles = (await store.listMembers('acme')).map((m) => [m.email, m.role]);
      expect(roles).toEqual(
        expect.arrayContaining([
          ['alex@example.com', 'owner'],
          ['sam@example.com', 'admin'],
          ['kim@example.com', 'member'],
        ]),
      );
    } finally {
      await store.close();
    }
  });
});

describe('serve', () => {
  test('listening beyond loopback without --trust-proxy warns once about sign-in throttling', async () => {
    // 192.0.2.1 (TEST-NET-1) is on no interface: the warning comes before listening, which then
    // fails, so the test never listens beyond loopback.
    const db = `sqlite:${join(dir, 'warn.db')}`;
    const warned = await cli('serve', '--db', db, '--host', '192.0.2.1', '--port', '0');
    expect(warned.code).not.toBe(0);
    const warnings = warned.stderr.split('\n').filter((line) => line.includes('warning'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(
      /^trailkeep: warning: listening on 192\.0\.2\.1 without --trust-proxy: .*20 failed sign-ins by anyone lock sign-in for everyone/,
    );
    const trusted = await cli(
      'serve',
      '--db',
      db,
      '--host',
      '192.0.2.1',
      '--port',
      '0',
      '--trust-proxy',
    );
    expect(trusted.code).not.toBe(0);
    expect(trusted.stderr).not.toContain('warning');
    expect(isLoopbackHost('127.0.0.1')).toBe(true);
    expect(isLoopbackHost('127.8.9.10')).toBe(true);
    expect(isLoopbackHost('::1')).toBe(true);
    expect(isLoopbackHost('[::1]')).toBe(true);
    expect(isLoopbackHost('::ffff:127.0.0.1')).toBe(true);
    expect(isLoopbackHost('LOCALHOST')).toBe(true);
    for (const host of ['0.0.0.0', '::', '10.0.0.5', 'audit.example.com', '[::]']) {
      expect(isLoopbackHost(host), host).toBe(false);
    }
  });

  test('a first start prints credentials that work: sign in, send, read back; members get 403', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    // A data directory of its own: the default key file is per data directory, beside it.
    const db = `sqlite:${join(dir, 'first', 'serve.db')}`;
    const server = await startServe(
      bin,
      ['--db', db, '--port', String(port), '--log-level', 'error'],
      url,
      dir,
    );
    running.push(server);
    const out = server.stdout();
    expect(out).toContain(`${url}/`);
    expect(server.stderr()).not.toContain('warning');
    // The signing key lives beside the data directory, never in the database.
    expect(server.stderr()).toContain(
      `Created a new checkpoint signing key in ${join(dir, 'first.signing-key')} (mode 0600)`,
    );
    const password = /Password: +(\S+)/.exec(out)?.[1];
    const key = /Ingest key: +(tk_ingest_\S+)/.exec(out)?.[1];
    expect(out).toContain('owner@localhost');
    expect(password).toMatch(/^[0-9A-Za-z]{20}$/);

    const sent = await fetch(`${url}/api/v1/workspaces/default/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        action: 'user.login',
        actor: { type: 'user', id: 'u_1', email: 'alex@example.com' },
      }),
    });
    expect(sent.status).toBe(201);

    const signIn = await fetch(`${url}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'owner@localhost', password }),
    });
    expect(signIn.status).toBe(200);
    const cookie = (signIn.headers.get('set-cookie') ?? '').split(';')[0]!;
    const page = await fetch(`${url}/api/v1/workspaces/default/events?q=action:user.login`, {
      headers: { cookie },
    });
    expect(page.status).toBe(200);
    const body = (await page.json()) as { events: Array<{ action: string }> };
    expect(body.events.map((e) => e.action)).toEqual(['user.login']);

    server.process.kill('SIGTERM');
    await exited(server.process);
    expect(server.process.exitCode).toBe(0);

    const member = await cli(
      'users',
      'add',
      '--db',
      db,
      '--workspace',
      'default',
      '--email',
      'm@example.com',
      '--role',
      'member',
      '--password',
      'member password 1',
    );
    expect(member.code).toBe(0);
    const again = await startServe(
      bin,
      ['--db', db, '--port', String(port), '--log-level', 'error'],
      url,
      dir,
    );
    running.push(again);
    expect(again.stdout()).toContain('Trailkeep is listening on');
    expect(again.stdout()).not.toContain('Password');
    const memberSignIn = await fetch(`${url}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'm@example.com', password: 'member password 1' }),
    });
    const memberCookie = (memberSignIn.headers.get('set-cookie') ?? '').split(';')[0]!;
    const refused = await fetch(`${url}/api/v1/workspaces/default/events`, {
      headers: { cookie: memberCookie },
    });
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { code: string }).code).toBe('no_audit_access');
    again.process.kill('SIGTERM');
    await exited(again.process);
  });

  test('SIGTERM lets a request in flight finish, then exits 0 with the event stored', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const db = `sqlite:${join(dir, 'graceful.db')}`;
    const server = await startServe(
      bin,
      ['--db', db, '--port', String(port), '--json', '--log-level', 'error'],
      url,
      dir,
    );
    running.push(server);
    const key = (
      JSON.parse(
        server
          .stdout()
          .split('\n')
          .find((l) => l.includes('"keys"'))!,
      ) as {
        keys: { ingest: string };
      }
    ).keys.ingest;

    const body = JSON.stringify({
      id: 'in-flight-1',
      action: 'job.created',
      actor: { type: 'system', id: 'cron' },
    });
    const socket = connect(port, '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', resolve));
    let response = '';
    socket.on('data', (chunk: Buffer) => (response += chunk.toString()));
    const ended = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    // Headers and half the body now; the rest after the server was told to stop.
    socket.write(
      `POST /api/v1/workspaces/default/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${key}\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n` +
        body.slice(0, 20),
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    server.process.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 300));
    // New connections are refused while the old one finishes.
    expect(
      await fetch(`${url}/healthz`).then(
        () => 'answered',
        () => 'refused',
      ),
    ).toBe('refused');
    socket.write(body.slice(20));
    await ended;
    expect(response).toMatch(/^HTTP\/1\.1 201/);
    await exited(server.process);
    expect(server.process.exitCode).toBe(0);

    const store = await openStore(db);
    try {
      expect((await store.getEvent('default', 'in-flight-1'))?.action).toBe('job.created');
    } finally {
      await store.close();
    }
  });
});
