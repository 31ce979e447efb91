/**
 * One export, alone in its own process so that its peak RSS is its own: streams a workspace to
 * /dev/null and prints `{ rows, ms, maxRssKb }` as JSON. Modes: `csv` and `ndjson` go through
 * planExport (the code behind GET /export and `trailkeep export`); `raw` is the baseline, the
 * stored bodies read with hand-written SQL in the same order.
 */
import { createWriteStream, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { LogService } from '../src/service/log-service.js';
import { planExport } from '../src/service/export.js';
import { openStore, STREAMING_READS } from '../src/store/open.js';
import { openRaw } from './engines/raw.js';

export interface ExportChildArgs {
  url: string;
  workspace: string;
  mode: 'csv' | 'ndjson' | 'raw';
}

export interface ExportChildReport {
  rows: number;
  ms: number;
  maxRssKb: number;
}

/**
 * This process's own peak RSS in KiB. On Linux, getrusage's ru_maxrss (process.resourceUsage)
 * carries over the RSS of the parent that was forked before exec, so it would report the
 * harness's memory; /proc/self/status VmHWM belongs to this process's memory map alone.
 */
function peakRssKb(): number {
  try {
    const match = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (match?.[1] !== undefined) return Number(match[1]);
  } catch {
    // Not Linux: fall through.
  }
  return process.resourceUsage().maxRSS;
}

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2] ?? '{}') as ExportChildArgs;
  const out = createWriteStream('/dev/null');
  const write = (chunk: string): Promise<void> =>
    new Promise((resolve) => {
      if (out.write(chunk)) resolve();
      else out.once('drain', resolve);
    });
  let rows: number;
  let ms: number;
  if (args.mode === 'raw') {
    const raw = await openRaw(args.url);
    const start = performance.now();
    rows = await raw.streamBodies(args.workspace, write);
    ms = performance.now() - start;
    await raw.close();
  } else {
    // Opened exactly as `trailkeep export` opens it.
    const store = await openStore(args.url, STREAMING_READS);
    const log = await LogService.open(store);
    const start = performance.now();
    const plan = await planExport(log, args.workspace, { format: args.mode });
    for await (const chunk of plan.chunks()) await write(chunk);
    ms = performance.now() - start;
    rows = plan.rows();
    await store.close();
  }
  await new Promise<void>((resolve) => out.end(resolve));
  const report: ExportChildReport = { rows, ms, maxRssKb: peakRssKb() };
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exitCode = 1;
});
