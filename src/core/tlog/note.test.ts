import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  SIGNATURE_COSIGNATURE_V1,
  SIGNATURE_ED25519,
  addSignatures,
  cosignatureTime,
  generateNoteKey,
  isValidKeyName,
  noteKeyId,
  openNote,
  parseNote,
  parseSignerKey,
  parseVerifierKey,
  signNote,
  signatureLines,
} from './note.js';

const seed = Buffer.alloc(32, 7);
const log = generateNoteKey('trailkeep.example/acme', SIGNATURE_ED25519, seed);
const logSigner = parseSignerKey(log.signerKey);
const logVerifier = parseVerifierKey(log.verifierKey);
const other = generateNoteKey('trailkeep.example/other');
const witness = generateNoteKey('witness.example/w1', SIGNATURE_COSIGNATURE_V1);
const text = 'trailkeep.example/acme\n42\nq83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=\n';

describe('signed-note keys', () => {
  it('write and read back signer and verifier keys', () => {
    expect(log.verifierKey).toMatch(
      /^trailkeep\.example\/acme\+[0-9a-f]{8}\+[A-Za-z0-9+/]+={0,2}$/,
    );
    expect(log.signerKey.startsWith('PRIVATE+KEY+trailkeep.example/acme+')).toBe(true);
    expect(logSigner.keyId).toBe(logVerifier.keyId);
    expect(parseSignerKey(log.signerKey).verifier.keyId).toBe(logVerifier.keyId);
  });

  it('compute the key id as SHA-256(name ‖ 0x0A ‖ type ‖ public key)[:4]', () => {
    const publicKey = Buffer.from(log.verifierKey.split('+')[2]!, 'base64').subarray(1);
    const expected = createHash('sha256')
      .update('trailkeep.example/acme\n')
      .update(Buffer.from([0x01]))
      .update(publicKey)
      .digest()
      .readUInt32BE(0);
    expect(noteKeyId('trailkeep.example/acme', 0x01, publicKey)).toBe(expected);
    expect(log.verifierKey.split('+')[1]).toBe(expected.toString(16).padStart(8, '0'));
    // The same key pair as a cosigner has another id: one can never pass for the other.
    const asCosigner = generateNoteKey('trailkeep.example/acme', SIGNATURE_COSIGNATURE_V1, seed);
    expect(parseVerifierKey(asCosigner.verifierKey).keyId).not.toBe(logVerifier.keyId);
  });

  it.each([
    ['a+00000000+AQ==', 'Ed25519 public key has 32 bytes'],
    ['bad name+00000000+AQ==', 'not a valid key name'],
    ['+00000000+AQ==', 'not a valid key name'],
    ['name+0000000+AQ==', '8 lower-case hex digits'],
    ['name+0000000A+AQ==', '8 lower-case hex digits'],
    ['name+00000000', 'three parts'],
    ['name+00000000+AQ=', 'not base64'],
    ['name+00000000+', 'not base64'],
  ])('refuse the verifier key %s', (vkey, message) => {
    expect(() => parseVerifierKey(vkey)).toThrow(message);
  });

  it('refuse a verifier key whose id or type was changed', () => {
    const [name, id, key] = log.verifierKey.split('+') as [string, string, string];
    const otherId = ((parseInt(id, 16) + 1) % 2 ** 32).toString(16).padStart(8, '0');
    expect(() => parseVerifierKey(`${name}+${otherId}+${key}`)).toThrow('does not match');
    const bytes = Buffer.from(key, 'base64');
    bytes[0] = 0x02;
    expect(() => parseVerifierKey(`${name}+${id}+${bytes.toString('base64')}`)).toThrow(
      'signature type 0x02 is not supported',
    );
    expect(() => parseSignerKey(log.verifierKey)).toThrow('starts with "PRIVATE+KEY+"');
    expect(() => parseSignerKey(log.signerKey.replace(id, otherId))).toThrow('does not match');
  });

  it('key names have no Unicode spaces and no plus', () => {
    expect(isValidKeyName('example.com/log')).toBe(true);
    for (const bad of ['', 'a b', 'a+b', 'a\u00a0b', 'a\u2028b', 'a\u0085b', 'a\tb']) {
      expect(isValidKeyName(bad)).toBe(false);
    }
  });
});

describe('signed notes', () => {
  const note = signNote(text, [logSigner]);

  it('are the text, a blank line and one signature line per signer', () => {
    expect(note.startsWith(`${text}\n\u2014 trailkeep.example/acme `)).toBe(true);
    expect(note.endsWith('\n')).toBe(true);
    const opened = openNote(note, [logVerifier]);
    expect(opened.ok && opened.note.text).toBe(text);
    // Ed25519 is deterministic: the same key signs the same text the same way.
    expect(signNote(text, [logSigner])).toBe(note);
  });

  it('open from bytes too, keeping a leading byte order mark as part of the text', () => {
    const bom = signNote(`\ufeff${text}`, [logSigner]);
    const opened = openNote(Buffer.from(bom, 'utf8'), [logVerifier]);
    expect(opened.ok && opened.note.text).toBe(`\ufeff${text}`);
    expect(openNote(Buffer.from([0xff, 0x0a, 0x0a]), [logVerifier])).toEqual({
      ok: false,
      reason: 'the note is not valid UTF-8',
    });
  });

  it('fail when any character of the text is changed', () => {
    fc.assert(
      fc.property(fc.nat(), fc.constantFrom('x', '0', '\n', ' ', 'é', '\u2014'), (at, char) => {
        const i = at % text.length;
        fc.pre(text[i] !== char);
        const altered = `${text.slice(0, i)}${char}${text.slice(i + 1)}${note.slice(text.length)}`;
        expect(openNote(altered, [logVerifier]).ok).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it('fail when any bit of a known signature is flipped, whatever else signed', () => {
    const signatureAt = note.lastIndexOf(' ') + 1;
    const raw = Buffer.from(note.slice(signatureAt, -1), 'base64');
    fc.assert(
      fc.property(fc.nat({ max: raw.length * 8 - 1 }), (bit) => {
        const flipped = Buffer.from(raw);
        flipped[bit >> 3]! ^= 1 << (bit & 7);
        const altered = `${note.slice(0, signatureAt)}${flipped.toString('base64')}\n`;
        const withOther = addSignatures(
          altered,
          signatureLines(text, [parseSignerKey(other.signerKey)]),
        );
        const verifiers = [logVerifier, parseVerifierKey(other.verifierKey)];
        const result = openNote(withOther, verifiers);
        if (bit >= 32) {
          expect(result.ok).toBe(false);
        } else {
          // A flip in the key id makes it a signature by an unknown key: ignored, not trusted.
          expect(result.ok && result.note.verified.map((v) => v.name)).toEqual([
            'trailkeep.example/other',
          ]);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('ignore signatures by unknown keys, even under a known name or id', () => {
    const otherSigner = parseSignerKey(other.signerKey);
    const sameName = generateNoteKey('trailkeep.example/acme');
    const lines = signatureLines(text, [otherSigner, parseSignerKey(sameName.signerKey)]);
    const opened = openNote(addSignatures(note, lines), [logVerifier]);
    expect(opened.ok).toBe(true);
    if (!opened.ok) return;
    expect(opened.note.verified.map((s) => s.name)).toEqual(['trailkeep.example/acme']);
    expect(opened.note.unverified).toHaveLength(2);
    // The same key id under another name is another key.
    const renamed = note.replace(
      '\u2014 trailkeep.example/acme ',
      '\u2014 trailkeep.example/acmf ',
    );
    expect(openNote(renamed, [logVerifier])).toEqual({
      ok: false,
      reason: 'no known key signed the note',
    });
  });

  it('refuse a note with no signature by a known key, or with none at all', () => {
    expect(openNote(note, [parseVerifierKey(other.verifierKey)])).toEqual({
      ok: false,
      reason: 'no known key signed the note',
    });
    expect(openNote(note, []).ok).toBe(false);
  });

  it('verify a repeated signature and report the key once', () => {
    const line = note.slice(text.length + 1, -1);
    const twice = addSignatures(note, [line]);
    const opened = openNote(twice, [logVerifier]);
    expect(opened.ok && opened.note.verified).toHaveLength(1);
  });

  it.each([
    ['no blank line', `${text}\u2014 a AAAAAAA=\n`, 'no blank line'],
    ['no signature', `${text}\n`, 'must end with signature lines'],
    ['no final newline', note.slice(0, -1), 'must end with signature lines'],
    ['a line without the em dash', `${text}\n- a AAAAAAA=\n`, 'starts with "\u2014 "'],
    ['a signature too short', `${text}\n\u2014 a AAAA\n`, 'not base64 of a key id'],
    ['non-canonical base64', `${text}\n\u2014 a AAAAAAB=\n`, 'not base64'],
    ['a name with a plus', `${text}\n\u2014 a+b AAAAAAA=\n`, 'names no valid key'],
    ['a control character', `a\rb\n\n\u2014 a AAAAAAA=\n`, 'control character'],
    ['a lone surrogate', `a\ud800\n\n\u2014 a AAAAAAA=\n`, 'not valid UTF-8'],
    ['an empty signature line', `${text}\n\n`, 'must end with signature lines'],
  ])('refuse a note with %s', (_what, value, message) => {
    expect(() => parseNote(value)).toThrow(message);
    const opened = openNote(value, [logVerifier]);
    expect(opened.ok).toBe(false);
    expect(!opened.ok && opened.reason).toContain(message);
  });

  it('quote only the start of a huge key name', () => {
    const name = 'n'.repeat(1_000_000);
    expect(openNote(`${text}\n\u2014 ${name} AAAA\n`, [logVerifier])).toEqual({
      ok: false,
      reason: `the signature of "${'n'.repeat(40)}…" is not base64 of a key id and a signature`,
    });
  });

  it('refuse more than 100 signatures', () => {
    const line = note.slice(text.length + 1, -1);
    const many = `${text}\n${Array.from({ length: 101 }, () => `${line}\n`).join('')}`;
    expect(openNote(many, [logVerifier])).toEqual({
      ok: false,
      reason: 'the note has more than 100 signatures',
    });
  });

  it('open any text without throwing', () => {
    const pieces = fc.constantFrom(
      '\n',
      '\n\n',
      '\u2014 ',
      'a',
      ' ',
      'AAAAAAA=',
      '+',
      '\r',
      '\u0000',
    );
    fc.assert(
      fc.property(
        fc.oneof(
          fc.array(pieces).map((p) => p.join('')),
          fc.string({ unit: 'binary' }),
        ),
        (value) => {
          const opened = openNote(value, [logVerifier]);
          expect(opened.ok).toBe(false);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('refuse to sign a text that is empty, unterminated or holds control characters', () => {
    expect(() => signNote('', [logSigner])).toThrow('ends with a newline');
    expect(() => signNote('a', [logSigner])).toThrow('ends with a newline');
    expect(() => signNote('a\u0007\n', [logSigner])).toThrow('control character');
  });
});

describe('cosignatures (tlog-cosignature v1)', () => {
  const cosigner = parseSignerKey(witness.signerKey);
  const cosignerVerifier = parseVerifierKey(witness.verifierKey);

  it('carry the time and verify over "cosignature/v1\\ntime <t>\\n" and the text', () => {
    const note = addSignatures(
      signNote(text, [logSigner]),
      signatureLines(text, [cosigner], 1_700_000_000),
    );
    const opened = openNote(note, [logVerifier, cosignerVerifier]);
    expect(opened.ok).toBe(true);
    if (!opened.ok) return;
    const [, cosignature] = opened.note.verified;
    expect(cosignature).toMatchObject({
      name: 'witness.example/w1',
      type: 0x04,
      time: 1_700_000_000,
    });
    expect(cosignatureTime(cosignature!.signature)).toBe(1_700_000_000);
  });

  it('fail when the time is changed', () => {
    const [line] = signatureLines(text, [cosigner], 1_700_000_000);
    const bytes = Buffer.from(line!.split(' ')[2]!, 'base64');
    bytes[11]! ^= 1;
    const forged = `\u2014 witness.example/w1 ${bytes.toString('base64')}`;
    const note = addSignatures(signNote(text, [logSigner]), [forged]);
    expect(openNote(note, [logVerifier, cosignerVerifier])).toEqual({
      ok: false,
      reason: expect.stringContaining('"witness.example/w1"') as string,
    });
  });

  it('need a time to sign', () => {
    expect(() => signatureLines(text, [cosigner])).toThrow('a cosignature needs a POSIX time');
  });
});
