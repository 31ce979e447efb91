/**
 * Full hash tiles are immutable, so LogService keeps the ones it served: the second read of a
 * full tile does not reach the store, a partial tile always does (it grows), and both are the
 * store's bytes. Real SQLite file; the store is wrapped only to count its reads.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { LogService } from '../../src/service/log-service.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import type { Store } from '../../src/store/store.js';

let dir: string;
let store: Store;
let reads = 0;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tk-tile-cache-'));
  store = await openSqliteStore(join(dir, 'log.db'));
  await store.createWorkspace({ id: 'one', name: 'one', settings: {} });
});

afterAll(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

it('serves a full tile from memory after the first read, and partial tiles from the store', async () => {
  const counting = new Proxy(store, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver) as unknown;
      if (name === 'readTiles' && typeof value === 'function') {
        return (...args: unknown[]) => {
          reads += 1;
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      }
      return typeof value === 'function' ? (value as () => unknown).bind(target) : value;
    },
  });
  const log = await LogService.open(counting);
  const actor = { type: 'user', id: 'u_1' };
  const events = Array.from({ length: 300 }, (_, i) => ({ action: `job.n${i}`, actor }));
  await log.ingest('one', { events });

  const first = await log.tile('one', 'tile/0/000');
  expect(first.full).toBe(true);
  expect(reads).toBe(1);
  const again = await log.tile('one', 'tile/0/000');
  expect(reads).toBe(1);
  expect(again.data.equals(first.data)).toBe(true);
  const [stored] = await store.readTiles('one', [{ level: 0, index: 0, width: 256 }]);
  expect(first.data.equals(stored!)).toBe(true);

  await log.tile('one', 'tile/0/001.p/44');
  await log.tile('one', 'tile/0/001.p/44');
  expect(reads).toBe(3);
  // Another workspace's tile of the same name is its own.
  await store.createWorkspace({ id: 'two', name: 'two', settings: {} });
  await log.ingest('two', { events: events.map((e) => ({ ...e, action: `other.${e.action}` })) });
  const theirs = await log.tile('two', 'tile/0/000');
  expect(reads).toBe(4);
  expect(theirs.data.equals(first.data)).toBe(false);
});
