/** `--db` URLs: which engine and which file each spelling selects. */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TrailkeepError } from '../../src/core/errors.js';
import { openStore, parseStoreUrl } from '../../src/store/open.js';

const folder = mkdtempSync(join(tmpdir(), 'trailkeep-open-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

describe('parseStoreUrl', () => {
  const cases: [string, ReturnType<typeof parseStoreUrl>][] = [
    ['sqlite:./data/trailkeep.db', { engine: 'sqlite', path: './data/trailkeep.db' }],
    ['sqlite:///var/lib/trailkeep.db', { engine: 'sqlite', path: '/var/lib/trailkeep.db' }],
    ['sqlite://data/x.db', { engine: 'sqlite', path: 'data/x.db' }],
    ['/tmp/audit.db', { engine: 'sqlite', path: '/tmp/audit.db' }],
    ['audit.db', { engine: 'sqlite', path: 'audit.db' }],
    ['postgres://u@127.0.0.1/db', { engine: 'postgres', url: 'postgres://u@127.0.0.1/db' }],
    ['postgresql://u@h:5432/db', { engine: 'postgres', url: 'postgresql://u@h:5432/db' }],
  ];
  for (const [url, expected] of cases) {
    it(`reads ${url}`, () => expect(parseStoreUrl(url)).toEqual(expected));
  }

  for (const url of ['', 'sqlite:', 'mysql://localhost/db']) {
    it(`refuses "${url}"`, () => {
      expect(() => parseStoreUrl(url)).toThrow(TrailkeepError);
    });
  }
});

describe('openStore', () => {
  it('opens SQLite, creating missing parent folders', async () => {
    const path = join(folder, 'a', 'b', 'trailkeep.db');
    const store = await openStore(`sqlite:${path}`);
    try {
      expect(store.engine).toBe('sqlite');
      await store.ping();
      expect(existsSync(path)).toBe(true);
    } finally {
      await store.close();
    }
  });
});
