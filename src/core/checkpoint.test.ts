import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signCheckpoint, verifyCheckpointSignature, type SignedCheckpoint } from './checkpoint.js';

function keyPair(): { privatePem: string; publicPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

const statement = {
  workspace: 'acme',
  seq: 42,
  hash: 'ab'.repeat(32),
  time: '2026-05-12T09:30:00.000Z',
};

describe('checkpoints', () => {
  const keys = keyPair();
  const signed = signCheckpoint(statement, keys.privatePem, keys.publicPem);

  it('signs the statement and describes the key', () => {
    expect(signed).toMatchObject({
      ...statement,
      algorithm: 'ed25519',
      public_key: keys.publicPem,
    });
    expect(signed.key_id).toMatch(/^[0-9a-f]{16}$/);
    expect(Buffer.from(signed.signature, 'base64')).toHaveLength(64);
  });

  it('verifies, also after a JSON round trip, and against the trusted key', () => {
    const copy: unknown = JSON.parse(JSON.stringify(signed));
    expect(verifyCheckpointSignature(copy)).toEqual({ ok: true, checkpoint: signed });
    expect(verifyCheckpointSignature(copy, keys.publicPem).ok).toBe(true);
  });

  it.each([
    ['seq', 43],
    ['hash', 'cd'.repeat(32)],
    ['workspace', 'globex'],
    ['time', '2026-05-12T09:31:00.000Z'],
  ] as const)('rejects a checkpoint whose %s was changed', (field, value) => {
    const altered = { ...signed, [field]: value };
    expect(verifyCheckpointSignature(altered)).toEqual({
      ok: false,
      reason: 'the signature does not match the statement; it was altered',
    });
  });

  it('rejects a checkpoint signed by another key when a key is trusted', () => {
    const other = keyPair();
    const forged = signCheckpoint(statement, other.privatePem, other.publicPem);
    expect(verifyCheckpointSignature(forged).ok).toBe(true);
    const result = verifyCheckpointSignature(forged, keys.publicPem);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.reason).toContain('not by the trusted key');
  });

  it.each([
    [null, 'a checkpoint must be a JSON object'],
    [{ ...statement }, 'algorithm must be "ed25519"'],
    [{ note: 'x' }, 'unexpected field "note"'],
    ['seq:-1', 'seq must be a whole number >= 0'],
    ['hash:XYZ', 'hash must be 64 lower-case hex digits'],
    ['key_id:0000000000000000', 'key_id does not match public_key'],
    ['public_key:nope', 'public_key is not a PEM public key'],
    ['signature:***', 'signature must be base64'],
  ])('rejects a malformed checkpoint (%j)', (input, reason) => {
    let value: unknown = input;
    if (typeof input === 'string') {
      const [field, raw] = input.split(':') as [keyof SignedCheckpoint, string];
      value = { ...signed, [field]: field === 'seq' ? Number(raw) : raw };
    } else if (input !== null && 'note' in input) {
      value = { ...signed, ...input };
    }
    expect(verifyCheckpointSignature(value)).toEqual({ ok: false, reason });
  });

  it('refuses to sign with a mismatched key pair', () => {
    expect(() => signCheckpoint(statement, keys.privatePem, keyPair().publicPem)).toThrow(
      'the checkpoint public key does not match the private key',
    );
  });
});
