import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import { runStoreContract } from './contract.js';

const folder = mkdtempSync(join(tmpdir(), 'trailkeep-sqlite-contract-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

runStoreContract({
  name: 'sqlite',
  open: () => openSqliteStore(join(folder, 'nested', 'contract.db')),
});

// Multi-valued filters choose between sorting index ranges and a time-ordered scan by how many
// events match; force each plan so both are held to the same contract.
runStoreContract({
  name: 'sqlite, multi-valued filters always scan in time order',
  open: () => openSqliteStore(join(folder, 'scan.db'), { sortBudget: 0 }),
});
runStoreContract({
  name: 'sqlite, multi-valued filters always sort index ranges',
  open: () => openSqliteStore(join(folder, 'sort.db'), { sortBudget: Number.POSITIVE_INFINITY }),
});
