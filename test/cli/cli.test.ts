/** The real `trailkeep` binary against real SQLite files: the foundation's commands end to end. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoredEvent } from '../../src/core/event.js';
import { openStore } from '../../src/store/open.js';
import { runCli } from '../support/cli.js';

let dir: string;
let db: string;

const event = (i: number, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  id: `evt_${i}`,
  action: i % 2 === 0 ? 'member.role_changed' : 'job.created',
  occurred_at: new Date(Date.UTC(2026, 4, 1 + (i % 28), 9, i % 60)).toISOString(),
  actor:
    i % 3 === 0
      ? { type: 'user', id: 'u_alex', name: 'Alex Kim', email: 'alex@example.com' }
      : { type: 'agent', id: 'agent_7', name: 'Claude' },
  targets: [{ type: i % 2 === 0 ? 'user' : 'job', id: `t_${i % 7}`, name: `target ${i % 7}` }],
  changes: [{ field: 'role', old: 'member', new: 'admin' }],
  context: { ip: `203.0.113.${(i % 250) + 1}` },
  ...extra,
});

const ndjson = (events: readonly unknown[]): string =>
  events.map((e) => JSON.stringify(e)).join('\n') + '\n';

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tk-cli-'));
  db = `sqlite:${join(dir, 'log.db')}`;
  const init = await runCli(['init', '--workspace', 'acme', '--db', db]);
  expect(init.code, init.stderr).toBe(0);
  writeFileSync(
    join(dir, 'good.ndjson'),
    ndjson(Array.from({ length: 120 }, (_, i) => event(i + 1))),
  );
  const ingest = await runCli([
    'ingest',
    '--workspace',
    'acme',
    '--db',
    db,
    join(dir, 'good.ndjson'),
  ]);
  expect(ingest.code, ingest.stderr).toBe(0);
  expect(ingest.stdout).toContain('Stored 120 events');
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('trailkeep ingest', () => {
  it('stores nothing from a file with bad lines and names each bad line', async () => {
    const lines = [
      JSON.stringify(event(500)),
      '{not json',
      JSON.stringify(event(501, { actor: { type: 'robot', id: 'r' } })),
      JSON.stringify(event(502)),
    ];
    writeFileSync(join(dir, 'bad.ndjson'), lines.join('\n'));
    const result = await runCli([
      'ingest',
      '--workspace',
      'acme',
      '--db',
      db,
      join(dir, 'bad.ndjson'),
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('line 2: not valid JSON');
    expect(result.stderr).toMatch(/line 3: \$\.actor\.type: must be one of/);
    expect(result.stderr).toContain('2 of 4 lines are invalid; nothing was stored');
    expect(result.stderr).not.toMatch(/\n\s+at /); // never a stack trace
    const count = await runCli([
      'query',
      '--workspace',
      'acme',
      '--db',
      db,
      '--json',
      '--limit',
      '1',
    ]);
    expect(JSON.parse(count.stdout).count).toEqual({ value: 120, capped: false });
  });

  it('refuses invalid UTF-8, a repeated key and an unsafe integer, naming line and place', async () => {
    const good = JSON.stringify(event(600));
    const line2 = Buffer.from(JSON.stringify(event(601, { metadata: { note: 'caf#' } })));
    const at = line2.indexOf('#');
    const file = join(dir, 'altered.ndjson');
    writeFileSync(
      file,
      Buffer.concat([
        Buffer.from(`${good}\r\n`),
        line2.subarray(0, at),
        Buffer.from([0xe9]),
        line2.subarray(at + 1),
        Buffer.from('\n'),
        Buffer.from(`${JSON.stringify(event(602)).slice(0, -1)},"metadata":{"a":1,"a":2}}\n`),
        Buffer.from(
          `${JSON.stringify(event(603)).slice(0, -1)},"metadata":{"n":9007199254740993}}\n`,
        ),
        Buffer.from(`${JSON.stringify(event(604)).slice(0, -1)},}\n`),
      ]),
    );
    const result = await runCli(['ingest', '--workspace', 'acme', '--db', db, file]);
    expect(result.code).toBe(2);
    expect(result.stderr.split('\n')).toEqual([
      `line 2: not valid UTF-8 at byte offset ${at} (bytes E9 22 7D 7D)`,
      'line 3: $.metadata.a: appears twice in its object (JSON.parse would keep only the last)',
      'line 4: $.metadata.n: is the integer 9007199254740993, beyond ±9007199254740991, which would not be kept exactly (send it as a string)',
      `line 5: not valid JSON: a key in quotes is expected, not "}" at byte offset ${JSON.stringify(event(604)).length} ($)`,
      'trailkeep: 4 of 5 lines are invalid; nothing was stored',
      '',
    ]);
    const store = await openStore(db);
    try {
      expect(await store.getEvent('acme', 'evt_600')).toBeUndefined();
    } finally {
      await store.close();
    }
  });

  it('reads stdin, and a re-send of the same ids stores nothing new', async () => {
    const result = await runCli(['ingest', '--workspace', 'acme', '--db', db, '-'], {
      input: ndjson([event(1), event(2)]),
    });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('Stored 0 events');
    expect(result.stdout).toContain('2 were already stored');
  });
});

describe('trailkeep ingest: re-sends of events the server completed', () => {
  // The README's example: occurred_at, category, operation and outcome are the server's.
  const example = { id: 'r1', action: 'job.created', actor: { type: 'user', id: 'u' } };
  let readmeDb: string;

  beforeAll(async () => {
    readmeDb = `sqlite:${join(dir, 'readme.db')}`;
    const init = await runCli(['init', '--workspace', 'acme', '--db', readmeDb]);
    expect(init.code, init.stderr).toBe(0);
  });

  async function storedExample(): Promise<StoredEvent | undefined> {
    const store = await openStore(readmeDb);
    try {
      return await store.getEvent('acme', 'r1');
    } finally {
      await store.close();
    }
  }

  it("stores the README's example once when it is ingested twice, keeping the first", async () => {
    const ingest = (): Promise<{ code: number; stdout: string; stderr: string }> =>
      runCli(['ingest', '--workspace', 'acme', '--db', readmeDb, '-'], {
        input: ndjson([example]),
      });
    const first = await ingest();
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toBe('Stored 1 events in "acme".\n');
    const kept = await storedExample();
    // Each run is a new process, so the server-filled time of the second differs.
    const again = await ingest();
    expect(again.stderr).toBe('');
    expect(again.code).toBe(0);
    expect(again.stdout).toBe('Stored 0 events in "acme" (1 were already stored).\n');
    expect(await storedExample()).toEqual(kept);
  });

  it('refuses a re-send whose own fields differ, naming them in one line', async () => {
    const result = await runCli(['ingest', '--workspace', 'acme', '--db', readmeDb, '-'], {
      input: ndjson([{ ...example, occurred_at: '2026-05-12T09:30:00Z' }]),
    });
    expect(result.code).toBe(2);
    expect(result.stderr.split('\n')[0]).toBe(
      'trailkeep: event id "r1" is already stored (seq 1) with a different occurred_at',
    );
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('trailkeep query', () => {
  it('answers a question newest first and the cursor continues the same question', async () => {
    const q = 'actor:alex@ action:member.* since:2026-05-01';
    const first = await runCli([
      'query',
      '--workspace',
      'acme',
      '--db',
      db,
      '--json',
      '--limit',
      '7',
      q,
    ]);
    expect(first.code, first.stderr).toBe(0);
    const page1 = JSON.parse(first.stdout);
    const expected = Array.from({ length: 120 }, (_, i) => event(i + 1)).filter(
      (e) =>
        (e['action'] as string).startsWith('member.') &&
        (e['actor'] as { id: string }).id === 'u_alex',
    ).length;
    expect(page1.count.value).toBe(expected);
    const seen: Array<{ occurred_at: string; seq: number; actor: { email: string } }> = [
      ...page1.events,
    ];
    let cursor: string | null = page1.next_cursor;
    while (cursor) {
      const next = await runCli([
        'query',
        '--workspace',
        'acme',
        '--db',
        db,
        '--json',
        '--cursor',
        cursor,
      ]);
      expect(next.code, next.stderr).toBe(0);
      const page = JSON.parse(next.stdout);
      expect(page.query).toBe(page1.query);
      seen.push(...page.events);
      cursor = page.next_cursor;
    }
    expect(seen).toHaveLength(expected);
    expect(new Set(seen.map((e) => e.seq)).size).toBe(expected);
    for (const e of seen) expect(e.actor.email).toBe('alex@example.com');
    const order = seen.map((e) => `${e.occurred_at}|${String(e.seq).padStart(8, '0')}`);
    expect(order).toEqual([...order].sort().reverse());
  });

  it('prints a readable table with the count and a cursor for more', async () => {
    const result = await runCli([
      'query',
      '--workspace',
      'acme',
      '--db',
      db,
      '--limit',
      '5',
      'action:job.created',
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^TIME \(UTC\)\s+SEQ\s+ACTOR\s+ACTION/);
    expect(result.stdout).toContain('5 events of 60 matching: action:job.created');
    expect(result.stdout).toContain('Older: trailkeep query --workspace acme --cursor ');
  });

  it('rejects a bad query with the position and term, in one line, exit 2', async () => {
    const result = await runCli([
      'query',
      '--workspace',
      'acme',
      '--db',
      db,
      'actor:alex colour:red',
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('Unknown key "colour"');
    expect(result.stderr).toContain('position 11');
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('rejects a forged cursor with a clear message', async () => {
    const result = await runCli([
      'query',
      '--workspace',
      'acme',
      '--db',
      db,
      '--cursor',
      'eyJ2IjoxfQ.AAAA',
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/cursor/i);
  });
});

describe('trailkeep verify and checkpoint', () => {
  it('exits 0 on an intact log, and a checkpoint verifies', async () => {
    const ok = await runCli(['verify', '--db', db]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain('acme: intact, 120 events up to seq 120');
    const cp = await runCli(['checkpoint', '--workspace', 'acme', '--db', db], { cwd: dir });
    expect(cp.code, cp.stderr).toBe(0);
    const file = join(dir, 'trailkeep-checkpoint-acme-120.json');
    const signed = JSON.parse(readFileSync(file, 'utf8'));
    expect(signed).toMatchObject({ workspace: 'acme', seq: 120, algorithm: 'ed25519' });
    const again = await runCli(['verify', '--db', db, '--checkpoint', file]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('extends checkpoint at seq 120');
    const forged = join(dir, 'forged.json');
    writeFileSync(forged, JSON.stringify({ ...signed, seq: 119 }));
    const refused = await runCli(['verify', '--db', db, '--checkpoint', forged]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/checkpoint is not valid/);
  });

  it('exits 1 naming the event when one byte of it was changed with a SQLite client', async () => {
    const copy = join(dir, 'tampered.db');
    const raw = new Database(join(dir, 'log.db'));
    await raw.backup(copy);
    raw.close();
    const attacker = new Database(copy);
    const update = (): unknown =>
      attacker
        .prepare("UPDATE events SET body = replace(body, 'admin', 'adm1n') WHERE seq = 42")
        .run();
    expect(update).toThrow(/append-only/);
    attacker.exec('DROP TRIGGER events_no_update');
    update();
    attacker.close();
    const result = await runCli(['verify', '--db', `sqlite:${copy}`]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('acme: BROKEN at seq 42');
    expect(result.stdout).toContain('evt_42');
  });

  it('exits 1 naming a derived row edited to hide events, and reindex repairs it', async () => {
    const copy = join(dir, 'hidden.db');
    const raw = new Database(join(dir, 'log.db'));
    await raw.backup(copy);
    raw.close();
    const target = `sqlite:${copy}`;
    const count = async (): Promise<unknown> => {
      const result = await runCli([
        'query',
        ...['--workspace', 'acme', '--db', target, '--json'],
        'email:alex@example.com',
      ]);
      expect(result.code, result.stderr).toBe(0);
      return (JSON.parse(result.stdout) as { count: unknown }).count;
    };
    const before = await count();
    const attacker = new Database(copy);
    const hide = (): unknown =>
      attacker
        .prepare(`UPDATE actors SET email_lc = 'nobody@example.com' WHERE id = 'u_alex'`)
        .run();
    expect(hide).toThrow(/append-only/);
    attacker.exec('DROP TRIGGER actors_no_update');
    hide();
    attacker.close();
    expect(await count()).not.toEqual(before);

    const broken = await runCli(['verify', '--db', target]);
    expect(broken.code).toBe(1);
    expect(broken.stdout).toMatch(
      /acme: BROKEN at seq 3 \(derived_mismatch\): seq 3 \(evt_3\): actors akey \d+ column email_lc is "nobody@example.com" but the events say "alex@example.com"/,
    );
    expect(broken.stdout).toContain('trailkeep reindex --workspace acme');

    const repaired = await runCli(['reindex', '--db', target]);
    expect(repaired.code, repaired.stderr).toBe(0);
    expect(repaired.stdout).toMatch(
      /^acme: rebuilt from 120 events \(event_targets 120, actors 2, facet_counts \d+, tree_nodes 120\)\. acme: intact, 120 events up to seq 120/,
    );
    expect(await count()).toEqual(before);
    expect((await runCli(['verify', '--db', target])).code).toBe(0);
    // The guard that was dropped is back.
    const after = new Database(copy);
    try {
      expect(() =>
        after.prepare(`UPDATE actors SET email_lc = 'x' WHERE id = 'u_alex'`).run(),
      ).toThrow(/append-only/);
    } finally {
      after.close();
    }
  });

  it('exits 2 on other errors, in one line', async () => {
    const result = await runCli(['verify', '--db', db, '--workspace', 'nope']);
    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toBe('trailkeep: No workspace "nope"');
  });
});

describe('trailkeep export and history', () => {
  it('exports the same rows as the query, as CSV with formulas neutralized', async () => {
    const hostile = event(900, {
      action: 'customer.updated',
      targets: [{ type: 'customer', id: 'c_1', name: '=HYPERLINK("http://evil","x")' }],
    });
    await runCli(['ingest', '--workspace', 'acme', '--db', db, '-'], { input: ndjson([hostile]) });
    const out = join(dir, 'export.csv');
    const result = await runCli([
      'export',
      '--workspace',
      'acme',
      '--db',
      db,
      '--out',
      out,
      'since:2026-05-01',
    ]);
    expect(result.code, result.stderr).toBe(0);
    const rows: Array<Record<string, string>> = parse(readFileSync(out, 'utf8'), {
      columns: true,
      bom: true,
    });
    expect(rows).toHaveLength(121);
    const row = rows.find((r) => r['id'] === 'evt_900');
    expect(row?.['target_name']).toBe('\'=HYPERLINK("http://evil","x")');
    const query = await runCli([
      'query',
      '--workspace',
      'acme',
      '--db',
      db,
      '--json',
      '--limit',
      '200',
      'since:2026-05-01',
    ]);
    expect(rows.map((r) => r['id'])).toEqual(
      JSON.parse(query.stdout).events.map((e: { id: string }) => e.id),
    );
  });

  it('says on stderr when --limit cuts the export', async () => {
    const result = await runCli([
      'export',
      '--workspace',
      'acme',
      '--db',
      db,
      '--format',
      'ndjson',
      '--out',
      '-',
      '--limit',
      '3',
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.trim().split('\n')).toHaveLength(3);
    expect(result.stderr).toContain('--limit 3 cut the export short');
  });

  it('shows the history of one entity with its state', async () => {
    const result = await runCli([
      'history',
      'job',
      't_1',
      '--workspace',
      'acme',
      '--db',
      db,
      '--json',
    ]);
    expect(result.code, result.stderr).toBe(0);
    const history = JSON.parse(result.stdout);
    expect(history.events.length).toBeGreaterThan(0);
    expect(history.state).toEqual({ role: 'admin' });
  });
});
