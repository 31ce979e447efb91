/**
 * C2SP tlog-checkpoint (c2sp.org/tlog-checkpoint): the signed tree head as a note text,
 *
 *   <origin>\n<tree size>\n<base64 root hash>\n[<extension line>\n…]
 *
 * signed by the log and, optionally, cosigned by witnesses (tlog-cosignature).
 */
import { TrailkeepError } from '../errors.js';
import { HASH_SIZE } from './merkle.js';
import { decodeBase64, parseDecimal, quote } from './text.js';
import {
  SIGNATURE_COSIGNATURE_V1,
  openNote,
  signNote,
  type NoteSigner,
  type NoteVerifier,
  type OpenedNote,
  type VerifiedSignature,
} from './note.js';

export interface TreeHead {
  /** The log's identity, e.g. "trailkeep.example/acme". */
  readonly origin: string;
  readonly size: number;
  /** RFC 6962 root of the first `size` leaves. */
  readonly root: Buffer;
  /** Opaque non-empty lines; NOT RECOMMENDED by the spec, kept so a checkpoint round-trips. */
  readonly extensions: readonly string[];
}

function malformed(message: string): TrailkeepError {
  return new TrailkeepError('bad_request', `the checkpoint is malformed: ${message}`);
}

export function formatCheckpoint(head: TreeHead): string {
  const { origin, size, root, extensions } = head;
  if (origin.length === 0 || origin.includes('\n')) {
    throw malformed('the origin is one non-empty line');
  }
  if (!Number.isSafeInteger(size) || size < 0) throw malformed('the size is a whole number >= 0');
  if (root.length !== HASH_SIZE) throw malformed(`the root hash has ${HASH_SIZE} bytes`);
  if (extensions.some((line) => line.length === 0 || line.includes('\n'))) {
    throw malformed('an extension line is one non-empty line');
  }
  return [origin, String(size), root.toString('base64'), ...extensions]
    .map((l) => `${l}\n`)
    .join('');
}

/** Parses a checkpoint's note text (not the signatures: see openCheckpoint). */
export function parseCheckpoint(text: string): TreeHead {
  if (!text.endsWith('\n')) throw malformed('its text ends with a newline');
  const lines = text.slice(0, -1).split('\n');
  const [origin, sizeText, rootText, ...extensions] = lines;
  if (origin === undefined || sizeText === undefined || rootText === undefined) {
    throw malformed('it has at least three lines: origin, size, root hash');
  }
  if (lines.some((line) => line.length === 0)) throw malformed('it has an empty line');
  const size = parseDecimal(sizeText);
  if (size === undefined) {
    throw malformed(
      `the size ${quote(sizeText)} is not a decimal without leading zeros below 2^53`,
    );
  }
  const root = decodeBase64(rootText);
  if (root?.length !== HASH_SIZE) {
    throw malformed(`the root hash is not the base64 of ${HASH_SIZE} bytes`);
  }
  return { origin, size, root, extensions };
}

/** A checkpoint signed by the log's key(s); cosignatures are added by addSignatures. */
export function signCheckpoint(head: TreeHead, signers: readonly NoteSigner[]): string {
  return signNote(formatCheckpoint(head), signers);
}

export interface OpenedCheckpoint {
  readonly checkpoint: TreeHead;
  readonly note: OpenedNote;
  /** The log's verified signatures: at least one. */
  readonly logSignatures: readonly VerifiedSignature[];
  /** The witnesses' verified cosignatures, one per witness key, with their times. */
  readonly cosignatures: readonly VerifiedSignature[];
}

export type CheckpointOpen = { ok: true; value: OpenedCheckpoint } | { ok: false; reason: string };

/**
 * Opens a signed checkpoint: it must be well-formed, carry `origin`, be signed by one of the
 * log's keys, and every signature by a known log or witness key must verify. Which cosignatures
 * are enough is the caller's policy; they are returned verified.
 */
export function openCheckpoint(
  note: string | Uint8Array,
  options: {
    origin: string;
    logKeys: readonly NoteVerifier[];
    witnessKeys?: readonly NoteVerifier[];
  },
): CheckpointOpen {
  const witnessKeys = options.witnessKeys ?? [];
  if (witnessKeys.some((w) => w.type !== SIGNATURE_COSIGNATURE_V1)) {
    throw new TrailkeepError('internal', 'witness keys verify cosignatures (type 0x04)');
  }
  const opened = openNote(note, [...options.logKeys, ...witnessKeys]);
  if (!opened.ok) return opened;
  let checkpoint: TreeHead;
  try {
    checkpoint = parseCheckpoint(opened.note.text);
  } catch (error) {
    return { ok: false, reason: (error as Error).message };
  }
  if (checkpoint.origin !== options.origin) {
    return {
      ok: false,
      reason: `the checkpoint is for origin ${quote(checkpoint.origin)}, not ${quote(options.origin)}`,
    };
  }
  const isLog = (s: VerifiedSignature): boolean =>
    options.logKeys.some((k) => k.name === s.name && k.keyId === s.keyId);
  const logSignatures = opened.note.verified.filter(isLog);
  if (logSignatures.length === 0) {
    return { ok: false, reason: 'no key of the log signed the checkpoint' };
  }
  const cosignatures = opened.note.verified.filter((s) => !isLog(s));
  return { ok: true, value: { checkpoint, note: opened.note, logSignatures, cosignatures } };
}
