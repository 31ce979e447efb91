/**
 * `trailkeep audit --export FILE`: every event of a Trailkeep export (JSON or NDJSON, one event
 * per line as the export writes it) must be in the rebuilt log at its seq. Its content is hashed
 * again (docs/export.md: the members but `prev_hash` and `hash` are the sealed body), so an
 * event edited in the file fails as surely as one the log no longer holds; the hash must be the
 * log's entry seq − 1; an inclusion proof the row carries must verify against a checkpoint of
 * this same history.
 */
import { hashLink } from '../core/chain.js';
import { canonicalJson } from '../core/canonical.js';
import { PROOF_COLUMN } from '../core/export-format.js';
import { scanJsonText } from '../core/json-text.js';
import { openCheckpoint, type CheckpointOpen } from '../core/tlog/checkpoint.js';
import { eventLeafHash, verifyInclusion } from '../core/tlog/merkle.js';
import type { NoteVerifier } from '../core/tlog/note.js';
import { parseTlogProof } from '../core/tlog/proof.js';
import { cappedLines, MonitorError, type RebuiltTree } from './audit.js';

export interface ExportKeys {
  readonly origin: string;
  readonly logKeys: readonly NoteVerifier[];
  readonly witnessKeys: readonly NoteVerifier[];
}

export interface ExportCheck {
  /** Events read from the export. */
  readonly events: number;
  /** Inclusion proofs among them that verified. */
  readonly proofs: number;
  readonly problems: readonly string[];
}

/** Members the export adds to the sealed body. */
const NOT_HASHED = ['prev_hash', 'hash', PROOF_COLUMN];
const HEX_HASH = /^[0-9a-f]{64}$/;

interface Row {
  readonly seq: number;
  readonly hash: string;
  readonly label: string;
  readonly body: string;
  readonly prevHash: string;
  readonly proof?: unknown;
}

/** One export line as an event row; the line is the user's file, so its faults exit 2. */
function parseRow(text: string, line: number): Row {
  const bad = (why: string): MonitorError =>
    new MonitorError(`export line ${line} is not an exported event: ${why}`);
  const problem = scanJsonText(text).problem;
  if (problem !== undefined) throw bad(`${problem.path} ${problem.message}`);
  const value: unknown = JSON.parse(text);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw bad('it is not a JSON object');
  }
  const record = value as Record<string, unknown>;
  const own = (name: string): unknown => (Object.hasOwn(record, name) ? record[name] : undefined);
  const seq = own('seq');
  const hash = own('hash');
  const prevHash = own('prev_hash');
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 1) {
    throw bad('its "seq" is not a whole number >= 1');
  }
  if (typeof hash !== 'string' || !HEX_HASH.test(hash)) throw bad('it has no 64-hex "hash"');
  if (typeof prevHash !== 'string' || !HEX_HASH.test(prevHash)) {
    throw bad('it has no 64-hex "prev_hash"');
  }
  const id = own('id');
  // null: the event came after the export's checkpoint, which cannot cover it.
  const proof =
    Object.hasOwn(record, PROOF_COLUMN) && record[PROOF_COLUMN] !== null
      ? { proof: record[PROOF_COLUMN] }
      : {};
  for (const name of NOT_HASHED) Reflect.deleteProperty(record, name);
  return {
    seq,
    hash,
    prevHash,
    label: `event seq ${seq}${typeof id === 'string' ? ` (${JSON.stringify(id.slice(0, 80))})` : ''}`,
    body: canonicalJson(record),
    ...proof,
  };
}

/** The text of one event, or undefined for the lines of a JSON array that hold none. */
function eventText(line: string): string | undefined {
  let text = line.trim();
  if (text === '' || text === '[' || text === ']' || text === '[]') return undefined;
  if (text.endsWith(',')) text = text.slice(0, -1);
  return text;
}

export async function checkExport(
  lines: AsyncIterable<string> | Iterable<string>,
  tree: RebuiltTree,
  keys: ExportKeys,
): Promise<ExportCheck> {
  const content: string[] = [];
  const absent: string[] = [];
  const proofProblems: string[] = [];
  // Each export carries the same few checkpoints over and over: verify each note once.
  const opened = new Map<string, CheckpointOpen>();
  let events = 0;
  let proofs = 0;
  let line = 0;
  for await (const raw of lines) {
    line += 1;
    const text = eventText(raw);
    if (text === undefined) continue;
    const row = parseRow(text, line);
    events += 1;
    const where = `export line ${line}: ${row.label}`;
    if (hashLink(row.prevHash, row.body) !== row.hash) {
      content.push(`${where} does not hash to its "hash": it was changed after it was sealed`);
      continue;
    }
    const leaf = eventLeafHash(row.hash);
    if (row.seq > tree.size) {
      absent.push(`${where} is not in the log, which holds ${tree.size} events`);
      continue;
    }
    if (!leaf.equals(tree.leaves[row.seq - 1]!)) {
      absent.push(
        `${where} is not the log's entry ${row.seq - 1}: the log holds another event there`,
      );
      continue;
    }
    if (!Object.hasOwn(row, 'proof')) continue;
    const failed = proofProblem(row, leaf, tree, keys, opened);
    if (failed === undefined) proofs += 1;
    else proofProblems.push(`${where}: ${failed}`);
  }
  return {
    events,
    proofs,
    problems: [
      ...cappedLines(content, 'altered events'),
      ...cappedLines(absent, 'events not in the log'),
      ...cappedLines(proofProblems, 'proofs that fail'),
    ],
  };
}

function proofProblem(
  row: Row,
  leaf: Buffer,
  tree: RebuiltTree,
  keys: ExportKeys,
  opened: Map<string, CheckpointOpen>,
): string | undefined {
  if (typeof row.proof !== 'string') return 'its "proof" is not a tlog-proof text';
  let proof;
  try {
    proof = parseTlogProof(row.proof);
  } catch (error) {
    return (error as Error).message;
  }
  let open = opened.get(proof.checkpoint);
  if (open === undefined) {
    open = openCheckpoint(proof.checkpoint, keys);
    opened.set(proof.checkpoint, open);
  }
  if (!open.ok) return `the checkpoint of its proof is refused: ${open.reason}`;
  const { size, root } = open.value.checkpoint;
  if (proof.index !== row.seq - 1)
    return `its proof is for entry ${proof.index}, not ${row.seq - 1}`;
  if (!verifyInclusion(proof.index, size, leaf, proof.proof, root)) {
    return `its inclusion proof does not lead to the root of its checkpoint (size ${size})`;
  }
  // The proof's checkpoint must be one of this history's, not of a fork shown only to the export.
  if (size > tree.size) {
    return `its proof's checkpoint holds ${size} events, more than the log's ${tree.size}`;
  }
  if (!tree.rootAt(size).equals(root)) {
    return `its proof's checkpoint (size ${size}) is not a checkpoint of the log's history`;
  }
  return undefined;
}
