/**
 * Ingest: events through LogService.ingestEvents (validation, categories, change tracking,
 * chain, every index) against the plainest INSERT of the very same stored rows into a fresh
 * database of the same schema. Both sides time only their writes: generating the demo events
 * and reading the rows to copy happen outside the clock.
 */
import { performance } from 'node:perf_hooks';
import type { DemoWorkspace } from '../../src/demo/generate.js';
import { LogService } from '../../src/service/log-service.js';
import { openStore } from '../../src/store/open.js';
import type { Store } from '../../src/store/store.js';
import type { Batch } from '../dataset.js';
import { openCopier } from '../engines/raw.js';

export interface SeqRange {
  workspace: string;
  from: number;
  to: number;
}

export interface IngestRun {
  events: number;
  /** Sum of the timed ingest calls. */
  ms: number;
  /** CPU time (user + system) of this process during those calls, in ms. */
  cpuMs: number;
  /** The events as the product sent them, JSON. */
  sentBytes: number;
  /** The events as stored and exported (with seq, received_at, category, hashes), JSON. */
  storedBytes: number;
  /** What each call appended, for the baseline to copy in the same order and batches. */
  ranges: SeqRange[];
  /** Events that occurred before the event sent just before them in their workspace. */
  late: number;
}

export async function createWorkspaces(
  store: Store,
  workspaces: readonly DemoWorkspace[],
): Promise<void> {
  for (const ws of workspaces) {
    await store.createWorkspace({ id: ws.id, name: ws.name, settings: { ...ws.settings } });
  }
}

export async function ingestBatches(
  log: LogService,
  batches: Iterable<Batch>,
  progress?: (events: number, ms: number) => void,
): Promise<IngestRun> {
  const run: IngestRun = {
    events: 0,
    ms: 0,
    cpuMs: 0,
    sentBytes: 0,
    storedBytes: 0,
    ranges: [],
    late: 0,
  };
  const latest = new Map<string, string>();
  for (const batch of batches) {
    let newest = latest.get(batch.workspace) ?? '';
    for (const event of batch.events) {
      run.sentBytes += Buffer.byteLength(JSON.stringify(event));
      const at = event.occurred_at ?? '';
      if (at < newest) run.late += 1;
      else newest = at;
    }
    latest.set(batch.workspace, newest);
    const cpu = process.cpuUsage();
    const start = performance.now();
    const result = await log.ingestEvents(batch.workspace, batch.events);
    run.ms += performance.now() - start;
    run.cpuMs += cpuMs(process.cpuUsage(cpu));
    const first = result.events[0]?.event.seq;
    const last = result.events.at(-1)?.event.seq;
    if (first === undefined || last === undefined || result.created !== batch.events.length) {
      throw new Error(
        `ingest of ${batch.events.length} events into ${batch.workspace} stored ${result.created}`,
      );
    }
    for (const { event } of result.events)
      run.storedBytes += Buffer.byteLength(JSON.stringify(event));
    run.ranges.push({ workspace: batch.workspace, from: first, to: last });
    run.events += result.created;
    progress?.(run.events, run.ms);
  }
  return run;
}

/** A fresh database with Trailkeep's schema and the same workspaces (so the same keys). */
export async function prepareLike(
  url: string,
  workspaces: readonly DemoWorkspace[],
): Promise<void> {
  const store = await openStore(url);
  try {
    await createWorkspaces(store, workspaces);
  } finally {
    await store.close();
  }
}

/** Copies the ranges from `sourceUrl` to `targetUrl` one transaction per range; write time only. */
export async function copyRanges(
  sourceUrl: string,
  targetUrl: string,
  ranges: readonly SeqRange[],
): Promise<{ events: number; ms: number; cpuMs: number }> {
  const copier = await openCopier(sourceUrl, targetUrl);
  let ms = 0;
  let cpu = 0;
  let events = 0;
  try {
    for (const range of ranges) {
      const time = await copier.copy(range.workspace, range.from, range.to);
      ms += time.ms;
      cpu += time.cpuMs;
      events += range.to - range.from + 1;
    }
  } finally {
    await copier.close();
  }
  return { events, ms, cpuMs: cpu };
}

function cpuMs(usage: NodeJS.CpuUsage): number {
  return (usage.user + usage.system) / 1000;
}

export function perSecond(events: number, ms: number): number {
  return ms > 0 ? (events * 1000) / ms : 0;
}
