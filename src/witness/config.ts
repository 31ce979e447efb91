/**
 * What a witness is told at start: its own cosigner key (a file it creates, mode 0600, on the
 * first start) and the logs it follows (origin and the log's verifier keys, from --log flags or
 * a small file). Every problem is a one-line WitnessConfigError naming where it was found.
 */
import { stat } from 'node:fs/promises';
import {
  SIGNATURE_COSIGNATURE_V1,
  generateNoteKey,
  isValidKeyName,
  parseSignerKey,
  parseVerifierKey,
  type NoteSigner,
  type NoteVerifier,
} from '../core/tlog/note.js';
import { checkVerifierKey, rawKey, readKeyFile, writeKeyFile } from '../service/signing-keys.js';

export class WitnessConfigError extends Error {
  override readonly name = 'WitnessConfigError';
}

const SIGNER_PREFIX = 'PRIVATE+KEY+';

export interface WitnessKey {
  readonly signer: NoteSigner;
  readonly verifierKey: string;
  /** Set when the key was created by this start. */
  readonly created: boolean;
}

function contentLines(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

/** The cosigner key from `text`: exactly one PRIVATE+KEY line of type 0x04. */
export function parseWitnessKey(text: string, where: string): Omit<WitnessKey, 'created'> {
  const lines = contentLines(text).filter((l) => l.startsWith(SIGNER_PREFIX));
  if (lines.length !== 1) {
    throw new WitnessConfigError(
      `${where}: expected exactly one signer key line (PRIVATE+KEY+...), found ${lines.length}`,
    );
  }
  let signer: NoteSigner;
  try {
    signer = parseSignerKey(lines[0]!);
  } catch (error) {
    throw new WitnessConfigError(`${where}: not a signer key: ${(error as Error).message}`);
  }
  if (signer.type !== SIGNATURE_COSIGNATURE_V1) {
    throw new WitnessConfigError(
      `${where}: a witness key is a cosignature v1 key (type 0x04), not a log signing key`,
    );
  }
  const seed = rawKey(lines[0]!);
  const verifierKey = generateNoteKey(signer.name, SIGNATURE_COSIGNATURE_V1, seed).verifierKey;
  return { signer, verifierKey };
}

/** A new witness key file's text. */
export function newWitnessKeyText(name: string): string {
  if (!isValidKeyName(name)) {
    throw new WitnessConfigError(
      `"${name}" is not a valid key name (printable, no spaces or "+"): use the witness's host name`,
    );
  }
  const { signerKey, verifierKey } = generateNoteKey(name, SIGNATURE_COSIGNATURE_V1);
  return (
    `# Trailkeep witness cosigning key (c2sp.org/tlog-cosignature). Keep it secret.\n` +
    `# Verifier key (public, give it to the logs you witness): ${verifierKey}\n` +
    `${signerKey}\n`
  );
}

/** Reads the key file, or creates it (exclusively, mode 0600) when it does not exist. */
export async function loadWitnessKey(file: string, name: string): Promise<WitnessKey> {
  const present = await stat(file).then(
    () => true,
    (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return false;
      throw new WitnessConfigError(`cannot read witness key file ${file}: ${error.message}`);
    },
  );
  if (!present) {
    const text = newWitnessKeyText(name);
    try {
      await writeKeyFile(file, text);
      return { ...parseWitnessKey(text, `witness key file ${file}`), created: true };
    } catch (error) {
      // Another start wrote it first: use that key.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new WitnessConfigError(
          `cannot write witness key file ${file}: ${(error as Error).message}`,
        );
      }
    }
  }
  let text: string;
  try {
    text = await readKeyFile(file);
  } catch (error) {
    throw new WitnessConfigError((error as Error).message.replace('signing key', 'witness key'));
  }
  return { ...parseWitnessKey(text, `witness key file ${file}`), created: false };
}

function logKey(vkey: string, where: string): NoteVerifier {
  try {
    return parseVerifierKey(checkVerifierKey(vkey, where));
  } catch (error) {
    throw new WitnessConfigError((error as Error).message);
  }
}

function checkOrigin(origin: string, where: string): string {
  if (origin === '' || /[\p{White_Space}]/u.test(origin) || !origin.isWellFormed()) {
    throw new WitnessConfigError(`${where}: the origin is one word without spaces`);
  }
  return origin;
}

/**
 * The logs to follow, from `--log ORIGIN=VKEY` values and the lines "<origin> <vkey>" of a logs
 * file (# comments). An origin may be given several keys (a log's rotation).
 */
export function parseLogs(
  flags: readonly string[],
  fileText?: { text: string; where: string },
): Map<string, NoteVerifier[]> {
  const logs = new Map<string, NoteVerifier[]>();
  const add = (origin: string, vkey: string, where: string): void => {
    const key = logKey(vkey, where);
    const keys = logs.get(checkOrigin(origin, where)) ?? [];
    if (!keys.some((k) => k.name === key.name && k.keyId === key.keyId)) keys.push(key);
    logs.set(origin, keys);
  };
  for (const flag of flags) {
    // Origins hold no "=", and a vkey's base64 may end in one: split at the first.
    const at = flag.indexOf('=');
    if (at <= 0) throw new WitnessConfigError(`--log ${flag}: expected ORIGIN=VKEY`);
    add(flag.slice(0, at), flag.slice(at + 1), `--log ${flag.slice(0, at)}`);
  }
  if (fileText !== undefined) {
    fileText.text.split(/\r?\n/).forEach((raw, i) => {
      const line = raw.trim();
      if (line === '' || line.startsWith('#')) return;
      const parts = line.split(/\s+/);
      const where = `${fileText.where} line ${i + 1}`;
      if (parts.length !== 2) throw new WitnessConfigError(`${where}: expected "<origin> <vkey>"`);
      add(parts[0]!, parts[1]!, where);
    });
  }
  return logs;
}
