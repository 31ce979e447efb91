/**
 * Witness cosignatures on the log's checkpoints: which of the stored ones belong on a given
 * note. A cosignature is attached only when it is for exactly this checkpoint (same size and
 * root) and verifies, on this very text, against the key of the witness it is stored for; so a
 * row edited in the database, or one left from before an origin change, is never served.
 */
import { openCheckpoint, parseCheckpoint, type TreeHead } from '../core/tlog/checkpoint.js';
import {
  SIGNATURE_COSIGNATURE_V1,
  addSignatures,
  parseNote,
  parseVerifierKey,
  type NoteVerifier,
} from '../core/tlog/note.js';
import type { WitnessRecord } from '../store/witnesses.js';

/** A witness key from the table: a cosignature v1 key, or undefined. */
export function witnessVerifier(vkey: string): NoteVerifier | undefined {
  try {
    const verifier = parseVerifierKey(vkey);
    return verifier.type === SIGNATURE_COSIGNATURE_V1 ? verifier : undefined;
  } catch {
    return undefined;
  }
}

/** The verified line of `witness` among `lines` added to the log-signed `note`, or undefined. */
export function verifiedCosignature(
  note: string,
  lines: readonly string[],
  witness: NoteVerifier,
  logKey: NoteVerifier,
): string | undefined {
  let head: TreeHead;
  let signed: string;
  try {
    head = parseCheckpoint(parseNote(note).text);
    signed = addSignatures(note, lines);
  } catch {
    return undefined;
  }
  const opened = openCheckpoint(signed, {
    origin: head.origin,
    logKeys: [logKey],
    witnessKeys: [witness],
  });
  if (!opened.ok) return undefined;
  return opened.value.cosignatures.find((c) => c.name === witness.name && c.keyId === witness.keyId)
    ?.line;
}

/** The log-signed `note` with every stored cosignature that is for it and verifies. */
export function withCosignatures(
  note: string,
  witnesses: readonly WitnessRecord[],
  logKey: NoteVerifier,
): { note: string; witnesses: string[] } {
  const head = parseCheckpoint(parseNote(note).text);
  const root = head.root.toString('base64');
  const lines: string[] = [];
  const names: string[] = [];
  for (const w of witnesses) {
    if (w.cosignature === null || w.cosigned_root !== root) continue;
    if (Number(w.cosigned_size) !== head.size) continue;
    const verifier = witnessVerifier(w.vkey);
    if (verifier === undefined) continue;
    const line = verifiedCosignature(note, [w.cosignature], verifier, logKey);
    if (line !== undefined && !lines.includes(line)) {
      lines.push(line);
      names.push(w.name);
    }
  }
  return { note: lines.length === 0 ? note : addSignatures(note, lines), witnesses: names };
}
