/**
 * The SHA-256 hash chain (docs/integrity.md):
 *   hash = sha256_hex(prev_hash + "\n" + JCS(event without prev_hash and hash))
 * The first event of a workspace has prev_hash = 64 zeros. Every stored field is covered,
 * including the workspace, seq and received_at, so no row can move between chains or positions.
 */
import { hash as digest } from 'node:crypto';
import { canonicalJson } from './canonical.js';
import { TrailkeepError, type Issue } from './errors.js';
import type { ChainHead, EventDraft, StoredEvent } from './event.js';

/** The body that is hashed and stored: the event without its chain links. */
export type HashedBody = Omit<StoredEvent, 'prev_hash' | 'hash'>;

export function hashLink(prevHash: string, canonicalBody: string): string {
  // One-shot crypto.hash: a third of createHash().update()...digest()'s cost on ~800 bytes.
  return digest('sha256', `${prevHash}\n${canonicalBody}`, 'hex');
}

export interface SealedEvent {
  event: StoredEvent;
  /** The exact canonical text that was hashed; stores keep it verbatim. */
  body: string;
}

/** Gives drafts their places after `head`: consecutive seqs and linked hashes. */
export function sealBatch(head: ChainHead, drafts: readonly EventDraft[]): SealedEvent[] {
  const sealed: SealedEvent[] = [];
  let { seq, hash } = head;
  for (const draft of drafts) {
    seq += 1;
    // seq goes between received_at and targets, its canonical place, so the body needs no
    // sorting before it is serialized (the drafts' members are in canonical order already).
    // `sent` only tells re-sends from conflicts; it is neither hashed nor stored.
    const { targets, workspace, sent: _sent, ...before } = draft;
    const bodyObject: HashedBody = { ...before, seq, targets, workspace };
    const body = canonicalJson(bodyObject);
    const next = hashLink(hash, body);
    sealed.push({ event: { ...bodyObject, prev_hash: hash, hash: next }, body });
    hash = next;
  }
  return sealed;
}

/** Recomputes one event's hash from its fields, for verification of returned events. */
export function eventHash(event: StoredEvent): string {
  const { prev_hash: prevHash, hash: _hash, ...body } = event;
  return hashLink(prevHash, canonicalJson(body));
}

/**
 * Proves that events sealed elsewhere (`trailkeep copy`) extend `head` link by link and carry no
 * id twice, and gives each its canonical body (the text it was hashed over where it was sealed).
 * Both engines' `importEvents` run this before writing anything.
 */
export function checkContinuation(
  workspace: string,
  head: ChainHead,
  events: readonly StoredEvent[],
  isStored: (id: string) => boolean,
): SealedEvent[] {
  const sealed: SealedEvent[] = [];
  const ids = new Set<string>();
  let previous = head;
  events.forEach((event, index) => {
    const broken = (message: string): TrailkeepError =>
      new TrailkeepError('integrity_broken', `cannot import event ${index}: ${message}`, {
        issues: [{ index, path: '$', message }],
      });
    if (event.workspace !== workspace) {
      throw broken(`it belongs to workspace "${event.workspace}", not "${workspace}"`);
    }
    if (event.seq !== previous.seq + 1) {
      throw broken(`its seq is ${event.seq} but the chain continues at ${previous.seq + 1}`);
    }
    if (event.prev_hash !== previous.hash) {
      throw broken(`its prev_hash does not link to the hash of seq ${previous.seq}`);
    }
    if (ids.has(event.id) || isStored(event.id)) {
      const message = `event id "${event.id}" is already stored`;
      throw new TrailkeepError('event_id_conflict', message, {
        issues: [{ index, path: '$.id', message }],
      });
    }
    ids.add(event.id);
    const { prev_hash: _prev, hash: _hash, ...body } = event;
    sealed.push({ event, body: canonicalJson(body) });
    previous = { seq: event.seq, hash: event.hash };
  });
  return sealed;
}

/**
 * Refuses drafts a store must not seal: another workspace's, or with an occurred_at that is not
 * the normalized ISO form (a mismatch would make verify fail forever after). Both engines run it
 * before their append transaction writes anything.
 */
export function checkDrafts(workspace: string, drafts: readonly EventDraft[]): void {
  const issues: Issue[] = [];
  drafts.forEach((draft, index) => {
    if (draft.workspace !== workspace) {
      issues.push({
        index,
        path: '$.workspace',
        message: `the event belongs to workspace "${draft.workspace}", not "${workspace}"`,
      });
    }
    const ms = Date.parse(draft.occurred_at);
    if (Number.isNaN(ms) || new Date(ms).toISOString() !== draft.occurred_at) {
      issues.push({
        index,
        path: '$.occurred_at',
        message: 'occurred_at must be ISO 8601 UTC with milliseconds (2026-05-12T09:30:00.000Z)',
      });
    }
  });
  if (issues.length > 0) {
    throw new TrailkeepError('validation_failed', 'events are not normalized drafts', { issues });
  }
}
