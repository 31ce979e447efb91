/**
 * Idempotent re-sends (docs/events.md, "Sending an event again"). An id names one event: a later
 * send of an id is a re-send, answered with the event as first stored, when it agrees with it on
 * every field the later sender set. A field the sender left out is filled in by the server
 * (occurred_at with the time of receipt, the category from the workspace's catalog, ...), which
 * may fill it differently the next time; such fields never conflict and the first value stands.
 * What the first sender set is not recorded (events stored before this rule could not have it),
 * so only the later send's fields count, within one batch as across requests.
 *
 * Both engines call `planAppend` under their per-workspace write lock with the stored events of
 * the batch's ids, and `appendedEvents` once the fresh drafts are sealed: the rule lives here.
 */
import { canonicalJson } from './canonical.js';
import type { SealedEvent } from './chain.js';
import { redactChanges, type ResourceSchema } from './changes.js';
import { TrailkeepError, type Issue } from './errors.js';
import {
  OPTIONAL_FIELDS,
  type Change,
  type EventDraft,
  type OptionalField,
  type StoredEvent,
} from './event.js';

function same(a: unknown, b: unknown): boolean {
  return a === b || canonicalJson(a) === canonicalJson(b);
}

/**
 * Changes are stored after the workspace's field rules, which may have changed between two sends
 * of the same `before`/`after`: both lists are redacted with the rules of the later send (a field
 * now ignored drops out of both), and a field that is secret on either side matches whatever the
 * other side holds for it.
 */
function sameChanges(
  later: readonly Change[],
  earlier: readonly Change[],
  schema: ResourceSchema | undefined,
): boolean {
  const a = redactChanges(later, schema);
  const b = redactChanges(earlier, schema);
  return (
    a.length === b.length &&
    a.every((change, i) => {
      const other = b[i]!;
      return (
        change.field === other.field &&
        (change.secret === true || other.secret === true || same(change, other))
      );
    })
  );
}

/**
 * The fields on which a later send of an id disagrees with the earlier one (a stored event, or
 * the first copy in the same batch), in the order of docs/events.md; empty for a re-send.
 */
export function differingFields(later: EventDraft, earlier: EventDraft | StoredEvent): string[] {
  const compared = new Set<OptionalField>(later.sent?.fields ?? OPTIONAL_FIELDS);
  const differing: string[] = [];
  if (later.action !== earlier.action) differing.push('action');
  if (!same(later.actor, earlier.actor)) differing.push('actor');
  for (const field of OPTIONAL_FIELDS) {
    if (!compared.has(field)) continue;
    const agree =
      field === 'changes'
        ? sameChanges(later.changes, earlier.changes, later.sent?.schema)
        : same(later[field], earlier[field]);
    if (!agree) differing.push(field);
  }
  return differing;
}

/** `a`, `a and b`, `a, b and c`. */
function listed(names: readonly string[]): string {
  return names.length <= 1
    ? (names[0] ?? '')
    : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]!}`;
}

/** What a draft of a batch comes to: a new event, or the event it repeats. */
export type Answer = { created: boolean; fresh: number } | { created: false; stored: StoredEvent };

export interface AppendPlan {
  /** The drafts to seal after the head, in batch order. */
  fresh: EventDraft[];
  /** One per draft of the batch; `fresh` indexes the list above. */
  answers: Answer[];
}

/** The event a later draft repeats, and how messages refer to it. */
interface Earlier {
  event: EventDraft | StoredEvent;
  answer: Answer;
  /** `is already stored (seq 4)`, `appears at index 0 of this batch` */
  where: string;
  /** `as stored (seq 4)`, `at index 0 of this batch` */
  at: string;
}

/**
 * Decides, for each draft of a batch, whether it is new or repeats an event (stored, or earlier
 * in the batch). `stored` holds the already stored events among the batch's ids. Throws
 * `event_id_conflict` with one issue per differing field of each draft that reuses an id with
 * different content (`path` names the field), so that the store writes nothing of the batch.
 */
export function planAppend(
  drafts: readonly EventDraft[],
  stored: ReadonlyMap<string, StoredEvent>,
): AppendPlan {
  const fresh: EventDraft[] = [];
  const answers: Answer[] = [];
  const issues: Issue[] = [];
  const summaries: string[] = [];
  const first = new Map<string, Earlier>();
  drafts.forEach((draft, index) => {
    let earlier = first.get(draft.id);
    const existing = earlier === undefined ? stored.get(draft.id) : undefined;
    if (existing !== undefined) {
      earlier = {
        event: existing,
        answer: { created: false, stored: existing },
        where: `is already stored (seq ${existing.seq})`,
        at: `as stored (seq ${existing.seq})`,
      };
      first.set(draft.id, earlier);
    }
    if (earlier === undefined) {
      const answer: Answer = { created: true, fresh: fresh.length };
      fresh.push(draft);
      answers.push(answer);
      first.set(draft.id, {
        event: draft,
        answer,
        where: `appears at index ${index} of this batch`,
        at: `at index ${index} of this batch`,
      });
      return;
    }
    const differing = differingFields(draft, earlier.event);
    if (differing.length > 0) {
      summaries.push(
        `event id "${draft.id}" ${earlier.where} with a different ${listed(differing)}`,
      );
      for (const field of differing) {
        issues.push({
          index,
          path: `$.${field}`,
          message: `differs from event "${draft.id}" ${earlier.at}`,
        });
      }
    }
    answers.push({ ...earlier.answer, created: false });
  });
  if (summaries.length > 0) {
    throw new TrailkeepError(
      'event_id_conflict',
      summaries.length === 1
        ? summaries[0]!
        : `${summaries[0]!} (and ${summaries.length - 1} more ${summaries.length === 2 ? 'event reuses an id' : 'events reuse ids'} with different content)`,
      { issues },
    );
  }
  return { fresh, answers };
}

/** Each draft's event once `plan.fresh` is sealed (`sealed` in the same order). */
export function appendedEvents(
  plan: AppendPlan,
  sealed: readonly SealedEvent[],
): { event: StoredEvent; created: boolean }[] {
  return plan.answers.map((answer) => {
    const event = 'stored' in answer ? answer.stored : sealed[answer.fresh]?.event;
    if (event === undefined) throw new Error('a sealed event went missing');
    return { event, created: answer.created };
  });
}
