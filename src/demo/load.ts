/**
 * Loads a demo data set into a store through the log service, so demo events take exactly the
 * path real ones take (validation, categories, change tracking, the hash chain). Used by
 * `trailkeep demo`; usable by anything that wants realistic data in a store.
 */
import { isTrailkeepError } from '../core/errors.js';
import type { EventInput } from '../core/event.js';
import { LIMITS } from '../core/limits.js';
import type { LogService } from '../service/log-service.js';
import type { Store } from '../store/store.js';
import type { DemoDataset, DemoWorkspace } from './generate.js';

export interface LoadedWorkspace {
  id: string;
  name: string;
  /** Whether this load created the workspace. */
  created: boolean;
  /** Events sent. */
  events: number;
  /** Events newly stored; the rest were already there (an earlier run of the same data set). */
  stored: number;
  /** Events in the workspace after the load. */
  total: number;
}

export interface LoadOptions {
  /** Events per ingest call; at most the service's batch limit (1,000). */
  batchSize?: number;
  /** Called after each batch with the number of events sent so far, over all workspaces. */
  onProgress?: (sent: number) => void;
}

/** The workspace as the store has it, created with the demo's settings when missing. */
async function ensureWorkspace(store: Store, ws: DemoWorkspace): Promise<boolean> {
  if ((await store.getWorkspace(ws.id)) !== undefined) return false;
  try {
    await store.createWorkspace({ id: ws.id, name: ws.name, settings: ws.settings });
    return true;
  } catch (error) {
    // Another process created it between the look-up and the insert: theirs is as good.
    if (isTrailkeepError(error) && error.code === 'already_exists') return false;
    throw error;
  }
}

export async function loadDemo(
  store: Store,
  log: LogService,
  dataset: DemoDataset,
  options: LoadOptions = {},
): Promise<LoadedWorkspace[]> {
  const batchSize = Math.min(options.batchSize ?? LIMITS.maxBatchEvents, LIMITS.maxBatchEvents);
  const results: LoadedWorkspace[] = [];
  let sent = 0;
  for (const ws of dataset.workspaces) {
    const created = await ensureWorkspace(store, ws);
    let stored = 0;
    let batch: EventInput[] = [];
    for (const event of ws.events()) {
      batch.push(event);
      if (batch.length < batchSize) continue;
      stored += (await log.ingestEvents(ws.id, batch)).created;
      sent += batch.length;
      options.onProgress?.(sent);
      batch = [];
    }
    if (batch.length > 0) {
      stored += (await log.ingestEvents(ws.id, batch)).created;
      sent += batch.length;
      options.onProgress?.(sent);
    }
    const { seq } = await store.head(ws.id);
    results.push({ id: ws.id, name: ws.name, created, events: ws.count, stored, total: seq });
  }
  return results;
}
