/**
 * The witnesses part of the Store contract (runStoreContract calls it for every engine): a
 * workspace's witnesses are its own, names are unique per workspace, outcomes are recorded only
 * for the witness they were obtained from (same name and vkey), and an error keeps the last
 * cosignature.
 */
import { expect } from 'vitest';
import type { Store } from '../../src/store/store.js';

export interface WitnessContractContext {
  store: () => Store;
  workspace: (label?: string) => Promise<string>;
  test: (name: string, body: () => Promise<void>) => void;
}

const AT = '2026-05-12T09:00:00.000Z';

export function witnessContract(ctx: WitnessContractContext): void {
  const { test } = ctx;
  const witness = (workspace: string, name: string, vkey = `${name}+00000000+AQ==`) => ({
    workspace,
    name,
    url: `http://127.0.0.1:1/${name}`,
    vkey,
    created_at: AT,
  });

  test('adds, lists by name, refuses a taken name, removes', async () => {
    const store = ctx.store();
    const ws = await ctx.workspace('witnesses');
    const other = await ctx.workspace('witnesses-other');
    expect(await store.addWitness(witness(ws, 'w2'))).toBe(true);
    expect(await store.addWitness(witness(ws, 'w1'))).toBe(true);
    expect(await store.addWitness(witness(ws, 'w1', 'other+00000000+AQ=='))).toBe(false);
    expect(await store.addWitness(witness(other, 'w1'))).toBe(true);
    const listed = await store.listWitnesses(ws);
    expect(listed.map((w) => [w.name, w.vkey])).toEqual([
      ['w1', 'w1+00000000+AQ=='],
      ['w2', 'w2+00000000+AQ=='],
    ]);
    expect(listed[0]).toMatchObject({
      workspace: ws,
      url: 'http://127.0.0.1:1/w1',
      created_at: AT,
      cosigned_size: null,
      cosignature: null,
      last_error: null,
    });
    expect((await store.removeWitness(ws, 'w1'))?.name).toBe('w1');
    expect(await store.removeWitness(ws, 'w1')).toBeUndefined();
    expect((await store.listWitnesses(ws)).map((w) => w.name)).toEqual(['w2']);
    expect((await store.listWitnesses(other)).map((w) => w.name)).toEqual(['w1']);
    expect(await store.listWitnesses('no-such-workspace')).toEqual([]);
  });

  test('records outcomes for the same witness only; an error keeps the last cosignature', async () => {
    const store = ctx.store();
    const ws = await ctx.workspace('witness-outcomes');
    const other = await ctx.workspace('witness-outcomes-other');
    await store.addWitness(witness(ws, 'w'));
    await store.addWitness(witness(other, 'w'));
    const w = { name: 'w', vkey: 'w+00000000+AQ==' };
    const cosigned = { size: 2 ** 40, root: 'cm9vdA==', cosignature: '\u2014 w AAAA' };
    await store.recordWitnessOutcome(ws, w, { at: AT, cosigned });
    await store.recordWitnessOutcome(ws, { name: 'w', vkey: 'stale' }, { at: AT, error: 'x' });
    await store.recordWitnessOutcome(ws, w, { at: '2026-05-12T10:00:00.000Z', error: 'refused' });
    const [row] = await store.listWitnesses(ws);
    expect(row).toMatchObject({
      cosigned_size: 2 ** 40,
      cosigned_root: 'cm9vdA==',
      cosignature: '\u2014 w AAAA',
      cosigned_at: AT,
      last_error: 'refused',
      last_error_at: '2026-05-12T10:00:00.000Z',
      last_attempt_at: '2026-05-12T10:00:00.000Z',
    });
    const [untouched] = await store.listWitnesses(other);
    expect(untouched).toMatchObject({ cosigned_size: null, last_error: null });
    await store.recordWitnessOutcome(ws, w, { at: AT, cosigned: { ...cosigned, size: 3 } });
    expect((await store.listWitnesses(ws))[0]).toMatchObject({
      cosigned_size: 3,
      last_error: null,
    });
  });
}
