/**
 * The building blocks of authentication: key format and hashing, scrypt hashes, throttles and
 * token buckets (with a fake clock), the raw-text depth scan, log redaction, and the account
 * rules of AccountService on a real SQLite file.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { redactUrl, requestIdOf } from '../../src/http/app.js';
import { AccountService } from '../../src/service/accounts.js';
import {
  apiKeyMatches,
  generateApiKey,
  hashApiKey,
  parseApiKey,
} from '../../src/service/api-keys.js';
import { hashPassword, verifyPassword } from '../../src/service/passwords.js';
import { LoginThrottle, RateLimiter } from '../../src/service/throttle.js';
import { openStore } from '../../src/store/open.js';
import type { Store } from '../../src/store/store.js';
import { TEST_SCRYPT } from './support.js';

describe('API keys', () => {
  test('have the scope in clear, at least 128 random bits, and an 8-character public prefix', () => {
    const { key, prefix, hash } = generateApiKey('ingest');
    expect(key).toMatch(/^tk_ingest_[0-9A-Za-z]{32}$/);
    // 24 secret characters beyond the prefix: 24 * log2(62) ≈ 142.9 bits.
    expect(24 * Math.log2(62)).toBeGreaterThan(128);
    expect(prefix).toBe(key.slice(0, 'tk_ingest_'.length + 8));
    expect(hash).toBe(hashApiKey(key));
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(new Set(Array.from({ length: 200 }, () => generateApiKey('read').key)).size).toBe(200);
  });

  test('parse only well-formed keys, and match only the exact key', () => {
    const { key, hash } = generateApiKey('admin');
    expect(parseApiKey(key)).toEqual({ scope: 'admin', prefix: key.slice(0, 17) });
    for (const bad of [
      '',
      'tk_admin_short',
      'tk_owner_' + 'a'.repeat(32),
      `Bearer ${key}`,
      `${key}!`,
    ]) {
      expect(parseApiKey(bad)).toBeUndefined();
    }
    expect(apiKeyMatches(key, hash)).toBe(true);
    expect(apiKeyMatches(`${key.slice(0, -1)}x`, hash)).toBe(false);
    expect(apiKeyMatches(key, 'abc')).toBe(false);
  });
});

describe('passwords', () => {
  test('scrypt hashes carry their parameters and a random salt', async () => {
    const a = await hashPassword('a long enough password', TEST_SCRYPT);
    const b = await hashPassword('a long enough password', TEST_SCRYPT);
    expect(a).toMatch(/^scrypt\$1024\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(a).not.toBe(b);
    expect(await verifyPassword('a long enough password', a)).toBe(true);
    expect(await verifyPassword('a long enough passwore', a)).toBe(false);
    expect(await verifyPassword('a long enough password', 'plain')).toBe(false);
    expect(await verifyPassword('x', 'scrypt$999999999$8$1$AAAA$AAAA')).toBe(false);
  });
});

describe('sign-in throttle', () => {
  test('locks an email after 5 failures, doubling the wait, and forgets after the window', () => {
    let now = 0;
    const throttle = new LoginThrottle({}, () => now);
    for (let i = 0; i < 4; i++) throttle.recordFailure('a@x.test', '10.0.0.1');
    expect(throttle.lockedFor('a@x.test', '10.0.0.1')).toBe(0);
    throttle.recordFailure('a@x.test', '10.0.0.1');
    expect(throttle.lockedFor('a@x.test', '10.0.0.2')).toBe(2_000);
    now += 2_000;
    expect(throttle.lockedFor('a@x.test', '10.0.0.1')).toBe(0);
    throttle.recordFailure('a@x.test', '10.0.0.1');
    expect(throttle.lockedFor('a@x.test', '10.0.0.1')).toBe(4_000);
    expect(throttle.lockedFor('b@x.test', '10.0.0.9')).toBe(0);
    now += 16 * 60_000;
    expect(throttle.lockedFor('a@x.test', '10.0.0.1')).toBe(0);
    throttle.recordFailure('a@x.test', '10.0.0.1');
    expect(throttle.lockedFor('a@x.test', '10.0.0.1')).toBe(0);
  });

  test('locks an address after 20 failures across emails; success clears only the email', () => {
    let now = 0;
    const throttle = new LoginThrottle({}, () => now);
    for (let i = 0; i < 20; i++) throttle.recordFailure(`u${i}@x.test`, '10.0.0.1');
    expect(throttle.lockedFor('fresh@x.test', '10.0.0.1')).toBeGreaterThan(0);
    expect(throttle.lockedFor('fresh@x.test', '10.0.0.2')).toBe(0);
    now += 1;
    throttle.recordSuccess('u1@x.test');
    expect(throttle.lockedFor('u1@x.test', '10.0.0.1')).toBeGreaterThan(0);
  });

  test('memory stays bounded under a flood of distinct emails', () => {
    const throttle = new LoginThrottle({ maxEntries: 100 }, () => 0);
    for (let i = 0; i < 1_000; i++)
      throttle.recordFailure(`u${i}@x.test`, `10.0.${i >> 8}.${i & 255}`);
    const tables = throttle as unknown as {
      byEmail: Map<string, unknown>;
      byIp: Map<string, unknown>;
    };
    expect(tables.byEmail.size).toBe(100);
    expect(tables.byIp.size).toBe(100);
  });
});

describe('rate limiter', () => {
  test('allows a burst, then refills at the rate; buckets are per credential', () => {
    let now = 0;
    const limiter = new RateLimiter({ burst: 3, ratePerSecond: 2 }, () => now);
    expect([limiter.take('k'), limiter.take('k'), limiter.take('k')]).toEqual([0, 0, 0]);
    expect(limiter.take('k')).toBe(1);
    expect(limiter.take('other')).toBe(0);
    now += 500;
    expect(limiter.take('k')).toBe(0);
    expect(limiter.take('k')).toBe(1);
  });
});

describe('request logs and ids', () => {
  test('credential-like query values are masked', () => {
    expect(redactUrl('/api/v1/x?q=a&api_key=tk_read_abc&Token=zz#f')).toBe(
      '/api/v1/x?q=a&api_key=[REDACTED]&Token=[REDACTED]#f',
    );
    expect(redactUrl('/api/v1/x?q=key:value')).toBe('/api/v1/x?q=key:value');
  });

  test('a sane incoming X-Request-Id is kept, anything else replaced', () => {
    const ask = (id: string | undefined): string =>
      requestIdOf({ headers: id === undefined ? {} : { 'x-request-id': id } } as never);
    expect(ask('abc-123.x:y_z')).toBe('abc-123.x:y_z');
    expect(ask('a'.repeat(129))).toMatch(/^req_/);
    expect(ask('line\nbreak')).toMatch(/^req_/);
    expect(ask(undefined)).toMatch(/^req_[0-9A-Za-z]{20}$/);
  });
});

describe('AccountService', () => {
  let dir: string;
  let store: Store;

  async function open(clock?: () => Date): Promise<AccountService> {
    dir = mkdtempSync(join(tmpdir(), 'trailkeep-accounts-'));
    store = await openStore(`sqlite:${join(dir, 'db.sqlite')}`);
    return new AccountService(store, { scrypt: TEST_SCRYPT, ...(clock ? { clock } : {}) });
  }

  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('initWorkspace creates the owner with a generated password and the requested keys', async () => {
    const accounts = await open();
    const result = await accounts.initWorkspace({
      workspace: 'acme',
      ownerEmail: 'Alex@Example.com',
      keyScopes: ['ingest', 'read', 'admin'],
    });
    expect(result.owner.email).toBe('alex@example.com');
    expect(result.owner.password).toMatch(/^[0-9A-Za-z]{20}$/);
    expect(Object.keys(result.keys).sort()).toEqual(['admin', 'ingest', 'read']);
    const stored = await store.listApiKeys('acme');
    expect(stored.map((k) => k.hash)).not.toContain(result.keys.ingest);
    expect((await accounts.authenticateKey(result.keys.read!)).scope).toBe('read');
    await expect(
      accounts.initWorkspace({ workspace: 'acme', ownerEmail: 'b@x.test', keyScopes: [] }),
    ).rejects.toMatchObject({ code: 'already_exists' });
    await expect(
      accounts.initWorkspace({ workspace: 'Bad Name', ownerEmail: 'b@x.test', keyScopes: [] }),
    ).rejects.toMatchObject({ code: 'bad_request' });
  });

  test('only owners make owners, and the last owner stays', async () => {
    const accounts = await open();
    await accounts.initWorkspace({ workspace: 'acme', ownerEmail: 'o@x.test', keyScopes: [] });
    await accounts.addMember('acme', {
      email: 'a@x.test',
      role: 'admin',
      password: 'long enough pw',
    });
    await expect(accounts.setRole('acme', 'a@x.test', 'owner', 'admin')).rejects.toMatchObject({
      code: 'forbidden',
    });
    await expect(accounts.setRole('acme', 'o@x.test', 'admin', 'admin')).rejects.toMatchObject({
      code: 'forbidden',
    });
    await expect(accounts.setRole('acme', 'o@x.test', 'admin', 'owner')).rejects.toMatchObject({
      code: 'forbidden',
      message: expect.stringContaining('last owner'),
    });
    await accounts.setRole('acme', 'a@x.test', 'owner', 'owner');
    const { after } = await accounts.setRole('acme', 'o@x.test', 'auditor', 'owner');
    expect(after.role).toBe('auditor');
  });

  test('a password shorter than 12 characters is refused', async () => {
    const accounts = await open();
    await accounts.initWorkspace({ workspace: 'acme', ownerEmail: 'o@x.test', keyScopes: [] });
    await expect(
      accounts.addMember('acme', { email: 's@x.test', role: 'auditor', password: 'short' }),
    ).rejects.toMatchObject({ code: 'bad_request' });
  });

  test('sessions expire, and are stored only as hashes', async () => {
    let now = new Date('2026-05-12T09:00:00.000Z');
    const accounts = await open(() => now);
    const init = await accounts.initWorkspace({
      workspace: 'acme',
      ownerEmail: 'o@x.test',
      keyScopes: [],
    });
    const signedIn = await accounts.login('o@x.test', init.owner.password!, '127.0.0.1');
    expect(signedIn.session.id_hash).not.toContain(signedIn.token);
    expect(await accounts.resolveSession(signedIn.token)).toBeDefined();
    now = new Date(now.getTime() + 12 * 60 * 60 * 1000 + 1);
    expect(await accounts.resolveSession(signedIn.token)).toBeUndefined();
  });

  test('a revoked key no longer authenticates', async () => {
    const accounts = await open();
    await accounts.initWorkspace({ workspace: 'acme', ownerEmail: 'o@x.test', keyScopes: [] });
    const created = await accounts.createKey('acme', {
      name: 'k',
      scope: 'ingest',
      createdBy: null,
    });
    await accounts.revokeKey('acme', created.record.id);
    await expect(accounts.authenticateKey(created.key)).rejects.toMatchObject({
      code: 'unauthenticated',
    });
    await expect(accounts.revokeKey('acme', created.record.id)).rejects.toMatchObject({
      code: 'not_found',
    });
  });
});
