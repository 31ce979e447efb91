/**
 * What the Merkle tree costs an ingest (issue 13): the same events through the service with the
 * tree and, as the baseline in the same run, without writing it (a bench-only store option).
 */
import { performance } from 'node:perf_hooks';
import { LogService } from '../../src/service/log-service.js';
import { openStore, parseStoreUrl } from '../../src/store/open.js';
import type { Store } from '../../src/store/store.js';
import { benchDataset, mergedBatches, type Batch } from '../dataset.js';
import { plainFigure, type Figure } from '../figures.js';
import { createWorkspaces, perSecond } from './ingest.js';

/** Fresh databases of the engine under test (EngineRun in run.ts). */
export interface Databases {
  fresh(label: string): Promise<string>;
  drop(url: string): Promise<void>;
}

/** A store whose appends write no tree rows: the baseline of the tree's cost, nothing else. */
async function openWithoutTree(url: string): Promise<Store> {
  const location = parseStoreUrl(url);
  if (location.engine === 'sqlite') {
    const { openSqliteStore } = await import('../../src/store/sqlite/index.js');
    return openSqliteStore(location.path, { benchOnlySkipTreeWrites: true });
  }
  const { openPostgresStore } = await import('../../src/store/postgres/index.js');
  return openPostgresStore(location.url, { benchOnlySkipTreeWrites: true });
}

interface Side {
  log: LogService;
  events: number;
  ms: number;
  cpuMs: number;
}

async function ingestOne(side: Side, workspace: string, events: Batch['events']): Promise<void> {
  const cpu = process.cpuUsage();
  const start = performance.now();
  const result = await side.log.ingestEvents(workspace, events);
  side.ms += performance.now() - start;
  const used = process.cpuUsage(cpu);
  side.cpuMs += (used.user + used.system) / 1000;
  if (result.created !== events.length) {
    throw new Error(`ingest of ${events.length} events into ${workspace} stored ${result.created}`);
  }
  side.events += result.created;
}

/**
 * The same events (a data set of `count`, all workspaces, batches of `size`) through the service
 * into two fresh databases, one with the tree and one without, batch by batch in alternating
 * order: a burst of load from other processes falls on both sides rather than on one.
 */
export async function treeIngestFigure(
  databases: Databases,
  count: number,
  size: number,
  seed: number,
): Promise<Figure> {
  const dataset = benchDataset(count, seed);
  const withUrl = await databases.fresh(`tree_with_b${size}`);
  const withoutUrl = await databases.fresh(`tree_without_b${size}`);
  const stores: Store[] = [];
  try {
    const open = async (store: Store): Promise<Side> => {
      stores.push(store);
      await createWorkspaces(store, dataset.workspaces);
      return { log: await LogService.open(store), events: 0, ms: 0, cpuMs: 0 };
    };
    const withTree = await open(await openStore(withUrl));
    const withoutTree = await open(await openWithoutTree(withoutUrl));
    let n = 0;
    for (const batch of mergedBatches(dataset, size)) {
      const sides = n % 2 === 0 ? [withTree, withoutTree] : [withoutTree, withTree];
      for (const side of sides) await ingestOne(side, batch.workspace, batch.events);
      n += 1;
    }
    const treeRows = await Promise.all(
      dataset.workspaces.map(async (ws) => ({
        with: await stores[0]!.treeSize(ws.id),
        without: await stores[1]!.treeSize(ws.id),
      })),
    );
    return plainFigure(
      `ingest.tree.b${size}`,
      `Store ingest with the Merkle tree, batches of ${size.toLocaleString('en-US')}`,
      'events/s',
      perSecond(withTree.events, withTree.ms),
      {
        label: 'the same ingest without writing the tree (bench-only store option), same run',
        value: perSecond(withoutTree.events, withoutTree.ms),
      },
      {
        events: withTree.events,
        cpu_us_per_event: (withTree.cpuMs * 1000) / withTree.events,
        baseline_cpu_us_per_event: (withoutTree.cpuMs * 1000) / withoutTree.events,
        // The two sides differ in the tree alone: one holds every event, the other none.
        tree_complete: treeRows.every(
          (t, i) => t.with === dataset.workspaces[i]!.count && t.without === 0,
        ),
      },
    );
  } finally {
    for (const store of stores) await store.close();
    await databases.drop(withUrl);
    await databases.drop(withoutUrl);
  }
}
