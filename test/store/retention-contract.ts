/**
 * The retention part of the Store contract (runStoreContract calls it for every engine): a
 * policy off by default, legal holds, and pruning that takes bodies and derived rows while the
 * chain hashes and the tree stay, so the chain, the derived rows and the tree still verify and
 * the proofs of kept events still verify against a tree head taken before the prune.
 */
import fc from 'fast-check';
import { expect } from 'vitest';
import { EMPTY_HEAD, type EventDraft, type Target } from '../../src/core/event.js';
import { MATCH_ALL } from '../../src/core/query/filter.js';
import { eventLeafHash, verifyInclusion } from '../../src/core/tlog/merkle.js';
import { TreeVerifier } from '../../src/core/tree-verify.js';
import { ChainVerifier, type PrunedRange, type VerifyProblem } from '../../src/core/verify.js';
import type { PruneRequest, Store } from '../../src/store/store.js';
import { code } from './tree-contract.js';

export interface RetentionContractContext {
  store: () => Store;
  open: () => Promise<Store>;
  workspace: (label?: string) => Promise<string>;
  test: (name: string, body: () => Promise<void>) => void;
  makeDraft: (workspace: string, overrides?: Partial<EventDraft>) => EventDraft;
}

const DAY = 86_400_000;
const T0 = Date.parse('2026-01-01T00:00:00.000Z');
const at = (day: number): string => new Date(T0 + day * DAY).toISOString();

let runs = 0;
function request(days: number, cutoffDay: number, dryRun = false): PruneRequest {
  runs += 1;
  return {
    run: `prune_test${runs}`,
    at: at(cutoffDay + days),
    cutoff: at(cutoffDay),
    policy_days: days,
    ...(dryRun ? { dryRun } : {}),
  };
}

/** A full verification as the service runs it: chain, tail, derived totals and the tree. */
export async function verifyAll(
  store: Store,
  ws: string,
): Promise<{ problem: VerifyProblem | undefined; pruned: readonly PrunedRange[] }> {
  const verifier = new ChainVerifier(ws, EMPTY_HEAD, store.derived);
  const tree = new TreeVerifier();
  const walk = (row: Parameters<ChainVerifier['check']>[0]): VerifyProblem | undefined => {
    const problem = verifier.check(row);
    if (problem === undefined) tree.add(row.hash);
    return problem;
  };
  for await (const row of store.scanChain(ws, 1)) {
    const problem = walk(row);
    if (problem) return { problem, pruned: verifier.pruned };
  }
  const tail = await store.verifyTail(ws, verifier.walked());
  for (const row of tail.rows) {
    const problem = walk(row);
    if (problem) return { problem, pruned: verifier.pruned };
  }
  const problem =
    verifier.compareTotals(tail.derived, tail.mismatches) ??
    (await tree.compare({
      treeSize: () => store.treeSize(ws),
      readTiles: (tiles) => store.readTiles(ws, tiles),
    }));
  return { problem, pruned: verifier.pruned };
}

export function retentionContract(c: RetentionContractContext): void {
  const { test, makeDraft } = c;

  /** Events received on the given days (one per day), with the given targets. */
  async function seeded(days: readonly number[], targets?: (i: number) => Target[]) {
    const ws = await c.workspace('retain');
    const store = c.store();
    const drafts = days.map((day, i) =>
      makeDraft(ws, {
        received_at: at(day),
        occurred_at: at(day),
        action: `thing.${i % 3}`,
        actor: { type: 'user', id: `u_${i % 4}`, name: `User ${i % 4}`, email: `u${i % 4}@x.io` },
        targets: targets?.(i) ?? [{ type: 'doc', id: `d_${i}`, name: `Doc ${i}` }],
      }),
    );
    const appended = await store.append(ws, drafts);
    return { ws, store, events: appended.map((a) => a.event) };
  }

  test('retention is off by default: pruning is refused and nothing changes', async () => {
    const { ws, store } = await seeded([0, 1, 2]);
    expect(await store.retention(ws)).toBeUndefined();
    expect(await code(store.prune(ws, request(30, 100)))).toBe('retention_not_set');
    expect((await verifyAll(store, ws)).pruned).toEqual([]);
    expect(await store.count(ws, MATCH_ALL, 100)).toBe(3);
  });

  test('a policy is set, replaced and removed; each change returns the one before', async () => {
    const ws = await c.workspace('policy');
    const store = c.store();
    const first = { days: 30, set_at: at(0), set_by: 'usr_1' };
    expect(await store.setRetention(ws, first)).toBeUndefined();
    expect(await store.retention(ws)).toEqual(first);
    const second = { days: 400, set_at: at(1), set_by: null };
    expect(await store.setRetention(ws, second)).toEqual(first);
    expect(await store.setRetention(ws, null)).toEqual(second);
    expect(await store.retention(ws)).toBeUndefined();
    expect(await code(store.retention('no-such-workspace'))).toBe('workspace_not_found');
  });

  test('pruning keeps the hashes: chain, derived rows and tree verify; reads no longer see bodies', async () => {
    const { ws, store, events } = await seeded([0, 1, 2, 3, 50, 51]);
    await store.setRetention(ws, { days: 10, set_at: at(0), set_by: null });
    const size = await store.treeSize(ws);
    const root = await store.treeRoot(ws, size);
    const proofs = await Promise.all(events.map((e) => store.inclusionProof(ws, e.seq, size)));

    const dry = await store.prune(ws, request(10, 10, true));
    expect(dry).toMatchObject({ count: 4, ranges: [[1, 4]], dry_run: true });
    expect(await store.count(ws, MATCH_ALL, 100)).toBe(6);

    const result = await store.prune(ws, request(10, 10));
    expect(result).toMatchObject({
      count: 4,
      ranges: [[1, 4]],
      held: 0,
      holds: [],
      dry_run: false,
    });
    expect(await store.pruneRuns(ws)).toEqual([
      {
        run: result.run,
        at: result.at,
        cutoff: result.cutoff,
        policy_days: 10,
        ranges: [[1, 4]],
        count: 4,
        holds: [],
      },
    ]);
    const { problem, pruned } = await verifyAll(store, ws);
    expect(problem).toBeUndefined();
    expect(pruned).toEqual([
      { from: 1, to: 4, run: result.run, policy_days: 10, pruned_at: result.at, cutoff: at(10) },
    ]);
    // The tree is untouched: the old head and the proofs of kept events still verify.
    expect(await store.treeRoot(ws, size)).toEqual(root);
    for (const event of events.slice(4)) {
      const proof = await store.inclusionProof(ws, event.seq, size);
      expect(proof).toEqual(proofs[event.seq - 1]);
      expect(verifyInclusion(event.seq - 1, size, eventLeafHash(event.hash), proof, root)).toBe(
        true,
      );
    }
    // Reads see only the kept bodies.
    expect(await store.getEvent(ws, events[0]!.id)).toBeUndefined();
    expect(await store.getEvent(ws, events[5]!.id)).toEqual(events[5]);
    const page = await store.page(ws, MATCH_ALL, { limit: 50, direction: 'older' });
    expect(page.map((e) => e.seq)).toEqual([6, 5]);
    expect(await store.count(ws, MATCH_ALL, 100)).toBe(2);
    expect(await store.entityEvents(ws, 'doc', 'd_0')).toEqual([]);
    const facets = await store.facets(ws);
    expect(facets.actions.reduce((n, f) => n + f.count, 0)).toBe(2);
    expect(facets.actors.map((a) => a.id).sort()).toEqual(['u_0', 'u_1']);
    const streamed: number[] = [];
    for await (const batch of store.streamText(ws, MATCH_ALL, { order: 'oldest' })) {
      streamed.push(...batch.map((t) => (JSON.parse(t.body) as { seq: number }).seq));
    }
    expect(streamed).toEqual([5, 6]);
    // Appends carry on, also for an actor whose row went with its last event.
    const [next] = await store.append(ws, [
      makeDraft(ws, {
        received_at: at(60),
        actor: { type: 'user', id: 'u_2', name: 'User 2', email: 'u2@x.io' },
      }),
    ]);
    expect(next!.event.prev_hash).toBe(events[5]!.hash);
    expect((await verifyAll(store, ws)).problem).toBeUndefined();
    // A second run finds nothing more; reindex keeps the tombstones and the tree.
    expect((await store.prune(ws, request(10, 10))).count).toBe(0);
    await store.reindex(ws);
    expect((await verifyAll(store, ws)).problem).toBeUndefined();
    expect(await store.treeRoot(ws, size)).toEqual(root);
  });

  test('the newest event is never pruned, and pruning stops at the first recent event', async () => {
    const { ws, store } = await seeded([0, 1, 30, 2, 3]);
    await store.setRetention(ws, { days: 5, set_at: at(0), set_by: null });
    const result = await store.prune(ws, request(5, 100));
    expect(result.ranges).toEqual([[1, 4]]);
    const again = await seeded([0, 1, 30, 2]);
    await again.store.setRetention(again.ws, { days: 5, set_at: at(0), set_by: null });
    expect((await again.store.prune(again.ws, request(5, 10))).ranges).toEqual([[1, 2]]);
  });

  test('legal holds stop pruning of what they cover until released', async () => {
    const { ws, store } = await seeded([0, 1, 2, 3, 4, 50], (i) =>
      i === 1 || i === 3 ? [{ type: 'account', id: 'acct_9' }] : [{ type: 'doc', id: `d_${i}` }],
    );
    await store.setRetention(ws, { days: 10, set_at: at(0), set_by: null });
    const whole = await store.createHold({
      id: 'hold_ws',
      workspace: ws,
      target_id: null,
      reason: 'litigation',
      created_by: 'usr_1',
      created_at: at(5),
    });
    expect(whole.released_at).toBeNull();
    await store.createHold({
      id: 'hold_acct',
      workspace: ws,
      target_id: 'acct_9',
      reason: 'regulator request',
      created_by: 'usr_1',
      created_at: at(6),
    });
    const blocked = await store.prune(ws, request(10, 20));
    expect(blocked).toMatchObject({ count: 0, held: 5, holds: ['hold_acct', 'hold_ws'] });
    expect(await store.pruneRuns(ws)).toEqual([]);

    const release = { at: at(7), by: 'usr_2', reason: 'case closed' };
    const released = await store.releaseHold(ws, 'hold_ws', release);
    expect(released).toMatchObject({
      id: 'hold_ws',
      released_at: at(7),
      release_reason: 'case closed',
    });
    expect(await store.releaseHold(ws, 'hold_ws', release)).toBeUndefined();
    expect(await store.releaseHold(ws, 'hold_nope', release)).toBeUndefined();
    const other = await c.workspace('other');
    expect(await store.releaseHold(other, 'hold_acct', release)).toBeUndefined();

    const result = await store.prune(ws, request(10, 20));
    expect(result).toMatchObject({ count: 3, held: 2, holds: ['hold_acct'] });
    expect(result.ranges).toEqual([
      [1, 1],
      [3, 3],
      [5, 5],
    ]);
    expect((await store.entityEvents(ws, 'account', 'acct_9')).map((e) => e.seq)).toEqual([2, 4]);
    expect((await verifyAll(store, ws)).problem).toBeUndefined();
    expect((await store.listHolds(ws)).map((h) => [h.id, h.released_at])).toEqual([
      ['hold_acct', null],
      ['hold_ws', at(7)],
    ]);

    await store.releaseHold(ws, 'hold_acct', release);
    expect((await store.prune(ws, request(10, 20))).ranges).toEqual([
      [2, 2],
      [4, 4],
    ]);
    const { problem, pruned } = await verifyAll(store, ws);
    expect(problem).toBeUndefined();
    expect(pruned.map((r) => [r.from, r.to])).toEqual([
      [1, 1],
      [2, 2],
      [3, 3],
      [4, 4],
      [5, 5],
    ]);
  });

  test('a run planned with another policy than the stored one prunes nothing', async () => {
    const { ws, store } = await seeded([0, 1, 50]);
    await store.setRetention(ws, { days: 10, set_at: at(0), set_by: null });
    expect(await code(store.prune(ws, request(30, 20)))).toBe('retention_changed');
    expect(await store.count(ws, MATCH_ALL, 100)).toBe(3);
  });

  test('a second store on the same database appends for an actor whose row was pruned', async () => {
    const { ws, store } = await seeded([0, 1]);
    const second = await c.open();
    try {
      const actor = { type: 'user' as const, id: 'u_0', name: 'User 0', email: 'u0@x.io' };
      // The second store caches u_0's actors row; every event of u_0 is old.
      await second.append(ws, [makeDraft(ws, { received_at: at(2), actor })]);
      await store.append(ws, [makeDraft(ws, { received_at: at(50) })]);
      await store.setRetention(ws, { days: 10, set_at: at(0), set_by: null });
      expect((await store.prune(ws, request(10, 20))).ranges).toEqual([[1, 3]]);
      // u_0's row went with its last event; the second store still has its key cached.
      await second.append(ws, [makeDraft(ws, { received_at: at(52), actor })]);
      expect((await verifyAll(store, ws)).problem).toBeUndefined();
      expect((await store.facets(ws)).actors.find((a) => a.id === 'u_0')?.count).toBe(1);
    } finally {
      await second.close();
    }
  });

  test('property: exactly the uncovered old prefix loses its bodies; chain, tree and old proofs hold', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            day: fc.integer({ min: 0, max: 40 }),
            targets: fc.subarray(['a', 'b', 'c', 'd']),
          }),
          { minLength: 1, maxLength: 25 },
        ),
        fc.subarray(['a', 'b', 'c', 'd']),
        fc.integer({ min: 0, max: 45 }),
        async (rows, held, cutoffDay) => {
          const ws = await c.workspace('prop');
          const store = c.store();
          const appended = await store.append(
            ws,
            rows.map((r, i) =>
              makeDraft(ws, {
                received_at: at(r.day),
                actor: { type: 'user', id: `u_${i % 3}` },
                targets: r.targets.map((id) => ({ type: 't', id })),
              }),
            ),
          );
          const events = appended.map((a) => a.event);
          for (const id of held) {
            await store.createHold({
              id: `hold_${ws}_${id}`,
              workspace: ws,
              target_id: id,
              reason: 'r',
              created_by: null,
              created_at: at(0),
            });
          }
          await store.setRetention(ws, { days: 1, set_at: at(0), set_by: null });
          const size = await store.treeSize(ws);
          const root = await store.treeRoot(ws, size);
          await store.prune(ws, request(1, cutoffDay));

          // The reference: the prefix received before the cut-off, less the newest event.
          const expected = new Set<number>();
          for (const [i, r] of rows.entries()) {
            if (i === rows.length - 1 || r.day >= cutoffDay) break;
            if (!r.targets.some((t) => held.includes(t))) expected.add(i + 1);
          }
          for (const event of events) {
            const stored = await store.getEvent(ws, event.id);
            expect(stored === undefined).toBe(expected.has(event.seq));
            if (stored !== undefined) {
              const proof = await store.inclusionProof(ws, event.seq, size);
              expect(
                verifyInclusion(event.seq - 1, size, eventLeafHash(event.hash), proof, root),
              ).toBe(true);
            }
          }
          const { problem, pruned } = await verifyAll(store, ws);
          expect(problem).toBeUndefined();
          expect(pruned.reduce((n, r) => n + r.to - r.from + 1, 0)).toBe(expected.size);
          expect(await store.treeRoot(ws, size)).toEqual(root);
        },
      ),
      { numRuns: 25 },
    );
  });
}
