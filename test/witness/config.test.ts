/**
 * What `trailkeep witness serve` is told at start: its key file (created 0600, read back to the
 * same key, refused when others can read it or when it is a log key) and the logs it follows.
 */
import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { SIGNATURE_COSIGNATURE_V1, generateNoteKey } from '../../src/core/tlog/note.js';
import {
  WitnessConfigError,
  loadWitnessKey,
  parseLogs,
  parseWitnessKey,
} from '../../src/witness/config.js';

const dir = mkdtempSync(join(tmpdir(), 'tk-witness-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('witness key', () => {
  it('reads back the verifier key of any cosigner key (base64 with "+" and "/" included)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (seed) => {
        const pair = generateNoteKey('w.example', SIGNATURE_COSIGNATURE_V1, seed);
        expect(parseWitnessKey(pair.signerKey, 'k').verifierKey).toBe(pair.verifierKey);
      }),
      { numRuns: 200 },
    );
  });

  it('is created once with mode 0600 and then read back; a readable file is refused', async () => {
    const file = join(dir, 'w.key');
    const created = await loadWitnessKey(file, 'witness.example');
    expect(created.created).toBe(true);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const again = await loadWitnessKey(file, 'ignored');
    expect(again).toMatchObject({ created: false, verifierKey: created.verifierKey });
    chmodSync(file, 0o644);
    await expect(loadWitnessKey(file, 'x')).rejects.toThrow(/readable by other users/);
  });

  it('refuses a log signing key (type 0x01) as a witness key', () => {
    const file = join(dir, 'log.key');
    writeFileSync(file, `${generateNoteKey('log.example').signerKey}\n`, { mode: 0o600 });
    expect(() => parseWitnessKey(generateNoteKey('log.example').signerKey, 'k')).toThrow(
      /type 0x04/,
    );
  });
});

describe('logs to follow', () => {
  const log = generateNoteKey('audit.example.com');

  it('takes ORIGIN=VKEY flags and "<origin> <vkey>" lines, keys of one origin together', () => {
    const other = generateNoteKey('audit.example.com');
    const logs = parseLogs([`audit.example.com/acme=${log.verifierKey}`], {
      text: `# comment\n\naudit.example.com/acme ${other.verifierKey}\nb.example/x ${log.verifierKey}\n`,
      where: 'logs.txt',
    });
    expect([...logs.keys()]).toEqual(['audit.example.com/acme', 'b.example/x']);
    expect(logs.get('audit.example.com/acme')).toHaveLength(2);
  });

  it('names the line of a bad entry, and refuses a witness key as a log key', () => {
    expect(() => parseLogs([], { text: '\n# x\nonly-one-part\n', where: 'logs.txt' })).toThrow(
      'logs.txt line 3',
    );
    const cosigner = generateNoteKey('w', SIGNATURE_COSIGNATURE_V1).verifierKey;
    expect(() => parseLogs([`a/b=${cosigner}`])).toThrow(WitnessConfigError);
    expect(() => parseLogs(['no-equals-sign'])).toThrow(/ORIGIN=VKEY/);
  });
});
