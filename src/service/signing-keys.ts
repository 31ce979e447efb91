/**
 * The checkpoint signing keys, kept OUTSIDE the database: whoever can write the database must
 * not also be able to sign a checkpoint for a rewritten history. One signer key (C2SP note form,
 * PRIVATE+KEY+<name>+<id>+<base64(0x01 ‖ seed)>) signs; retired verifier keys
 * (<name>+<id>+<base64(0x01 ‖ public key)>) only verify, so checkpoints from before a rotation
 * keep verifying. Where the key text comes from: --signing-key-file, else TRAILKEEP_SIGNING_KEY,
 * else the default file beside the data directory (written, mode 0600, on a first start).
 */
import { createPrivateKey, createPublicKey, randomBytes } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  SIGNATURE_ED25519,
  generateNoteKey,
  isValidKeyName,
  parseSignerKey,
  parseVerifierKey,
  type NoteSigner,
} from '../core/tlog/note.js';
import type { Store } from '../store/store.js';

export const SIGNING_KEY_ENV = 'TRAILKEEP_SIGNING_KEY';
export const DEFAULT_KEY_NAME = 'localhost';
const SIGNER_PREFIX = 'PRIVATE+KEY+';
// The fixed DER around a raw Ed25519 key (RFC 8410): the JSON checkpoints sign with PEM keys.
const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_ED25519 = Buffer.from('302a300506032b6570032100', 'hex');
/**
 * Set once per database, the first time keys are loaded outside it: "<nonce> <vkey>". From then
 * on the old in-database key is never exported again, so a copy of the database on a machine
 * without the key file cannot bring the old key back into use.
 */
const MOVED_MARKER = 'checkpoint_key_outside';

export class SigningKeyError extends Error {
  override readonly name = 'SigningKeyError';
}

export interface SigningKeys {
  readonly signer: NoteSigner;
  /** The current key's verifier key. */
  readonly verifierKey: string;
  /** Retired verifier keys: they verify, never sign. */
  readonly retired: readonly string[];
  /** PEM forms for the JSON checkpoints. */
  readonly privatePem: string;
  readonly publicPem: string;
  /** SPKI PEM of the current key and every retired one. */
  readonly trustedPublicPems: readonly string[];
}

/** The raw 32 bytes after the type byte of a (parsed, so well-formed) key's base64 part. */
export function rawKey(text: string): Buffer {
  const key = text.startsWith(SIGNER_PREFIX) ? text.slice(SIGNER_PREFIX.length) : text;
  // Only the first two plus signs separate: base64 has its own.
  const second = key.indexOf('+', key.indexOf('+') + 1);
  return Buffer.from(key.slice(second + 1), 'base64').subarray(1);
}

function spkiPem(raw: Uint8Array): string {
  return createPublicKey({ key: Buffer.concat([SPKI_ED25519, raw]), format: 'der', type: 'spki' })
    .export({ type: 'spki', format: 'pem' })
    .toString();
}

/** A verifier key; throws a one-line SigningKeyError naming `where` when it is malformed. */
export function checkVerifierKey(vkey: string, where: string): string {
  try {
    const verifier = parseVerifierKey(vkey);
    if (verifier.type !== SIGNATURE_ED25519) throw new Error('it is not an Ed25519 (0x01) key');
  } catch (error) {
    throw new SigningKeyError(`${where}: not a verifier key: ${(error as Error).message}`);
  }
  return vkey;
}

/**
 * Parses key-file text: exactly one PRIVATE+KEY line and any number of retired verifier keys,
 * one per line; blank lines and lines starting with # are ignored.
 */
export function parseKeyText(
  text: string,
  where: string,
  extraVerifiers: readonly string[] = [],
): SigningKeys {
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  const signerLines = lines.filter((l) => l.startsWith(SIGNER_PREFIX));
  if (signerLines.length !== 1) {
    throw new SigningKeyError(
      `${where}: expected exactly one signer key line (PRIVATE+KEY+...), found ${signerLines.length}`,
    );
  }
  const signerLine = signerLines[0]!;
  let signer: NoteSigner;
  try {
    signer = parseSignerKey(signerLine);
  } catch (error) {
    throw new SigningKeyError(`${where}: not a signer key: ${(error as Error).message}`);
  }
  if (signer.type !== SIGNATURE_ED25519) {
    throw new SigningKeyError(`${where}: the signer key is not an Ed25519 (0x01) key`);
  }
  const seed = rawKey(signerLine);
  const privateKey = createPrivateKey({
    key: Buffer.concat([PKCS8_ED25519, seed]),
    format: 'der',
    type: 'pkcs8',
  });
  const publicPem = createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }).toString();
  const verifierKey = generateNoteKey(signer.name, SIGNATURE_ED25519, seed).verifierKey;
  const retired = [
    ...lines.filter((l) => !l.startsWith(SIGNER_PREFIX)).map((l) => checkVerifierKey(l, where)),
    ...extraVerifiers.map((v) => checkVerifierKey(v, '--verifier-key')),
  ].filter((v, i, all) => v !== verifierKey && all.indexOf(v) === i);
  return {
    signer,
    verifierKey,
    retired,
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicPem,
    trustedPublicPems: [publicPem, ...retired.map((v) => spkiPem(rawKey(v)))],
  };
}

/** Throwaway keys for a service opened without any (tests, library use): they sign nothing kept. */
export function ephemeralKeys(): SigningKeys {
  return parseKeyText(newKeyFileText(DEFAULT_KEY_NAME), 'a new key');
}

/** A new signer key file's text. */
export function newKeyFileText(name: string, seed?: Uint8Array): string {
  if (!isValidKeyName(name)) {
    throw new SigningKeyError(
      `"${name}" is not a valid key name (printable, no spaces or "+"): use the public host name`,
    );
  }
  const { signerKey, verifierKey } = generateNoteKey(name, SIGNATURE_ED25519, seed);
  return (
    `# Trailkeep checkpoint signing key. Keep it secret, and outside the database's backups.\n` +
    `# Verifier key (public): ${verifierKey}\n` +
    `# Retired verifier keys may follow, one per line: they verify old checkpoints, never sign.\n` +
    `${signerKey}\n`
  );
}

/** Where a key file goes by default: beside the data directory, not in it (see docs/integrity.md). */
export function defaultKeyFile(db: string): string {
  if (db.startsWith('sqlite:')) {
    const file = path.resolve(db.slice('sqlite:'.length));
    const dataDir = path.dirname(file);
    return path.join(path.dirname(dataDir), `${path.basename(dataDir)}.signing-key`);
  }
  return path.resolve('trailkeep.signing-key');
}

export interface LoadOptions {
  /** --signing-key-file: must exist. */
  file?: string | undefined;
  /** The TRAILKEEP_SIGNING_KEY text, when set and non-empty. */
  envText?: string | undefined;
  /** Where to read, or on a first start write, the key when neither is given. */
  defaultFile: string;
  /** --verifier-key values: retired keys given on the command line. */
  verifierKeys?: readonly string[];
  /** The key name for a new key. */
  name?: string;
}

export interface LoadedKeys {
  keys: SigningKeys;
  /** What happened, for the operator: undefined when an existing key was simply loaded. */
  notice?: string;
}

/** A key file's text, refusing one that other accounts can read. */
export async function readKeyFile(file: string): Promise<string> {
  try {
    const info = await stat(file);
    // A key readable by other accounts is not a secret; refuse rather than sign with it.
    if (process.platform !== 'win32' && (info.mode & 0o077) !== 0) {
      throw new SigningKeyError(
        `signing key file ${file} is readable by other users (mode ${(info.mode & 0o777).toString(8)}); run chmod 600 ${file}`,
      );
    }
    return await readFile(file, 'utf8');
  } catch (error) {
    if (error instanceof SigningKeyError) throw error;
    throw new SigningKeyError(`cannot read signing key file ${file}: ${(error as Error).message}`);
  }
}

export async function writeKeyFile(file: string, text: string): Promise<void> {
  // wx: never overwrite a key; 0600: only this account may read it.
  await writeFile(file, text, { flag: 'wx', mode: 0o600 });
}

function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return false;
      throw error;
    },
  );
}

/** The marker value this process proposes; unique, so winning the set-once write is provable. */
function marker(vkey: string): string {
  return `${randomBytes(12).toString('hex')} ${vkey}`;
}

function markedVkey(value: string): string | undefined {
  const vkey = value.split(' ')[1];
  return vkey === undefined || vkey === '' ? undefined : vkey;
}

/**
 * Loads the signing keys: flag file, else env text, else the default file; with none, moves a
 * key still in the database out into the default file once, or creates a new key file.
 */
export async function loadSigningKeys(store: Store, options: LoadOptions): Promise<LoadedKeys> {
  const extra = options.verifierKeys ?? [];
  if (options.file !== undefined) {
    const text = await readKeyFile(options.file);
    return configured(store, parseKeyText(text, `signing key file ${options.file}`, extra));
  }
  if (options.envText !== undefined && options.envText.trim() !== '') {
    return configured(store, parseKeyText(options.envText, SIGNING_KEY_ENV, extra));
  }
  const file = options.defaultFile;
  if (await exists(file)) {
    return configured(
      store,
      parseKeyText(await readKeyFile(file), `signing key file ${file}`, extra),
    );
  }
  try {
    return await firstKey(store, file, options.name, extra);
  } catch (error) {
    // Another process starting at the same moment wrote the file first: use its key.
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return configured(
      store,
      parseKeyText(await readKeyFile(file), `signing key file ${file}`, extra),
    );
  }
}

/** No key file yet: move an old in-database key out once, or create a new key. */
async function firstKey(
  store: Store,
  file: string,
  name: string | undefined,
  extra: readonly string[],
): Promise<LoadedKeys> {
  // No key anywhere outside the database. The old release wrote both PEM rows; probing the
  // public one with '' is harmless to an old reader, which derives the public key itself.
  const oldPublic = await store.ensureSecret('checkpoint_public_key', '');
  if (oldPublic !== '') {
    const oldPem = await store.ensureSecret('checkpoint_private_key', '');
    const seed = oldSeed(oldPem);
    if (seed !== undefined) {
      const text = newKeyFileText(name ?? DEFAULT_KEY_NAME, seed);
      const keys = parseKeyText(text, file, extra);
      // Claim the move before writing the file: of two processes (or a copy of this database
      // started elsewhere) only the one that set the marker ever writes the old key out.
      const proposed = marker(keys.verifierKey);
      const won = await store.ensureSecret(MOVED_MARKER, proposed);
      if (won === proposed) {
        await writeKeyFile(file, text);
        return {
          keys,
          notice:
            `Moved the checkpoint signing key out of the database into ${file} (mode 0600). ` +
            `Same key, so earlier checkpoints keep verifying. Verifier key: ${keys.verifierKey}`,
        };
      }
      // The key was moved out of this database before, elsewhere: this is a copy. Never revive it.
      const created = await createKey(file, name, extra);
      return {
        keys: created,
        notice:
          `This database's signing key was moved out of it before (verifier key ${markedVkey(won) ?? '?'}), ` +
          `and ${file} does not exist: created a NEW signing key there (mode 0600). ` +
          `Verifier key: ${created.verifierKey}`,
      };
    }
  }
  const keys = await createKey(file, name, extra);
  const won = await store.ensureSecret(MOVED_MARKER, marker(keys.verifierKey));
  const previous = markedVkey(won);
  return {
    keys,
    notice:
      `Created a new checkpoint signing key in ${file} (mode 0600); keep it secret and back it up apart from the database. ` +
      `Verifier key: ${keys.verifierKey}` +
      (previous !== undefined && previous !== keys.verifierKey
        ? `. This database was signed before by ${previous}: pass it as a retired key to verify older checkpoints`
        : ''),
  };
}

/**
 * A configured key on a database seen for the first time: marks the database as moved out, and
 * names an old in-database key it leaves unused, so its checkpoints can still be verified.
 */
async function configured(store: Store, keys: SigningKeys): Promise<LoadedKeys> {
  const proposed = marker(keys.verifierKey);
  if ((await store.ensureSecret(MOVED_MARKER, proposed)) !== proposed) return { keys };
  if ((await store.ensureSecret('checkpoint_public_key', '')) === '') return { keys };
  const seed = oldSeed(await store.ensureSecret('checkpoint_private_key', ''));
  if (seed === undefined) return { keys };
  const old = generateNoteKey(keys.signer.name, SIGNATURE_ED25519, seed).verifierKey;
  if (old === keys.verifierKey || keys.retired.includes(old)) return { keys };
  return {
    keys,
    notice:
      `this database holds the signing key of an earlier release, which is not used from now on. ` +
      `To keep verifying the checkpoints it signed, add its verifier key to the key file as a retired key: ${old}`,
  };
}

async function createKey(
  file: string,
  name: string | undefined,
  extra: readonly string[],
): Promise<SigningKeys> {
  const text = newKeyFileText(name ?? DEFAULT_KEY_NAME);
  const keys = parseKeyText(text, file, extra);
  await writeKeyFile(file, text);
  return keys;
}

/** The Ed25519 seed of the old in-database PKCS#8 PEM key, or undefined when there is none. */
function oldSeed(pem: string): Buffer | undefined {
  if (pem === '') return undefined;
  try {
    const der = createPrivateKey(pem).export({ type: 'pkcs8', format: 'der' });
    if (der.length !== PKCS8_ED25519.length + 32) return undefined;
    return der.subarray(PKCS8_ED25519.length);
  } catch {
    return undefined;
  }
}
