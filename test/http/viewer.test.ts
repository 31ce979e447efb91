/**
 * The viewer's static files, the single-page-app fallback, the page shown when the viewer is not
 * built, and the security headers on every kind of response.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { call, startServer, type Server } from './support.js';

let webRoot: string;
let built: Server;
let unbuilt: Server;

beforeAll(async () => {
  webRoot = mkdtempSync(join(tmpdir(), 'trailkeep-web-'));
  mkdirSync(join(webRoot, 'assets'));
  writeFileSync(
    join(webRoot, 'index.html'),
    '<!doctype html><html><head><script type="module" src="/assets/app.js"></script></head><body><div id="root"></div></body></html>',
  );
  writeFileSync(join(webRoot, 'assets', 'app.js'), 'console.log("viewer");');
  // As a development build would leave it: the server must not publish it.
  writeFileSync(join(webRoot, 'assets', 'app.js.map'), '{"version":3,"sourcesContent":["secret"]}');
  built = await startServer({ webRoot });
  unbuilt = await startServer();
});

afterAll(async () => {
  await built.close();
  await unbuilt.close();
  rmSync(webRoot, { recursive: true, force: true });
});

function expectSecurityHeaders(headers: Headers): void {
  const csp = headers.get('content-security-policy') ?? '';
  expect(csp).toContain("script-src 'self'");
  expect(csp).toContain("frame-ancestors 'none'");
  expect(csp).toContain("object-src 'none'");
  expect(csp).not.toContain('unsafe-inline');
  expect(csp).not.toContain('unsafe-eval');
  expect(headers.get('x-content-type-options')).toBe('nosniff');
  expect(headers.get('referrer-policy')).toBe('no-referrer');
  expect(headers.get('x-frame-options')).toBe('DENY');
}

describe('a built viewer', () => {
  test('/ serves index.html and assets are served as files', async () => {
    const index = await call(built, 'GET', '/');
    expect(index.status).toBe(200);
    expect(index.text).toContain('<div id="root">');
    expectSecurityHeaders(index.headers);
    const asset = await call(built, 'GET', '/assets/app.js');
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toMatch(/javascript/);
    expect(asset.headers.get('cache-control')).toContain('immutable');
    expectSecurityHeaders(asset.headers);
  });

  test('viewer paths fall back to index.html; API paths never do', async () => {
    const deep = await call(built, 'GET', '/w/acme/events?q=action:job.*');
    expect(deep.status).toBe(200);
    expect(deep.text).toContain('<div id="root">');
    const api = await call(built, 'GET', '/api/v1/no-such-route');
    expect(api.status).toBe(404);
    expect(api.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expectSecurityHeaders(api.headers);
    expect(api.headers.get('cache-control')).toBe('no-store');
    const post = await call(built, 'POST', '/w/acme', { body: {} });
    expect(post.status).toBe(404);
  });

  test('source maps are not served, however the path is spelled', async () => {
    for (const path of ['/assets/app.js.map', '/assets/app.js%2Emap', '/assets/APP.js.map']) {
      const answer = await call(built, 'GET', path);
      expect(answer.status, path).toBe(404);
      expect(answer.text, path).not.toContain('sourcesContent');
      expect(answer.headers.get('content-type'), path).toMatch(/^application\/problem\+json/);
    }
  });
});

describe('Strict-Transport-Security', () => {
  test('sent with Secure cookies, on every kind of answer; not over plain HTTP', async () => {
    const secure = await startServer({ webRoot, secureCookies: true });
    const proxied = await startServer({ webRoot, trustProxy: true });
    try {
      for (const path of ['/', '/assets/app.js', '/api/v1/session', '/api/v1/nothing']) {
        const answer = await call(secure, 'GET', path);
        expect(answer.headers.get('strict-transport-security'), path).toBe(
          'max-age=31536000; includeSubDomains',
        );
        const plain = await call(built, 'GET', path);
        expect(plain.headers.get('strict-transport-security'), path).toBeNull();
      }
      const overTls = await call(proxied, 'GET', '/', {
        headers: { 'x-forwarded-proto': 'https' },
      });
      expect(overTls.headers.get('strict-transport-security')).toContain('max-age=');
      const overHttp = await call(proxied, 'GET', '/', {
        headers: { 'x-forwarded-proto': 'http' },
      });
      expect(overHttp.headers.get('strict-transport-security')).toBeNull();
      // Without --trust-proxy the header is the client's word and decides nothing.
      const spoofed = await call(built, 'GET', '/', { headers: { 'x-forwarded-proto': 'https' } });
      expect(spoofed.headers.get('strict-transport-security')).toBeNull();
    } finally {
      await secure.close();
      await proxied.close();
    }
  });
});

describe('no viewer built', () => {
  test('/ explains how to build the viewer, under the same headers', async () => {
    const page = await call(unbuilt, 'GET', '/');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.text).toContain('The viewer is not built');
    expect(page.text).not.toContain('<script');
    expectSecurityHeaders(page.headers);
  });
});
