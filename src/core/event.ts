/**
 * The event model: what a product sends (EventInput), what the service hands to a store after
 * validation, categorisation and change tracking (EventDraft), and what a store keeps and returns
 * (StoredEvent). Wire format is snake_case, as in docs/events.md.
 */
import type { ResourceSchema } from './changes.js';
import type { JsonObject, JsonValue } from './json.js';

export const ACTOR_TYPES = ['user', 'agent', 'api_token', 'automation', 'system'] as const;
export type ActorType = (typeof ACTOR_TYPES)[number];

export const OUTCOMES = ['success', 'failure'] as const;
export type Outcome = (typeof OUTCOMES)[number];

export const OPERATIONS = ['create', 'read', 'update', 'delete', 'other'] as const;
export type Operation = (typeof OPERATIONS)[number];

export interface Actor {
  type: ActorType;
  id: string;
  name?: string;
  email?: string;
}

export interface Target {
  type: string;
  id: string;
  name?: string;
}

/**
 * One changed field. A secret field keeps only the fact that it changed: `secret: true` and
 * neither `old` nor `new`. A field that appeared has no `old`; one that disappeared has no `new`.
 */
export interface Change {
  field: string;
  old?: JsonValue;
  new?: JsonValue;
  secret?: true;
}

export interface EventContext {
  ip?: string;
  user_agent?: string;
  request_id?: string;
}

/** What a sender may send (after JSON parsing and validation). */
export interface EventInput {
  id?: string;
  action: string;
  occurred_at?: string;
  actor: Actor;
  targets?: Target[];
  category?: string;
  outcome?: Outcome;
  operation?: Operation;
  changes?: Change[];
  before?: JsonObject;
  after?: JsonObject;
  context?: EventContext;
  metadata?: JsonObject;
}

/** The fields a sender may leave out; the server then fills them in (docs/events.md). */
export const OPTIONAL_FIELDS = [
  'occurred_at',
  'targets',
  'category',
  'outcome',
  'operation',
  'changes',
  'context',
  'metadata',
] as const;
export type OptionalField = (typeof OPTIONAL_FIELDS)[number];

/**
 * What the sender of a draft set, as opposed to what the server filled in: a later send of the
 * same id is compared on these fields only (src/core/resend.ts). Neither hashed nor stored.
 */
export interface Sent {
  /** `changes` counts as sent when the sender gave `changes`, `before` or `after`. */
  fields: readonly OptionalField[];
  /** The resource schema the draft's changes were redacted with. */
  schema?: ResourceSchema;
}

/**
 * A fully resolved event before the store gives it its place in the chain. Every field the
 * chain covers is present except `seq`, `prev_hash` and `hash`, which only the store can assign
 * (under its per-workspace lock). `sent` is the one member that is not hashed: a draft without it
 * (one not made from a sender's input) counts as having set every field.
 */
export interface EventDraft {
  id: string;
  workspace: string;
  action: string;
  /** ISO 8601, UTC, millisecond precision: `2026-05-12T09:30:00.000Z`. */
  occurred_at: string;
  received_at: string;
  actor: Actor;
  targets: Target[];
  category: string;
  outcome: Outcome;
  operation: Operation;
  changes: Change[];
  context: EventContext;
  metadata: JsonObject;
  sent?: Sent;
}

/** A stored event, exactly as hashed (see docs/integrity.md) plus its chain fields. */
export interface StoredEvent extends Omit<EventDraft, 'sent'> {
  seq: number;
  prev_hash: string;
  hash: string;
}

/**
 * A stored event as written: the canonical JSON text its hash covers and its chain hashes (hex).
 * Exports splice these into their output without parsing, so an NDJSON line carries the exact
 * hashed text and costs no JSON round trip.
 */
export interface StoredText {
  body: string;
  prev_hash: string;
  hash: string;
}

/** The last link of a workspace's chain; an empty chain has seq 0 and the zero hash. */
export interface ChainHead {
  seq: number;
  hash: string;
}

export const ZERO_HASH = '0'.repeat(64);
export const EMPTY_HEAD: ChainHead = Object.freeze({ seq: 0, hash: ZERO_HASH });
