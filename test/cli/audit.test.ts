/**
 * `trailkeep audit` against the real service: the built binary serves a real SQLite file with its
 * real signing key, and the monitor reads it over HTTP. After a first accepted run, the owner
 * goes past the append-only triggers and rewrites history as carefully as the database allows
 * (every later hash re-chained, the tree rebuilt by `trailkeep reindex`, `verify` passing, the
 * service re-signing with its real key): the monitor exits 1 and names the first size where the
 * history departs from the one it accepted. A wrong key or a missing witness is 1 too; a log it
 * cannot reach, or flags and files it cannot use, are 2.
 */
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashLink } from '../../src/core/chain.js';
import {
  exited,
  freePort,
  runCli,
  snapshotBuild,
  startServe,
  type CliResult,
  type Serving,
} from '../http/process-support.js';
import { witnessKey } from '../support/memory-log.js';

const INGESTED = 300;
/** The ingested events and the audit event of the read key's creation. */
const EVENTS = INGESTED + 1;
const HOST = 'audit.test';
const ORIGIN = `${HOST}/acme`;

let dir: string;
let bin: string;
let vkey: string;
let readKey: string;
/** The pristine database (server stopped) and the state of the first accepted run. */
let pristine: string;
let acceptedState: string;
let run = 0;

function cli(args: readonly string[]): Promise<CliResult> {
  return runCli(bin, args, dir);
}

async function ok(args: readonly string[]): Promise<CliResult> {
  const result = await cli(args);
  expect(result.code, result.stderr).toBe(0);
  return result;
}

/** A copy of the pristine database and the accepted state, in a directory of its own. */
function copyCase(): { db: string; state: string; home: string } {
  run += 1;
  const home = join(dir, `case-${run}`);
  mkdirSync(home);
  const file = join(home, 'trailkeep.db');
  copyFileSync(pristine, file);
  const state = join(home, 'state.json');
  copyFileSync(acceptedState, state);
  copyFileSync(`${acceptedState}.leaves`, `${state}.leaves`);
  return { db: `sqlite:${file}`, state, home };
}

async function serve(db: string): Promise<{ url: string; serving: Serving }> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const serving = await startServe(
    bin,
    [
      '--db',
      db,
      '--port',
      String(port),
      '--signing-key-file',
      join(dir, 'signing.key'),
      '--log-origin-host',
      HOST,
    ],
    url,
    dir,
  );
  return { url, serving };
}

async function stop(serving: Serving): Promise<void> {
  serving.process.kill('SIGTERM');
  await exited(serving.process);
}

function auditArgs(url: string, state: string, extra: readonly string[] = []): string[] {
  return [
    'audit',
    '--log',
    `${url}/api/v1/workspaces/acme/log`,
    '--vkey',
    vkey,
    '--state',
    state,
    '--api-key',
    readKey,
    ...extra,
  ];
}

/** Serves `db`, audits it against `state`, stops the server. */
async function auditOf(
  db: string,
  state: string,
  extra: readonly string[] = [],
): Promise<CliResult> {
  const { url, serving } = await serve(db);
  try {
    return await cli(auditArgs(url, state, extra));
  } finally {
    await stop(serving);
  }
}

/**
 * The database owner's rewrite: with the events triggers dropped, `change` edits the rows, then
 * every hash from the first changed seq on is recomputed so the chain links again; `reindex`
 * rebuilds the derived rows and the tree (and puts the triggers back), and `verify` passes.
 */
async function rewrite(db: string, change: (sqlite: Database.Database) => number): Promise<void> {
  const sqlite = new Database(db.slice('sqlite:'.length));
  sqlite.exec(
    'DROP TRIGGER events_no_update; DROP TRIGGER events_no_delete; ' +
      'DROP TRIGGER event_targets_no_update; DROP TRIGGER event_targets_no_delete;',
  );
  const from = change(sqlite);
  const rows = sqlite
    .prepare('SELECT seq, body FROM events WHERE seq >= ? ORDER BY seq')
    .all(from) as { seq: number; body: string }[];
  const before = sqlite.prepare('SELECT hash FROM events WHERE seq = ?').get(from - 1) as
    { hash: Buffer } | undefined;
  let prev = before === undefined ? '0'.repeat(64) : before.hash.toString('hex');
  const update = sqlite.prepare('UPDATE events SET prev_hash = ?, hash = ? WHERE seq = ?');
  for (const { seq, body } of rows) {
    const hash = hashLink(prev, body);
    update.run(Buffer.from(prev, 'hex'), Buffer.from(hash, 'hex'), seq);
    prev = hash;
  }
  sqlite.close();
  await ok(['reindex', '--db', db]);
  await ok(['verify', '--db', db]);
}

/** Changes event `seq`'s action in its body and its indexed copy, keeping it canonical JSON. */
function editEvent(sqlite: Database.Database, seq: number): number {
  const { body } = sqlite.prepare('SELECT body FROM events WHERE seq = ?').get(seq) as {
    body: string;
  };
  const altered = body.replace(/"action":"[^"]+"/, '"action":"job.deleted"');
  expect(altered).not.toBe(body);
  sqlite
    .prepare('UPDATE events SET body = ?, action = ? WHERE seq = ?')
    .run(altered, 'job.deleted', seq);
  return seq;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tk-audit-'));
  bin = snapshotBuild(dir);
  const generated = await ok([
    'keys',
    'signing',
    'generate',
    '--name',
    HOST,
    '--out',
    join(dir, 'signing.key'),
  ]);
  vkey = /Verifier key: (\S+)/.exec(generated.stderr)![1]!;
  pristine = join(dir, 'pristine.db');
  const db = `sqlite:${pristine}`;
  await ok(['init', '--workspace', 'acme', '--db', db]);
  const events = Array.from({ length: INGESTED }, (_, i) => ({
    action: 'job.updated',
    occurred_at: new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString(),
    actor: { type: 'user', id: `u${i % 7}`, email: `user${i % 7}@example.com` },
    targets: [{ type: 'job', id: `job_${i % 10}`, name: `Job ${i % 10}` }],
  }));
  writeFileSync(join(dir, 'events.ndjson'), events.map((e) => JSON.stringify(e)).join('\n'));
  await ok(['ingest', '--workspace', 'acme', '--db', db, join(dir, 'events.ndjson')]);
  readKey = (
    JSON.parse(
      (await ok(['keys', 'create', '--workspace', 'acme', '--scope', 'read', '--json', '--db', db]))
        .stdout,
    ) as { key: string }
  ).key;
  acceptedState = join(dir, 'accepted.json');
  const first = await auditOf(db, acceptedState);
  expect(first.code, first.stderr).toBe(0);
  expect(first.stdout).toMatch(
    new RegExp(`^consistent: ${ORIGIN} at size ${EVENTS} \\(first run, state created\\), root `),
  );
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('trailkeep audit on an untouched log', () => {
  it('keeps the accepted checkpoint and its leaves beside it', () => {
    const state = JSON.parse(readFileSync(acceptedState, 'utf8')) as Record<string, unknown>;
    expect(state).toMatchObject({
      format: 'trailkeep-audit-state/v1',
      origin: ORIGIN,
      size: EVENTS,
    });
    expect(readFileSync(`${acceptedState}.leaves`)).toHaveLength(EVENTS * 32);
  });

  it('a second run over more events passes and moves the state on', async () => {
    const { db, state } = copyCase();
    const file = join(dir, 'more.ndjson');
    writeFileSync(
      file,
      JSON.stringify({ action: 'job.created', actor: { type: 'user', id: 'u1' } }),
    );
    await ok(['ingest', '--workspace', 'acme', '--db', db, file]);
    const result = await auditOf(db, state);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(`at size ${EVENTS + 1} (was ${EVENTS})`);
  });
});

describe('trailkeep audit --export', () => {
  it("every event of the service's own export is in the log; one edited in the file is not", async () => {
    const { db, state, home } = copyCase();
    const file = join(home, 'export.ndjson');
    await ok(['export', '--workspace', 'acme', '--db', db, '--format', 'ndjson', '--out', file]);
    const good = await auditOf(db, state, ['--export', file]);
    expect(good.code, good.stderr).toBe(0);
    expect(good.stdout).toContain(`; ${EVENTS} exported events in the log (0 proofs checked)`);
    const rows = readFileSync(file, 'utf8').split('\n');
    rows[3] = rows[3]!.replace(/"user\d@example\.com"/, '"someone@example.com"');
    writeFileSync(file, rows.join('\n'));
    const edited = await auditOf(db, state, ['--export', file]);
    expect(edited.code).toBe(1);
    expect(edited.stdout).toMatch(
      /^inconsistent: export line 4: event seq \d+ \("[^"]+"\) does not hash to its "hash": it was changed after it was sealed\n$/,
    );
  });
});

describe('trailkeep audit --export with proofs', () => {
  it('an HTTP export with proofs=true: every proof is checked against the rebuilt history', async () => {
    const { db, state, home } = copyCase();
    const file = join(home, 'export.ndjson');
    const { url, serving } = await serve(db);
    try {
      const response = await fetch(
        `${url}/api/v1/workspaces/acme/export?format=ndjson&proofs=true`,
        { headers: { authorization: `Bearer ${readKey}` } },
      );
      expect(response.status).toBe(200);
      writeFileSync(file, await response.text());
      const result = await cli(auditArgs(url, state, ['--export', file]));
      expect(result.code, result.stdout + result.stderr).toBe(0);
      expect(result.stdout).toMatch(/; (\d+) exported events in the log \(\1 proofs checked\)\n$/);
    } finally {
      await stop(serving);
    }
  });
});

describe('the attacks: a careful rewrite the database itself cannot show', () => {
  it('(a) an edited event, every later hash re-chained, the tree rebuilt, re-signed: exit 1 at its size', async () => {
    const { db, state } = copyCase();
    await rewrite(db, (sqlite) => editEvent(sqlite, 100));
    const result = await auditOf(db, state);
    expect(result.code, result.stderr).toBe(1);
    expect(result.stdout).toContain(
      'inconsistent: the histories diverge first at size 100: entry 99 (the event with seq 100) is not the one seen before',
    );
    expect(result.stdout).toContain(`inconsistent: the first ${EVENTS} entries now have root `);
    // Nothing accepted: the state still holds the history seen before.
    expect(readFileSync(state, 'utf8')).toBe(readFileSync(acceptedState, 'utf8'));
  });

  it('(b) a truncated tail, tree rebuilt and re-signed: exit 1, the log shrank', async () => {
    const { db, state } = copyCase();
    const kept = EVENTS - 5;
    await rewrite(db, (sqlite) => {
      sqlite.prepare('DELETE FROM event_targets WHERE seq > ?').run(kept);
      sqlite.prepare('DELETE FROM events WHERE seq > ?').run(kept);
      return kept + 1;
    });
    const result = await auditOf(db, state);
    expect(result.code, result.stderr).toBe(1);
    expect(result.stdout.split('\n')).toEqual([
      `inconsistent: the log shrank: its checkpoint holds ${kept} entries, the one accepted before held ${EVENTS}`,
      `inconsistent: the histories diverge first at size ${kept + 1}: entries ${kept} to ${EVENTS - 1} (seq ${kept + 1} to ${EVENTS}) are gone`,
      '',
    ]);
  });

  it('(c) the last event rewritten, tree rebuilt and re-signed: exit 1 at the last size', async () => {
    const { db, state } = copyCase();
    await rewrite(db, (sqlite) => editEvent(sqlite, EVENTS));
    const result = await auditOf(db, state);
    expect(result.code, result.stderr).toBe(1);
    expect(result.stdout).toContain(
      `inconsistent: the histories diverge first at size ${EVENTS}: entry ${EVENTS - 1} (the event with seq ${EVENTS}) is not the one seen before`,
    );
  });
});

describe('keys and witnesses', () => {
  it('a checkpoint not signed by the given key: exit 1, and the state is left alone', async () => {
    const { db, state } = copyCase();
    const generated = await ok(['keys', 'signing', 'generate', '--name', HOST]);
    const wrong = /Verifier key: (\S+)/.exec(generated.stderr)![1]!;
    const { url, serving } = await serve(db);
    try {
      const args = auditArgs(url, state);
      args[args.indexOf(vkey)] = wrong;
      const result = await cli(args);
      expect(result.code).toBe(1);
      expect(result.stdout).toBe(
        'inconsistent: the checkpoint is refused: no known key signed the note\n',
      );
    } finally {
      await stop(serving);
    }
    expect(readFileSync(state, 'utf8')).toBe(readFileSync(acceptedState, 'utf8'));
  });

  it('a witness that did not cosign: exit 1', async () => {
    const { db, state } = copyCase();
    const witness = witnessKey('witness.example');
    const result = await auditOf(db, state, ['--witness-vkey', witness.vkey]);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(
      /^inconsistent: witness "witness\.example" \([0-9a-f]{8}\) did not cosign this checkpoint\n$/,
    );
  });
});

describe('errors are exit 2 with one line', () => {
  it('an unreachable log', async () => {
    const port = await freePort();
    const { state } = copyCase();
    const result = await cli(auditArgs(`http://127.0.0.1:${port}`, state));
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      `trailkeep audit: cannot read http://127.0.0.1:${port}/api/v1/workspaces/acme/log/checkpoint: ECONNREFUSED\n`,
    );
  });

  it('bad flags and unreadable files', async () => {
    const { state, home } = copyCase();
    const url = 'http://127.0.0.1:9';
    const cases: [string[], string][] = [
      [
        auditArgs(url, state).map((a) => (a === vkey ? 'nope' : a)),
        'trailkeep audit: --vkey "nope": a verifier key has three parts separated by "+"\n',
      ],
      [
        auditArgs(url, state, ['--witness-vkey', vkey]),
        `trailkeep audit: --witness-vkey ${HOST}: not a witness key (cosignature/v1, 0x04)\n`,
      ],
      [
        auditArgs('ftp://example.com/log', state),
        'trailkeep audit: --log must be an http or https URL, not ftp:\n',
      ],
      [
        auditArgs(url, state, ['--export', join(home, 'missing.ndjson')]),
        `trailkeep audit: cannot read the export ${join(home, 'missing.ndjson')}: ENOENT: no such file or directory, access '${join(home, 'missing.ndjson')}'\n`,
      ],
    ];
    writeFileSync(join(home, 'bad-state.json'), '{"format":"something else"}');
    cases.push([
      auditArgs(url, join(home, 'bad-state.json')),
      `trailkeep audit: the state file ${join(home, 'bad-state.json')} is not a trailkeep audit state: its "format" is not "trailkeep-audit-state/v1"\n`,
    ]);
    for (const [args, stderr] of cases) {
      const result = await cli(args);
      expect({ code: result.code, stderr: result.stderr, stdout: result.stdout }).toEqual({
        code: 2,
        stderr,
        stdout: '',
      });
    }
    expect(existsSync(join(home, 'bad-state.json.leaves'))).toBe(false);
  });
});
