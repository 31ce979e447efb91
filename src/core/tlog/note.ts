/**
 * C2SP signed notes (c2sp.org/signed-note) with Ed25519 signatures (type 0x01), and the timestamped
 * Ed25519 cosignatures of witnesses (c2sp.org/tlog-cosignature, type 0x04).
 *
 * A note is a text ending in a newline, a blank line, and one or more lines
 * "— <key name> base64(key id ‖ signature)". A key is named by its name and a 4-byte id,
 * SHA-256(name ‖ 0x0A ‖ type ‖ public key)[:4], so one key pair can never be mistaken for a key
 * of another type. Opening a note verifies every signature by a known key, ignores the others,
 * and refuses the note when none verified or when a known key's signature does not.
 */
import {
  createPrivateKey,
  createPublicKey,
  hash as digest,
  randomBytes,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';
import { TrailkeepError } from '../errors.js';
import { decodeBase64, quote } from './text.js';

/** Ed25519 signature over the note text. */
export const SIGNATURE_ED25519 = 0x01;
/** tlog-cosignature v1: Ed25519 over "cosignature/v1\ntime <t>\n" ‖ the checkpoint text. */
export const SIGNATURE_COSIGNATURE_V1 = 0x04;

/** Go's note.Open stops at 100; the spec asks for at least 16. */
export const MAX_NOTE_SIGNATURES = 100;

const SIGNATURE_PREFIX = '\u2014 ';
const ED25519_SIZE = 32;
const ED25519_SIGNATURE_SIZE = 64;
const TIMESTAMP_SIZE = 8;
const MAX_TIMESTAMP = 2n ** 63n - 1n;
// The fixed DER around a raw Ed25519 key (RFC 8410), so node:crypto can load 32 raw bytes.
const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_ED25519 = Buffer.from('302a300506032b6570032100', 'hex');

export interface NoteVerifier {
  readonly name: string;
  /** The uint32 key id, as a number. */
  readonly keyId: number;
  readonly type: number;
  /** Whether `signature` (without its 4-byte key id) signs `text`. */
  verify(text: Buffer, signature: Buffer): boolean;
}

export interface NoteSigner {
  readonly name: string;
  readonly keyId: number;
  readonly type: number;
  readonly verifier: NoteVerifier;
  /** The signature without its key id; a cosigner needs the POSIX time it signs at. */
  sign(text: Buffer, time?: number): Buffer;
}

/** One signature line, parsed. */
export interface NoteSignature {
  readonly name: string;
  readonly keyId: number;
  /** The signature without its key id. */
  readonly signature: Buffer;
  /** The line as written, without its newline. */
  readonly line: string;
}

export interface VerifiedSignature extends NoteSignature {
  readonly type: number;
  /** For cosignatures: the POSIX time the witness signed at. */
  readonly time?: number;
}

export interface OpenedNote {
  /** The signed text, with its final newline. */
  readonly text: string;
  /** Signatures by known keys, all verified, in note order (a key's repeats once). */
  readonly verified: readonly VerifiedSignature[];
  /** Signatures by keys not in the list, left unchecked as the spec requires. */
  readonly unverified: readonly NoteSignature[];
}

export type NoteCheck = { ok: true; note: OpenedNote } | { ok: false; reason: string };

function malformed(message: string): TrailkeepError {
  return new TrailkeepError('bad_request', message);
}

/** Key names are non-empty, without Unicode spaces or plus signs. */
export function isValidKeyName(name: string): boolean {
  return name.length > 0 && name.isWellFormed() && !/[\p{White_Space}+]/u.test(name);
}

/** What the note format forbids anywhere: ASCII control characters other than newline. */
function textProblem(text: string): string | undefined {
  if (!text.isWellFormed()) return 'it is not valid UTF-8';
  // eslint-disable-next-line no-control-regex -- finding control characters is the point
  if (/[\u0000-\u0009\u000b-\u001f]/.test(text)) {
    return 'it holds a control character other than newline';
  }
  return undefined;
}

export function noteKeyId(name: string, type: number, publicKey: Uint8Array): number {
  const input = Buffer.concat([Buffer.from(`${name}\n`, 'utf8'), Buffer.from([type]), publicKey]);
  return digest('sha256', input, 'buffer').readUInt32BE(0);
}

function hexKeyId(keyId: number): string {
  return keyId.toString(16).padStart(8, '0');
}

function ed25519PublicKey(raw: Uint8Array): KeyObject {
  return createPublicKey({ key: Buffer.concat([SPKI_ED25519, raw]), format: 'der', type: 'spki' });
}

function ed25519PrivateKey(seed: Uint8Array): KeyObject {
  return createPrivateKey({
    key: Buffer.concat([PKCS8_ED25519, seed]),
    format: 'der',
    type: 'pkcs8',
  });
}

function rawPublicKey(privateKey: KeyObject): Buffer {
  const der = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
  return Buffer.from(der.subarray(SPKI_ED25519.length));
}

/** The message a v1 cosignature signs. */
export function cosignatureMessage(text: Buffer, time: bigint | number): Buffer {
  return Buffer.concat([Buffer.from(`cosignature/v1\ntime ${time}\n`, 'utf8'), text]);
}

/** The time a cosignature carries, or undefined when it is not one (72 bytes, time < 2^63). */
export function cosignatureTime(signature: Uint8Array): number | undefined {
  if (signature.length !== TIMESTAMP_SIZE + ED25519_SIGNATURE_SIZE) return undefined;
  const time = Buffer.from(signature).readBigUInt64BE(0);
  // Seconds beyond 2^53 are 285 million years away: treat them as the malformed value they are.
  if (time > MAX_TIMESTAMP || time > BigInt(Number.MAX_SAFE_INTEGER)) return undefined;
  return Number(time);
}

function makeVerifier(name: string, type: number, publicKey: Buffer): NoteVerifier {
  if (!isValidKeyName(name)) throw malformed(`${quote(name)} is not a valid key name`);
  if (type !== SIGNATURE_ED25519 && type !== SIGNATURE_COSIGNATURE_V1) {
    throw malformed(`signature type 0x${type.toString(16).padStart(2, '0')} is not supported`);
  }
  if (publicKey.length !== ED25519_SIZE) {
    throw malformed(`an Ed25519 public key has ${ED25519_SIZE} bytes, not ${publicKey.length}`);
  }
  const key = ed25519PublicKey(publicKey);
  const keyId = noteKeyId(name, type, publicKey);
  if (type === SIGNATURE_ED25519) {
    return {
      name,
      keyId,
      type,
      verify: (text, signature) =>
        signature.length === ED25519_SIGNATURE_SIZE && verify(null, text, key, signature),
    };
  }
  return {
    name,
    keyId,
    type,
    verify(text, signature) {
      const time = cosignatureTime(signature);
      if (time === undefined) return false;
      const message = cosignatureMessage(text, time);
      return verify(null, message, key, signature.subarray(TIMESTAMP_SIZE));
    },
  };
}

/** A verifier for a raw Ed25519 public key. */
export function noteVerifier(
  name: string,
  publicKey: Uint8Array,
  type: number = SIGNATURE_ED25519,
): NoteVerifier {
  return makeVerifier(name, type, Buffer.from(publicKey));
}

/** <name>+<hex key id>+<base64(type ‖ public key)> */
export function formatVerifierKey(verifier: NoteVerifier, publicKey: Uint8Array): string {
  const key = Buffer.concat([Buffer.from([verifier.type]), publicKey]).toString('base64');
  return `${verifier.name}+${hexKeyId(verifier.keyId)}+${key}`;
}

function splitKey(text: string, what: string): { name: string; id: string; key: Buffer } {
  // Only the first two plus signs separate: base64 has its own.
  const first = text.indexOf('+');
  const second = text.indexOf('+', first + 1);
  if (first < 0 || second < 0) throw malformed(`a ${what} has three parts separated by "+"`);
  const name = text.slice(0, first);
  const id = text.slice(first + 1, second);
  const key64 = text.slice(second + 1);
  if (!isValidKeyName(name)) throw malformed(`${quote(name)} is not a valid key name`);
  if (!/^[0-9a-f]{8}$/.test(id))
    throw malformed(`the key id of a ${what} is 8 lower-case hex digits`);
  const key = decodeBase64(key64);
  if (key === undefined || key.length < 1) throw malformed(`the key of a ${what} is not base64`);
  return { name, id, key };
}

/** Parses a verifier key (vkey), checking that its id is the one its name and key give. */
export function parseVerifierKey(vkey: string): NoteVerifier {
  const { name, id, key } = splitKey(vkey, 'verifier key');
  const verifier = makeVerifier(name, key[0]!, key.subarray(1));
  if (hexKeyId(verifier.keyId) !== id) {
    throw malformed(`the verifier key's id ${id} does not match its name and key`);
  }
  return verifier;
}

const SIGNER_PREFIX = 'PRIVATE+KEY+';

/**
 * Parses a signer key: PRIVATE+KEY+<name>+<hex key id>+<base64(type ‖ Ed25519 seed)>, the form
 * Go's note package writes for type 0x01; a cosigner's key is written the same way with 0x04.
 */
export function parseSignerKey(skey: string): NoteSigner {
  if (!skey.startsWith(SIGNER_PREFIX)) {
    throw malformed(`a signer key starts with "${SIGNER_PREFIX}"`);
  }
  const { name, id, key } = splitKey(skey.slice(SIGNER_PREFIX.length), 'signer key');
  const seed = key.subarray(1);
  if (seed.length !== ED25519_SIZE) {
    throw malformed(`an Ed25519 private key has ${ED25519_SIZE} bytes, not ${seed.length}`);
  }
  const privateKey = ed25519PrivateKey(seed);
  const type = key[0]!;
  const verifier = makeVerifier(name, type, rawPublicKey(privateKey));
  if (hexKeyId(verifier.keyId) !== id) {
    throw malformed(`the signer key's id ${id} does not match its name and key`);
  }
  return {
    name,
    keyId: verifier.keyId,
    type,
    verifier,
    sign(text, time) {
      if (type === SIGNATURE_ED25519) return sign(null, text, privateKey);
      if (time === undefined || !Number.isSafeInteger(time) || time < 0) {
        throw new TrailkeepError('internal', 'a cosignature needs a POSIX time in seconds');
      }
      const stamp = Buffer.alloc(TIMESTAMP_SIZE);
      stamp.writeBigUInt64BE(BigInt(time));
      return Buffer.concat([stamp, sign(null, cosignatureMessage(text, time), privateKey)]);
    },
  };
}

export interface NoteKeyPair {
  /** PRIVATE+KEY+…: keep it secret. */
  readonly signerKey: string;
  readonly verifierKey: string;
}

/** A new key (or the one a given 32-byte seed determines) in signer and verifier key form. */
export function generateNoteKey(
  name: string,
  type: number = SIGNATURE_ED25519,
  seed: Uint8Array = randomBytes(ED25519_SIZE),
): NoteKeyPair {
  if (seed.length !== ED25519_SIZE) {
    throw new TrailkeepError('internal', `an Ed25519 seed has ${ED25519_SIZE} bytes`);
  }
  const publicKey = rawPublicKey(ed25519PrivateKey(seed));
  const verifier = makeVerifier(name, type, publicKey);
  const id = hexKeyId(verifier.keyId);
  const secret = Buffer.concat([Buffer.from([type]), seed]).toString('base64');
  return {
    signerKey: `${SIGNER_PREFIX}${name}+${id}+${secret}`,
    verifierKey: formatVerifierKey(verifier, publicKey),
  };
}

/** Parses one signature line (without its newline). */
export function parseSignatureLine(line: string): NoteSignature {
  if (!line.startsWith(SIGNATURE_PREFIX)) {
    throw malformed('a signature line starts with "\u2014 " (em dash, space)');
  }
  const rest = line.slice(SIGNATURE_PREFIX.length);
  const space = rest.indexOf(' ');
  const name = space < 0 ? '' : rest.slice(0, space);
  if (!isValidKeyName(name)) throw malformed('a signature line names no valid key');
  const bytes = decodeBase64(rest.slice(space + 1));
  if (bytes === undefined || bytes.length < 5) {
    throw malformed(`the signature of ${quote(name)} is not base64 of a key id and a signature`);
  }
  return { name, keyId: bytes.readUInt32BE(0), signature: bytes.subarray(4), line };
}

function signatureLine(name: string, keyId: number, signature: Buffer): string {
  const id = Buffer.alloc(4);
  id.writeUInt32BE(keyId);
  return `${SIGNATURE_PREFIX}${name} ${Buffer.concat([id, signature]).toString('base64')}`;
}

function noteString(note: string | Uint8Array): string {
  if (typeof note === 'string') return note;
  try {
    // ignoreBOM keeps a leading U+FEFF in the text, where a decoder would silently drop it.
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(note);
  } catch {
    throw malformed('the note is not valid UTF-8');
  }
}

/** Splits a note into its text and signature lines, checking the format but no signature. */
export function parseNote(note: string | Uint8Array): {
  text: string;
  signatures: NoteSignature[];
} {
  const value = noteString(note);
  const problem = textProblem(value);
  if (problem !== undefined) throw malformed(`the note is malformed: ${problem}`);
  const split = value.lastIndexOf('\n\n');
  if (split < 0) throw malformed('the note has no blank line before its signatures');
  const text = value.slice(0, split + 1);
  const block = value.slice(split + 2);
  if (block.length === 0 || !block.endsWith('\n')) {
    throw malformed('the note must end with signature lines, each ending in a newline');
  }
  const lines = block.slice(0, -1).split('\n');
  if (lines.length > MAX_NOTE_SIGNATURES) {
    throw malformed(`the note has more than ${MAX_NOTE_SIGNATURES} signatures`);
  }
  return { text, signatures: lines.map(parseSignatureLine) };
}

/** Checks a note text for signing: non-empty, newline-terminated, no control characters. */
function checkText(text: string): void {
  if (text.length === 0 || !text.endsWith('\n')) {
    throw malformed('a note text is non-empty and ends with a newline');
  }
  const problem = textProblem(text);
  if (problem !== undefined) throw malformed(`the note text is malformed: ${problem}`);
}

/** Signs `text` with each signer; `time` (POSIX seconds) is needed by cosigners. */
export function signatureLines(
  text: string,
  signers: readonly NoteSigner[],
  time?: number,
): string[] {
  checkText(text);
  const bytes = Buffer.from(text, 'utf8');
  return signers.map((s) => signatureLine(s.name, s.keyId, s.sign(bytes, time)));
}

export function signNote(text: string, signers: readonly NoteSigner[], time?: number): string {
  if (signers.length === 0) throw new TrailkeepError('internal', 'a note needs a signer');
  return `${text}\n${signatureLines(text, signers, time).join('\n')}\n`;
}

/** Adds signature lines (e.g. a witness's cosignatures) to a signed note, after its own. */
export function addSignatures(note: string, lines: readonly string[]): string {
  const { text, signatures } = parseNote(note);
  const added = lines.map((line) => parseSignatureLine(line).line);
  if (signatures.length + added.length > MAX_NOTE_SIGNATURES) {
    throw malformed(`a note holds at most ${MAX_NOTE_SIGNATURES} signatures`);
  }
  return `${text}\n${[...signatures.map((s) => s.line), ...added].join('\n')}\n`;
}

/**
 * Opens a note: parses it, verifies every signature whose key name and id match a verifier,
 * ignores the rest. Fails when the note is malformed, when a known key's signature does not
 * verify, or when no known key signed.
 */
export function openNote(note: string | Uint8Array, verifiers: readonly NoteVerifier[]): NoteCheck {
  let parsed: { text: string; signatures: NoteSignature[] };
  try {
    parsed = parseNote(note);
  } catch (error) {
    return { ok: false, reason: (error as Error).message };
  }
  const text = Buffer.from(parsed.text, 'utf8');
  const verified: VerifiedSignature[] = [];
  const unverified: NoteSignature[] = [];
  const seen = new Set<NoteVerifier>();
  for (const sig of parsed.signatures) {
    const matches = verifiers.filter((v) => v.name === sig.name && v.keyId === sig.keyId);
    if (matches.length > 1) {
      return { ok: false, reason: `two verifiers share key name ${quote(sig.name)} and id` };
    }
    const verifier = matches[0];
    if (verifier === undefined) {
      if (!unverified.some((u) => u.line === sig.line)) unverified.push(sig);
      continue;
    }
    if (!verifier.verify(text, sig.signature)) {
      return {
        ok: false,
        reason: `the signature by ${quote(sig.name)} (${hexKeyId(sig.keyId)}) does not verify`,
      };
    }
    if (seen.has(verifier)) continue;
    seen.add(verifier);
    const time =
      verifier.type === SIGNATURE_COSIGNATURE_V1 ? cosignatureTime(sig.signature) : undefined;
    verified.push(
      time === undefined ? { ...sig, type: verifier.type } : { ...sig, type: verifier.type, time },
    );
  }
  if (verified.length === 0) return { ok: false, reason: 'no known key signed the note' };
  return { ok: true, note: { text: parsed.text, verified, unverified } };
}
