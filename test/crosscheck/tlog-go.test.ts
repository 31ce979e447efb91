/**
 * Cross-check of src/core/tlog against an independent implementation: Go's
 * golang.org/x/mod/sumdb/tlog and sumdb/note, run by our small Go program
 * (test/crosscheck/go/main.go) on the same inputs. Roots, proofs, tiles and notes must agree byte
 * for byte, Go must accept our proofs, tiles and signatures, and we must accept Go's.
 *
 * Needs `go` and Debian's golang-golang-x-mod-dev (.ci/run installs both). Without them the test
 * is skipped with the reason, except under CI, where a skip would hide a broken install.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildGo, goMissing } from './go-support.js';
import {
  MerkleFrontier,
  SIGNATURE_COSIGNATURE_V1,
  addSignatures,
  formatCheckpoint,
  generateNoteKey,
  leafHash,
  openCheckpoint,
  openNote,
  parseSignerKey,
  parseVerifierKey,
  proveConsistency,
  proveInclusion,
  signNote,
  signatureLines,
  tilePath,
  tileHashReader,
  tileWidth,
  tilesChanged,
  tilesFromLeafHashes,
  treeRoot,
  type HashReader,
} from '../../src/core/tlog/index.js';

const reason = goMissing('the Go cross-check');
const available = reason === undefined;

const hex = (h: Uint8Array): string => Buffer.from(h).toString('hex');

// A tree past 65,536 leaves, so that tiles of level 2 exist; entries like Trailkeep's: 32 bytes.
const SIZE = 70_000;
const entries = Array.from({ length: SIZE }, () => randomBytes(32));
const leaves = entries.map((e) => leafHash(e));
const nodes = new Map<string, Buffer>();
const frontier = MerkleFrontier.empty();
for (const leaf of leaves) {
  for (const node of frontier.append(leaf)) nodes.set(`${node.level}/${node.index}`, node.hash);
}
const read: HashReader = (refs) => refs.map((r) => nodes.get(`${r.level}/${r.index}`)!);

const seed = 1_337;
const edges = [1, 2, 3, 255, 256, 257, 65_535, 65_536, 65_537, SIZE];
const sizes = [...edges, ...fc.sample(fc.integer({ min: 1, max: SIZE }), { seed, numRuns: 60 })];
const inclusion = [
  ...[0, 1, 255, 256, 65_535, 65_536, SIZE - 1].map((a) => ({ a, b: SIZE })),
  ...fc.sample(
    fc
      .integer({ min: 1, max: SIZE })
      .chain((b) => fc.record({ a: fc.nat({ max: b - 1 }), b: fc.constant(b) })),
    { seed, numRuns: 150 },
  ),
  ...fc.sample(
    fc.nat({ max: SIZE - 1 }).map((a) => ({ a, b: SIZE })),
    { seed, numRuns: 50 },
  ),
];
const consistency = [
  ...[1, 255, 256, 257, 65_536, SIZE].map((a) => ({ a, b: SIZE })),
  ...fc.sample(
    fc
      .tuple(fc.integer({ min: 1, max: SIZE }), fc.integer({ min: 1, max: SIZE }))
      .map(([x, y]) => ({
        a: Math.min(x, y),
        b: Math.max(x, y),
      })),
    { seed, numRuns: 150 },
  ),
  ...fc.sample(
    fc.integer({ min: 1, max: SIZE }).map((a) => ({ a, b: SIZE })),
    { seed, numRuns: 50 },
  ),
];
const grow = [
  { a: 0, b: SIZE },
  { a: 255, b: 257 },
  { a: 65_535, b: 65_536 },
  ...fc.sample(
    fc
      .tuple(fc.nat({ max: SIZE }), fc.nat({ max: SIZE }))
      .map(([x, y]) => ({ a: Math.min(x, y), b: Math.max(x, y) })),
    { seed, numRuns: 40 },
  ),
];

// Tile names beyond this tree's: Go's Tile.Path() spells them the same (minus its height).
const paths = [
  { level: 0, index: 0, width: 256 },
  { level: 0, index: 999, width: 1 },
  { level: 1, index: 1000, width: 255 },
  { level: 2, index: 1_234_067, width: 8 },
  { level: 5, index: 2 ** 40 + 7, width: 256 },
  ...fc.sample(
    fc.record({
      level: fc.nat({ max: 63 }),
      index: fc.nat({ max: Number.MAX_SAFE_INTEGER }),
      width: fc.integer({ min: 1, max: 256 }),
    }),
    { seed, numRuns: 100 },
  ),
];

const ourTiles = tilesFromLeafHashes(leaves);
const tileData = new Map(ourTiles.map((t) => [`${t.tile.level}/${t.tile.index}`, t.data]));

// Keys with fixed seeds: Ed25519 is deterministic, so Go and we must produce identical notes.
const logKey = generateNoteKey('trailkeep.example/acmé', 0x01, Buffer.alloc(32, 1));
const witnessKey = generateNoteKey(
  'witness.example/w1',
  SIGNATURE_COSIGNATURE_V1,
  Buffer.alloc(32, 2),
);
const head = {
  origin: 'trailkeep.example/acmé',
  size: SIZE,
  root: treeRoot(SIZE, read),
  extensions: [],
};
const checkpointText = formatCheckpoint(head);
const logSigned = signNote(checkpointText, [parseSignerKey(logKey.signerKey)]);
const cosigned = addSignatures(
  logSigned,
  signatureLines(checkpointText, [parseSignerKey(witnessKey.signerKey)], 1_700_000_123),
);
const goText = 'Signed by Go.\nWith an ümlaut and a second line.\n';

interface GoAnswer {
  leafHashes: string[];
  roots: Record<string, string>;
  inclusion: string[][];
  consistency: string[][];
  tiles: Record<string, string>;
  tileRoot: string;
  tileInclusion: string[][];
  tileConsistency: string[][];
  paths: string[];
  newTiles: Record<string, number>[];
  ourProofs: string[];
  note: { ok: boolean; error?: string; text?: string; verified?: string[] };
  signed: string;
  cosigned: { ok: boolean; error?: string; verified?: string[] };
  cosignatureTime: Record<string, number>;
}

describe.skipIf(!available)('Go x/mod sumdb/tlog and sumdb/note agree with src/core/tlog', () => {
  let work = '';
  let answer: GoAnswer;
  let altered: GoAnswer;

  const ask = (request: object): GoAnswer => {
    const run = spawnSync(join(work, 'crosscheck'), [], {
      input: JSON.stringify(request),
      maxBuffer: 256 * 1024 * 1024,
      encoding: 'utf8',
    });
    if (run.status !== 0) throw new Error(`the Go cross-check failed: ${run.stderr}`);
    return JSON.parse(run.stdout) as GoAnswer;
  };

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'trailkeep-go-'));
    buildGo('./test/crosscheck/go', join(work, 'crosscheck'));
    const ourProofs = [
      ...inclusion.map(({ a, b }) => ({
        kind: 'inclusion',
        a,
        b,
        proof: proveInclusion(a, b, read).map(hex),
      })),
      ...consistency.map(({ a, b }) => ({
        kind: 'consistency',
        a,
        b,
        proof: proveConsistency(a, b, read).map(hex),
      })),
    ];
    answer = ask({
      entries: entries.map(hex),
      roots: sizes,
      inclusion,
      consistency,
      tileSize: SIZE,
      tiles: Object.fromEntries(ourTiles.map((t) => [tilePath(t.tile), hex(t.data)])),
      newTiles: grow,
      ourProofs,
      note: { note: logSigned, vkey: logKey.verifierKey },
      sign: { text: goText, skey: logKey.signerKey },
      paths,
      cosigned: {
        note: cosigned,
        logVkey: logKey.verifierKey,
        witnessVkey: witnessKey.verifierKey,
      },
    });
    // The same notes with one character of the text changed: Go must refuse them too.
    altered = ask({
      entries: entries.slice(0, 1).map(hex),
      roots: [],
      inclusion: [],
      consistency: [],
      tileSize: 0,
      newTiles: [],
      ourProofs: [],
      note: { note: logSigned.replace('70000', '70001'), vkey: logKey.verifierKey },
      cosigned: {
        note: cosigned.replace('70000', '70001'),
        logVkey: logKey.verifierKey,
        witnessVkey: witnessKey.verifierKey,
      },
    });
  }, 300_000);

  afterAll(() => {
    if (work !== '') rmSync(work, { recursive: true, force: true });
  });

  it('leaf hashes and roots', () => {
    expect(answer.leafHashes).toEqual(leaves.map(hex));
    for (const size of sizes)
      expect([size, answer.roots[size]]).toEqual([size, hex(treeRoot(size, read))]);
  });

  it('inclusion and consistency proofs, and Go accepts ours', () => {
    expect(answer.inclusion).toEqual(
      inclusion.map(({ a, b }) => proveInclusion(a, b, read).map(hex)),
    );
    expect(answer.consistency).toEqual(
      consistency.map(({ a, b }) => proveConsistency(a, b, read).map(hex)),
    );
    expect(answer.ourProofs.filter((r) => r !== 'ok')).toEqual([]);
    expect(answer.ourProofs).toHaveLength(inclusion.length + consistency.length);
  });

  it('tiles: the same bytes, which Go authenticates against the root and reads proofs from', () => {
    const ours = Object.fromEntries(
      ourTiles.map((t) => [tilePath({ ...t.tile, width: 256 }), hex(t.data)]),
    );
    expect(Object.keys(answer.tiles).sort()).toEqual(Object.keys(ours).sort());
    expect(answer.tiles).toEqual(ours);
    expect(answer.tileRoot).toBe(hex(treeRoot(SIZE, read)));
    const fromTiles = tileHashReader(SIZE, (tiles) =>
      tiles.map((t) => tileData.get(`${t.level}/${t.index}`)!.subarray(0, t.width * 32)),
    );
    const atSize = inclusion.filter(({ b }) => b === SIZE);
    expect(answer.tileInclusion).toEqual(
      atSize.map(({ a }) => proveInclusion(a, SIZE, fromTiles).map(hex)),
    );
    const toSize = consistency.filter(({ b }) => b === SIZE);
    expect(answer.tileConsistency).toEqual(
      toSize.map(({ a }) => proveConsistency(a, SIZE, fromTiles).map(hex)),
    );
  });

  it('tile paths', () => {
    expect(answer.paths).toEqual(paths.map(tilePath));
  });

  it('the tiles to publish when the tree grows', () => {
    grow.forEach(({ a, b }, i) => {
      const changedByGo = Object.entries(answer.newTiles[i] ?? {}).filter(([path, width]) => {
        // Go lists a partial tile again at its old width; we list only tiles that changed.
        const [, level, index] = /^tile\/(\d+)\/(.*)$/.exec(path)!;
        const n = Number(index!.replaceAll('x', '').replaceAll('/', ''));
        return width > tileWidth(Number(level), n, a);
      });
      const ours = tilesChanged(a, b).map((t) => [tilePath({ ...t, width: 256 }), t.width]);
      expect([a, b, Object.fromEntries(changedByGo)]).toEqual([a, b, Object.fromEntries(ours)]);
    });
  });

  it('notes: Go opens ours, signs exactly as we do, and we open Go’s', () => {
    expect(answer.note).toEqual({
      ok: true,
      text: checkpointText,
      verified: ['trailkeep.example/acmé'],
    });
    expect(answer.signed).toBe(signNote(goText, [parseSignerKey(logKey.signerKey)]));
    const opened = openNote(answer.signed, [parseVerifierKey(logKey.verifierKey)]);
    expect(opened.ok && opened.note.text).toBe(goText);
  });

  it('cosignatures: Go’s note.Open with a type 0x04 verifier accepts our witness’s, with its time', () => {
    expect(answer.cosigned).toEqual({
      ok: true,
      text: checkpointText,
      verified: ['trailkeep.example/acmé', 'witness.example/w1'],
    });
    expect(answer.cosignatureTime).toEqual({ 'witness.example/w1': 1_700_000_123 });
    const ours = openCheckpoint(cosigned, {
      origin: head.origin,
      logKeys: [parseVerifierKey(logKey.verifierKey)],
      witnessKeys: [parseVerifierKey(witnessKey.verifierKey)],
    });
    expect(ours.ok && ours.value.cosignatures.map((c) => c.time)).toEqual([1_700_000_123]);
  });

  it('an altered note is refused by Go as by us', () => {
    expect(altered.note.ok).toBe(false);
    expect(altered.cosigned.ok).toBe(false);
    expect(
      openNote(logSigned.replace('70000', '70001'), [parseVerifierKey(logKey.verifierKey)]).ok,
    ).toBe(false);
  });
});

describe.skipIf(available)(`Go cross-check (skipped: ${reason})`, () => {
  it('needs go and golang-golang-x-mod-dev', () => {
    expect(available).toBe(false);
  });
});
