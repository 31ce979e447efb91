/** What a run measures: figures, each with its baseline from the same run, and the results file. */
import type { Latency } from './stats.js';

export interface TargetCheck {
  /** The target as the issue states it, e.g. "p95 <= 10 ms". */
  text: string;
  pass: boolean;
}

export interface Figure {
  /** Stable key, e.g. `ingest.store.b1000`, `query.action`. */
  id: string;
  label: string;
  /** Unit of `value` and `baseline.value`. */
  unit: 'events/s' | 'ms' | 'MB' | 'bytes/event' | 'tiles/s';
  /** Trailkeep's figure (for latencies: the p95). */
  value: number;
  baseline?: { label: string; value: number };
  /**
   * Trailkeep against its baseline: value / baseline.value, or for latencies the ratio of the
   * medians (p50), which shared-machine noise disturbs least.
   */
  ratio?: number;
  latency?: { trailkeep: Latency; baseline?: Latency };
  details?: Record<string, string | number | boolean>;
  targets?: TargetCheck[];
}

export interface MachineInfo {
  cpus: number;
  cpuModel: string;
  memoryGb: number;
  node: string;
  platform: string;
  /** 1-minute load average when the run started: other work on a shared machine. */
  loadAtStart: number;
}

export interface EngineResult {
  engine: string;
  version: string;
  settings: Record<string, string>;
  /** Events in the data set and how they are spread. */
  dataset: Record<string, string | number>;
  figures: Figure[];
  /** Load average (1, 5, 15 min) when this engine's part ended. */
  loadAtEnd: number[];
  seconds: number;
  error?: string;
}

export interface BenchResults {
  format: 1;
  started_at: string;
  finished_at: string;
  options: { events: number; quick: boolean; engines: string[]; seed: number; only: string[] };
  machine: MachineInfo;
  engines: EngineResult[];
}

/** A latency figure: value = p95, ratio = p50 / baseline p50. */
export function latencyFigure(
  id: string,
  label: string,
  trailkeep: Latency,
  baseline: { label: string; latency: Latency },
  details?: Figure['details'],
): Figure {
  return {
    id,
    label,
    unit: 'ms',
    value: trailkeep.p95,
    baseline: { label: baseline.label, value: baseline.latency.p95 },
    ratio: trailkeep.p50 / baseline.latency.p50,
    latency: { trailkeep, baseline: baseline.latency },
    ...(details === undefined ? {} : { details }),
  };
}

/** A throughput or size figure: ratio = value / baseline. */
export function plainFigure(
  id: string,
  label: string,
  unit: Figure['unit'],
  value: number,
  baseline: { label: string; value: number },
  details?: Figure['details'],
): Figure {
  return {
    id,
    label,
    unit,
    value,
    baseline,
    ratio: value / baseline.value,
    ...(details === undefined ? {} : { details }),
  };
}
