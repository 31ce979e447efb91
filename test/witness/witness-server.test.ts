/**
 * The witness over real HTTP on 127.0.0.1 with a real SQLite state file: it cosigns a
 * checkpoint that extends what it saw, and answers each refusal with the status
 * c2sp.org/tlog-witness names (400, 403, 404, 409 with text/x.tlog.size, 422), cosigning nothing
 * and leaving its state as it was. Any body, however mangled, gets a 4xx, never a 500.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatCheckpoint, openCheckpoint } from '../../src/core/tlog/checkpoint.js';
import {
  SIGNATURE_COSIGNATURE_V1,
  generateNoteKey,
  parseSignerKey,
  parseVerifierKey,
  signNote,
} from '../../src/core/tlog/note.js';
import { formatAddCheckpoint } from '../../src/core/tlog/witness.js';
import { parseLogs } from '../../src/witness/config.js';
import { witnessApp } from '../../src/witness/server.js';
import { WitnessState } from '../../src/witness/state.js';
import { Witness } from '../../src/witness/witness.js';
import { ReferenceTree, leafHashes } from '../support/merkle-reference.js';

const ORIGIN = 'audit.example.com/acme';
const logKey = generateNoteKey('audit.example.com');
const otherKey = generateNoteKey('audit.example.com');
const witnessKey = generateNoteKey('witness.example', SIGNATURE_COSIGNATURE_V1);
const tree = new ReferenceTree(leafHashes(40));
const forked = new ReferenceTree([...leafHashes(10), ...leafHashes(30, 7)]);

let dir: string;
let state: WitnessState;
let app: FastifyInstance;
let url: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tk-witness-'));
  state = WitnessState.open(join(dir, 'state.db'));
  const logs = parseLogs([`${ORIGIN}=${logKey.verifierKey}`]);
  app = witnessApp(new Witness({ signer: parseSignerKey(witnessKey.signerKey), logs, state }));
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
});

afterAll(async () => {
  await app.close();
  state.close();
  rmSync(dir, { recursive: true, force: true });
});

function note(size: number, options: { t?: ReferenceTree; key?: string; origin?: string } = {}) {
  const root = (options.t ?? tree).root(size);
  const text = formatCheckpoint({ origin: options.origin ?? ORIGIN, size, root, extensions: [] });
  return signNote(text, [parseSignerKey(options.key ?? logKey.signerKey)]);
}

async function post(
  body: string | Uint8Array<ArrayBuffer>,
): Promise<{ status: number; type: string; text: string }> {
  const response = await fetch(`${url}/add-checkpoint`, { method: 'POST', body });
  return {
    status: response.status,
    type: response.headers.get('content-type') ?? '',
    text: await response.text(),
  };
}

function add(oldSize: number, size: number, t = tree, checkpoint = note(size, { t })): string {
  return formatAddCheckpoint({ oldSize, proof: t.consistency(oldSize, size), checkpoint });
}

const stored = (): number | undefined => state.get(ORIGIN)?.size;

describe('witness add-checkpoint', () => {
  it('cosigns a first checkpoint from old 0, with a v1 cosignature by its key', async () => {
    const answer = await post(add(0, 10));
    expect(answer.status, answer.text).toBe(200);
    const withCosig = `${note(10)}${answer.text}`;
    const opened = openCheckpoint(withCosig, {
      origin: ORIGIN,
      logKeys: [parseVerifierKey(logKey.verifierKey)],
      witnessKeys: [parseVerifierKey(witnessKey.verifierKey)],
    });
    expect(opened.ok && opened.value.cosignatures.map((c) => c.name)).toEqual(['witness.example']);
    expect(stored()).toBe(10);
  });

  it('answers 409 text/x.tlog.size with its size when the old size is not the one it cosigned', async () => {
    const answer = await post(add(0, 20));
    expect(answer).toMatchObject({ status: 409, text: '10\n' });
    expect(answer.type).toBe('text/x.tlog.size');
    expect(stored()).toBe(10);
  });

  it('cosigns a checkpoint that extends it, with a consistency proof from its size', async () => {
    expect((await post(add(10, 20))).status).toBe(200);
    expect(stored()).toBe(20);
    // The same checkpoint again is consistent with itself: cosigned again.
    expect((await post(add(20, 20))).status).toBe(200);
  });

  it('refuses a fork (422 checkpoint_inconsistent), cosigning nothing', async () => {
    const answer = await post(add(20, 30, forked));
    expect(answer.status).toBe(422);
    expect(JSON.parse(answer.text)).toMatchObject({ code: 'checkpoint_inconsistent' });
    expect(stored()).toBe(20);
  });

  it('refuses another root at the size it cosigned (422)', async () => {
    const answer = await post(add(20, 20, forked));
    expect(answer.status).toBe(422);
    expect(stored()).toBe(20);
  });

  it('refuses a truncated log: a smaller size than it cosigned is a 409, also with old = new', async () => {
    expect((await post(add(0, 15))).status).toBe(409);
    const shrunk = formatAddCheckpoint({ oldSize: 15, proof: [], checkpoint: note(15) });
    expect(await post(shrunk)).toMatchObject({ status: 409, text: '20\n' });
    expect(stored()).toBe(20);
  });

  it('refuses an altered proof (422)', async () => {
    const proof = tree.consistency(20, 30);
    proof[0] = Buffer.alloc(32, 7);
    const answer = await post(formatAddCheckpoint({ oldSize: 20, proof, checkpoint: note(30) }));
    expect(answer.status).toBe(422);
    expect(stored()).toBe(20);
  });

  it('answers 404 unknown_log for an origin it does not follow', async () => {
    const answer = await post(add(0, 5, tree, note(5, { origin: 'other.example/x' })));
    expect(answer.status).toBe(404);
    expect(JSON.parse(answer.text)).toMatchObject({ code: 'unknown_log' });
  });

  it('answers 403 log_signature_invalid for a checkpoint signed by another key', async () => {
    const answer = await post(add(20, 30, tree, note(30, { key: otherKey.signerKey })));
    expect(answer.status).toBe(403);
    expect(JSON.parse(answer.text)).toMatchObject({ code: 'log_signature_invalid' });
    expect(stored()).toBe(20);
  });

  it('answers 403 when the trusted key signature does not verify', async () => {
    const good = note(30);
    const lines = good.split('\n');
    // Change the root line: the log's signature no longer covers the text.
    lines[2] = tree.root(29).toString('base64');
    const answer = await post(add(20, 30, tree, lines.join('\n')));
    expect(answer.status).toBe(403);
    expect(stored()).toBe(20);
  });

  it('answers 400 for an old size above the checkpoint size and for malformed bodies', async () => {
    expect((await post(add(20, 30).replace('old 20', 'old 31'))).status).toBe(400);
    expect((await post('old 20\n')).status).toBe(400);
    expect((await post(new Uint8Array([0xff, 0xfe]))).status).toBe(400);
    expect((await post('')).status).toBe(400);
    expect(stored()).toBe(20);
  });

  it('never answers 5xx nor moves its state on mangled bodies', async () => {
    const base = add(20, 30);
    await fc.assert(
      fc.asyncProperty(
        fc.nat(base.length - 1),
        fc.nat(base.length),
        fc.string({ maxLength: 8 }),
        async (at, cut, insert) => {
          const mangled = base.slice(0, at) + insert + base.slice(at + 1, Math.max(at + 1, cut));
          const before = stored();
          const answer = await post(mangled);
          expect(answer.status).toBeLessThan(500);
          // Only the checkpoint itself, unchanged in meaning, can be cosigned.
          expect(stored()).toBe(answer.status === 200 ? 30 : before);
        },
      ),
      { numRuns: 60 },
    );
  });
});
