/**
 * GET /workspaces/{ws}/log/vkeys: the verifier keys an auditor pins, as plain text, the current
 * key first and retired ones after; a checkpoint from the server opens with the first.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { generateNoteKey, parseVerifierKey } from '../../src/core/tlog/note.js';
import { newKeyFileText, parseKeyText } from '../../src/service/signing-keys.js';
import { call, seedWorkspace, startServer, type Seeded, type Server } from './support.js';

const retired = generateNoteKey('localhost').verifierKey;
const keys = parseKeyText(`${newKeyFileText('audit.example.com')}${retired}\n`, 'test', []);
let server: Server;
let seeded: Seeded;

beforeAll(async () => {
  server = await startServer({}, { keys });
  seeded = await seedWorkspace(server, 'acme');
});

afterAll(async () => {
  await server.close();
});

test('read keys get the current and retired verifier keys, one a line, as text/plain', async () => {
  const res = await call(server, 'GET', '/api/v1/workspaces/acme/log/vkeys', {
    as: { key: seeded.keys.read },
  });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
  expect(res.text).toBe(`${keys.verifierKey}\n${retired}\n`);
  for (const line of res.text.trim().split('\n'))
    expect(() => parseVerifierKey(line)).not.toThrow();
  expect(keys.verifierKey).toMatch(/^audit\.example\.com\+[0-9a-f]{8}\+/);

  const cp = await call(server, 'GET', '/api/v1/workspaces/acme/checkpoint', {
    as: { key: seeded.keys.read },
  });
  expect((cp.body as { public_key: string }).public_key).toBe(keys.publicPem);
});

test('an ingest key is refused', async () => {
  const res = await call(server, 'GET', '/api/v1/workspaces/acme/log/vkeys', {
    as: { key: seeded.keys.ingest },
  });
  expect(res.status).toBe(403);
});
