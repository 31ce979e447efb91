/**
 * Known answers for the verifiable log (test/vectors/tlog.json): the RFC 6962 reference tree of
 * eight leaves used by certificate-transparency implementations, and the examples printed in the
 * C2SP specifications and in Go's note package tests. Nothing here is computed by our own code
 * first: a change to any byte of the formats or the hashing breaks these.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  EMPTY_ROOT,
  MerkleFrontier,
  formatTileIndex,
  leafHash,
  openNote,
  parseAddCheckpoint,
  parseCheckpoint,
  parseCosignatureResponse,
  parseNote,
  parseSignerKey,
  parseTlogProof,
  parseVerifierKey,
  proveConsistency,
  proveInclusion,
  signNote,
  tilesOfTree,
  treeRoot,
  verifyConsistency,
  verifyInclusion,
  cosignatureMessage,
  cosignatureTime,
  formatCheckpoint,
  formatTlogProof,
  formatAddCheckpoint,
  type HashReader,
} from '../../src/core/tlog/index.js';

interface Vectors {
  merkle: {
    leaves: string[];
    roots: string[];
    nodes: string[][];
    inclusion: { index: number; size: number; proof: string[] }[];
    consistency: { old: number; new: number; proof: string[] }[];
  };
  c2sp: {
    signed_note: { verifier_key: string; note: string; text: string };
    signed_note_unknown_key: { note: string; text: string };
    checkpoint: { note: string; origin: string; size: number; root: string };
    cosigned_checkpoint: { note: string; witness: string; time: number; signed_message: string };
    add_checkpoint_request: { body: string; old_size: number; proof_lines: number };
    add_checkpoint_response: { body: string; names: string[] };
    tlog_proof: { text: string; index: number; proof_lines: number; extra: string };
    tile_index: { index: number; path: string };
    tiles_of_size_70000: { level: number; full: number; partial: number }[];
  };
  go_note: {
    signer_key: string;
    verifier_key: string;
    text: string;
    note: string;
    other_verifier_key: string;
    other_signature_line: string;
  };
}

const vectors = JSON.parse(
  readFileSync(new URL('./tlog.json', import.meta.url), 'utf8'),
) as Vectors;
const { merkle, c2sp } = vectors;
const hex = (h: Uint8Array): string => Buffer.from(h).toString('hex');
const unhex = (s: string): Buffer => Buffer.from(s, 'hex');

/** A reader over the published node hashes only: the tree is never recomputed from leaves. */
const nodeReader: HashReader = (nodes) =>
  nodes.map(({ level, index }) => unhex(merkle.nodes[level]![index]!));

describe('RFC 6962 reference tree', () => {
  const leaves = merkle.leaves.map((l) => leafHash(unhex(l)));

  it('hashes the leaves as the reference does', () => {
    expect(leaves.map(hex)).toEqual(merkle.nodes[0]);
  });

  it('has the reference root for every size 0 to 8, from nodes and from the frontier', () => {
    const frontier = MerkleFrontier.empty();
    expect(hex(frontier.root())).toBe(merkle.roots[0]);
    expect(hex(EMPTY_ROOT)).toBe(merkle.roots[0]);
    leaves.forEach((leaf, i) => {
      const completed = frontier.append(leaf);
      for (const node of completed) {
        expect(hex(node.hash)).toBe(merkle.nodes[node.level]![node.index]);
      }
      expect(hex(frontier.root())).toBe(merkle.roots[i + 1]);
      expect(hex(treeRoot(i + 1, nodeReader))).toBe(merkle.roots[i + 1]);
    });
  });

  it.each(merkle.inclusion)('inclusion proof of leaf $index in $size leaves', (v) => {
    const proof = proveInclusion(v.index, v.size, nodeReader);
    expect(proof.map(hex)).toEqual(v.proof);
    const root = unhex(merkle.roots[v.size]!);
    expect(verifyInclusion(v.index, v.size, leaves[v.index]!, proof, root)).toBe(true);
    expect(verifyInclusion(v.index, v.size, leaves[v.index]!, proof, EMPTY_ROOT)).toBe(false);
  });

  it.each(merkle.consistency)('consistency proof from $old to $new leaves', (v) => {
    const proof = proveConsistency(v.old, v.new, nodeReader);
    expect(proof.map(hex)).toEqual(v.proof);
    const oldRoot = unhex(merkle.roots[v.old]!);
    const newRoot = unhex(merkle.roots[v.new]!);
    expect(verifyConsistency(v.old, v.new, proof, oldRoot, newRoot)).toBe(true);
    if (v.old !== v.new)
      expect(verifyConsistency(v.old, v.new, proof, newRoot, oldRoot)).toBe(false);
  });
});

describe('C2SP examples', () => {
  it('signed-note: the example verifier key verifies the example note', () => {
    const verifier = parseVerifierKey(c2sp.signed_note.verifier_key);
    const opened = openNote(c2sp.signed_note.note, [verifier]);
    expect(opened.ok && opened.note.text).toBe(c2sp.signed_note.text);
    const altered = c2sp.signed_note.note.replace('example message', 'example massage');
    expect(openNote(altered, [verifier])).toEqual({
      ok: false,
      reason: 'the signature by "example.com/foo" (530d903a) does not verify',
    });
  });

  it('signed-note: a note signed by no known key is refused, its text split at the last blank line', () => {
    const verifier = parseVerifierKey(c2sp.signed_note.verifier_key);
    expect(openNote(c2sp.signed_note_unknown_key.note, [verifier])).toEqual({
      ok: false,
      reason: 'no known key signed the note',
    });
    expect(parseNote(c2sp.signed_note_unknown_key.note).text).toBe(
      c2sp.signed_note_unknown_key.text,
    );
  });

  it('tlog-checkpoint: the example parses and formats back to the same text', () => {
    const { text } = parseNote(c2sp.checkpoint.note);
    const head = parseCheckpoint(text);
    expect(head).toMatchObject({ origin: c2sp.checkpoint.origin, size: c2sp.checkpoint.size });
    expect(head.root.toString('base64')).toBe(c2sp.checkpoint.root);
    expect(formatCheckpoint(head)).toBe(text);
  });

  it('tlog-cosignature: the example cosignature carries its time and signs the documented message', () => {
    const { text, signatures } = parseNote(c2sp.cosigned_checkpoint.note);
    const cosignature = signatures.find((s) => s.name === c2sp.cosigned_checkpoint.witness)!;
    expect(cosignatureTime(cosignature.signature)).toBe(c2sp.cosigned_checkpoint.time);
    expect(cosignatureMessage(Buffer.from(text), c2sp.cosigned_checkpoint.time).toString()).toBe(
      c2sp.cosigned_checkpoint.signed_message,
    );
  });

  it('tlog-witness: the example add-checkpoint body and response parse', () => {
    const request = parseAddCheckpoint(c2sp.add_checkpoint_request.body);
    expect(request.oldSize).toBe(c2sp.add_checkpoint_request.old_size);
    expect(request.proof).toHaveLength(c2sp.add_checkpoint_request.proof_lines);
    expect(parseCheckpoint(parseNote(request.checkpoint).text).size).toBe(20852163);
    expect(formatAddCheckpoint(request)).toBe(c2sp.add_checkpoint_request.body);
    const lines = parseCosignatureResponse(c2sp.add_checkpoint_response.body);
    expect(lines.map((l) => l.name)).toEqual(c2sp.add_checkpoint_response.names);
  });

  it('tlog-proof: the example parses and formats back to the same text', () => {
    const proof = parseTlogProof(c2sp.tlog_proof.text);
    expect(proof.index).toBe(c2sp.tlog_proof.index);
    expect(proof.proof).toHaveLength(c2sp.tlog_proof.proof_lines);
    expect(proof.extra?.toString('base64')).toBe(c2sp.tlog_proof.extra);
    expect(proof.checkpoint.startsWith('example.com/fancylog\n109482\n')).toBe(true);
    expect(formatTlogProof(proof)).toBe(c2sp.tlog_proof.text);
  });

  it('tlog-tiles: the index and the tiles of a tree of 70,000 leaves', () => {
    expect(formatTileIndex(c2sp.tile_index.index)).toBe(c2sp.tile_index.path);
    const tiles = tilesOfTree(70_000);
    for (const { level, full, partial } of c2sp.tiles_of_size_70000) {
      const atLevel = tiles.filter((t) => t.level === level);
      expect(atLevel.filter((t) => t.width === 256)).toHaveLength(full);
      expect(atLevel.filter((t) => t.width < 256).map((t) => t.width)).toEqual([partial]);
    }
    expect(tilesOfTree(256).map((t) => [t.level, t.width])).toEqual([
      [0, 256],
      [1, 1],
    ]);
  });
});

describe("Go's note package examples", () => {
  const go = vectors.go_note;

  it('signs the text to the same note with the same signer key', () => {
    const signer = parseSignerKey(go.signer_key);
    expect(signNote(go.text, [signer])).toBe(go.note);
  });

  it('verifies it with the verifier key, and leaves an unknown signature unverified', () => {
    const verifier = parseVerifierKey(go.verifier_key);
    const both = `${go.note}${go.other_signature_line}\n`;
    const opened = openNote(both, [verifier]);
    expect(opened.ok).toBe(true);
    if (!opened.ok) return;
    expect(opened.note.verified.map((s) => s.name)).toEqual(['PeterNeumann']);
    expect(opened.note.unverified.map((s) => s.name)).toEqual(['EnochRoot']);
    const withOther = openNote(both, [verifier, parseVerifierKey(go.other_verifier_key)]);
    expect(withOther.ok && withOther.note.verified.map((s) => s.name)).toEqual([
      'PeterNeumann',
      'EnochRoot',
    ]);
  });
});
