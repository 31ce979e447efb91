/**
 * Checkpoints: an Ed25519-signed statement that a workspace's chain had `hash` at `seq` at
 * `time`. An auditor keeps one outside Trailkeep; a later verify against it proves the log still
 * extends that exact history (nothing before `seq` rewritten, nothing after it cut off).
 * The signature covers the RFC 8785 canonical JSON of the four statement fields only.
 */
import {
  createHash,
  createPublicKey,
  createPrivateKey,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';
import { canonicalJson } from './canonical.js';
import { TrailkeepError } from './errors.js';

export interface CheckpointStatement {
  workspace: string;
  seq: number;
  hash: string;
  time: string;
}

export interface SignedCheckpoint extends CheckpointStatement {
  algorithm: 'ed25519';
  /** SPKI PEM of the signing key, so a checkpoint file is self-describing. */
  public_key: string;
  /** First 16 hex digits of sha256 of the key's SPKI DER: a short name to compare keys by. */
  key_id: string;
  /** Base64 Ed25519 signature over canonicalJson(statement). */
  signature: string;
}

const SIGNED_FIELDS = [
  'workspace',
  'seq',
  'hash',
  'time',
  'algorithm',
  'public_key',
  'key_id',
  'signature',
] as const;

/** The exact bytes that are signed. */
export function checkpointMessage(statement: CheckpointStatement): Buffer {
  const { workspace, seq, hash, time } = statement;
  return Buffer.from(canonicalJson({ workspace, seq, hash, time }), 'utf8');
}

function spkiDer(key: KeyObject): Buffer {
  return key.export({ type: 'spki', format: 'der' });
}

export function keyId(publicKey: KeyObject): string {
  return createHash('sha256').update(spkiDer(publicKey)).digest('hex').slice(0, 16);
}

/** Why a statement is malformed, or undefined when it is well-formed. */
function statementProblem(value: Record<string, unknown>): string | undefined {
  if (typeof value.workspace !== 'string' || value.workspace.length === 0) {
    return 'workspace must be a non-empty string';
  }
  if (typeof value.seq !== 'number' || !Number.isSafeInteger(value.seq) || value.seq < 0) {
    return 'seq must be a whole number >= 0';
  }
  if (typeof value.hash !== 'string' || !/^[0-9a-f]{64}$/.test(value.hash)) {
    return 'hash must be 64 lower-case hex digits';
  }
  if (typeof value.time !== 'string' || Number.isNaN(Date.parse(value.time))) {
    return 'time must be an ISO 8601 time';
  }
  return undefined;
}

export function signCheckpoint(
  statement: CheckpointStatement,
  privateKeyPem: string,
  publicKeyPem: string,
): SignedCheckpoint {
  const problem = statementProblem({ ...statement });
  if (problem !== undefined) {
    throw new TrailkeepError('internal', `cannot sign a malformed checkpoint: ${problem}`);
  }
  const privateKey = createPrivateKey(privateKeyPem);
  if (privateKey.asymmetricKeyType !== 'ed25519') {
    throw new TrailkeepError('internal', 'the checkpoint signing key is not an Ed25519 key');
  }
  const publicKey = createPublicKey(publicKeyPem);
  // A mismatched pair would produce checkpoints that never verify: refuse rather than mislead.
  if (!spkiDer(createPublicKey(privateKey)).equals(spkiDer(publicKey))) {
    throw new TrailkeepError(
      'internal',
      'the checkpoint public key does not match the private key',
    );
  }
  const { workspace, seq, hash, time } = statement;
  return {
    workspace,
    seq,
    hash,
    time,
    algorithm: 'ed25519',
    public_key: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    key_id: keyId(publicKey),
    signature: sign(null, checkpointMessage(statement), privateKey).toString('base64'),
  };
}

export type CheckpointCheck =
  { ok: true; checkpoint: SignedCheckpoint } | { ok: false; reason: string };

/**
 * Checks a checkpoint's shape and signature. With `trustedPublicKeyPem`, the checkpoint must
 * also be signed by that key, or one of those keys (the current one and retired ones): a
 * self-signed forgery carries its own key, which proves nothing.
 */
export function verifyCheckpointSignature(
  cp: unknown,
  trustedPublicKeyPem?: string | readonly string[],
): CheckpointCheck {
  if (typeof cp !== 'object' || cp === null || Array.isArray(cp)) {
    return { ok: false, reason: 'a checkpoint must be a JSON object' };
  }
  const value = cp as Record<string, unknown>;
  const unknown = Object.keys(value).filter(
    (k) => !(SIGNED_FIELDS as readonly string[]).includes(k),
  );
  if (unknown.length > 0) {
    return { ok: false, reason: `unexpected field ${unknown.map((k) => `"${k}"`).join(', ')}` };
  }
  const problem = statementProblem(value);
  if (problem !== undefined) return { ok: false, reason: problem };
  if (value.algorithm !== 'ed25519') return { ok: false, reason: 'algorithm must be "ed25519"' };
  if (typeof value.public_key !== 'string') return { ok: false, reason: 'public_key is missing' };
  if (typeof value.key_id !== 'string') return { ok: false, reason: 'key_id is missing' };
  if (typeof value.signature !== 'string' || !/^[A-Za-z0-9+/]+={0,2}$/.test(value.signature)) {
    return { ok: false, reason: 'signature must be base64' };
  }
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey(value.public_key);
  } catch {
    return { ok: false, reason: 'public_key is not a PEM public key' };
  }
  if (publicKey.asymmetricKeyType !== 'ed25519') {
    return { ok: false, reason: 'public_key is not an Ed25519 key' };
  }
  if (keyId(publicKey) !== value.key_id) {
    return { ok: false, reason: 'key_id does not match public_key' };
  }
  if (trustedPublicKeyPem !== undefined) {
    const trustedList =
      typeof trustedPublicKeyPem === 'string' ? [trustedPublicKeyPem] : trustedPublicKeyPem;
    const trusted: KeyObject[] = [];
    for (const pem of trustedList) {
      try {
        trusted.push(createPublicKey(pem));
      } catch {
        return { ok: false, reason: 'the trusted key is not a PEM public key' };
      }
    }
    if (!trusted.some((key) => spkiDer(key).equals(spkiDer(publicKey)))) {
      return {
        ok: false,
        reason: `signed by key ${value.key_id}, not by the trusted key${trusted.length === 1 ? '' : 's'} ${trusted.map(keyId).join(', ')}`,
      };
    }
  }
  const checkpoint = value as unknown as SignedCheckpoint;
  const signature = Buffer.from(value.signature, 'base64');
  if (
    signature.length !== 64 ||
    !verify(null, checkpointMessage(checkpoint), publicKey, signature)
  ) {
    return { ok: false, reason: 'the signature does not match the statement; it was altered' };
  }
  const { workspace, seq, hash, time, algorithm, public_key, key_id } = checkpoint;
  return {
    ok: true,
    checkpoint: {
      workspace,
      seq,
      hash,
      time,
      algorithm,
      public_key,
      key_id,
      signature: value.signature,
    },
  };
}
