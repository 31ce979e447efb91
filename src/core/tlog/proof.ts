/**
 * C2SP tlog-proof (c2sp.org/tlog-proof@v1): an offline-verifiable proof that an entry is in a
 * log, as text:
 *
 *   c2sp.org/tlog-proof@v1
 *   [extra <base64>]
 *   index <leaf index>
 *   <base64 inclusion proof hash, leaf's sibling first>…
 *   <empty line>
 *   <the signed checkpoint, verbatim>
 *
 * For Trailkeep the entry at index seq-1 is the event's chain hash, so a proof binds one event
 * (and, through the chain, every event before it) to a signed, possibly witnessed checkpoint.
 */
import { TrailkeepError } from '../errors.js';
import { openCheckpoint, type OpenedCheckpoint } from './checkpoint.js';
import { HASH_SIZE, verifyInclusion } from './merkle.js';
import { type NoteVerifier } from './note.js';
import { decodeBase64, parseDecimal } from './text.js';

export const TLOG_PROOF_HEADER = 'c2sp.org/tlog-proof@v1';
/** A tree of up to 2^63 leaves needs at most 63 hashes. */
const MAX_PROOF_HASHES = 63;

export interface TlogProof {
  /** Opaque, unauthenticated application data. */
  readonly extra?: Buffer;
  readonly index: number;
  readonly proof: readonly Buffer[];
  /** The signed checkpoint note, verbatim. */
  readonly checkpoint: string;
}

function malformed(message: string): TrailkeepError {
  return new TrailkeepError('bad_request', `the tlog proof is malformed: ${message}`);
}

export function formatTlogProof(proof: TlogProof): string {
  const { extra, index, proof: hashes, checkpoint } = proof;
  if (!Number.isSafeInteger(index) || index < 0) throw malformed('the index is a whole number');
  if (hashes.length > MAX_PROOF_HASHES || hashes.some((h) => h.length !== HASH_SIZE)) {
    throw malformed(
      `the inclusion proof is at most ${MAX_PROOF_HASHES} hashes of ${HASH_SIZE} bytes`,
    );
  }
  const lines = [TLOG_PROOF_HEADER];
  if (extra !== undefined) lines.push(`extra ${extra.toString('base64')}`);
  lines.push(`index ${index}`, ...hashes.map((h) => h.toString('base64')), '');
  return `${lines.join('\n')}\n${checkpoint}`;
}

export function parseTlogProof(text: string): TlogProof {
  let at = 0;
  const nextLine = (): string => {
    const end = text.indexOf('\n', at);
    if (end < 0) throw malformed('it ends before the checkpoint');
    const line = text.slice(at, end);
    at = end + 1;
    return line;
  };
  if (nextLine() !== TLOG_PROOF_HEADER) throw malformed(`the first line is "${TLOG_PROOF_HEADER}"`);
  let line = nextLine();
  let extra: Buffer | undefined;
  if (line.startsWith('extra ')) {
    extra = decodeBase64(line.slice('extra '.length));
    if (extra === undefined) throw malformed('the extra data is not base64');
    line = nextLine();
  }
  const index = line.startsWith('index ') ? parseDecimal(line.slice('index '.length)) : undefined;
  if (index === undefined) {
    throw malformed('an "index <n>" line with a decimal without leading zeros is expected');
  }
  const proof: Buffer[] = [];
  for (line = nextLine(); line !== ''; line = nextLine()) {
    const hash = decodeBase64(line);
    if (hash?.length !== HASH_SIZE) {
      throw malformed(
        `proof line ${proof.length + 1} is not the base64 of a ${HASH_SIZE}-byte hash`,
      );
    }
    if (proof.length === MAX_PROOF_HASHES) {
      throw malformed(`the inclusion proof has more than ${MAX_PROOF_HASHES} hashes`);
    }
    proof.push(hash);
  }
  const checkpoint = text.slice(at);
  if (checkpoint.length === 0) throw malformed('the checkpoint is missing');
  return extra === undefined ? { index, proof, checkpoint } : { extra, index, proof, checkpoint };
}

export type TlogProofCheck =
  | { ok: true; value: OpenedCheckpoint & { index: number; extra?: Buffer } }
  | { ok: false; reason: string };

/**
 * Verifies a tlog proof for the leaf with hash `leaf` (for Trailkeep: eventLeafHash of the
 * event's chain hash): the checkpoint is the log's, for `origin`, every known signature verifies,
 * and the inclusion proof binds the leaf at the proof's index to the checkpoint's root. How many
 * witness cosignatures are enough is the caller's policy: they come back verified.
 */
export function verifyTlogProof(
  text: string,
  leaf: Uint8Array,
  options: {
    origin: string;
    logKeys: readonly NoteVerifier[];
    witnessKeys?: readonly NoteVerifier[];
  },
): TlogProofCheck {
  let parsed: TlogProof;
  try {
    parsed = parseTlogProof(text);
  } catch (error) {
    return { ok: false, reason: (error as Error).message };
  }
  const opened = openCheckpoint(parsed.checkpoint, options);
  if (!opened.ok) return opened;
  const { size, root } = opened.value.checkpoint;
  if (parsed.index >= size) {
    return { ok: false, reason: `index ${parsed.index} is not in the checkpoint's ${size} leaves` };
  }
  if (!verifyInclusion(parsed.index, size, leaf, parsed.proof, root)) {
    return {
      ok: false,
      reason: `the inclusion proof does not bind this entry at index ${parsed.index} to the checkpoint's root`,
    };
  }
  const value = { ...opened.value, index: parsed.index };
  return {
    ok: true,
    value: parsed.extra === undefined ? value : { ...value, extra: parsed.extra },
  };
}
