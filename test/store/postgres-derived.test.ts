/**
 * PostgreSQL: every derived table and column (event_ids, event_targets, actors, facet_counts),
 * tampered with by the superuser with the triggers out of the way, is named by verify and
 * repaired by reindex; the metadata copy in events is named too. One case drops a guard
 * outright, which reindex puts back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LogService } from '../../src/service/log-service.js';
import { createPool, type Pool } from '../../src/store/postgres/driver.js';
import { openPostgresStore } from '../../src/store/postgres/index.js';
import type { Store } from '../../src/store/store.js';
import { createDatabase, usePostgres } from '../support/postgres.js';
import {
  EVENTS,
  facetCountCases,
  treeCases,
  runDerivedTamperSuite,
  tamperEvents,
  type TamperCase,
} from './derived-tamper.js';

let url: string | undefined;
let pool: Pool | undefined;
let release: (() => Promise<void>) | undefined;

beforeAll(async () => {
  const { server, release: done } = await usePostgres();
  release = done;
  url = await createDatabase(server, 'derived');
  pool = await createPool(url);
});

afterAll(async () => {
  await pool?.end();
  await release?.();
});

function connected(): { url: string; pool: Pool } {
  if (url === undefined || pool === undefined) throw new Error('PostgreSQL did not start');
  return { url, pool };
}

/** Runs statements as the superuser with ordinary triggers switched off for the transaction. */
async function tamper(workspace: string, statements: readonly string[]): Promise<void> {
  const client = await connected().pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SET LOCAL session_replication_role = replica');
    for (const statement of statements) {
      await client.query(statement.replaceAll('$WS', `'${workspace}'`));
    }
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  } finally {
    client.release();
  }
}

const target = (seq: number, pos = 0): string =>
  `workspace = $WS AND seq = ${seq} AND pos = ${pos}`;
const alex = `workspace = $WS AND actor_id = 'u_alex'`;
const ALEX = /"u_alex"/;

const cases: TamperCase[] = [
  ...(
    [
      ['id', `id = 'evt_elsewhere'`],
      ['occurred_at', `occurred_at = occurred_at + interval '1 day'`],
    ] as const
  ).map(([column, set]) => ({
    name: `event_ids.${column}`,
    statements: [`UPDATE event_ids SET ${set} WHERE workspace = $WS AND seq = 7`],
    expect: { table: 'event_ids', column, seq: 7 },
  })),
  {
    name: 'event_ids.seq',
    statements: [`UPDATE event_ids SET seq = 5000 WHERE workspace = $WS AND seq = 7`],
    expect: { table: 'event_ids', seq: 7, key: /^seq 7$/ },
  },
  {
    name: 'event_ids row removed',
    statements: [`DELETE FROM event_ids WHERE workspace = $WS AND seq = 7`],
    expect: { table: 'event_ids', seq: 7 },
  },
  {
    name: 'event_ids row of no event',
    statements: [`INSERT INTO event_ids VALUES ($WS, 'evt_ghost', 5000, now())`],
    expect: { table: 'event_ids', seq: 0, key: /^seq 5000$/ },
  },
  ...(
    [
      ['pos', 'pos = 5', 9, 1, undefined],
      ['occurred_at', `occurred_at = occurred_at + interval '1 day'`, 7, 0, undefined],
      ['type', `type = 'pipeline'`, 9, 1, undefined],
      ['id', `id = 'j77'`, 7, 0, 'target_id:j7'],
      ['type_lc', `type_lc = 'pipeline'`, 9, 1, 'target_type:user'],
      ['name_lc', `name_lc = 'job 77'`, 7, 0, 'target:"job 7"'],
    ] as const
  ).map(([column, set, seq, pos, changes]) => ({
    name: `event_targets.${column}`,
    statements: [`UPDATE event_targets SET ${set} WHERE ${target(seq, pos)}`],
    expect: { table: 'event_targets', column, seq },
    ...(changes === undefined ? {} : { changes }),
  })),
  ...(
    [
      ['seq', 'seq = 5000'],
      ['workspace', `workspace = 'elsewhere'`],
    ] as const
  ).map(([column, set]) => ({
    name: `event_targets.${column}`,
    statements: [`UPDATE event_targets SET ${set} WHERE ${target(7)}`],
    expect: { table: 'event_targets', seq: 7, key: /^seq 7 pos 0$/ },
    changes: 'target:"job 7"',
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
      `INSERT INTO event_targets SELECT workspace, seq, 5, occurred_at, 'job', 'j7', 'job', 'job 7'
         FROM event_targets WHERE ${target(8)}`,
    ],
    expect: { table: 'event_targets', seq: 8 },
    changes: 'target:"job 7"',
  },
  {
    name: 'event_targets row of no event',
    statements: [
      `INSERT INTO event_targets VALUES ($WS, 5000, 0, now(), 'job', 'j7', 'job', 'job 7')`,
    ],
    expect: { table: 'event_targets', seq: 0, key: /^seq 5000 pos 0$/ },
  },
  // The name, email, type and id of an actor are its row's key: a changed one is the row
  // missing (named by its key) and another one that no event implies.
  ...(
    [
      ['actor_type', `actor_type = 'agent'`, 'actor:alex'],
      ['actor_id', `actor_id = 'u_alexis'`, 'actor:alex'],
      // Alex's only form still matches whole, so searches go by (type, id); the facet shows it.
      ['actor_name', `actor_name = 'Al'`, undefined],
      ['actor_email', `actor_email = 'al@example.com'`, undefined],
    ] as const
  ).map(([column, set, changes]) => ({
    name: `actors.${column}`,
    statements: [`UPDATE actors SET ${set} WHERE ${alex}`],
    expect: { table: 'actors', seq: 1, key: ALEX },
    ...(changes === undefined ? {} : { changes }),
  })),
  ...(
    [
      ['id_lc', `id_lc = 'someone'`, 'actor:u_al'],
      ['name_lc', `name_lc = 'someone'`, 'username:"alex kim"'],
      ['email_lc', `email_lc = 'someone@example.com'`, 'email:alex@example.com'],
      ['events', 'events = 1', undefined],
      ['first_seq', 'first_seq = 99', undefined],
    ] as const
  ).map(([column, set, changes]) => ({
    name: `actors.${column}`,
    statements: [
      // This one also drops the guard outright: reindex must put it back.
      ...(column === 'name_lc' ? ['DROP TRIGGER actors_append_only ON actors'] : []),
      `UPDATE actors SET ${set} WHERE ${alex}`,
    ],
    expect: { table: 'actors', column, seq: 1, key: ALEX },
    ...(changes === undefined ? {} : { changes }),
  })),
  {
    name: 'actors row removed',
    statements: [`DELETE FROM actors WHERE ${alex}`],
    expect: { table: 'actors', seq: 1, key: ALEX },
    changes: 'actor:alex',
  },
  {
    name: 'actors row no event names',
    statements: [
      `INSERT INTO actors VALUES ($WS, 'user', 'u_ghost', 'Ghost', '', 'u_ghost', 'ghost', '', 9, 1)`,
    ],
    expect: { table: 'actors', seq: 0, key: /"u_ghost"/ },
  },
  ...treeCases('workspace', "decode(repeat('00', 32), 'hex')"),
  ...facetCountCases('workspace', 'events'),
];

const GUARDED = ['events', 'event_ids', 'event_targets', 'tree_nodes', 'actors', 'facet_counts'];

runDerivedTamperSuite(
  {
    name: 'postgres',
    open: () => openPostgresStore(connected().url),
    tamper,
    guards: async () =>
      (
        await connected().pool.query<{ name: string }>(
          `SELECT tgname AS name FROM pg_trigger
            WHERE tgrelid = ANY($1::regclass[]) AND NOT tgisinternal`,
          [GUARDED],
        )
      ).rows.map((row) => row.name),
  },
  cases,
);

describe('PostgreSQL: the metadata copy in events', () => {
  let store: Store;
  beforeAll(async () => {
    store = await openPostgresStore(connected().url);
  });
  afterAll(async () => {
    await store.close();
  });

  it('is named by verify when it disagrees with the body (meta.KEY filters read it)', async () => {
    await store.createWorkspace({ id: 'meta', name: 'Meta', settings: {} });
    const log = await LogService.open(store);
    await log.ingest('meta', { events: tamperEvents(EVENTS) });
    expect((await log.verify('meta')).ok).toBe(true);
    await tamper('meta', [
      `UPDATE events SET metadata = '{"plan": "free", "n": 8}' WHERE workspace = $WS AND seq = 8`,
    ]);
    const report = await log.verify('meta');
    expect(report.problem).toMatchObject({
      kind: 'index_mismatch',
      seq: 8,
      table: 'events',
      column: 'metadata',
      expected: '{"n": 8, "plan": "pro"}',
      found: '{"n": 8, "plan": "free"}',
    });
  });
});
