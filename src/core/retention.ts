/**
 * Retention and legal hold (docs/integrity.md, "Retention and legal hold"): which events a
 * pruning run may take the bodies of. Both engines plan with this, so they prune alike.
 *
 * - Only a prefix of the log in seq order: events received before the cut-off, stopping at the
 *   first one received at or after it. received_at is the server's clock, so a sender cannot
 *   make an event look old by back-dating occurred_at.
 * - Never the newest event: it carries the chain's head.
 * - Never an event an open hold covers: a workspace hold covers every event, a target hold
 *   every event naming that target id among its targets.
 */
import { TrailkeepError } from './errors.js';

/** Longest retention period a workspace may set (100 years), so cut-offs stay valid dates. */
export const MAX_RETENTION_DAYS = 36_500;
const DAY_MS = 86_400_000;

/** A policy's period as sent: a whole number of days, 1 to MAX_RETENTION_DAYS. */
export function parseRetentionDays(value: unknown, path = '$.days'): number {
  if (
    typeof value !== 'number' ||
    !Number.isInteger(value) ||
    value < 1 ||
    value > MAX_RETENTION_DAYS
  ) {
    throw new TrailkeepError(
      'bad_request',
      `the retention period must be a whole number of days from 1 to ${MAX_RETENTION_DAYS}`,
      { issues: [{ path, message: `expected an integer from 1 to ${MAX_RETENTION_DAYS}` }] },
    );
  }
  return value;
}

/** The instant before which bodies may be pruned, for a policy of `days` at `now`. */
export function retentionCutoff(now: Date, days: number): string {
  return new Date(now.getTime() - days * DAY_MS).toISOString();
}

export interface OpenHold {
  id: string;
  target_id: string | null;
}

export interface PruneCandidate {
  seq: number;
  /** The body's received_at. */
  received_at: unknown;
  /** The body's target ids. */
  target_ids: readonly string[];
}

/** Decides, event by event in seq order, what one pruning run takes. */
export class PrunePlanner {
  readonly ranges: [number, number][] = [];
  count = 0;
  held = 0;
  private readonly cutoffMs: number;
  private readonly workspaceHolds: readonly string[];
  private readonly targetHolds = new Map<string, string[]>();
  private readonly used = new Set<string>();
  private stopped = false;

  constructor(
    cutoff: string,
    holds: readonly OpenHold[],
    /** The newest seq of the log: never pruned. */
    private readonly headSeq: number,
  ) {
    this.cutoffMs = Date.parse(cutoff);
    this.workspaceHolds = holds.filter((h) => h.target_id === null).map((h) => h.id);
    for (const hold of holds) {
      if (hold.target_id === null) continue;
      const ids = this.targetHolds.get(hold.target_id) ?? [];
      ids.push(hold.id);
      this.targetHolds.set(hold.target_id, ids);
    }
  }

  /** Whether the prefix has ended: no later candidate is looked at. */
  get done(): boolean {
    return this.stopped;
  }

  /** The holds that kept at least one event, sorted. */
  get holds(): string[] {
    return [...this.used].sort();
  }

  /** true: prune this event's body. Call in seq order; after `done`, always false. */
  take(candidate: PruneCandidate): boolean {
    if (this.stopped) return false;
    const received =
      typeof candidate.received_at === 'string' ? Date.parse(candidate.received_at) : NaN;
    if (candidate.seq >= this.headSeq || !(received < this.cutoffMs)) {
      this.stopped = true;
      return false;
    }
    const covering = [...this.workspaceHolds];
    for (const id of candidate.target_ids) covering.push(...(this.targetHolds.get(id) ?? []));
    if (covering.length > 0) {
      this.held += 1;
      for (const id of covering) this.used.add(id);
      return false;
    }
    this.count += 1;
    const last = this.ranges.at(-1);
    if (last !== undefined && last[1] === candidate.seq - 1) last[1] = candidate.seq;
    else this.ranges.push([candidate.seq, candidate.seq]);
    return true;
  }
}

/** The target ids of a stored body, read defensively (verify, not this, judges the body). */
export function bodyTargetIds(body: Record<string, unknown>): string[] {
  const { targets } = body;
  if (!Array.isArray(targets)) return [];
  const ids: string[] = [];
  for (const target of targets as unknown[]) {
    if (typeof target !== 'object' || target === null) continue;
    const id: unknown = Object.hasOwn(target, 'id') ? (target as { id: unknown }).id : undefined;
    if (typeof id === 'string') ids.push(id);
  }
  return ids;
}
