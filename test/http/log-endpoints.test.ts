/**
 * The log read from outside over real HTTP, on both engines: the C2SP checkpoint verifies with the
 * key from log/vkeys, the tiles fetched rebuild its root, entry bundles hold the events' chain
 * hashes, every inclusion and consistency proof verifies and altered ones fail, and bad paths and
 * ranges get precise problems. Only src/core/tlog checks what the server sent.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  MerkleFrontier,
  decodeEntryBundle,
  entryBundlePath,
  eventLeafHash,
  leafHash,
  openCheckpoint,
  parseVerifierKey,
  splitTile,
  tileHashReader,
  tilePath,
  tileWidth,
  tilesOfTree,
  treeRoot,
  verifyConsistency,
  verifyTlogProof,
  type NoteVerifier,
  type TileRef,
  type TreeHead,
} from '../../src/core/tlog/index.js';
import { newKeyFileText, parseKeyText } from '../../src/service/signing-keys.js';
import { ENGINES, startOn } from './engines.js';
import {
  call,
  event,
  login,
  seedWorkspace,
  type Credential,
  type Seeded,
  type Server,
} from './support.js';

const HOST = 'audit.example.com';
const EVENTS = 300;
const keys = parseKeyText(newKeyFileText('trailkeep-test'), 'test', []);

async function binary(server: Server, path: string, as: Credential) {
  const headers: Record<string, string> = {};
  if (as && 'key' in as) headers['authorization'] = `Bearer ${as.key}`;
  const response = await fetch(`${server.url}${path}`, { headers });
  return {
    status: response.status,
    headers: response.headers,
    bytes: Buffer.from(await response.arrayBuffer()),
  };
}

function flip(hash: Buffer): Buffer {
  const altered = Buffer.from(hash);
  altered[0] = altered[0]! ^ 1;
  return altered;
}

describe.each(ENGINES)('the log endpoints on %s', (engine) => {
  let server: Server;
  let acme: Seeded;
  let other: Seeded;
  let read: Credential;
  let vkey: NoteVerifier;
  let head: TreeHead;
  const hashes: string[] = [];
  const ids: string[] = [];
  const base = '/api/v1/workspaces/acme';

  beforeAll(async () => {
    server = await startOn(
      engine,
      'log_endpoints',
      { rateLimit: false },
      { keys, logOriginHost: HOST },
    );
    acme = await seedWorkspace(server, 'acme');
    other = await seedWorkspace(server, 'other');
    read = { key: acme.keys.read };
    const batch = Array.from({ length: EVENTS }, (_, i) => event(`evt_${i + 1}`));
    const res = await call(server, 'POST', `${base}/events`, {
      as: { key: acme.keys.ingest },
      body: { events: batch },
    });
    expect(res.status).toBe(201);
    for (const e of (res.body as { events: Array<{ id: string; seq: number; hash: string }> })
      .events) {
      ids[e.seq - 1] = e.id;
      hashes[e.seq - 1] = e.hash;
    }
    await call(server, 'POST', '/api/v1/workspaces/other/events', {
      as: { key: other.keys.ingest },
      body: event('evt_other'),
    });
    const vkeys = await call(server, 'GET', `${base}/log/vkeys`, { as: read });
    vkey = parseVerifierKey(vkeys.text.split('\n')[0]!);
  });

  afterAll(async () => {
    await server?.close();
  });

  it('serves a C2SP checkpoint that verifies with the key from log/vkeys, signed once per size', async () => {
    const res = await call(server, 'GET', `${base}/log/checkpoint`, { as: read });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    const opened = openCheckpoint(res.text, { origin: `${HOST}/acme`, logKeys: [vkey] });
    if (!opened.ok) throw new Error(opened.reason);
    head = opened.value.checkpoint;
    expect(head.size).toBe(EVENTS);
    const frontier = MerkleFrontier.empty();
    for (const hash of hashes) frontier.append(eventLeafHash(hash));
    expect(head.root.equals(frontier.root())).toBe(true);
    const again = await call(server, 'GET', `${base}/log/checkpoint`, { as: read });
    expect(again.text).toBe(res.text);
    // Another workspace's checkpoint names its own log.
    const theirs = await call(server, 'GET', '/api/v1/workspaces/other/log/checkpoint', {
      as: { key: other.keys.read },
    });
    expect(theirs.text.split('\n')[0]).toBe(`${HOST}/other`);
    expect(openCheckpoint(theirs.text, { origin: `${HOST}/acme`, logKeys: [vkey] }).ok).toBe(false);
  });

  it('serves tiles that rebuild the checkpoint root, with entry bundles of the chain hashes', async () => {
    const tiles = new Map<string, Buffer>();
    for (const tile of tilesOfTree(head.size)) {
      const res = await binary(server, `${base}/log/${tilePath(tile)}`, read);
      expect(res.status, tilePath(tile)).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/octet-stream');
      expect(res.headers.get('cache-control')).toBe(
        tile.width === 256 ? 'private, max-age=31536000, immutable' : 'private, max-age=10',
      );
      expect(splitTile(tile, res.bytes)).toHaveLength(tile.width);
      tiles.set(tilePath(tile), res.bytes);
    }
    const reader = (wanted: readonly TileRef[]) =>
      wanted.map((t) => {
        // A narrower tile is a prefix of the one served for the whole tree.
        const served = tilePath({ ...t, width: tileWidth(t.level, t.index, head.size) });
        return tiles.get(served)!.subarray(0, t.width * 32);
      });
    expect(treeRoot(head.size, tileHashReader(head.size, reader)).equals(head.root)).toBe(true);

    for (let index = 0; index * 256 < head.size; index += 1) {
      const width = tileWidth(0, index, head.size);
      const res = await binary(server, `${base}/log/${entryBundlePath(index, width)}`, read);
      expect(res.status).toBe(200);
      const entries = decodeEntryBundle(res.bytes, width);
      expect(entries.map((e) => e.toString('hex'))).toEqual(
        hashes.slice(index * 256, index * 256 + width),
      );
      const level0 = splitTile(
        { level: 0, index, width },
        tiles.get(tilePath({ level: 0, index, width }))!,
      );
      expect(entries.map((e) => leafHash(e).toString('hex'))).toEqual(
        level0.map((h) => h.toString('hex')),
      );
    }
  });

  it('serves narrower partial tiles for older checkpoints and refuses tiles beyond the tree', async () => {
    const narrow = await binary(server, `${base}/log/tile/0/001.p/3`, read);
    expect(narrow.status).toBe(200);
    expect(narrow.bytes).toHaveLength(3 * 32);
    for (const path of [
      'tile/0/001',
      'tile/0/002.p/1',
      'tile/1/000',
      'tile/2/000.p/1',
      'tile/entries/001',
      'tile/entries/001.p/45',
    ]) {
      const res = await call(server, 'GET', `${base}/log/${path}`, { as: read });
      expect(res.status, path).toBe(404);
      expect((res.body as { code: string }).code, path).toBe('tile_not_found');
      expect((res.body as { detail: string }).detail).toContain(`${EVENTS} events`);
    }
    for (const path of [
      'tile/0/1',
      'tile/00/000',
      'tile/0/000.p/256',
      'tile/0/000.p/0',
      'tile/0/000.p/07',
      'tile/0/x000/001',
      'tile/64/000',
      'tile/entries',
      'tile/0/000/',
      'tile/-1/000',
    ]) {
      const res = await call(server, 'GET', `${base}/log/${path}`, { as: read });
      expect(res.status, path).toBe(400);
      expect((res.body as { code: string }).code, path).toBe('tile_path_invalid');
    }
  });

  it('answers any tile path with its tile, a 404 or a 400, never anything else', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 3 }),
        fc.integer({ min: 0, max: 3 }),
        fc.integer({ min: 1, max: 256 }),
        async (level, index, width) => {
          const tile = { level, index, width };
          const res = await binary(server, `${base}/log/${tilePath(tile)}`, read);
          const exists = width <= tileWidth(level, index, head.size);
          expect(res.status).toBe(exists ? 200 : 404);
          if (exists) expect(res.bytes).toHaveLength(width * 32);
        },
      ),
      { numRuns: 60 },
    );
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 30 }), async (rest) => {
        const res = await call(server, 'GET', `${base}/log/tile/${encodeURIComponent(rest)}`, {
          as: read,
        });
        expect([200, 400, 404]).toContain(res.status);
      }),
      { numRuns: 60 },
    );
  });

  it('answers crafted paths and parameters with precise 4xx problems, never a 500 or a stray read', async () => {
    const tries: Array<[string, number, string]> = [
      ['log/tile/..%2F..%2Fevents', 400, 'tile_path_invalid'],
      ['log/tile/0/..%2F..%2F..%2Fcheckpoint', 400, 'tile_path_invalid'],
      ['log/tile/0/000%00', 400, 'bad_request'],
      ['log/tile/0/000%2F', 400, 'tile_path_invalid'],
      ['log/tile/0/x000/000', 400, 'tile_path_invalid'],
      ['log/tile/0/x9007199254740993/000', 400, 'tile_path_invalid'],
      ['log/tile/0/x009/x007/x199/x254/x740/993', 400, 'tile_path_invalid'],
      ['log/tile/63/x009/x007/x199/x254/x740/991', 404, 'tile_not_found'],
      ['log/tile/entries/000.p/256', 400, 'tile_path_invalid'],
      ['log/tile/__proto__/000', 400, 'tile_path_invalid'],
      [`log/tile/0/${'x000/'.repeat(40)}001`, 400, 'bad_request'],
      ['log/consistency?from=1&from=2&to=3', 400, 'bad_request'],
      ['log/consistency?from=0x10&to=300', 400, 'tree_range_invalid'],
      ['log/consistency?from=1&to=300.0', 400, 'tree_range_invalid'],
      ['log/consistency?from=__proto__&to=constructor', 400, 'tree_range_invalid'],
    ];
    for (const [path, status, code] of tries) {
      const res = await call(server, 'GET', `${base}/${path}`, { as: read });
      expect([res.status, (res.body as { code?: string }).code], path).toEqual([status, code]);
      expect(res.headers.get('content-type'), path).toMatch(/^application\/problem\+json/);
    }
    // A workspace named like a prototype member is just an unknown workspace.
    for (const ws of ['__proto__', 'constructor', 'toString']) {
      const anonymous = await call(server, 'GET', `/api/v1/workspaces/${ws}/log/checkpoint`);
      expect(anonymous.status, ws).toBe(401);
      const keyed = await call(server, 'GET', `/api/v1/workspaces/${ws}/log/checkpoint`, {
        as: read,
      });
      expect(keyed.status, ws).toBe(403);
    }
  });

  it('serves tlog-proofs for events that verify, and altered ones fail', async () => {
    for (const seq of [1, 2, 255, 256, 257, EVENTS]) {
      const res = await call(server, 'GET', `${base}/events/${ids[seq - 1]}/proof`, { as: read });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
      const leaf = eventLeafHash(hashes[seq - 1]!);
      const options = { origin: `${HOST}/acme`, logKeys: [vkey] };
      const checked = verifyTlogProof(res.text, leaf, options);
      if (!checked.ok) throw new Error(checked.reason);
      expect(checked.value.index).toBe(seq - 1);
      expect(checked.value.checkpoint.size).toBe(EVENTS);
      // Another event's leaf, another index, an altered hash: each fails.
      expect(verifyTlogProof(res.text, eventLeafHash(hashes[seq % EVENTS]!), options).ok).toBe(
        false,
      );
      const lines = res.text.split('\n');
      const otherIndex = lines.map((l) => (l.startsWith('index ') ? `index ${seq % EVENTS}` : l));
      expect(verifyTlogProof(otherIndex.join('\n'), leaf, options).ok).toBe(false);
      const altered = [...lines];
      altered[2] = flip(Buffer.from(altered[2]!, 'base64')).toString('base64');
      expect(verifyTlogProof(altered.join('\n'), leaf, options).ok).toBe(false);
    }
    const missing = await call(server, 'GET', `${base}/events/evt_nope/proof`, { as: read });
    expect(missing.status).toBe(404);
    expect((missing.body as { code: string }).code).toBe('event_not_found');
  });

  it('serves consistency proofs that verify, and altered ones fail', async () => {
    const rootOf = (size: number): Buffer => {
      const frontier = MerkleFrontier.empty();
      for (const hash of hashes.slice(0, size)) frontier.append(eventLeafHash(hash));
      return frontier.root();
    };
    for (const [from, to] of [
      [0, EVENTS],
      [1, EVENTS],
      [100, 256],
      [256, 257],
      [257, EVENTS],
      [EVENTS, EVENTS],
      [7, 200],
    ] as const) {
      const res = await call(server, 'GET', `${base}/log/consistency?from=${from}&to=${to}`, {
        as: read,
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
      const proof: Buffer[] =
        res.text === ''
          ? []
          : res.text
              .slice(0, -1)
              .split('\n')
              .map((l) => Buffer.from(l, 'base64'));
      expect(verifyConsistency(from, to, proof, rootOf(from), rootOf(to))).toBe(true);
      if (proof.length > 0) {
        proof[proof.length - 1] = flip(proof[proof.length - 1]!);
        expect(verifyConsistency(from, to, proof, rootOf(from), rootOf(to))).toBe(false);
      }
      if (from > 0 && from < to) {
        expect(verifyConsistency(from, to, [], rootOf(from), rootOf(to))).toBe(false);
      }
    }
    for (const query of [
      'from=2&to=1',
      `from=0&to=${EVENTS + 1}`,
      'to=3',
      'from=1',
      '',
      'from=01&to=3',
      'from=1e2&to=300',
      'from=-1&to=3',
      'from=1&to=9007199254740993',
      'from=%201&to=2',
    ]) {
      const res = await call(server, 'GET', `${base}/log/consistency?${query}`, { as: read });
      expect(res.status, query).toBe(400);
      expect((res.body as { code: string }).code, query).toBe('tree_range_invalid');
    }
  });

  it("never lets another workspace's credentials read this log", async () => {
    const paths = [
      `${base}/log/checkpoint`,
      `${base}/log/tile/0/000`,
      `${base}/log/tile/entries/000`,
      `${base}/log/consistency?from=1&to=2`,
      `${base}/log/vkeys`,
      `${base}/events/${ids[0]}/proof`,
    ];
    const member = await login(server, acme.people.member);
    const outsider = await login(server, other.people.owner);
    const auditor = await login(server, acme.people.auditor);
    for (const path of paths) {
      expect((await call(server, 'GET', path, { as: { key: other.keys.read } })).status, path).toBe(
        403,
      );
      expect(
        (await call(server, 'GET', path, { as: { key: other.keys.admin } })).status,
        path,
      ).toBe(403);
      expect(
        (await call(server, 'GET', path, { as: { key: acme.keys.ingest } })).status,
        path,
      ).toBe(403);
      expect((await call(server, 'GET', path, { as: { session: member } })).status, path).toBe(403);
      expect((await call(server, 'GET', path, { as: { session: outsider } })).status, path).toBe(
        404,
      );
      expect((await call(server, 'GET', path)).status, path).toBe(401);
      expect((await call(server, 'GET', path, { as: { session: auditor } })).status, path).toBe(
        200,
      );
      expect((await call(server, 'GET', path, { as: { key: acme.keys.admin } })).status, path).toBe(
        200,
      );
    }
    // The other workspace's own proof path does not reach acme's events.
    const theirs = await call(server, 'GET', `/api/v1/workspaces/other/events/${ids[0]}/proof`, {
      as: { key: other.keys.read },
    });
    expect(theirs.status).toBe(404);
  });

  it('signs a new checkpoint once the tree grows', async () => {
    const before = await call(server, 'GET', `${base}/log/checkpoint`, { as: read });
    await call(server, 'POST', `${base}/events`, {
      as: { key: acme.keys.ingest },
      body: event('evt_late'),
    });
    const after = await call(server, 'GET', `${base}/log/checkpoint`, { as: read });
    const opened = openCheckpoint(after.text, { origin: `${HOST}/acme`, logKeys: [vkey] });
    if (!opened.ok) throw new Error(opened.reason);
    // Sign-ins of the test before were audited in this workspace too.
    expect(opened.value.checkpoint.size).toBeGreaterThan(head.size);
    expect(before.text.split('\n')[1]).toBe(String(opened.value.checkpoint.size - 1));
    expect(after.text).not.toBe(before.text);
  });
});
