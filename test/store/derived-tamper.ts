/**
 * Every derived row a query reads, tampered with through a raw connection with the append-only
 * triggers out of the way: verify names the table, the row (seq or key) and the column, and
 * `reindex` repairs it so that verify passes and every query answers as before the tampering.
 * One case list per engine (their tables differ), one suite for both: sqlite-derived.test.ts
 * and postgres-derived.test.ts run it.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventInput } from '../../src/core/event.js';
import { parseFilter } from '../../src/core/query/index.js';
import { LogService, type VerifyReport } from '../../src/service/log-service.js';
import type { Store } from '../../src/store/store.js';

export interface TamperEngine {
  name: 'sqlite' | 'postgres';
  open(): Promise<Store>;
  /**
   * Runs `statements` in one transaction of a raw connection that the append-only triggers do
   * not stop. `$WS` in a statement stands for the workspace's key in that engine's tables.
   */
  tamper(workspace: string, statements: readonly string[]): Promise<void>;
  /** The names of the append-only triggers now in place. */
  guards(): Promise<string[]>;
}

export interface TamperCase {
  name: string;
  statements: readonly string[];
  /** What verify must name. */
  expect: {
    kind?: 'derived_mismatch' | 'index_mismatch' | 'tree_mismatch';
    table: string;
    column?: string;
    seq?: number;
    key?: RegExp;
  };
  /** A query whose answer the tampering changes (the attack works before the repair). */
  changes?: string;
}

/** Event seq s (1-based): who did it and what it names, so cases can aim at known rows. */
export function tamperEvents(count: number): EventInput[] {
  return Array.from({ length: count }, (_, i) => {
    const s = i + 1;
    const actor =
      s % 2 === 1
        ? { type: 'user' as const, id: 'u_alex', name: 'Alex Kim', email: 'alex@example.com' }
        : s % 4 === 0
          ? { type: 'agent' as const, id: 'ci-bot' }
          : { type: 'user' as const, id: 'u_zoe', name: 'Zoë Ünal', email: 'ZOE@Example.com' };
    const targets = [{ type: 'job', id: `j${s % 10}`, name: `Job ${s % 10}` }];
    if (s % 3 === 0) targets.push({ type: 'user', id: 'u_9', name: 'Nine' });
    return {
      id: `evt_${s}`,
      action: s % 5 === 0 ? 'job.deleted' : 'job.updated',
      occurred_at: new Date(Date.UTC(2026, 4, 1, 9, s)).toISOString(),
      actor,
      targets,
      metadata: { plan: s % 2 === 0 ? 'pro' : 'free', n: s },
    };
  });
}

export const EVENTS = 60;

/** The Merkle tree's rows, alike on both engines but for the workspace column and a hash. */
export function treeCases(ws: 'ws' | 'workspace', zeroHash: string): TamperCase[] {
  const node = (level: number, idx: number) => `${ws} = $WS AND level = ${level} AND idx = ${idx}`;
  return [
    {
      name: 'tree_nodes.hash',
      statements: [`UPDATE tree_nodes SET hash = ${zeroHash} WHERE ${node(0, 6)}`],
      expect: { kind: 'tree_mismatch', table: 'tree_nodes' },
    },
    {
      name: 'tree_nodes row removed',
      statements: [`DELETE FROM tree_nodes WHERE ${node(0, EVENTS - 1)}`],
      expect: { kind: 'tree_mismatch', table: 'tree_nodes' },
    },
  ];
}

/** The facet counter cases, alike on both engines but for two column names. */
export function facetCountCases(ws: 'ws' | 'workspace', count: 'n' | 'events'): TamperCase[] {
  return [
    {
      name: `facet_counts.${count}`,
      statements: [
        `UPDATE facet_counts SET ${count} = 1
          WHERE ${ws} = $WS AND kind = 'action' AND value = 'job.updated'`,
      ],
      expect: { table: 'facet_counts', column: count, seq: 1, key: /^action "job.updated"$/ },
    },
    {
      name: 'facet_counts row removed',
      statements: [`DELETE FROM facet_counts WHERE ${ws} = $WS AND kind = 'outcome'`],
      expect: { table: 'facet_counts', seq: 1, key: /^outcome "success"$/ },
    },
    {
      name: 'facet_counts row no event implies',
      statements: [`INSERT INTO facet_counts VALUES ($WS, 'action', 'ghost.action', 3)`],
      expect: { table: 'facet_counts', seq: 0, key: /^action "ghost.action"$/ },
    },
  ];
}

/** The questions whose answers must come back unchanged after a repair. */
export const QUESTIONS = [
  'actor:alex',
  'actor:u_al',
  'actor:alex actor_type:user',
  'email:alex@example.com',
  'username:"alex kim"',
  'actor:zoe actor_type:user',
  'actor:ci-bot',
  'target:"job 7"',
  'target_id:j7',
  'target_type:user',
  'meta.plan:pro',
  'job',
];

async function answers(store: Store, ws: string): Promise<unknown> {
  const out: Record<string, unknown> = {};
  for (const question of QUESTIONS) {
    const filter = parseFilter(question);
    const page = await store.page(ws, filter, { limit: 500, direction: 'older' });
    out[question] = {
      seqs: page.map((e) => e.seq),
      count: await store.count(ws, filter, 10_000),
    };
  }
  out['facets'] = await store.facets(ws);
  out['history'] = (await store.entityEvents(ws, 'job', 'j7')).map((e) => e.seq);
  out['get'] = (await store.getEvent(ws, 'evt_7'))?.seq ?? null;
  return out;
}

async function answer(store: Store, ws: string, question: string): Promise<number[]> {
  const page = await store.page(ws, parseFilter(question), { limit: 500, direction: 'older' });
  return page.map((e) => e.seq);
}

export function runDerivedTamperSuite(engine: TamperEngine, cases: readonly TamperCase[]): void {
  describe(`derived rows under tampering: ${engine.name}`, () => {
    let store: Store;
    let log: LogService;
    let guards: string[];

    beforeAll(async () => {
      store = await engine.open();
      log = await LogService.open(store);
      guards = (await engine.guards()).sort();
    });
    afterAll(async () => {
      await store?.close();
    });

    async function workspace(): Promise<string> {
      const id = `tamper-${randomUUID().slice(0, 8)}`;
      await store.createWorkspace({ id, name: id, settings: {} });
      await log.ingest(id, { events: tamperEvents(EVENTS) });
      return id;
    }

    const verify = (ws: string): Promise<VerifyReport> => log.verify(ws);

    for (const c of cases) {
      it(`${c.name}: verify names it, reindex repairs it`, async () => {
        const ws = await workspace();
        expect((await verify(ws)).ok).toBe(true);
        const before = await answers(store, ws);
        const changed = c.changes === undefined ? [] : await answer(store, ws, c.changes);

        await engine.tamper(ws, c.statements);
        const broken = await verify(ws);
        expect(broken.ok, JSON.stringify(broken.problem)).toBe(false);
        expect(broken.problem).toMatchObject({
          kind: c.expect.kind ?? 'derived_mismatch',
          // The tree check names its table in the message alone.
          ...(c.expect.kind === 'tree_mismatch' ? {} : { table: c.expect.table }),
          ...(c.expect.column === undefined ? {} : { column: c.expect.column }),
          ...(c.expect.seq === undefined ? {} : { seq: c.expect.seq }),
        });
        if (c.expect.key !== undefined) expect(broken.problem?.key).toMatch(c.expect.key);
        expect(broken.problem?.message).toContain(c.expect.column ?? c.expect.table);
        if (c.changes !== undefined) {
          expect(await answer(store, ws, c.changes), c.changes).not.toEqual(changed);
        }

        const rebuilt = await store.reindex(ws);
        expect(rebuilt.events).toBe(EVENTS);
        const repaired = await verify(ws);
        expect(repaired.problem).toBeUndefined();
        expect(repaired.ok).toBe(true);
        expect(await answers(store, ws)).toEqual(before);
        expect((await engine.guards()).sort()).toEqual(guards);
      });
    }

    it('reindex refuses a workspace whose chain does not verify, and changes nothing', async () => {
      const ws = await workspace();
      const [seven] = cases.filter((c) => c.changes === 'target:"job 7"');
      if (seven === undefined) throw new Error('no case hides target "job 7"');
      await engine.tamper(ws, [
        ...seven.statements,
        `UPDATE events SET body = replace(body, '"job.updated"', '"job.created"') WHERE seq = 4 AND ${
          engine.name === 'sqlite' ? 'ws' : 'workspace'
        } = $WS`,
      ]);
      const hidden = await answer(store, ws, 'target:"job 7"');
      await expect(store.reindex(ws)).rejects.toMatchObject({
        code: 'integrity_broken',
        message: expect.stringMatching(/seq 4 .*nothing was changed/) as unknown,
      });
      expect(await answer(store, ws, 'target:"job 7"')).toEqual(hidden);
      expect((await verify(ws)).problem).toMatchObject({ kind: 'altered', seq: 4 });
    });

    it('reindex leaves the other workspaces as they were', async () => {
      const [a, b] = [await workspace(), await workspace()];
      const other = await answers(store, b);
      await store.reindex(a);
      expect(await answers(store, b)).toEqual(other);
      expect((await verify(b)).ok).toBe(true);
    });
  });
}
