/**
 * `npm run bench [-- --events 1e6] [--quick] [--engines sqlite,postgres] [--out bench/results]`
 *
 * For each engine: builds the data set through the service (the Store ingest figure), then runs
 * every scenario with its baseline in the same run, and writes OUT/latest.json and
 * OUT/latest.md. docs/performance.md explains the figures, the baselines and the results.
 */
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { DemoWorkspace } from '../src/demo/generate.js';
import { LogService } from '../src/service/log-service.js';
import { openStore } from '../src/store/open.js';
import type { Store } from '../src/store/store.js';
import {
  DAYS,
  benchDataset,
  biggest,
  mergedBatches,
  storyEnd,
  workspaceBatches,
} from './dataset.js';
import { openRaw, type RawLog } from './engines/raw.js';
import { startEngine, type EngineServer } from './engines/servers.js';
import { plainFigure, type BenchResults, type EngineResult, type Figure } from './figures.js';
import { describeMachine } from './machine.js';
import {
  parseOptions,
  sizesFor,
  type BenchOptions,
  type EngineName,
  type ScenarioName,
  type Sizes,
} from './options.js';
import { markdown, writeResults } from './report.js';
import { exportFigures, profileDirFor, sizeFigure, verifyFigures } from './scenarios/bulk.js';
import { httpIngest } from './scenarios/http.js';
import {
  copyRanges,
  createWorkspaces,
  ingestBatches,
  perSecond,
  prepareLike,
  type IngestRun,
} from './scenarios/ingest.js';
import {
  countFigures,
  deepWalkFigures,
  facetFigures,
  historyFigures,
  pageFigures,
  planReads,
} from './scenarios/reads.js';
import { logFigures } from './scenarios/log.js';
import { treeIngestFigure } from './scenarios/tree.js';
import { round } from './stats.js';
import { applyTargets } from './targets.js';

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : JSON.stringify(error);
}

function say(text: string): void {
  process.stderr.write(`${text}\n`);
}

function describe(figure: Figure): string {
  const value =
    figure.latency === undefined
      ? `${round(figure.value)} ${figure.unit}`
      : `p95 ${round(figure.latency.trailkeep.p95)} ms, p50 ${round(figure.latency.trailkeep.p50)} ms`;
  const ratio = figure.ratio === undefined ? '' : `, ${round(figure.ratio)}x baseline`;
  return `${figure.id}: ${value}${ratio}`;
}

class EngineRun {
  readonly figures: Figure[] = [];
  readonly dataset: Record<string, string | number> = {};
  private readonly urls: string[] = [];

  constructor(
    readonly server: EngineServer,
    private readonly options: BenchOptions,
  ) {}

  say(text: string): void {
    say(`[${this.server.name}] ${text}`);
  }

  add(...figures: Figure[]): void {
    for (const figure of figures) {
      this.figures.push(figure);
      this.say(describe(figure));
    }
  }

  wants(scenario: ScenarioName): boolean {
    return this.options.only.includes(scenario);
  }

  async fresh(label: string): Promise<string> {
    const url = await this.server.createDatabase(label);
    this.urls.push(url);
    return url;
  }

  async drop(url: string): Promise<void> {
    if (this.options.keep) return;
    await this.server.dropDatabase(url);
  }

  async dropAll(): Promise<void> {
    for (const url of this.urls) await this.drop(url);
  }
}

/** Store ingest of the big workspace's first `count` events in batches of `size`, fresh databases. */
async function smallIngest(
  run: EngineRun,
  workspace: DemoWorkspace,
  count: number,
  size: number,
): Promise<Figure> {
  const url = await run.fresh(`b${size}`);
  const store = await openStore(url);
  let ingest: IngestRun;
  try {
    await createWorkspaces(store, [workspace]);
    ingest = await ingestBatches(
      await LogService.open(store),
      workspaceBatches(workspace, count, size),
    );
  } finally {
    await store.close();
  }
  const baseline = await run.fresh(`b${size}_baseline`);
  await prepareLike(baseline, [workspace]);
  const copy = await copyRanges(url, baseline, ingest.ranges);
  await run.drop(url);
  await run.drop(baseline);
  return plainFigure(
    `ingest.store.b${size}`,
    `Store ingest, batches of ${size.toLocaleString('en-US')}`,
    'events/s',
    perSecond(ingest.events, ingest.ms),
    {
      label: `plain multi-row INSERT of the same rows, transactions of ${size.toLocaleString('en-US')}`,
      value: perSecond(copy.events, copy.ms),
    },
    {
      events: ingest.events,
      cpu_us_per_event: (ingest.cpuMs * 1000) / ingest.events,
      baseline_cpu_us_per_event: (copy.cpuMs * 1000) / copy.events,
    },
  );
}

async function runScenarios(run: EngineRun, options: BenchOptions, sizes: Sizes): Promise<void> {
  const dataset = benchDataset(options.events, options.seed);
  const big = biggest(dataset);
  const total = dataset.workspaces.reduce((n, ws) => n + ws.count, 0);
  run.dataset['events'] = total;
  run.dataset['workspaces'] = dataset.workspaces.map((ws) => `${ws.id} ${ws.count}`).join(' / ');
  run.dataset['queried workspace'] = big.id;

  // 1. The data set itself, through the service in batches of 1,000: the headline ingest figure.
  const url = await run.fresh('trailkeep');
  let store: Store | undefined;
  let raw: RawLog | undefined;
  try {
    store = await openStore(url);
    const log = await LogService.open(store);
    await createWorkspaces(store, dataset.workspaces);
    let reported = 0;
    const build = await ingestBatches(log, mergedBatches(dataset, 1000), (events, ms) => {
      if (events - reported >= total / 10 || events === total) {
        reported = events;
        run.say(
          `ingest ${events.toLocaleString('en-US')} / ${total.toLocaleString('en-US')} events, ${Math.round(perSecond(events, ms)).toLocaleString('en-US')} events/s`,
        );
      }
    });
    run.dataset['late arrivals'] = build.late;
    run.dataset['sent JSON bytes/event'] = Math.round(build.sentBytes / build.events);
    await run.server.settle(url);

    const baselineUrl = await run.fresh('baseline');
    await prepareLike(baselineUrl, dataset.workspaces);
    run.say('baseline: copying the same rows with plain INSERTs');
    const copy = await copyRanges(url, baselineUrl, build.ranges);
    const baselineRaw = await openRaw(baselineUrl);
    const baselineBytes = Object.values(await baselineRaw.sizeBytes()).reduce((a, b) => a + b, 0);
    await baselineRaw.close();
    await run.drop(baselineUrl);
    run.add(
      plainFigure(
        'ingest.store.b1000',
        'Store ingest, batches of 1,000 (validation + categories + chain + all indexes)',
        'events/s',
        perSecond(build.events, build.ms),
        {
          label:
            'plain multi-row INSERT of the same rows, same schema and indexes, transactions of 1,000',
          value: perSecond(copy.events, copy.ms),
        },
        {
          events: build.events,
          seconds: build.ms / 1000,
          cpu_us_per_event: (build.cpuMs * 1000) / build.events,
          baseline_cpu_us_per_event: (copy.cpuMs * 1000) / copy.events,
        },
      ),
    );

    let storeB100: Figure | undefined;
    if (run.wants('ingest')) run.add(await smallIngest(run, big, sizes.batchOfOne, 1));
    if (run.wants('ingest') || run.wants('http')) {
      storeB100 = await smallIngest(run, big, sizes.batchOfHundred, 100);
      run.add(storeB100);
    }
    if (run.wants('http') && storeB100 !== undefined) {
      const httpUrl = await run.fresh('http');
      const httpStore = await openStore(httpUrl);
      try {
        const batches = [...workspaceBatches(big, sizes.batchOfHundred, 100)];
        const http = await httpIngest(httpStore, big, batches, 4);
        run.add(
          plainFigure(
            'ingest.http.c4.b100',
            'HTTP ingest, 4 concurrent clients, batches of 100',
            'events/s',
            perSecond(http.events, http.ms),
            { label: 'Store ingest, batches of 100 (above)', value: storeB100.value },
            { events: http.events, requests: http.requests },
          ),
        );
      } finally {
        await httpStore.close();
      }
      await run.drop(httpUrl);
    }

    raw = await openRaw(url);
    const plan = await planReads(log, big.id, storyEnd(), DAYS);
    if (run.wants('query')) {
      run.add(...(await pageFigures(log, raw, big.id, plan, sizes.runs)));
      run.add(...(await deepWalkFigures(log, raw, big.id, sizes.deepPage, sizes.runs)));
    }
    if (run.wants('count')) run.add(...(await countFigures(log, raw, big.id, plan, sizes.runs)));
    if (run.wants('facets')) run.add(...(await facetFigures(log, raw, big.id, sizes.runs)));
    if (run.wants('history'))
      run.add(...(await historyFigures(log, raw, big.id, plan, sizes.runs)));
    if (run.wants('export')) {
      const profiles = options.cpuProf ? profileDirFor(options.out) : undefined;
      run.add(...(await exportFigures(url, big.id, run.server.name, profiles)));
    }
    if (run.wants('verify')) run.add(...(await verifyFigures(log, raw, big.id)));
    if (run.wants('size')) {
      run.add(
        await sizeFigure(raw, build.events, build.storedBytes, build.sentBytes, baselineBytes),
      );
    }
    if (run.wants('tree')) {
      run.add(await treeIngestFigure(run, sizes.treeIngest, 1000, options.seed));
    }
    if (run.wants('proof') || run.wants('tiles')) {
      const wants = { proof: run.wants('proof'), tiles: run.wants('tiles') };
      const { logEvents: events, proofRuns, tileRequests } = sizes;
      const say = (text: string): void => run.say(text);
      run.add(
        ...(await logFigures(
          run,
          { events, proofRuns, tileRequests, seed: options.seed, wants },
          say,
        )),
      );
    }
  } finally {
    await raw?.close();
    await store?.close();
  }
}

async function runEngine(
  name: EngineName,
  options: BenchOptions,
  sizes: Sizes,
): Promise<EngineResult> {
  const start = performance.now();
  const result = (run: EngineRun | undefined, error?: unknown): EngineResult => ({
    engine: name,
    version: run?.server.version ?? 'unavailable',
    settings: run?.server.settings ?? {},
    dataset: run?.dataset ?? {},
    figures: applyTargets(run?.figures ?? [], name),
    loadAtEnd: loadavg().map((l) => Math.round(l * 10) / 10),
    seconds: (performance.now() - start) / 1000,
    ...(error === undefined ? {} : { error: messageOf(error) }),
  });
  let server: EngineServer;
  try {
    server = await startEngine(name);
  } catch (error) {
    say(`[${name}] could not start: ${error instanceof Error ? error.message : String(error)}`);
    return result(undefined, error);
  }
  const run = new EngineRun(server, options);
  run.say(`${name} ${server.version}`);
  try {
    await runScenarios(run, options, sizes);
    return result(run);
  } catch (error) {
    run.say(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    return result(run, error);
  } finally {
    await run.dropAll();
    if (!(options.keep && name === 'sqlite')) await server.stop();
  }
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const sizes = sizesFor(options);
  const machine = describeMachine();
  say(
    `Machine: ${machine.cpus} cores (${machine.cpuModel}), ${machine.memoryGb} GB, ${machine.platform}, ` +
      `Node ${machine.node}, load average ${machine.loadAtStart.toFixed(1)}`,
  );
  say(
    `Data set: ${options.events.toLocaleString('en-US')} events${options.quick ? ' (quick)' : ''}; engines: ${options.engines.join(', ')}`,
  );
  const started = new Date().toISOString();
  const engines: EngineResult[] = [];
  for (const name of options.engines) engines.push(await runEngine(name, options, sizes));
  const results: BenchResults = {
    format: 1,
    started_at: started,
    finished_at: new Date().toISOString(),
    options: {
      events: options.events,
      quick: options.quick,
      engines: options.engines,
      seed: options.seed,
      only: options.only,
    },
    machine,
    engines,
  };
  const files = writeResults(options.out, results);
  process.stdout.write(markdown(results));
  say(`Wrote ${files.json} and ${files.md}`);
  if (engines.some((e) => e.error !== undefined)) process.exitCode = 1;
}

main().catch((error: unknown) => {
  say(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
});
