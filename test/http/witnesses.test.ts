/**
 * /workspaces/{ws}/witnesses and the service's witness client, against a real witness
 * (src/witness over HTTP on 127.0.0.1) and against real misbehaving peers: owners manage
 * witnesses (audited), readers see their status, bad input is a precise 4xx; new events reach
 * the witness in the background and its cosignature reaches the checkpoint; a 409 is resolved by
 * one retry from the witness's size; a witness answering a cosignature that does not verify, or
 * a redirect, or nothing, is shown as failing and nothing of it is stored or served.
 */
import { createServer, type Server as HttpServer } from 'node:http';
import { join } from 'node:path';
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCheckpoint } from '../../src/core/tlog/checkpoint.js';
import {
  SIGNATURE_COSIGNATURE_V1,
  generateNoteKey,
  parseSignerKey,
  parseVerifierKey,
  signatureLines,
} from '../../src/core/tlog/note.js';
import { newKeyFileText, parseKeyText } from '../../src/service/signing-keys.js';
import { parseLogs } from '../../src/witness/config.js';
import { witnessApp } from '../../src/witness/server.js';
import { WitnessState } from '../../src/witness/state.js';
import { Witness } from '../../src/witness/witness.js';
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

const ORIGIN = 'audit.example.com/acme';
const keys = parseKeyText(newKeyFileText('audit.example.com'), 'test', []);
const witnessKey = generateNoteKey('witness.example', SIGNATURE_COSIGNATURE_V1);
const strangerKey = generateNoteKey('witness.example', SIGNATURE_COSIGNATURE_V1);
const PATH = '/api/v1/workspaces/acme/witnesses';

let server: Server;
let seeded: Seeded;
let owner: Session;
let admin: Session;
let witnessHttp: FastifyInstance;
let witnessUrl: string;
let state: WitnessState;
const peers: HttpServer[] = [];

async function listen(app: FastifyInstance): Promise<string> {
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  return `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
}

/** A real HTTP peer on loopback that answers every request with `answer`. */
async function peer(
  answer: (body: string) => { status: number; body: string; headers?: Record<string, string> },
): Promise<{ url: string; requests: () => number }> {
  let requests = 0;
  const http = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      requests += 1;
      const reply = answer(body);
      response.writeHead(reply.status, reply.headers ?? { 'content-type': 'text/plain' });
      response.end(reply.body);
    });
  });
  peers.push(http);
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const address = http.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { url: `http://127.0.0.1:${port}`, requests: () => requests };
}

beforeAll(async () => {
  server = await startServer(
    { witnesses: { debounceMs: 10, backoffMs: 60_000 } },
    { keys, logOriginHost: 'audit.example.com' },
  );
  seeded = await seedWorkspace(server, 'acme');
  owner = await login(server, seeded.people.owner);
  admin = await login(server, seeded.people.admin);
  state = WitnessState.open(join(server.dir, 'witness.db'));
  const logs = parseLogs([`${ORIGIN}=${keys.verifierKey}`]);
  witnessHttp = witnessApp(
    new Witness({ signer: parseSignerKey(witnessKey.signerKey), logs, state }),
  );
  witnessUrl = await listen(witnessHttp);
});

afterAll(async () => {
  await server.close();
  await witnessHttp.close();
  state.close();
  for (const http of peers) http.close();
});

const add = (body: unknown, as: Credential = { session: owner }) =>
  call(server, 'POST', PATH, { as, body });

async function status(name: string): Promise<Record<string, unknown> | undefined> {
  const res = await call(server, 'GET', PATH, { as: { key: seeded.keys.read } });
  expect(res.status).toBe(200);
  return (res.body as { witnesses: Array<Record<string, unknown>> }).witnesses.find(
    (w) => w.name === name,
  );
}

function cosigners(note: string): string[] {
  const opened = openCheckpoint(note, {
    origin: ORIGIN,
    logKeys: [parseVerifierKey(keys.verifierKey)],
    witnessKeys: [parseVerifierKey(witnessKey.verifierKey)],
  });
  if (!opened.ok) throw new Error(opened.reason);
  return opened.value.cosignatures.map((c) => c.name);
}

async function checkpoint(): Promise<string> {
  const res = await call(server, 'GET', '/api/v1/workspaces/acme/log/checkpoint', {
    as: { key: seeded.keys.read },
  });
  expect(res.status).toBe(200);
  return res.text;
}

async function ingest(count: number, prefix: string): Promise<void> {
  const events = Array.from({ length: count }, (_, i) => event(`${prefix}_${i}`));
  const res = await call(server, 'POST', '/api/v1/workspaces/acme/events', {
    as: { key: seeded.keys.ingest },
    body: { events },
  });
  expect(res.status).toBe(201);
}

describe('managing witnesses', () => {
  it('owners add and remove, admins, admin keys and auditors may not; readers list', async () => {
    const forbidden = await add(
      { name: 'w0', url: witnessUrl, vkey: witnessKey.verifierKey },
      {
        session: admin,
      },
    );
    expect(forbidden.status).toBe(403);
    expect((forbidden.body as { code: string }).code).toBe('forbidden');
    const auditor = await login(server, seeded.people.auditor);
    expect(
      (await add({ name: 'w0', url: witnessUrl, vkey: 'x' }, { session: auditor })).status,
    ).toBe(403);
    expect((await call(server, 'GET', PATH, { as: { key: seeded.keys.ingest } })).status).toBe(403);
    const adminKey = await add(
      { name: 'by-key', url: witnessUrl, vkey: witnessKey.verifierKey },
      { key: seeded.keys.admin },
    );
    expect(adminKey.status).toBe(403);
    const byKey = await add({
      name: 'by-key',
      url: `${witnessUrl}/`,
      vkey: witnessKey.verifierKey,
    });
    expect(byKey.status, byKey.text).toBe(201);
    expect(byKey.body).toMatchObject({ name: 'by-key', url: witnessUrl, cosigned_size: null });
    const removed = await call(server, 'DELETE', `${PATH}/by-key`, { as: { session: owner } });
    expect(removed.status).toBe(204);
    expect(
      (await call(server, 'DELETE', `${PATH}/by-key`, { as: { session: owner } })).status,
    ).toBe(404);
    const audit = await call(
      server,
      'GET',
      '/api/v1/workspaces/acme/events?q=action:trailkeep.witness.*',
      { as: { key: seeded.keys.read } },
    );
    const actions = (audit.body as { events: Array<{ action: string }> }).events.map(
      (e) => e.action,
    );
    expect(actions).toEqual(['trailkeep.witness.removed', 'trailkeep.witness.added']);
  });

  it('refuses bad input with a precise problem, storing nothing', async () => {
    const cases: Array<[unknown, number, string]> = [
      [{ name: 'w', url: witnessUrl, vkey: 'not a key' }, 400, 'not a verifier key'],
      [{ name: 'w', url: witnessUrl, vkey: keys.verifierKey }, 400, 'type 0x04'],
      [{ name: 'w', url: 'ftp://127.0.0.1/', vkey: witnessKey.verifierKey }, 400, 'http(s)'],
      [{ name: 'w', url: 'http://u:p@127.0.0.1/', vkey: witnessKey.verifierKey }, 400, 'password'],
      [{ name: '../x', url: witnessUrl, vkey: witnessKey.verifierKey }, 400, 'witness name'],
      [{ name: 'w', url: witnessUrl }, 400, 'schema'],
    ];
    for (const [body, code, detail] of cases) {
      const res = await add(body);
      expect(res.status, JSON.stringify(body)).toBe(code);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(res.text).toContain(detail);
    }
    expect(await status('w')).toBeUndefined();
  });

  it('never answers 5xx to any add body', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({ name: fc.string(), url: fc.string(), vkey: fc.string() }, { requiredKeys: [] }),
        async (body) => {
          const res = await add(body);
          expect([400, 409]).toContain(res.status);
        },
      ),
      { numRuns: 40 },
    );
  });
});

describe('the witness client', () => {
  it('sends new checkpoints in the background; the cosignature reaches the checkpoint', async () => {
    const added = await add({ name: 'auditor', url: witnessUrl, vkey: witnessKey.verifierKey });
    expect(added.status).toBe(201);
    expect(
      (await add({ name: 'auditor', url: witnessUrl, vkey: witnessKey.verifierKey })).status,
    ).toBe(409);
    await ingest(5, 'a');
    await server.app.trailkeep.witnesses.syncNow('acme');
    const size = await server.store.treeSize('acme');
    expect(await status('auditor')).toMatchObject({ status: 'ok', cosigned_size: size });
    expect(cosigners(await checkpoint())).toEqual(['witness.example']);
    expect(state.get(ORIGIN)?.size).toBe(size);
  });

  it('a witness that knows another size (409) is retried once from it', async () => {
    // The witness's record here is lost (removed and added again): the client starts at old 0.
    await call(server, 'DELETE', `${PATH}/auditor`, { as: { session: owner } });
    await add({ name: 'auditor', url: witnessUrl, vkey: witnessKey.verifierKey });
    await ingest(3, 'b');
    await server.app.trailkeep.witnesses.syncNow('acme');
    const size = await server.store.treeSize('acme');
    expect(await status('auditor')).toMatchObject({ status: 'ok', cosigned_size: size });
    expect(cosigners(await checkpoint())).toEqual(['witness.example']);
  });

  it('a cosignature that does not verify with the witness key is not stored nor served', async () => {
    const forger = await peer((body) => {
      const note = body.slice(body.indexOf('\n\n') + 2);
      const text = note.slice(0, note.lastIndexOf('\n\n') + 1);
      const lines = signatureLines(text, [parseSignerKey(strangerKey.signerKey)], 1_700_000_000);
      return { status: 200, body: `${lines.join('\n')}\n` };
    });
    await add({ name: 'forger', url: forger.url, vkey: witnessKey.verifierKey });
    await server.app.trailkeep.witnesses.syncNow('acme');
    const forged = await status('forger');
    expect(forged).toMatchObject({ status: 'failing', cosigned_size: null });
    expect(String(forged?.['last_error'])).toContain('verifies with the witness');
    expect(forger.requests()).toBeGreaterThan(0);
    expect(cosigners(await checkpoint())).toEqual(['witness.example']);
    await call(server, 'DELETE', `${PATH}/forger`, { as: { session: owner } });
  });

  it('a redirect is not followed, and a peer that is not a witness stays out of the API', async () => {
    const target = await peer(() => ({ status: 200, body: 'secret internal page\n' }));
    const redirector = await peer(() => ({
      status: 307,
      body: '',
      headers: { location: `${target.url}/add-checkpoint` },
    }));
    const teapot = await peer(() => ({ status: 418, body: 'internal detail 42' }));
    await add({ name: 'redirector', url: redirector.url, vkey: witnessKey.verifierKey });
    await add({ name: 'teapot', url: teapot.url, vkey: witnessKey.verifierKey });
    await server.app.trailkeep.witnesses.syncNow('acme');
    expect(target.requests()).toBe(0);
    expect(await status('redirector')).toMatchObject({ status: 'failing' });
    const failing = await status('teapot');
    expect(failing).toMatchObject({ status: 'failing' });
    expect(String(failing?.['last_error'])).toContain('HTTP 418');
    expect(String(failing?.['last_error'])).not.toContain('internal detail');
    await call(server, 'DELETE', `${PATH}/redirector`, { as: { session: owner } });
    await call(server, 'DELETE', `${PATH}/teapot`, { as: { session: owner } });
  });

  it('an unreachable witness never blocks ingest; it is shown as failing', async () => {
    const gone = await peer(() => ({ status: 200, body: '' }));
    peers.pop()?.close();
    await add({ name: 'gone', url: gone.url, vkey: witnessKey.verifierKey });
    await ingest(2, 'c');
    await server.app.trailkeep.witnesses.syncNow('acme');
    const failing = await status('gone');
    expect(failing).toMatchObject({ status: 'failing' });
    expect(String(failing?.['last_error'])).toContain('could not be reached');
    // The working witness still cosigned the newest checkpoint.
    expect(await status('auditor')).toMatchObject({
      status: 'ok',
      cosigned_size: await server.store.treeSize('acme'),
    });
  });
});
