/** Command-line options of `npm run bench`. */
import { resolve } from 'node:path';
import { TrailkeepError } from '../src/core/errors.js';

export const ENGINES = ['sqlite', 'postgres'] as const;
export type EngineName = (typeof ENGINES)[number];

export const SCENARIOS = [
  'ingest',
  'http',
  'query',
  'count',
  'facets',
  'export',
  'history',
  'verify',
  'size',
  'tree',
  'proof',
  'tiles',
] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

export interface BenchOptions {
  /** Events in the data set, over all workspaces. */
  events: number;
  quick: boolean;
  engines: EngineName[];
  /** Where latest.json and latest.md go. */
  out: string;
  /** Scenario groups to run; the data set is always built. */
  only: ScenarioName[];
  /** Write V8 CPU profiles of the export children into OUT/profiles. */
  cpuProf: boolean;
  seed: number;
  /** Keep the databases after the run (their paths are printed). */
  keep: boolean;
}

/** Repetitions and side workloads, smaller in quick mode. */
export interface Sizes {
  /** Timed runs per query figure. */
  runs: number;
  /** Events ingested one per call. */
  batchOfOne: number;
  /** Events ingested 100 per call, through the Store and over HTTP. */
  batchOfHundred: number;
  /** Pages walked for the deep-walk figure. */
  deepPage: number;
  /** Events ingested with and without the Merkle tree (a data set of their own). */
  treeIngest: number;
  /** Events in the workspace that proofs and tiles are read from; proofs timed; tiles fetched. */
  logEvents: number;
  proofRuns: number;
  tileRequests: number;
}

export function sizesFor(options: BenchOptions): Sizes {
  const small = (full: number, quick: number): number =>
    Math.max(1, Math.min(options.quick ? quick : full, options.events));
  return {
    runs: options.quick ? 12 : 100,
    batchOfOne: small(1_000, 200),
    batchOfHundred: small(50_000, 3_000),
    deepPage: 200,
    // The figures are for these sizes whatever the main data set's: a quick run (the
    // smoke test) keeps them tiny.
    treeIngest: options.quick ? Math.min(options.events, 10_000) : 100_000,
    logEvents: options.quick ? Math.min(options.events, 20_000) : 1_000_000,
    proofRuns: options.quick ? 100 : 2_000,
    tileRequests: options.quick ? 300 : 20_000,
  };
}

const USAGE = `usage: npm run bench -- [--events N] [--quick] [--engines sqlite,postgres]
                       [--out DIR] [--only ingest,query,...] [--cpu-prof] [--seed N] [--keep]`;

function fail(message: string): never {
  throw new TrailkeepError('bad_request', `${message}\n${USAGE}`);
}

function listOf<T extends string>(text: string, allowed: readonly T[], what: string): T[] {
  const items = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  for (const item of items) {
    if (!(allowed as readonly string[]).includes(item)) {
      fail(`unknown ${what} "${item}" (known: ${allowed.join(', ')})`);
    }
  }
  if (items.length === 0) fail(`--${what}s needs at least one value`);
  return items as T[];
}

export function parseOptions(argv: readonly string[]): BenchOptions {
  let events: number | undefined;
  let quick = false;
  let engines: EngineName[] = [...ENGINES];
  let out = 'bench/results';
  let only: ScenarioName[] = [...SCENARIOS];
  let cpuProf = false;
  let seed = 42;
  let keep = false;
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i]!;
    const [flag, inline] = arg.includes('=') ? arg.split('=', 2) : [arg, undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined) fail(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--events': {
        const n = Number(value());
        if (!Number.isInteger(n) || n < 1000) fail('--events must be a whole number >= 1000');
        events = n;
        break;
      }
      case '--quick':
        quick = true;
        break;
      case '--engines':
        engines = listOf(value(), ENGINES, 'engine');
        break;
      case '--out':
        out = value();
        break;
      case '--only':
        only = listOf(value(), SCENARIOS, 'scenario');
        break;
      case '--cpu-prof':
        cpuProf = true;
        break;
      case '--seed': {
        const n = Number(value());
        if (!Number.isSafeInteger(n)) fail('--seed must be an integer');
        seed = n;
        break;
      }
      case '--keep':
        keep = true;
        break;
      case '--help':
      case '-h':
        fail('');
        break;
      default:
        fail(`unknown option "${arg}"`);
    }
  }
  return {
    events: events ?? (quick ? 50_000 : 1_000_000),
    quick,
    engines,
    out: resolve(out),
    only,
    cpuProf,
    seed,
    keep,
  };
}
