/**
 * Checkpoint signing keys live outside the database (docs/integrity.md, "Keys"): the real
 * binary against real SQLite files and a real PostgreSQL server, with real key files.
 */
import { generateKeyPairSync } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signCheckpoint, type SignedCheckpoint } from '../../src/core/checkpoint.js';
import { generateNoteKey } from '../../src/core/tlog/note.js';
import { LogService } from '../../src/service/log-service.js';
import {
  SigningKeyError,
  loadSigningKeys,
  newKeyFileText,
  parseKeyText,
} from '../../src/service/signing-keys.js';
import { openStore } from '../../src/store/open.js';
import type { Store } from '../../src/store/store.js';
import { runCli } from '../support/cli.js';
import { createDatabase, usePostgres, type PostgresServer } from '../support/postgres.js';

let root: string;
let server: PostgresServer;
let release: () => Promise<void>;
let n = 0;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'tk-keys-'));
  ({ server, release } = await usePostgres());
});

afterAll(async () => {
  rmSync(root, { recursive: true, force: true });
  await release();
});

/** A fresh deployment: <root>/dN/data/log.db, whose default key file is <root>/dN/data.signing-key. */
function deployment(): { dir: string; db: string; keyFile: string } {
  const dir = join(root, `d${++n}`);
  mkdirSync(join(dir, 'data'), { recursive: true });
  return {
    dir,
    db: `sqlite:${join(dir, 'data', 'log.db')}`,
    keyFile: join(dir, 'data.signing-key'),
  };
}

/** A workspace with a few events, written the way an old release would leave them. */
async function seed(db: string, oldKeyPem?: string): Promise<Store> {
  const store = await openStore(db);
  if (oldKeyPem !== undefined) {
    await store.ensureSecret('checkpoint_private_key', oldKeyPem);
    await store.ensureSecret('checkpoint_public_key', 'derived by the old release');
  }
  await store.createWorkspace({
    id: 'acme',
    name: 'acme',
    settings: {},
    created_at: '2026-01-01T00:00:00.000Z',
  });
  const log = await LogService.open(store);
  for (let i = 0; i < 3; i++) {
    await log.ingest('acme', { action: 'job.created', actor: { type: 'user', id: `u${i}` } });
  }
  return store;
}

/** A PostgreSQL database as an old release left it: the key pair in its secrets table. */
async function oldPostgres(
  name: string,
): Promise<{ store: Store; old: { privatePem: string; publicPem: string } }> {
  const store = await openStore(await createDatabase(server, name));
  const old = oldPem();
  await store.ensureSecret('checkpoint_private_key', old.privatePem);
  await store.ensureSecret('checkpoint_public_key', old.publicPem);
  return { store, old };
}

function oldPem(): { privatePem: string; publicPem: string } {
  const pair = generateKeyPairSync('ed25519');
  return {
    privatePem: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicPem: pair.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

async function checkpoint(
  db: string,
  dir: string,
  extra: string[] = [],
  env: Record<string, string> = {},
): Promise<{ code: number; stderr: string; cp?: SignedCheckpoint; file: string }> {
  const file = join(dir, `cp-${++n}.json`);
  const result = await runCli(
    ['checkpoint', '--db', db, '--workspace', 'acme', '--out', file, ...extra],
    { env: { TRAILKEEP_SIGNING_KEY: '', ...env } },
  );
  return {
    code: result.code,
    stderr: result.stderr,
    file,
    ...(result.code === 0
      ? { cp: JSON.parse(readFileSync(file, 'utf8')) as SignedCheckpoint }
      : {}),
  };
}

function verify(db: string, file: string, extra: string[] = []) {
  return runCli(['verify', '--db', db, '--checkpoint', file, ...extra], {
    env: { TRAILKEEP_SIGNING_KEY: '' },
  });
}

describe('signing keys outside the database', () => {
  it('a first start writes the key file beside the data directory, 0600, and says so; a restart reuses it', async () => {
    const d = deployment();
    await (await seed(d.db)).close();
    const first = await checkpoint(d.db, d.dir);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toContain(
      `Created a new checkpoint signing key in ${d.keyFile} (mode 0600)`,
    );
    expect(statSync(d.keyFile).mode & 0o777).toBe(0o600);
    const vkey = /Verifier key: (\S+)/.exec(first.stderr)?.[1];
    expect(vkey).toMatch(/^localhost\+[0-9a-f]{8}\+/);
    expect(readFileSync(d.keyFile, 'utf8')).toMatch(/^PRIVATE\+KEY\+localhost\+/m);

    const second = await checkpoint(d.db, d.dir);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toBe('');
    expect(second.cp?.key_id).toBe(first.cp?.key_id);
    expect((await verify(d.db, first.file)).code).toBe(0);
  });

  it('precedence: --signing-key-file over TRAILKEEP_SIGNING_KEY over the default file', async () => {
    const d = deployment();
    await (await seed(d.db)).close();
    const fromDefault = await checkpoint(d.db, d.dir);
    const envKey = newKeyFileText('audit.example.com');
    const flagFile = join(d.dir, 'flag.key');
    writeFileSync(flagFile, newKeyFileText('other.example.com'), { mode: 0o600 });
    const fromEnv = await checkpoint(d.db, d.dir, [], { TRAILKEEP_SIGNING_KEY: envKey });
    const fromFlag = await checkpoint(d.db, d.dir, ['--signing-key-file', flagFile], {
      TRAILKEEP_SIGNING_KEY: envKey,
    });
    const ids = [fromDefault, fromEnv, fromFlag].map((r) => r.cp?.key_id);
    expect(ids.every((id) => typeof id === 'string')).toBe(true);
    expect(new Set(ids).size).toBe(3);
    expect(fromEnv.cp?.public_key).toBe(parseKeyText(envKey, 'env').publicPem);
    expect(fromFlag.cp?.public_key).toBe(
      parseKeyText(readFileSync(flagFile, 'utf8'), 'flag').publicPem,
    );
  });

  it('an old database: the key moves out of it once, same key, old checkpoints verify; a copy without the key file never signs with it', async () => {
    const d = deployment();
    const old = oldPem();
    const store = await seed(d.db, old.privatePem);
    const head = await store.head('acme');
    await store.close();
    const oldFile = join(d.dir, 'old-checkpoint.json');
    const oldCp = signCheckpoint(
      { workspace: 'acme', seq: head.seq, hash: head.hash, time: '2026-02-01T00:00:00.000Z' },
      old.privatePem,
      old.publicPem,
    );
    writeFileSync(oldFile, JSON.stringify(oldCp));

    const moved = await checkpoint(d.db, d.dir);
    expect(moved.code, moved.stderr).toBe(0);
    expect(moved.stderr).toContain(
      `Moved the checkpoint signing key out of the database into ${d.keyFile}`,
    );
    expect(moved.cp?.key_id).toBe(oldCp.key_id);
    expect(statSync(d.keyFile).mode & 0o777).toBe(0o600);
    const oldVkey = /Verifier key: (\S+)/.exec(moved.stderr)?.[1] ?? '';
    expect((await verify(d.db, oldFile)).code).toBe(0);

    // The database, copied to another machine without the key file.
    const copy = deployment();
    copyFileSync(join(d.dir, 'data', 'log.db'), join(copy.dir, 'data', 'log.db'));
    const elsewhere = await checkpoint(copy.db, copy.dir);
    expect(elsewhere.code, elsewhere.stderr).toBe(0);
    expect(elsewhere.stderr).toContain("This database's signing key was moved out of it before");
    expect(elsewhere.stderr).toContain('created a NEW signing key');
    expect(elsewhere.cp?.key_id).not.toBe(oldCp.key_id);
    const untrusted = await verify(copy.db, oldFile);
    expect(untrusted.code).toBe(2);
    expect(untrusted.stderr).toContain(`signed by key ${oldCp.key_id}, not by the trusted key`);
    const retired = await verify(copy.db, oldFile, ['--verifier-key', oldVkey]);
    expect(retired.code, retired.stderr).toBe(0);
  });

  it('retired keys verify; only the current key signs', async () => {
    const d = deployment();
    await (await seed(d.db)).close();
    const first = await checkpoint(d.db, d.dir);
    const oldVkey = /Verifier key: (\S+)/.exec(first.stderr)?.[1] ?? '';
    // Rotation: a new signer, the old key kept as a retired verifier key.
    writeFileSync(d.keyFile, `${newKeyFileText('localhost')}${oldVkey}\n`, { mode: 0o600 });
    const rotated = await checkpoint(d.db, d.dir);
    expect(rotated.code, rotated.stderr).toBe(0);
    expect(rotated.cp?.key_id).not.toBe(first.cp?.key_id);
    expect((await verify(d.db, first.file)).code).toBe(0);
    expect((await verify(d.db, rotated.file)).code).toBe(0);
  });

  it('a malformed, missing or group-readable key file is a one-line error and a non-zero exit', async () => {
    const d = deployment();
    await (await seed(d.db)).close();
    const bad = join(d.dir, 'bad.key');
    writeFileSync(bad, 'PRIVATE+KEY+localhost+00000000+AAAA\n', { mode: 0o600 });
    const open = join(d.dir, 'open.key');
    writeFileSync(open, newKeyFileText('localhost'));
    chmodSync(open, 0o644);
    for (const [file, message] of [
      [bad, `signing key file ${bad}: not a signer key`],
      [join(d.dir, 'missing.key'), 'cannot read signing key file'],
      [open, 'is readable by other users (mode 644)'],
    ] as const) {
      const result = await checkpoint(d.db, d.dir, ['--signing-key-file', file]);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(message);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
    }
    const env = await checkpoint(d.db, d.dir, [], { TRAILKEEP_SIGNING_KEY: 'nonsense' });
    expect(env.code).toBe(2);
    expect(env.stderr.trim()).toBe(
      'trailkeep: TRAILKEEP_SIGNING_KEY: expected exactly one signer key line (PRIVATE+KEY+...), found 0',
    );
    expect(existsSync(d.keyFile)).toBe(false);
  });

  it('on PostgreSQL: the old key moves out once and a copy elsewhere gets a new key', async () => {
    const { store, old } = await oldPostgres('signing_keys');
    try {
      const d = deployment();
      const moved = await loadSigningKeys(store, { defaultFile: d.keyFile });
      expect(moved.notice).toContain('Moved the checkpoint signing key out of the database');
      expect(moved.keys.publicPem).toBe(old.publicPem);
      const again = await loadSigningKeys(store, { defaultFile: d.keyFile });
      expect(again.notice).toBeUndefined();
      expect(again.keys.verifierKey).toBe(moved.keys.verifierKey);
      const other = deployment();
      const elsewhere = await loadSigningKeys(store, { defaultFile: other.keyFile });
      expect(elsewhere.notice).toContain('created a NEW signing key');
      expect(elsewhere.keys.publicPem).not.toBe(old.publicPem);
    } finally {
      await store.close();
    }
  });

  it('a configured key on an old database names the unused old key, which then verifies as a retired key', async () => {
    const { store, old } = await oldPostgres('signing_keys_configured');
    try {
      const text = newKeyFileText('audit.example.com');
      const d = deployment();
      const first = await loadSigningKeys(store, { envText: text, defaultFile: d.keyFile });
      expect(first.keys.publicPem).not.toBe(old.publicPem);
      const oldVkey = /retired key: (\S+)$/.exec(first.notice ?? '')?.[1] ?? '';
      const withRetired = parseKeyText(`${text}${oldVkey}\n`, 'file');
      expect(withRetired.trustedPublicPems).toContain(old.publicPem);
      const again = await loadSigningKeys(store, { envText: text, defaultFile: d.keyFile });
      expect(again.notice).toBeUndefined();
      expect(existsSync(d.keyFile)).toBe(false);
    } finally {
      await store.close();
    }
  });
});

describe('two starts at once', () => {
  it('both end up with the one key file, never an EEXIST failure', async () => {
    const d = deployment();
    const store = await openStore(d.db);
    try {
      const [a, b] = await Promise.all([
        loadSigningKeys(store, { defaultFile: d.keyFile }),
        loadSigningKeys(store, { defaultFile: d.keyFile }),
      ]);
      expect(a.keys.verifierKey).toBe(b.keys.verifierKey);
      expect(parseKeyText(readFileSync(d.keyFile, 'utf8'), 'f').verifierKey).toBe(
        a.keys.verifierKey,
      );
    } finally {
      await store.close();
    }
  });
});

describe('trailkeep keys signing', () => {
  it('generate writes a 0600 key file that show reads back; a bad name or an existing file is refused', async () => {
    const d = deployment();
    const out = join(d.dir, 'new.key');
    const made = await runCli([
      'keys',
      'signing',
      'generate',
      '--name',
      'audit.example.com',
      '--out',
      out,
    ]);
    expect(made.code, made.stderr).toBe(0);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    const vkey = /Verifier key: (\S+)/.exec(made.stderr)?.[1];
    expect(vkey).toMatch(/^audit\.example\.com\+[0-9a-f]{8}\+/);
    const shown = await runCli(['keys', 'signing', 'show', '--signing-key-file', out], {
      env: { TRAILKEEP_SIGNING_KEY: '' },
    });
    expect(shown.stdout).toBe(`${vkey}\n`);
    const again = await runCli(['keys', 'signing', 'generate', '--out', out]);
    expect(again.code).toBe(2);
    expect(readFileSync(out, 'utf8')).toContain(`# Verifier key (public): ${vkey}`);
    const badName = await runCli(['keys', 'signing', 'generate', '--name', 'a b']);
    expect(badName.code).toBe(2);
    expect(badName.stderr.trim()).toBe(
      'trailkeep: "a b" is not a valid key name (printable, no spaces or "+"): use the public host name',
    );
    const missing = await runCli([
      'keys',
      'signing',
      'show',
      '--signing-key-file',
      join(d.dir, 'no'),
    ]);
    expect(missing.code).toBe(2);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
  });
});

describe('key file text', () => {
  it('anything that is not a key file is refused with a SigningKeyError, never another error', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.string(),
            fc.constant(generateNoteKey('a.example').signerKey),
            fc.constant(generateNoteKey('b.example').verifierKey),
            fc.string().map((s) => `PRIVATE+KEY+${s}`),
            fc.string().map((s) => `x+0000000a+${s}`),
          ),
        ),
        (lines) => {
          try {
            const keys = parseKeyText(lines.join('\n'), 'test');
            expect(keys.retired).not.toContain(keys.verifierKey);
          } catch (error) {
            expect(error).toBeInstanceOf(SigningKeyError);
          }
        },
      ),
    );
  });

  it('a signer key of another type (a witness cosigner) does not sign checkpoints', () => {
    const cosigner = generateNoteKey('w.example', 0x04).signerKey;
    expect(() => parseKeyText(cosigner, 'f')).toThrow(
      'the signer key is not an Ed25519 (0x01) key',
    );
  });
});
