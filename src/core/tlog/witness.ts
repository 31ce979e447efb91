/**
 * The pure parts of C2SP tlog-witness (c2sp.org/tlog-witness): the add-checkpoint request body a
 * log sends to a witness, the 409 body that tells the log the witness's size, and the response
 * of cosignature lines.
 *
 *   old <size>\n
 *   <base64 consistency proof hash>\n…   (at most 63)
 *   \n
 *   <signed checkpoint>
 */
import { TrailkeepError } from '../errors.js';
import { HASH_SIZE } from './merkle.js';
import { MAX_NOTE_SIGNATURES, parseSignatureLine, type NoteSignature } from './note.js';
import { decodeBase64, parseDecimal } from './text.js';

const MAX_PROOF_HASHES = 63;

export interface AddCheckpointRequest {
  readonly oldSize: number;
  readonly proof: readonly Buffer[];
  /** The signed checkpoint note, verbatim. */
  readonly checkpoint: string;
}

function malformed(message: string): TrailkeepError {
  return new TrailkeepError('bad_request', `the add-checkpoint body is malformed: ${message}`);
}

export function formatAddCheckpoint(request: AddCheckpointRequest): string {
  const { oldSize, proof, checkpoint } = request;
  if (!Number.isSafeInteger(oldSize) || oldSize < 0)
    throw malformed('the old size is a whole number');
  if (proof.length > MAX_PROOF_HASHES || proof.some((h) => h.length !== HASH_SIZE)) {
    throw malformed(`the proof is at most ${MAX_PROOF_HASHES} hashes of ${HASH_SIZE} bytes`);
  }
  const lines = [`old ${oldSize}`, ...proof.map((h) => h.toString('base64')), ''];
  return `${lines.join('\n')}\n${checkpoint}`;
}

/** Parses a request body; whether the proof and signatures verify is the witness's next step. */
export function parseAddCheckpoint(body: string): AddCheckpointRequest {
  const lines: string[] = [];
  let at = 0;
  for (;;) {
    const end = body.indexOf('\n', at);
    if (end < 0) throw malformed('no empty line ends the consistency proof');
    const line = body.slice(at, end);
    at = end + 1;
    if (line === '') break;
    if (lines.length > MAX_PROOF_HASHES) {
      throw malformed(`more than ${MAX_PROOF_HASHES} consistency proof lines`);
    }
    lines.push(line);
  }
  const [oldLine, ...hashLines] = lines;
  const oldSize =
    oldLine?.startsWith('old ') === true ? parseDecimal(oldLine.slice('old '.length)) : undefined;
  if (oldSize === undefined) {
    throw malformed('the first line is "old <size>", a decimal without leading zeros');
  }
  const proof = hashLines.map((line, i) => {
    const hash = decodeBase64(line);
    if (hash?.length !== HASH_SIZE) {
      throw malformed(`proof line ${i + 1} is not the base64 of a ${HASH_SIZE}-byte hash`);
    }
    return hash;
  });
  const checkpoint = body.slice(at);
  if (checkpoint.length === 0) throw malformed('the checkpoint is missing');
  return { oldSize, proof, checkpoint };
}

/** The body of a 409 answer (Content-Type text/x.tlog.size): the witness's latest size. */
export function formatWitnessSize(size: number): string {
  if (!Number.isSafeInteger(size) || size < 0) {
    throw new TrailkeepError('internal', 'a tree size is a whole number >= 0');
  }
  return `${size}\n`;
}

export function parseWitnessSize(body: string): number {
  const size = body.endsWith('\n') ? parseDecimal(body.slice(0, -1)) : undefined;
  if (size === undefined) {
    throw new TrailkeepError('bad_request', 'a tlog size body is a decimal and a newline');
  }
  return size;
}

/** A 200 answer: one or more signature lines, each ending in a newline. */
export function parseCosignatureResponse(body: string): NoteSignature[] {
  if (body.length === 0 || !body.endsWith('\n')) {
    throw new TrailkeepError('bad_request', 'a witness answers signature lines ending in newlines');
  }
  const lines = body.slice(0, -1).split('\n');
  if (lines.length > MAX_NOTE_SIGNATURES) {
    throw new TrailkeepError(
      'bad_request',
      `a witness answers at most ${MAX_NOTE_SIGNATURES} lines`,
    );
  }
  return lines.map(parseSignatureLine);
}
