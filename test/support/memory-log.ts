/**
 * A tlog-tiles log in memory, built with src/core/tlog alone: the entry bundles, every tile and a
 * signed (optionally cosigned) checkpoint of a list of entries, served by path like a static
 * log. Tests alter what it serves to play a log that lies.
 */
import { randomBytes } from 'node:crypto';
import { signCheckpoint } from '../../src/core/tlog/checkpoint.js';
import { MerkleFrontier, leafHash } from '../../src/core/tlog/merkle.js';
import {
  SIGNATURE_COSIGNATURE_V1,
  addSignatures,
  generateNoteKey,
  parseSignerKey,
  parseVerifierKey,
  signatureLines,
  type NoteSigner,
  type NoteVerifier,
} from '../../src/core/tlog/note.js';
import {
  TILE_WIDTH,
  encodeEntryBundle,
  entryBundlePath,
  tilePath,
  tilesFromLeafHashes,
} from '../../src/core/tlog/tiles.js';
import type { LogReader } from '../../src/monitor/audit.js';

export interface TestKey {
  readonly signer: NoteSigner;
  readonly verifier: NoteVerifier;
  readonly vkey: string;
}

export function testKey(name: string, type?: number): TestKey {
  const pair = generateNoteKey(name, type);
  return {
    signer: parseSignerKey(pair.signerKey),
    verifier: parseVerifierKey(pair.verifierKey),
    vkey: pair.verifierKey,
  };
}

export function witnessKey(name: string): TestKey {
  return testKey(name, SIGNATURE_COSIGNATURE_V1);
}

export const ORIGIN = 'audit.example.com/acme';

export function randomEntries(n: number): Buffer[] {
  return Array.from({ length: n }, () => randomBytes(32));
}

/** Every file of the log of `entries`, by tlog-tiles path. */
export function logFiles(
  entries: readonly Buffer[],
  options: { key: TestKey; witnesses?: readonly TestKey[]; origin?: string },
): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  const leaves = entries.map((e) => leafHash(e));
  for (let i = 0; i * TILE_WIDTH < entries.length; i += 1) {
    const bundle = entries.slice(i * TILE_WIDTH, (i + 1) * TILE_WIDTH);
    files.set(entryBundlePath(i, bundle.length), encodeEntryBundle(bundle));
  }
  const tiles = tilesFromLeafHashes(leaves);
  for (const { tile, data } of tiles) files.set(tilePath(tile), data);
  let note = signCheckpoint(
    {
      origin: options.origin ?? ORIGIN,
      size: entries.length,
      root: rootOf(leaves),
      extensions: [],
    },
    [options.key.signer],
  );
  for (const witness of options.witnesses ?? []) {
    const text = note.slice(0, note.indexOf('\n\n') + 1);
    note = addSignatures(note, signatureLines(text, [witness.signer], 1_790_000_000));
  }
  files.set('checkpoint', Buffer.from(note));
  return files;
}

function rootOf(leaves: readonly Buffer[]): Buffer {
  const frontier = MerkleFrontier.empty();
  for (const leaf of leaves) frontier.append(leaf);
  return frontier.root();
}

/** A reader over a map of files, counting what was read. */
export function mapReader(files: Map<string, Buffer>): LogReader & { reads: string[] } {
  const reads: string[] = [];
  return {
    reads,
    read(path) {
      reads.push(path);
      return Promise.resolve(files.get(path));
    },
  };
}
