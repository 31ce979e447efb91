/**
 * The SHA-256 hash chain (docs/integrity.md):
 *   hash = sha256_hex(prev_hash + "\n" + JCS(event without prev_hash and hash))
 * The first event of a workspace has prev_hash = 64 zeros. Every stored field is covered,
 * including the workspace, seq and received_at, so no row can move between chains or positions.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from './canonical.js';
import type { ChainHead, EventDraft, StoredEvent } from './event.js';

/** The body that is hashed and stored: the event without its chain links. */
export type HashedBody = Omit<StoredEvent, 'prev_hash' | 'hash'>;

export function hashLink(prevHash: string, canonicalBody: string): string {
  return createHash('sha256').update(prevHash).update('\n').update(canonicalBody).digest('hex');
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
    const bodyObject: HashedBody = { ...draft, seq };
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
