/**
 * The Merkle tree's figures (issue 13): what the tree costs an ingest, and how fast an inclusion
 * proof comes out of a large workspace. Each has its baseline in the same run: the ingest
 * without tree writes (a bench-only store option), and a point read of the same event.
 */
import { performance } from 'node:perf_hooks';
import type { EventDraft } from '../../src/core/event.js';
import { eventLeafHash, leafIndexOfSeq, verifyInclusion } from '../../src/core/tlog/merkle.js';
import { Random } from '../../src/demo/random.js';
import { LogService } from '../../src/service/log-service.js';
import { openStore, parseStoreUrl } from '../../src/store/open.js';
import type { Store } from '../../src/store/store.js';
import { benchDataset, mergedBatches, type Batch } from '../dataset.js';
import { latencyFigure, plainFigure, type Figure } from '../figures.js';
import { compareLatency } from '../stats.js';
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

const PROOF_WORKSPACE = 'proofs';
/** Events per append while building the proof workspace: large, so building stays quick. */
const BUILD_BATCH = 10_000;
const DAY_MS = 86_400_000;
const WARMUP = 3;

function proofEventId(seq: number): string {
  return `evt_proof_${seq.toString().padStart(10, '0')}`;
}

/** Small, valid drafts in time order; what the proofs read is their chain hashes alone. */
function proofDrafts(from: number, count: number, start: number): EventDraft[] {
  return Array.from({ length: count }, (_, i) => {
    const seq = from + i;
    const at = new Date(start + seq * 10).toISOString();
    return {
      id: proofEventId(seq),
      workspace: PROOF_WORKSPACE,
      action: 'job.run',
      occurred_at: at,
      received_at: at,
      actor: { type: 'automation', id: `runner_${seq % 97}` },
      targets: [{ type: 'job', id: `job_${seq % 1009}` }],
      category: 'jobs',
      outcome: 'success',
      operation: 'update',
      changes: [],
      context: {},
      metadata: {},
    };
  });
}

/**
 * Inclusion proofs for random events of a workspace of `events` events, built by bulk append
 * through the Store (seal, chain, indexes and tree, in batches of 10,000), against reading the
 * same event by id. Every proof is checked against the tree's root outside the clock.
 */
export async function inclusionProofFigure(
  databases: Databases,
  events: number,
  runs: number,
  seed: number,
  say: (text: string) => void,
): Promise<Figure> {
  const url = await databases.fresh('proofs');
  const store = await openStore(url);
  try {
    await store.createWorkspace({ id: PROOF_WORKSPACE, name: 'Proofs', settings: {} });
    // A day per 8.64 million events ending about now: every event lies in the past.
    const start = Math.floor((Date.now() - DAY_MS - events * 10) / DAY_MS) * DAY_MS;
    const buildStart = performance.now();
    for (let from = 1; from <= events; from += BUILD_BATCH) {
      await store.append(
        PROOF_WORKSPACE,
        proofDrafts(from, Math.min(BUILD_BATCH, events - from + 1), start),
      );
      if ((from - 1) % (BUILD_BATCH * 20) === 0 && from > 1) {
        say(`proof workspace: ${(from - 1).toLocaleString('en-US')} events`);
      }
    }
    const buildSeconds = (performance.now() - buildStart) / 1000;
    const size = await store.treeSize(PROOF_WORKSPACE);
    if (size !== events) throw new Error(`the proof workspace's tree holds ${size} of ${events}`);
    const root = await store.treeRoot(PROOF_WORKSPACE, size);

    // Both sides walk the same random events, each at its own pace (compareLatency alternates
    // which side goes first).
    const random = new Random(seed);
    const seqs = Array.from({ length: runs + WARMUP }, () => 1 + random.int(size));
    const proofs: { seq: number; proof: Buffer[] }[] = [];
    let baselineAt = 0;
    const latency = await compareLatency(
      async () => {
        const seq = seqs[proofs.length] ?? 1;
        proofs.push({ seq, proof: await store.inclusionProof(PROOF_WORKSPACE, seq, size) });
      },
      async () => {
        const seq = seqs[baselineAt] ?? 1;
        baselineAt += 1;
        if ((await store.getEvent(PROOF_WORKSPACE, proofEventId(seq))) === undefined) {
          throw new Error(`event seq ${seq} of the proof workspace is missing`);
        }
      },
      { runs, warmup: WARMUP },
    );
    let verified = 0;
    for (const { seq, proof } of proofs) {
      const event = await store.getEvent(PROOF_WORKSPACE, proofEventId(seq));
      const leaf = eventLeafHash(event?.hash ?? '');
      if (verifyInclusion(leafIndexOfSeq(seq), size, leaf, proof, root)) verified += 1;
    }
    return latencyFigure(
      'proof.inclusion',
      `inclusion proof of a random event, workspace of ${events.toLocaleString('en-US')} events`,
      latency.subject,
      { label: 'reading the same event by id (Store.getEvent)', latency: latency.baseline },
      {
        events,
        build_seconds: buildSeconds,
        build_events_per_s: events / buildSeconds,
        proofs_verify: verified === proofs.length,
      },
    );
  } finally {
    await store.close();
    await databases.drop(url);
  }
}
