/**
 * An acknowledged append survives the process being killed (SIGKILL, no chance to flush or
 * close): a child appends batches in a loop, and every batch it reported before dying is in the
 * file when it is opened again, with the Merkle tree in step with the chain.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, it } from 'vitest';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import { appendThenKill, expectLogInStep, type Acknowledged } from './crash-support.js';

const folder = mkdtempSync(join(tmpdir(), 'trailkeep-sqlite-durability-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

describe('SQLite durability', () => {
  it('keeps every acknowledged batch after the writer is killed', async () => {
    const path = join(folder, 'durable.db');
    const workspace = 'durable';
    const acknowledged: Acknowledged[] = [];
    for (let round = 0; round < 3; round += 1) {
      acknowledged.push(...(await appendThenKill(path, workspace, 2 + round)));
    }
    const store = await openSqliteStore(path);
    try {
      // The Merkle tree moved with the chain in the same transactions (each restarted writer
      // rebuilt its frontier from the stored tiles).
      await expectLogInStep(store, workspace, acknowledged);
    } finally {
      await store.close();
    }
  });
});
