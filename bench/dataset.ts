/**
 * The benchmark's data set: the demo generator's four workspaces (unequal sizes, the design's
 * vocabularies, time-ordered with about 0.4% late arrivals, a fixed seed), handed out in
 * batches in the order a real deployment would receive them: whichever workspace's next batch
 * happened first goes first.
 */
import type { EventInput } from '../src/core/event.js';
import { generateDemo, type DemoDataset, type DemoWorkspace } from '../src/demo/generate.js';

/** The story ends here (or today, if the clock is earlier), so events never lie in the future. */
const STORY_END = Date.parse('2026-11-01T00:00:00.000Z');
export const DAYS = 90;

export function storyEnd(): Date {
  const today = Math.floor(Date.now() / 86_400_000) * 86_400_000;
  return new Date(Math.min(STORY_END, today));
}

export function benchDataset(events: number, seed: number): DemoDataset {
  return generateDemo({ seed, events, now: storyEnd(), days: DAYS });
}

/** The workspace with the most events: where queries, exports and verify run. */
export function biggest(dataset: DemoDataset): DemoWorkspace {
  return dataset.workspaces.reduce((a, b) => (b.count > a.count ? b : a));
}

export interface Batch {
  workspace: string;
  events: EventInput[];
}

function take(iterator: Iterator<EventInput>, size: number): EventInput[] {
  const batch: EventInput[] = [];
  while (batch.length < size) {
    const next = iterator.next();
    if (next.done === true) break;
    batch.push(next.value);
  }
  return batch;
}

/** Every event of the data set, in batches of `size`, interleaved across workspaces by time. */
export function* mergedBatches(dataset: DemoDataset, size: number): Generator<Batch> {
  const heads = dataset.workspaces.map((ws) => {
    const iterator = ws.events()[Symbol.iterator]();
    return { workspace: ws.id, iterator, next: take(iterator, size) };
  });
  for (;;) {
    let earliest: (typeof heads)[number] | undefined;
    for (const head of heads) {
      const first = head.next[0];
      if (first === undefined) continue;
      const at = first.occurred_at ?? '';
      if (earliest === undefined || at < (earliest.next[0]?.occurred_at ?? '')) earliest = head;
    }
    if (earliest === undefined) return;
    yield { workspace: earliest.workspace, events: earliest.next };
    earliest.next = take(earliest.iterator, size);
  }
}

/** The first `count` events of one workspace, in batches of `size`. */
export function* workspaceBatches(
  workspace: DemoWorkspace,
  count: number,
  size: number,
): Generator<Batch> {
  const iterator = workspace.events()[Symbol.iterator]();
  let left = count;
  while (left > 0) {
    const events = take(iterator, Math.min(size, left));
    if (events.length === 0) return;
    left -= events.length;
    yield { workspace: workspace.id, events };
  }
}
