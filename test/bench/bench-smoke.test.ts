/**
 * The benchmark harness works end to end on a tiny data set: it runs as a real process, writes
 * latest.json and latest.md, and every figure is a finite number with its baseline. Speed is
 * never asserted here (benchmarks never fail the test suite; see docs/performance.md).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = new URL('../..', import.meta.url).pathname;
const out = mkdtempSync(join(tmpdir(), 'trailkeep-bench-smoke-'));

afterAll(() => rmSync(out, { recursive: true, force: true }));

function runBench(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', join(root, 'bench/run.ts'), ...args],
      { cwd: root, timeout: 170_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

describe('npm run bench in its tiny mode', () => {
  it('writes well-formed results for every scenario', { timeout: 180_000 }, async () => {
    const run = await runBench([
      '--events',
      '2000',
      '--quick',
      '--engines',
      'sqlite',
      '--out',
      out,
    ]);
    expect(run.stderr).toMatch(/Machine: \d+ cores/);
    expect(run.code, run.stderr).toBe(0);

    const results = JSON.parse(readFileSync(join(out, 'latest.json'), 'utf8'));
    expect(results.format).toBe(1);
    expect(results.options).toMatchObject({ events: 2000, quick: true, engines: ['sqlite'] });
    expect(results.machine.cpus).toBeGreaterThan(0);
    expect(results.engines).toHaveLength(1);
    const [sqlite] = results.engines;
    expect(sqlite.engine).toBe('sqlite');
    expect(sqlite.error).toBeUndefined();
    expect(sqlite.version).toMatch(/^3\.\d+/);
    expect(sqlite.dataset.events).toBe(2000);

    const ids = sqlite.figures.map((f: { id: string }) => f.id);
    for (const id of [
      'ingest.store.b1000',
      'ingest.store.b1',
      'ingest.store.b100',
      'ingest.http.c4.b100',
      'query.time',
      'query.action',
      'query.category',
      'query.actor',
      'query.target',
      'query.ip',
      'query.combo',
      'query.no_match',
      'query.deep_page',
      'query.deep_vs_first',
      'count.first_page',
      'facets',
      'export.csv',
      'export.ndjson.rss',
      'history',
      'verify',
      'verify.read',
      'storage',
      'ingest.tree.b1000',
      'proof.inclusion',
      'tiles.http',
    ]) {
      expect(ids).toContain(id);
    }
    for (const figure of sqlite.figures) {
      expect(Number.isFinite(figure.value), figure.id).toBe(true);
      expect(figure.value, figure.id).toBeGreaterThan(0);
      expect(Number.isFinite(figure.baseline.value), figure.id).toBe(true);
      expect(Number.isFinite(figure.ratio), figure.id).toBe(true);
      for (const target of figure.targets ?? []) expect(typeof target.pass).toBe('boolean');
    }
    // The hand-written baselines must answer the same question as Trailkeep does.
    for (const figure of sqlite.figures) {
      if (figure.details?.same_rows !== undefined)
        expect(figure.details.same_rows, figure.id).toBe(true);
      if (figure.details?.same_count !== undefined)
        expect(figure.details.same_count, figure.id).toBe(true);
      // The log's figures check what they time: proofs verify, tiles arrive intact, and the two
      // ingests differ in the tree alone.
      for (const check of ['proofs_verify', 'same_bytes', 'tree_complete']) {
        if (figure.details?.[check] !== undefined)
          expect(figure.details[check], `${figure.id} ${check}`).toBe(true);
      }
    }

    const md = readFileSync(join(out, 'latest.md'), 'utf8');
    expect(md).toMatch(/^# Trailkeep benchmark results/);
    expect(md).toContain('| figure | Trailkeep | baseline (same run) | ratio | target | result |');
    for (const figure of sqlite.figures)
      expect(md).toContain(`| ${figure.label.replace(/\|/g, '\\|')} |`);
  });

  it('refuses an unknown option with the usage', async () => {
    const run = await runBench(['--engines', 'oracle']);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('unknown engine "oracle"');
    expect(run.stderr).toContain('usage: npm run bench');
  });
});
