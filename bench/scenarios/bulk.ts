/** Whole-workspace work: export (in child processes, for their peak RSS), verify, and size. */
import { spawn } from 'node:child_process';
import { hash } from 'node:crypto';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type { LogService } from '../../src/service/log-service.js';
import type { ExportChildArgs, ExportChildReport } from '../export-child.js';
import { plainFigure, type Figure } from '../figures.js';
import type { RawLog } from '../engines/raw.js';

/** The child runs as this file does: compiled JavaScript from dist/, or TypeScript through tsx. */
function childScript(): string {
  const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  return fileURLToPath(new URL(`../export-child${ext}`, import.meta.url));
}

function runExportChild(
  args: ExportChildArgs,
  profileDir: string | undefined,
  tag: string,
): Promise<ExportChildReport> {
  const execArgv = process.execArgv.filter((a) => !a.startsWith('--cpu-prof'));
  if (profileDir !== undefined) {
    execArgv.push(
      '--cpu-prof',
      `--cpu-prof-dir=${profileDir}`,
      `--cpu-prof-name=export-${tag}.cpuprofile`,
    );
  }
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...execArgv, childScript(), JSON.stringify(args)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`export child (${args.mode}) exited with ${code}`));
      else resolve(JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as ExportChildReport);
    });
  });
}

const mb = (kb: number): number => kb / 1024;

export async function exportFigures(
  url: string,
  workspace: string,
  engine: string,
  profileDir: string | undefined,
): Promise<Figure[]> {
  const raw = await runExportChild({ url, workspace, mode: 'raw' }, profileDir, `${engine}-raw`);
  const rawRate = (raw.rows * 1000) / raw.ms;
  const figures: Figure[] = [];
  for (const format of ['csv', 'ndjson'] as const) {
    const report = await runExportChild(
      { url, workspace, mode: format },
      profileDir,
      `${engine}-${format}`,
    );
    const details = { rows: report.rows, seconds: report.ms / 1000 };
    figures.push(
      plainFigure(
        `export.${format}`,
        `export ${format.toUpperCase()} throughput`,
        'events/s',
        (report.rows * 1000) / report.ms,
        { label: 'stored bodies streamed by hand-written SQL', value: rawRate },
        details,
      ),
      plainFigure(
        `export.${format}.rss`,
        `export ${format.toUpperCase()} peak RSS (child process)`,
        'MB',
        mb(report.maxRssKb),
        { label: 'peak RSS of the hand-written stream', value: mb(raw.maxRssKb) },
        details,
      ),
    );
  }
  return figures;
}

export async function verifyFigures(
  log: LogService,
  raw: RawLog,
  workspace: string,
): Promise<Figure[]> {
  const start = performance.now();
  const report = await log.verify(workspace);
  const ms = performance.now() - start;
  if (!report.ok) throw new Error(`verify failed: ${report.problem?.message ?? ''}`);

  // The same rows read by hand and hashed: the hashing alone is the target's baseline; the
  // whole loop shows how much of verify's time reading the rows already takes.
  let hashMs = 0;
  let hashed = 0;
  const loopStart = performance.now();
  for (let seq = 1; ;) {
    const rows = await raw.chain(workspace, seq, 1000);
    if (rows.length === 0) break;
    const t = performance.now();
    for (const row of rows) {
      // The fastest sha256 Node offers (one-shot), as hashLink uses.
      hash('sha256', `${row.prevHash}\n${row.body}`, 'hex');
    }
    hashMs += performance.now() - t;
    hashed += rows.length;
    seq = rows.at(-1)!.seq + 1;
  }
  const loopMs = performance.now() - loopStart;
  const details = { events: report.checked, seconds: ms / 1000 };
  return [
    plainFigure(
      'verify',
      'verify throughput',
      'events/s',
      (report.checked * 1000) / ms,
      { label: 'bare sha256 over the same canonical bytes', value: (hashed * 1000) / hashMs },
      details,
    ),
    plainFigure(
      'verify.read',
      'verify throughput against reading the rows too',
      'events/s',
      (report.checked * 1000) / ms,
      {
        label: 'the same rows read by hand-written SQL, then sha256 over each',
        value: (hashed * 1000) / loopMs,
      },
      details,
    ),
  ];
}

export async function sizeFigure(
  raw: RawLog,
  events: number,
  storedBytes: number,
  sentBytes: number,
  baselineBytes: number | undefined,
): Promise<Figure> {
  const parts = await raw.sizeBytes();
  const total = Object.values(parts).reduce((a, b) => a + b, 0);
  const details: Record<string, number> = {};
  for (const [part, bytes] of Object.entries(parts)) details[`${part}_mb`] = bytes / 1024 / 1024;
  details['sent_json_bytes_per_event'] = sentBytes / events;
  if (baselineBytes !== undefined) details['baseline_db_bytes_per_event'] = baselineBytes / events;
  return plainFigure(
    'storage',
    'database size per event, indexes included',
    'bytes/event',
    total / events,
    { label: 'the stored events as JSON', value: storedBytes / events },
    details,
  );
}

export function profileDirFor(out: string): string {
  return join(out, 'profiles');
}
