/**
 * The targets of issues 8 and 13 (on a 2-core machine with 1,000,000 events), checked against each
 * figure of a run. A figure without a target is reported without a verdict.
 */
import type { Figure, TargetCheck } from './figures.js';
import type { EngineName } from './options.js';

const STORE_INGEST_FLOOR: Record<EngineName, number> = { sqlite: 50_000, postgres: 30_000 };

function check(text: string, pass: boolean | undefined): TargetCheck {
  return { text, pass: pass === true };
}

function targetsOf(figure: Figure, engine: EngineName): TargetCheck[] {
  const { id, value, ratio } = figure;
  if (id === 'ingest.store.b1000') {
    const floor = STORE_INGEST_FLOOR[engine];
    return [
      check('>= 0.7x the baseline INSERT', ratio !== undefined && ratio >= 0.7),
      check(`>= ${floor.toLocaleString('en-US')} events/s`, value >= floor),
    ];
  }
  // Issue 13: the tree costs at most 15% of ingest throughput; proofs from a million events.
  if (id.startsWith('ingest.tree.')) {
    return [check('>= 0.85x the ingest without the tree', ratio !== undefined && ratio >= 0.85)];
  }
  if (id === 'proof.inclusion') return [check('p95 <= 5 ms', value <= 5)];
  if (id === 'tiles.http') return [check('>= 2,000 full tiles/s', value >= 2000)];
  if (id === 'ingest.http.c4.b100') {
    return [check('>= 0.5x the Store figure', ratio !== undefined && ratio >= 0.5)];
  }
  if (id === 'query.deep_vs_first') {
    return [check('<= 1.2x page 1 (p50)', ratio !== undefined && ratio <= 1.2)];
  }
  if (id.startsWith('query.')) {
    return [
      check('p95 <= 10 ms', value <= 10),
      check('<= 1.5x the hand-written query (p50)', ratio !== undefined && ratio <= 1.5),
    ];
  }
  if (id.startsWith('count.')) return [check('p95 <= 20 ms', value <= 20)];
  if (id === 'export.csv' || id === 'export.ndjson') {
    return [check('>= 150,000 events/s', value >= 150_000)];
  }
  if (id.startsWith('export.') && id.endsWith('.rss')) return [check('<= 150 MB', value <= 150)];
  if (id === 'verify') {
    return [check('>= 0.5x bare sha256', ratio !== undefined && ratio >= 0.5)];
  }
  if (id === 'storage') {
    return [check('<= 2.5x the raw JSON', ratio !== undefined && ratio <= 2.5)];
  }
  return [];
}

export function applyTargets(figures: readonly Figure[], engine: EngineName): Figure[] {
  return figures.map((figure) => {
    const targets = targetsOf(figure, engine);
    return targets.length === 0 ? figure : { ...figure, targets };
  });
}
