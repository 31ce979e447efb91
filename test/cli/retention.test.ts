/**
 * Retention on the command line, the real binary on a real SQLite file: pruning needs a policy,
 * a hold keeps what it covers, a dry run changes nothing, verify names the pruned range by
 * policy, and bad input is one line with exit 2.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import { makeDraft } from '../store/contract.js';
import { runCli } from '../support/cli.js';

let dir: string;
let db: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tk-retention-'));
  const path = join(dir, 'log.db');
  db = `sqlite:${path}`;
  const store = await openSqliteStore(path);
  try {
    await store.createWorkspace({ id: 'acme', name: 'Acme', settings: {} });
    const old = (day: number): string => new Date(Date.UTC(2025, 0, 1 + day)).toISOString();
    await store.append(
      'acme',
      [0, 1, 2, 3].map((day) =>
        makeDraft('acme', {
          received_at: old(day),
          occurred_at: old(day),
          targets: [{ type: 'account', id: `acct_${day}` }],
        }),
      ),
    );
    await store.append('acme', [makeDraft('acme', { received_at: new Date().toISOString() })]);
  } finally {
    await store.close();
  }
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const cli = (...args: string[]) => runCli([...args, '--db', db]);

function oneLineError(result: { code: number; stdout: string; stderr: string }): void {
  expect(result.code).toBe(2);
  expect(result.stderr.trim().split('\n')).toHaveLength(1);
  expect(result.stderr).not.toMatch(/\n\s+at /);
}

describe('trailkeep prune, retention, hold', () => {
  it('refuses to prune without a policy, and bad input, in one line', async () => {
    const refused = await cli('prune', '--workspace', 'acme');
    oneLineError(refused);
    expect(refused.stderr).toContain('no retention policy');
    oneLineError(await cli('prune', '--workspace', 'nope'));
    oneLineError(await cli('retention', 'set', '--workspace', 'acme', '--days', '0'));
    oneLineError(await cli('retention', 'set', '--workspace', 'acme', '--days', 'forever'));
    oneLineError(
      await cli('hold', 'release', '--workspace', 'acme', '--id', 'hold_x', '--reason', 'r'),
    );
  });

  it('prunes the old bodies a hold does not cover, and verify reports the range by policy', async () => {
    expect((await cli('retention', 'set', '--workspace', 'acme', '--days', '30')).code).toBe(0);
    const hold = await cli(
      'hold',
      'create',
      '--workspace',
      'acme',
      '--target',
      'acct_2',
      '--reason',
      'audit',
      '--json',
    );
    expect(hold.code, hold.stderr).toBe(0);
    const dry = await cli('prune', '--workspace', 'acme', '--dry-run', '--json');
    expect(JSON.parse(dry.stdout)).toMatchObject({ dry_run: true, count: 3, held: 1 });
    const run = await cli('prune', '--workspace', 'acme');
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('pruned 3 event bodies (seq 1..2, 4)');
    expect(run.stdout).toContain('1 kept by legal holds');
    const verify = await cli('verify', '--workspace', 'acme');
    expect(verify.code, verify.stdout).toBe(0);
    expect(verify.stdout).toContain('seq 1..2 pruned by policy (30 days');
    expect(verify.stdout).toContain('seq 4 pruned by policy');
    const query = await cli(
      'query',
      '--workspace',
      'acme',
      '--json',
      'action:trailkeep.retention.pruned',
    );
    expect(query.code, query.stderr).toBe(0);
    expect(query.stdout).toContain('trailkeep.retention.pruned');
  });
});
