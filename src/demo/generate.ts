/**
 * The demo data set: four workspaces, one per naming style of the design's vocabulary, whose
 * events are produced lazily, in time order, from a seed. The same options always give the same
 * events, byte for byte, which makes `trailkeep demo` idempotent (the ids repeat, so the store
 * recognizes re-sent events) and lets the benchmark generate millions without holding them.
 */
import type { EventInput } from '../core/event.js';
import { IsoFormatter } from './iso-time.js';
import { deriveSeed, hex32, mix32, Random } from './random.js';
import { Timeline } from './timeline.js';
import { crmVocabulary } from './vocab/crm.js';
import { devplatformVocabulary } from './vocab/devplatform.js';
import { engineeringVocabulary } from './vocab/engineering.js';
import { jobsVocabulary } from './vocab/jobs.js';
import type { Stamp, Vocabulary, WorkspaceSettings } from './vocabulary.js';

export const DEFAULT_SEED = 42;
export const DEFAULT_DAYS = 90;

/** Share of events that arrive a little out of order, and by how much at most. */
const LATE_RATE = 0.004;
const MAX_LATENESS_MS = 90_000;

/** Largest event count the id scheme keeps unique: ids are a bijection of 32-bit indexes. */
export const MAX_DEMO_EVENTS = 0xffffffff;

export const VOCABULARIES: readonly Vocabulary[] = [
  jobsVocabulary,
  devplatformVocabulary,
  engineeringVocabulary,
  crmVocabulary,
];

export interface DemoOptions {
  seed?: number;
  /** Total events over all workspaces. */
  events: number;
  /** The end of the story: every event occurs strictly before it. */
  now: Date;
  /** How far back the story starts. */
  days?: number;
}

export interface DemoWorkspace {
  id: string;
  name: string;
  settings: WorkspaceSettings;
  share: number;
  /** How many events `events()` yields. */
  count: number;
  /** Every action this workspace's vocabulary can emit. */
  actions: readonly string[];
  /** A fresh, lazy pass over this workspace's events; each call yields the same sequence. */
  events(): Iterable<EventInput>;
}

export interface DemoDataset {
  seed: number;
  now: string;
  days: number;
  workspaces: DemoWorkspace[];
}

export function generateDemo(options: DemoOptions): DemoDataset {
  const seed = options.seed ?? DEFAULT_SEED;
  const days = options.days ?? DEFAULT_DAYS;
  const now = options.now.getTime();
  const total = options.events;
  if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be an integer, got ${seed}`);
  if (!Number.isInteger(total) || total < 0 || total > MAX_DEMO_EVENTS) {
    throw new RangeError(`events must be an integer from 0 to ${MAX_DEMO_EVENTS}, got ${total}`);
  }
  if (!(days > 0)) throw new RangeError(`days must be positive, got ${days}`);
  if (!Number.isFinite(now)) throw new RangeError('now must be a valid date');

  const counts = splitByShare(
    total,
    VOCABULARIES.map((vocabulary) => vocabulary.share),
  );
  return {
    seed,
    now: options.now.toISOString(),
    days,
    workspaces: VOCABULARIES.map((vocabulary, i) => {
      const count = counts[i] ?? 0;
      return {
        id: vocabulary.id,
        name: vocabulary.name,
        settings: vocabulary.settings,
        share: vocabulary.share,
        count,
        actions: vocabulary.actions,
        events: () => workspaceEvents(vocabulary, { seed, now, days, count }),
      };
    }),
  };
}

/** Whole counts in proportion to `shares`, summing exactly to `total` (largest remainders). */
export function splitByShare(total: number, shares: readonly number[]): number[] {
  const sum = shares.reduce((a, b) => a + b, 0);
  const exact = shares.map((share) => (total * share) / sum);
  const counts = exact.map(Math.floor);
  let left = total - counts.reduce((a, b) => a + b, 0);
  const byRemainder = exact
    .map((value, i) => ({ i, remainder: value - Math.floor(value) }))
    .sort((a, b) => b.remainder - a.remainder || a.i - b.i);
  for (const { i } of byRemainder) {
    if (left === 0) break;
    counts[i] = (counts[i] ?? 0) + 1;
    left--;
  }
  return counts;
}

function* workspaceEvents(
  vocabulary: Vocabulary,
  options: { seed: number; now: number; days: number; count: number },
): Generator<EventInput, void, undefined> {
  const { seed, now, days, count } = options;
  if (count === 0) return;
  const script = vocabulary.script(new Random(deriveSeed(seed, vocabulary.id)));
  const clock = new Random(deriveSeed(seed, `${vocabulary.id}:time`));
  const timeline = new Timeline(clock, {
    now,
    days,
    count,
    utcOffsetHours: vocabulary.utcOffsetHours,
  });
  // The ids depend on everything that shapes the events, so one id never names two contents.
  const tag = mix32(deriveSeed(seed, `${vocabulary.id}|${count}|${now}|${days}`));
  const prefix = `evt_${hex32(tag)}`;
  const salt = mix32(tag ^ 0x5bd1e995);
  const iso = new IsoFormatter();
  // The two events before this one, as emitted: a late event lands between them.
  let previous: EventInput | undefined;
  let previousAt = -Infinity;
  let beforePreviousAt = -Infinity;
  for (let index = 0; index < count; index++) {
    const at = timeline.next();
    const stamp: Stamp = {
      id: prefix + hex32(mix32(index ^ salt)),
      occurred_at: iso.format(at),
      at,
    };
    const event = script.next(stamp);
    let emittedAt = at;
    const gap = previousAt - beforePreviousAt;
    // A late event overtakes only the event just before it, and only one about other things,
    // so every entity's history keeps its order.
    if (
      gap >= 2 &&
      clock.chance(LATE_RATE) &&
      previous !== undefined &&
      !sharesTarget(event, previous)
    ) {
      emittedAt = previousAt - clock.between(1, Math.min(gap - 1, MAX_LATENESS_MS));
      event.occurred_at = new Date(emittedAt).toISOString();
    }
    previous = event;
    beforePreviousAt = previousAt;
    previousAt = emittedAt;
    yield event;
  }
}

function sharesTarget(a: EventInput, b: EventInput): boolean {
  for (const x of a.targets ?? []) {
    for (const y of b.targets ?? []) if (x.type === y.type && x.id === y.id) return true;
  }
  return false;
}
