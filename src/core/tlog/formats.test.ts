/** tlog-checkpoint, tlog-proof and tlog-witness bodies: round trips, strictness, verification. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { expectCanonical, laidOut } from '../../../test/support/laid-out.js';
import { ReferenceTree, leafHashes } from '../../../test/support/merkle-reference.js';
import {
  formatCheckpoint,
  openCheckpoint,
  parseCheckpoint,
  signCheckpoint,
  type TreeHead,
} from './checkpoint.js';
import { eventLeafHash, proveConsistency, proveInclusion } from './merkle.js';
import {
  SIGNATURE_COSIGNATURE_V1,
  addSignatures,
  generateNoteKey,
  parseSignerKey,
  parseVerifierKey,
  signatureLines,
} from './note.js';
import { formatTlogProof, parseTlogProof, verifyTlogProof } from './proof.js';
import {
  formatAddCheckpoint,
  formatWitnessSize,
  parseAddCheckpoint,
  parseCosignatureResponse,
  parseWitnessSize,
} from './witness.js';

const origin = 'trailkeep.example/acme';
const logKey = generateNoteKey(origin);
const logSigner = parseSignerKey(logKey.signerKey);
const logKeys = [parseVerifierKey(logKey.verifierKey)];
const witnessKey = generateNoteKey('witness.example/w1', SIGNATURE_COSIGNATURE_V1);
const witnessKeys = [parseVerifierKey(witnessKey.verifierKey)];

const hash32 = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b));
const line = fc.string({ minLength: 1, maxLength: 20 }).filter((s) => !s.includes('\n'));
const heads: fc.Arbitrary<TreeHead> = fc.record({
  origin: line,
  size: fc.nat({ max: Number.MAX_SAFE_INTEGER }),
  root: hash32,
  extensions: fc.array(line, { maxLength: 3 }),
});

const h32 = Buffer.alloc(32, 9).toString('base64');
// Same length and alphabet, but non-zero padding bits: not the canonical spelling of any bytes.
const nonCanonical = `${h32.slice(0, -2)}R=`;
const hashLines = { repeat: [`${h32}\n`, `${nonCanonical}\n`, 'YQ==\n', `${h32}=\n`] };
const tails = ['o\n1\nx\n\n\u2014 a b\n', ''];

describe('tlog-checkpoint', () => {
  it('formats and parses back', () => {
    fc.assert(
      fc.property(heads, (head) => {
        expect(parseCheckpoint(formatCheckpoint(head))).toEqual(head);
      }),
      { numRuns: 500 },
    );
  });

  it('accepts only canonical texts: whatever parses formats back to itself', () => {
    const texts = laidOut(
      ['o\n', '\n', 'a b\n', 'o'],
      ['0\n', '1\n', '01\n', '-1\n', '1e3\n', '9007199254740992\n', '\n'],
      [`${h32}\n`, `${nonCanonical}\n`, 'AAAA\n', `${h32}`],
      { repeat: ['ext\n', '\n', 'e x\n'] },
    );
    expectCanonical(texts, parseCheckpoint, formatCheckpoint, /^the checkpoint is malformed: /);
  });

  it.each([
    ['o\n1\n', 'at least three lines'],
    ['o\n01\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n', 'leading zeros'],
    ['o\n9007199254740992\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n', 'below 2^53'],
    ['o\n1\nAAAA\n', 'not the base64 of 32 bytes'],
    ['o\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n', 'an empty line'],
    ['\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n', 'an empty line'],
    ['o\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=', 'ends with a newline'],
  ])('refuses %j', (text, message) => {
    expect(() => parseCheckpoint(text)).toThrow(message);
  });

  it('quotes only the start of a huge field in its refusal', () => {
    const huge = `o\n${'9'.repeat(1_000_000)}\nx\n`;
    let message = '';
    try {
      parseCheckpoint(huge);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toBe(
      `the checkpoint is malformed: the size "${'9'.repeat(40)}…" is not a decimal without leading zeros below 2^53`,
    );
  });

  it('opens only with a log signature, for the expected origin, with cosignatures verified', () => {
    const head = { origin, size: 3, root: Buffer.alloc(32, 1), extensions: [] };
    const signed = signCheckpoint(head, [logSigner]);
    const text = formatCheckpoint(head);
    const cosigned = addSignatures(
      signed,
      signatureLines(text, [parseSignerKey(witnessKey.signerKey)], 1_700_000_000),
    );
    const opened = openCheckpoint(cosigned, { origin, logKeys, witnessKeys });
    expect(opened.ok).toBe(true);
    if (!opened.ok) return;
    expect(opened.value.checkpoint).toEqual(head);
    expect(opened.value.cosignatures.map((c) => [c.name, c.time])).toEqual([
      ['witness.example/w1', 1_700_000_000],
    ]);
    expect(openCheckpoint(cosigned, { origin: 'other', logKeys })).toEqual({
      ok: false,
      reason: `the checkpoint is for origin "${origin}", not "other"`,
    });
    // A witness alone does not make a checkpoint the log's.
    const witnessOnly = `${text}\n${signatureLines(text, [parseSignerKey(witnessKey.signerKey)], 1).join('\n')}\n`;
    expect(openCheckpoint(witnessOnly, { origin, logKeys, witnessKeys })).toEqual({
      ok: false,
      reason: 'no key of the log signed the checkpoint',
    });
    expect(() => openCheckpoint(signed, { origin, logKeys, witnessKeys: logKeys })).toThrow(
      'witness keys verify cosignatures',
    );
  });
});

describe('tlog-proof', () => {
  const tree = new ReferenceTree(leafHashes(100, 3));
  const read = tree.reader();
  const size = 77;
  const checkpoint = signCheckpoint({ origin, size, root: tree.root(size), extensions: [] }, [
    logSigner,
  ]);

  it('binds a leaf to a signed checkpoint, and nothing else', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: size - 1 }),
        fc.nat(),
        fc.option(hash32, { nil: undefined }),
        (index, other, extra) => {
          const proof = proveInclusion(index, size, read);
          const text = formatTlogProof(
            extra === undefined
              ? { index, proof, checkpoint }
              : { extra, index, proof, checkpoint },
          );
          const leaf = tree.leaves[index]!;
          const verified = verifyTlogProof(text, leaf, { origin, logKeys });
          expect(verified.ok && [verified.value.index, verified.value.extra]).toEqual([
            index,
            extra,
          ]);
          const otherLeaf = tree.leaves[other % 100]!;
          if (other % 100 !== index) {
            expect(verifyTlogProof(text, otherLeaf, { origin, logKeys }).ok).toBe(false);
          }
          const otherIndex = other % size;
          if (otherIndex !== index) {
            const moved = text.replace(`index ${index}\n`, `index ${otherIndex}\n`);
            expect(verifyTlogProof(moved, leaf, { origin, logKeys }).ok).toBe(false);
          }
        },
      ),
      { numRuns: 100 },
    );
  });

  it('fails on an altered proof line or checkpoint, an index past the tree, a foreign log', () => {
    const index = 5;
    const text = formatTlogProof({ index, proof: proveInclusion(index, size, read), checkpoint });
    const leaf = tree.leaves[index]!;
    const proofLine = text.split('\n')[2]!;
    const flipped = Buffer.from(proofLine, 'base64');
    flipped[0]! ^= 1;
    expect(
      verifyTlogProof(text.replace(proofLine, flipped.toString('base64')), leaf, {
        origin,
        logKeys,
      }),
    ).toEqual({
      ok: false,
      reason: "the inclusion proof does not bind this entry at index 5 to the checkpoint's root",
    });
    expect(verifyTlogProof(text.replace('\n77\n', '\n78\n'), leaf, { origin, logKeys }).ok).toBe(
      false,
    );
    expect(verifyTlogProof(text.replace('index 5', 'index 77'), leaf, { origin, logKeys })).toEqual(
      { ok: false, reason: "index 77 is not in the checkpoint's 77 leaves" },
    );
    const stranger = [parseVerifierKey(generateNoteKey(origin).verifierKey)];
    expect(verifyTlogProof(text, leaf, { origin, logKeys: stranger })).toEqual({
      ok: false,
      reason: 'no known key signed the note',
    });
    expect(verifyTlogProof('nonsense', leaf, { origin, logKeys }).ok).toBe(false);
  });

  it("works for Trailkeep's leaves: the event's chain hash", () => {
    const hashes = ['11', '22', '33'].map((b) => b.repeat(32));
    const leaves = hashes.map(eventLeafHash);
    const small = new ReferenceTree(leaves);
    const cp = signCheckpoint({ origin, size: 3, root: small.root(3), extensions: [] }, [
      logSigner,
    ]);
    const text = formatTlogProof({ index: 1, proof: small.inclusion(1, 3), checkpoint: cp });
    expect(verifyTlogProof(text, eventLeafHash(hashes[1]!), { origin, logKeys }).ok).toBe(true);
    expect(verifyTlogProof(text, eventLeafHash(hashes[2]!), { origin, logKeys }).ok).toBe(false);
  });

  it('parses only canonical texts: whatever parses formats back to itself', () => {
    const texts = laidOut(
      ['c2sp.org/tlog-proof@v1\n', 'c2sp.org/tlog-proof@v2\n'],
      ['', 'extra YQ==\n', 'extra \n', 'extra YQ\n'],
      ['index 0\n', 'index 7\n', 'index 07\n', 'index -1\n', 'index\n'],
      hashLines,
      ['\n', ''],
      tails,
    );
    expectCanonical(texts, parseTlogProof, formatTlogProof, /^the tlog proof is malformed: /);
  });

  it('refuses more than 63 proof hashes', () => {
    const h = Buffer.alloc(32).toString('base64');
    const text = `c2sp.org/tlog-proof@v1\nindex 0\n${`${h}\n`.repeat(64)}\n${checkpoint}`;
    expect(() => parseTlogProof(text)).toThrow('more than 63 hashes');
  });
});

describe('tlog-witness add-checkpoint', () => {
  const tree = new ReferenceTree(leafHashes(50, 4));
  const checkpoint = signCheckpoint({ origin, size: 50, root: tree.root(50), extensions: [] }, [
    logSigner,
  ]);

  it('formats and parses back a request with its consistency proof', () => {
    fc.assert(
      fc.property(fc.nat({ max: 50 }), (oldSize) => {
        const proof = proveConsistency(oldSize, 50, tree.reader());
        const body = formatAddCheckpoint({ oldSize, proof, checkpoint });
        expect(body.startsWith(`old ${oldSize}\n`)).toBe(true);
        expect(parseAddCheckpoint(body)).toEqual({ oldSize, proof, checkpoint });
      }),
      { numRuns: 51 },
    );
  });

  it('parses only canonical bodies: whatever parses formats back to itself', () => {
    const bodies = laidOut(
      ['old 0\n', 'old 12\n', 'old 012\n', 'old\n', 'old  1\n', 'x\n'],
      hashLines,
      ['\n', ''],
      tails,
    );
    expectCanonical(
      bodies,
      parseAddCheckpoint,
      formatAddCheckpoint,
      /^the add-checkpoint body is malformed: /,
    );
  });

  it.each([
    ['old 01\n\nx', 'decimal without leading zeros'],
    ['old 1\nAAAA\n\nx', 'proof line 1 is not the base64'],
    ['old 1\n', 'no empty line'],
    ['old 1\n\n', 'the checkpoint is missing'],
    ['new 1\n\nx', 'the first line is "old <size>"'],
    [`old 1\n${`${Buffer.alloc(32).toString('base64')}\n`.repeat(64)}\nx`, 'more than 63'],
  ])('refuses %j', (body, message) => {
    expect(() => parseAddCheckpoint(body)).toThrow(message);
  });

  it('reads the 409 size body and the cosignature lines of a 200', () => {
    expect(parseWitnessSize(formatWitnessSize(20852014))).toBe(20852014);
    expect(() => parseWitnessSize('012\n')).toThrow('a tlog size body');
    expect(() => parseWitnessSize('12')).toThrow('a tlog size body');
    const lines = signatureLines(
      formatCheckpoint({ origin, size: 50, root: tree.root(50), extensions: [] }),
      [parseSignerKey(witnessKey.signerKey)],
      1_700_000_000,
    );
    const response = `${lines.join('\n')}\n`;
    expect(parseCosignatureResponse(response).map((s) => s.name)).toEqual(['witness.example/w1']);
    const cosigned = addSignatures(checkpoint, lines);
    expect(openCheckpoint(cosigned, { origin, logKeys, witnessKeys }).ok).toBe(true);
    expect(() => parseCosignatureResponse('')).toThrow('signature lines ending in newlines');
    expect(() => parseCosignatureResponse('- x AAAAAAA=\n')).toThrow('starts with');
  });
});
