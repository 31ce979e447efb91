/**
 * SQLite: every derived table and column (event_targets, actors, facet_counts, the actor
 * search index, and events.actor_key that points into actors), tampered with in the file with
 * the guards dropped, is named by verify and repaired by reindex.
 */
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EMPTY_HEAD } from '../../src/core/event.js';
import { ChainVerifier, type VerifyProblem } from '../../src/core/verify.js';
import { LogService } from '../../src/service/log-service.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import { APPEND_ONLY_TRIGGERS } from '../../src/store/sqlite/schema.js';
import {
  EVENTS,
  facetCountCases,
  treeCases,
  runDerivedTamperSuite,
  tamperEvents,
  type TamperCase,
} from './derived-tamper.js';

const folder = mkdtempSync(join(tmpdir(), 'trailkeep-sqlite-derived-'));
const path = join(folder, 'log.db');
afterAll(() => rmSync(folder, { recursive: true, force: true }));

const target = (seq: number, pos = 0): string => `ws = $WS AND seq = ${seq} AND pos = ${pos}`;
const alex = `ws = $WS AND id = 'u_alex'`;

const cases: TamperCase[] = [
  ...(
    [
      ['ws', 'ws = ws + 1000', 7, 0, 'target:"job 7"'],
      ['pos', 'pos = 5', 9, 1, undefined],
      ['type', `type = 'pipeline'`, 9, 1, 'target_type:user'],
      ['id', `id = 'j77'`, 7, 0, 'target_id:j7'],
      ['name_lc', `name_lc = 'job 77'`, 7, 0, 'target:"job 7"'],
      ['occurred_ms', 'occurred_ms = 0', 7, 0, undefined],
      ['seq', 'seq = 8', 7, 0, undefined],
    ] as const
  ).map(([column, set, seq, pos, changes]) => ({
    name: `event_targets.${column}`,
    statements: [`UPDATE event_targets SET ${set} WHERE ${target(seq, pos)}`],
    expect: { table: 'event_targets', column, seq },
    ...(changes === undefined ? {} : { changes }),
  })),
  {
    name: 'event_targets row removed',
    statements: [`DELETE FROM event_targets WHERE ${target(7)}`],
    expect: { table: 'event_targets', seq: 7 },
    changes: 'target:"job 7"',
  },
  {
    name: 'event_targets row added to an event',
    statements: [
      `INSERT INTO event_targets SELECT eid, 5, ws, 'job', 'j7', 'job 7', occurred_ms, seq
       FROM event_targets WHERE ${target(8)}`,
    ],
    expect: { table: 'event_targets', seq: 8 },
    changes: 'target:"job 7"',
  },
  {
    name: 'event_targets row of no event',
    statements: [`INSERT INTO event_targets VALUES (999999, 0, $WS, 'job', 'j7', 'job 7', 0, 7)`],
    expect: { table: 'event_targets', seq: 0, key: /^eid 999999 pos 0$/ },
  },
  ...(
    [
      ['ws', 'ws = ws + 1000', 'actor:alex'],
      ['type', `type = 'agent'`, 'actor:alex actor_type:user'],
      ['id', `id = 'u_alexis'`, undefined],
      ['name', `name = 'Al'`, undefined],
      ['email', `email = 'al@example.com'`, undefined],
      ['id_lc', `id_lc = 'someone'`, 'actor:u_al'],
      ['name_lc', `name_lc = 'someone'`, 'username:"alex kim"'],
      ['email_lc', `email_lc = 'someone@example.com'`, 'email:alex@example.com'],
      ['event_count', 'event_count = 1', undefined],
    ] as const
  ).map(([column, set, changes]) => ({
    name: `actors.${column}`,
    statements: [`UPDATE actors SET ${set} WHERE ${alex}`],
    expect: { table: 'actors', column, seq: 1, key: /^akey \d+$/ },
    ...(changes === undefined ? {} : { changes }),
  })),
  {
    name: 'actors row removed',
    statements: [`DELETE FROM actors WHERE ${alex}`],
    expect: { table: 'actors', column: 'id', seq: 1 },
    changes: 'actor:alex',
  },
  {
    name: 'actors row no event names',
    statements: [
      `INSERT INTO actors (ws, type, id, name, email, id_lc, name_lc, email_lc, event_count)
       VALUES ($WS, 'user', 'u_ghost', 'Ghost', NULL, 'u_ghost', 'ghost', NULL, 9)`,
    ],
    expect: { table: 'actors', seq: 0, key: /^akey \d+$/ },
  },
  {
    name: 'events.actor_key pointing at another actor',
    statements: [
      `UPDATE events SET actor_key = (SELECT akey FROM actors WHERE ws = $WS AND id = 'u_zoe')
       WHERE ws = $WS AND seq = 7`,
    ],
    expect: { table: 'events', column: 'actor_key', seq: 7 },
    changes: 'actor:alex',
  },
  ...treeCases('ws', 'zeroblob(32)'),
  ...facetCountCases('ws', 'n'),
  {
    name: 'actors_search entry removed',
    statements: [
      `INSERT INTO actors_search (actors_search, rowid, id_lc, name_lc, email_lc)
       SELECT 'delete', akey, id_lc, name_lc, email_lc FROM actors WHERE ${alex}`,
    ],
    expect: { table: 'actors_search', column: 'id_lc', seq: 0, key: /^akey \d+$/ },
    changes: 'actor:alex',
  },
];

function raw<T>(work: (db: Database.Database) => T): T {
  const db = new Database(path);
  // An ordinary client, not Trailkeep's connection: nothing checks what it writes.
  db.pragma('foreign_keys = OFF');
  try {
    return work(db);
  } finally {
    db.close();
  }
}

runDerivedTamperSuite(
  {
    name: 'sqlite',
    open: () => openSqliteStore(path),
    tamper: (workspace, statements) => {
      raw((db) => {
        const ws = `(SELECT wsk FROM workspaces WHERE id = '${workspace}')`;
        db.transaction(() => {
          for (const { name } of APPEND_ONLY_TRIGGERS) db.exec(`DROP TRIGGER IF EXISTS ${name}`);
          for (const statement of statements) db.exec(statement.replaceAll('$WS', ws));
        })();
      });
      return Promise.resolve();
    },
    guards: () =>
      Promise.resolve(
        raw((db) =>
          (
            db.prepare(`SELECT name FROM sqlite_master WHERE type = 'trigger'`).all() as {
              name: string;
            }[]
          ).map((row) => row.name),
        ),
      ),
  },
  cases,
);

describe('the actor search index checked without the write lock', () => {
  it('a read-only store rebuilds the texts from the index and names the row and column', async () => {
    const store = await openSqliteStore(path);
    const log = await LogService.open(store);
    await store.createWorkspace({ id: 'readonly', name: 'R', settings: {} });
    await log.ingest('readonly', { events: tamperEvents(EVENTS) });
    await store.close();
    const reader = await openSqliteStore(path, { readonly: true });
    // LogService keeps its secrets in the file, so a read-only store is verified by hand.
    const verify = async (): Promise<VerifyProblem | undefined> => {
      const verifier = new ChainVerifier('readonly', EMPTY_HEAD, reader.derived);
      for await (const row of reader.scanChain('readonly', 1)) {
        const found = verifier.check(row);
        if (found) return found;
      }
      const tail = await reader.verifyTail('readonly', verifier.walked());
      return verifier.compareTotals(tail.derived, tail.mismatches);
    };
    try {
      expect(await verify()).toBeUndefined();
      raw((db) => {
        db.exec(`INSERT INTO actors_search (actors_search, rowid, id_lc, name_lc, email_lc)
          SELECT 'delete', akey, id_lc, name_lc, email_lc FROM actors
           WHERE id = 'u_zoe' AND ws = (SELECT wsk FROM workspaces WHERE id = 'readonly')`);
        // Put back the id and email, so only the name is missing from the index.
        db.exec(`INSERT INTO actors_search (rowid, id_lc, name_lc, email_lc)
          SELECT akey, id_lc, NULL, email_lc FROM actors
           WHERE id = 'u_zoe' AND ws = (SELECT wsk FROM workspaces WHERE id = 'readonly')`);
      });
      expect(await verify()).toMatchObject({
        kind: 'derived_mismatch',
        table: 'actors_search',
        key: expect.stringMatching(/^akey \d+$/) as unknown,
        column: 'name_lc',
        expected: 'zoë ünal',
        found: null,
      });
    } finally {
      await reader.close();
    }
  });
});
