/**
 * An outside auditor with an independent implementation reads the log over HTTP: the Go program
 * of test/crosscheck/go-http (golang.org/x/mod/sumdb/tlog and sumdb/note) fetches the checkpoint,
 * tiles, entry bundles, tlog-proofs and consistency proofs from a real server and checks them all;
 * with the wrong key or origin it refuses.
 *
 * Needs `go` and Debian's golang-golang-x-mod-dev, like tlog-go.test.ts: skipped with the reason
 * without them, except under CI.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateNoteKey } from '../../src/core/tlog/note.js';
import { newKeyFileText, parseKeyText } from '../../src/service/signing-keys.js';
import {
  call,
  event,
  seedWorkspace,
  startServer,
  type Seeded,
  type Server,
} from '../http/support.js';
import { buildGo, goMissing } from './go-support.js';

const reason = goMissing('the Go HTTP cross-check');
const available = reason === undefined;
const run = promisify(execFile);
const HOST = 'audit.example.com';
// Past 512 events: two full level-0 tiles, a partial one, and a partial level-1 tile.
const EVENTS = 600;
const keys = parseKeyText(newKeyFileText('trailkeep-go-test'), 'test', []);

describe.skipIf(!available)('the Go monitor reads the log over HTTP', () => {
  let work: string;
  let server: Server;
  let acme: Seeded;
  const sent: Array<{ id: string; seq: number; hash: string }> = [];

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'trailkeep-go-http-'));
    buildGo('./test/crosscheck/go-http', join(work, 'monitor'));
    server = await startServer({ rateLimit: false }, { keys, logOriginHost: HOST });
    acme = await seedWorkspace(server, 'acme');
    for (let start = 0; start < EVENTS; start += 300) {
      const res = await call(server, 'POST', '/api/v1/workspaces/acme/events', {
        as: { key: acme.keys.ingest },
        body: {
          events: Array.from({ length: 300 }, (_, i) => event(`evt_${start + i + 1}`)),
        },
      });
      expect(res.status).toBe(201);
      sent.push(...(res.body as { events: typeof sent }).events);
    }
  }, 300_000);

  afterAll(async () => {
    await server?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const monitor = (args: Record<string, string>) =>
    run(
      join(work, 'monitor'),
      Object.entries(args).flatMap(([name, value]) => [`-${name}`, value]),
      { maxBuffer: 16 * 1024 * 1024 },
    );

  const base = () => ({
    url: `${server.url}/api/v1/workspaces/acme`,
    vkey: keys.verifierKey,
    origin: `${HOST}/acme`,
    key: acme.keys.read,
  });

  it('verifies the checkpoint, every tile and bundle, inclusion and consistency proofs', async () => {
    const picks = [0, 1, 255, 256, 511, 512, EVENTS - 1].map((i) => sent[i]!);
    const { stdout } = await monitor({
      ...base(),
      events: picks.map((e) => `${e.id}=${e.hash}`).join(','),
      consistency: ['0:600', '1:600', '256:512', '300:513', '511:600', '600:600', '7:9'].join(','),
    });
    const counts = JSON.parse(stdout) as Record<string, number>;
    expect(counts).toMatchObject({ size: EVENTS, inclusion: picks.length, consistency: 7 });
    // Go's NewTiles(0, 600) names every tile a log growing leaf by leaf would have published
    // (002.p/1 to 002.p/88 among them): each is served as a prefix of the current one.
    expect(counts['tiles']).toBeGreaterThanOrEqual(4);
    expect(counts['bundles']).toBeGreaterThanOrEqual(3);
  });

  it('refuses a checkpoint under another key or origin, and a proof of the wrong entry', async () => {
    const otherKey = generateNoteKey('trailkeep-go-test').verifierKey;
    await expect(monitor({ ...base(), vkey: otherKey })).rejects.toMatchObject({
      stderr: expect.stringContaining('does not verify'),
    });
    await expect(monitor({ ...base(), origin: `${HOST}/other` })).rejects.toMatchObject({
      stderr: expect.stringContaining('not for origin'),
    });
    const [a, b] = [sent[10]!, sent[11]!];
    await expect(monitor({ ...base(), events: `${a.id}=${b.hash}` })).rejects.toMatchObject({
      stderr: expect.stringContaining('does not verify'),
    });
  });
});
