/**
 * The verifiable log read from outside, in one large workspace (issue 13): inclusion proofs for
 * random events against a point read of the same event, and full hash tiles served over real
 * HTTP against the same tiles read in-process. The workspace is built once for both, by bulk
 * append through the Store (seal, chain, indexes and tree, in batches of 10,000).
 */
import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import type { EventDraft } from '../../src/core/event.js';
import { eventLeafHash, leafIndexOfSeq, verifyInclusion } from '../../src/core/tlog/merkle.js';
import { TILE_WIDTH, tilePath, type TileRef } from '../../src/core/tlog/tiles.js';
import { Random } from '../../src/demo/random.js';
import { buildApp } from '../../src/http/app.js';
import { AccountService } from '../../src/service/accounts.js';
import { LogService } from '../../src/service/log-service.js';
import { openStore } from '../../src/store/open.js';
import type { Store } from '../../src/store/store.js';
import { latencyFigure, plainFigure, type Figure } from '../figures.js';
import { compareLatency } from '../stats.js';
import type { Databases } from './tree.js';

const WORKSPACE = 'proofs';
/** Events per append while building the workspace: large, so building stays quick. */
const BUILD_BATCH = 10_000;
const DAY_MS = 86_400_000;
const WARMUP = 3;
/** Concurrent HTTP clients fetching tiles, over keep-alive connections, in a worker thread. */
const TILE_CLIENTS = 4;
const TILE_WARMUP = 100;

function eventId(seq: number): string {
  return `evt_proof_${seq.toString().padStart(10, '0')}`;
}

/** Small, valid drafts in time order; proofs and tiles read their chain hashes alone. */
function drafts(from: number, count: number, start: number): EventDraft[] {
  return Array.from({ length: count }, (_, i) => {
    const seq = from + i;
    const at = new Date(start + seq * 10).toISOString();
    return {
      id: eventId(seq),
      workspace: WORKSPACE,
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

interface LogWorkspace {
  store: Store;
  log: LogService;
  accounts: AccountService;
  readKey: string;
  size: number;
  buildSeconds: number;
}

async function buildWorkspace(
  url: string,
  events: number,
  say: (text: string) => void,
): Promise<LogWorkspace> {
  const store = await openStore(url);
  try {
    const accounts = new AccountService(store);
    const init = await accounts.initWorkspace({
      workspace: WORKSPACE,
      ownerEmail: 'bench@example.com',
      keyScopes: ['read'],
    });
    const readKey = init.keys.read;
    if (readKey === undefined) throw new Error('initWorkspace returned no read key');
    // Ten milliseconds apart, ending before today: every event lies in the past.
    const start = Math.floor((Date.now() - DAY_MS - events * 10) / DAY_MS) * DAY_MS;
    const buildStart = performance.now();
    for (let from = 1; from <= events; from += BUILD_BATCH) {
      await store.append(WORKSPACE, drafts(from, Math.min(BUILD_BATCH, events - from + 1), start));
      if ((from - 1) % (BUILD_BATCH * 20) === 0 && from > 1) {
        say(`log workspace: ${(from - 1).toLocaleString('en-US')} events`);
      }
    }
    const buildSeconds = (performance.now() - buildStart) / 1000;
    const size = await store.treeSize(WORKSPACE);
    if (size !== events) throw new Error(`the log workspace's tree holds ${size} of ${events}`);
    const log = await LogService.open(store);
    return { store, log, accounts, readKey, size, buildSeconds };
  } catch (error) {
    await store.close();
    throw error;
  }
}

/** Inclusion proofs for random events; every proof is checked against the root off the clock. */
async function proofFigure(ws: LogWorkspace, runs: number, seed: number): Promise<Figure> {
  const { store, size } = ws;
  const root = await store.treeRoot(WORKSPACE, size);
  // Both sides walk the same random events, each at its own pace (compareLatency alternates
  // which side goes first).
  const random = new Random(seed);
  const seqs = Array.from({ length: runs + WARMUP }, () => 1 + random.int(size));
  const proofs: { seq: number; proof: Buffer[] }[] = [];
  let baselineAt = 0;
  let cpuUs = 0;
  const latency = await compareLatency(
    async () => {
      const seq = seqs[proofs.length] ?? 1;
      const cpu = process.cpuUsage();
      proofs.push({ seq, proof: await store.inclusionProof(WORKSPACE, seq, size) });
      const used = process.cpuUsage(cpu);
      cpuUs += used.user + used.system;
    },
    async () => {
      const seq = seqs[baselineAt] ?? 1;
      baselineAt += 1;
      if ((await store.getEvent(WORKSPACE, eventId(seq))) === undefined) {
        throw new Error(`event seq ${seq} of the log workspace is missing`);
      }
    },
    { runs, warmup: WARMUP },
  );
  let verified = 0;
  for (const { seq, proof } of proofs) {
    const event = await store.getEvent(WORKSPACE, eventId(seq));
    const leaf = eventLeafHash(event?.hash ?? '');
    if (verifyInclusion(leafIndexOfSeq(seq), size, leaf, proof, root)) verified += 1;
  }
  return latencyFigure(
    'proof.inclusion',
    `inclusion proof of a random event, workspace of ${size.toLocaleString('en-US')} events`,
    latency.subject,
    { label: 'reading the same event by id (Store.getEvent)', latency: latency.baseline },
    {
      events: size,
      build_seconds: ws.buildSeconds,
      build_events_per_s: size / ws.buildSeconds,
      proofs_verify: verified === proofs.length,
      // What contention disturbs least: this process's CPU per proof (PostgreSQL's own is not in it).
      cpu_us_per_proof: cpuUs / proofs.length,
    },
  );
}

/**
 * The HTTP clients, in a worker thread: a server's throughput is what it serves while its
 * clients run elsewhere, as they do in production, not what is left of one event loop that also
 * runs them. The worker sends back a SHA-256 of each body, compared with the in-process read.
 */
const CLIENT_CODE = `
const { parentPort, workerData } = require('node:worker_threads');
const { Agent, request } = require('node:http');
const { createHash } = require('node:crypto');
const { port, key, base, paths, warmup, clients } = workerData;
const agent = new Agent({ keepAlive: true, maxSockets: clients });
function get(path) {
  return new Promise((resolve, reject) => {
    const req = request({ agent, host: '127.0.0.1', port, path: base + path,
      headers: { authorization: 'Bearer ' + key } }, (res) => {
      const hash = createHash('sha256');
      res.on('data', (chunk) => hash.update(chunk));
      res.on('end', () => res.statusCode === 200
        ? resolve(hash.digest('hex'))
        : reject(new Error('HTTP ' + res.statusCode + ' for ' + path)));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}
(async () => {
  for (const path of paths.slice(0, warmup)) await get(path);
  const hashes = new Array(paths.length);
  let next = 0;
  const client = async () => {
    while (next < paths.length) { const i = next++; hashes[i] = await get(paths[i]); }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: clients }, client));
  const ms = performance.now() - start;
  agent.destroy();
  parentPort.postMessage({ ms, hashes });
})().catch((error) => parentPort.postMessage({ error: String(error) }));
`;

function fetchInWorker(data: {
  port: number;
  key: string;
  base: string;
  paths: string[];
  warmup: number;
  clients: number;
}): Promise<{ ms: number; hashes: string[] }> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(CLIENT_CODE, { eval: true, workerData: data });
    worker.once('message', (answer: { ms: number; hashes: string[] } | { error: string }) => {
      void worker.terminate();
      if ('error' in answer) reject(new Error(answer.error));
      else resolve(answer);
    });
    worker.once('error', reject);
  });
}

/** Random full tiles of every level that has some, as tlog-tiles paths. */
function fullTiles(size: number, count: number, seed: number): TileRef[] {
  const levels: number[] = [];
  for (let level = 0, n = Math.floor(size / TILE_WIDTH); n > 0; level += 1) {
    levels.push(n);
    n = Math.floor(n / TILE_WIDTH);
  }
  const random = new Random(seed ^ 0x7a11);
  return Array.from({ length: count }, () => {
    // Level 0 in proportion to its share of the full tiles, as a client rebuilding the tree asks.
    const total = levels.reduce((a, b) => a + b, 0);
    let pick = random.int(total);
    let level = 0;
    while (pick >= levels[level]!) pick -= levels[level++]!;
    return { level, index: pick, width: TILE_WIDTH };
  });
}

/**
 * Full hash tiles over real HTTP (the Fastify app on 127.0.0.1, a read key, several clients on
 * keep-alive connections) against the same tiles read in-process through LogService.tile.
 */
async function tileFigure(ws: LogWorkspace, requests: number, seed: number): Promise<Figure> {
  const tiles = fullTiles(ws.size, requests, seed);
  if (tiles.length === 0) throw new Error('the log workspace has no full tile');
  const paths = tiles.map((t) => tilePath(t));
  const base = `/api/v1/workspaces/${WORKSPACE}/log/`;

  const direct: Buffer[] = [];
  const directStart = performance.now();
  for (const path of paths) direct.push((await ws.log.tile(WORKSPACE, path)).data);
  const directMs = performance.now() - directStart;

  // Rate limiting is per credential and would measure the limiter; it is turned off here.
  const app = await buildApp({ log: ws.log, accounts: ws.accounts, rateLimit: false });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  try {
    const cpu = process.cpuUsage();
    // Untimed inside the worker: the first requests compile the route's code paths.
    const { ms, hashes } = await fetchInWorker({
      port,
      key: ws.readKey,
      base,
      paths,
      warmup: TILE_WARMUP,
      clients: TILE_CLIENTS,
    });
    const used = process.cpuUsage(cpu);
    const sha = (body: Buffer) => createHash('sha256').update(body).digest('hex');
    return plainFigure(
      'tiles.http',
      `full hash tiles over HTTP, ${TILE_CLIENTS} concurrent clients in a worker thread`,
      'tiles/s',
      (paths.length * 1000) / ms,
      {
        label: 'the same tiles read in-process through LogService.tile, one at a time',
        value: (paths.length * 1000) / directMs,
      },
      {
        tiles: paths.length,
        levels: new Set(tiles.map((t) => t.level)).size,
        same_bytes: hashes.every((hash, i) => hash === sha(direct[i]!)),
        // This process (server and worker; PostgreSQL's own CPU is not in it), warm-up included.
        cpu_us_per_tile: (used.user + used.system) / paths.length,
      },
    );
  } finally {
    await app.close();
  }
}

/** The figures of the log workspace that `wants` asks for; the workspace is built once. */
export async function logFigures(
  databases: Databases,
  options: {
    events: number;
    proofRuns: number;
    tileRequests: number;
    seed: number;
    wants: { proof: boolean; tiles: boolean };
  },
  say: (text: string) => void,
): Promise<Figure[]> {
  const url = await databases.fresh('log');
  const figures: Figure[] = [];
  let ws: LogWorkspace | undefined;
  try {
    ws = await buildWorkspace(url, options.events, say);
    if (options.wants.proof) figures.push(await proofFigure(ws, options.proofRuns, options.seed));
    if (options.wants.tiles) {
      figures.push(await tileFigure(ws, options.tileRequests, options.seed));
    }
    return figures;
  } finally {
    await ws?.store.close();
    await databases.drop(url);
  }
}
