/**
 * The bench-only store option that skips tree writes (BenchOnlyTreeOptions, src/store/tree.ts)
 * stays bench-only: openStore, through which the CLI, the server and every configuration open a
 * store, never passes it on, and a store that was opened with it is caught by verify.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LogService } from '../../src/service/log-service.js';
import { openStore, type OpenOptions } from '../../src/store/open.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import { makeDraft } from './contract.js';

const folder = mkdtempSync(join(tmpdir(), 'trailkeep-bench-only-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

describe('the bench-only option that skips tree writes', () => {
  it('does not reach a store opened through openStore', async () => {
    const path = join(folder, 'through-open-store.db');
    const smuggled = { benchOnlySkipTreeWrites: true } as OpenOptions;
    const store = await openStore(`sqlite:${path}`, smuggled);
    try {
      await store.createWorkspace({ id: 'acme', name: 'Acme', settings: {} });
      await store.append('acme', [makeDraft('acme'), makeDraft('acme')]);
      expect(await store.treeSize('acme')).toBe(2);
    } finally {
      await store.close();
    }
  });

  it('leaves a tree that verify reports as out of step with the chain', async () => {
    const path = join(folder, 'skipped.db');
    const store = await openSqliteStore(path, { benchOnlySkipTreeWrites: true });
    try {
      await store.createWorkspace({ id: 'acme', name: 'Acme', settings: {} });
      await store.append('acme', [makeDraft('acme')]);
      expect(await store.treeSize('acme')).toBe(0);
      const report = await (await LogService.open(store)).verify('acme');
      expect(report.ok).toBe(false);
      expect(report.problem?.kind).toBe('tree_mismatch');
    } finally {
      await store.close();
    }
  });
});
