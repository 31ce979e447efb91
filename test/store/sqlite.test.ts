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
