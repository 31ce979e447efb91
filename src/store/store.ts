/**
 * The one storage interface. Every engine (SQLite, PostgreSQL) implements it and passes the
 * shared contract suite in test/store/contract.ts unchanged. Methods are shaped by the domain,
 * not by SQL: the service never builds queries itself.
 *
 * Guarantees every adapter must keep:
 * - `append` is atomic per call and durable when its promise resolves (the batch survives a crash
 *   of the process, and with PostgreSQL of the server, given synchronous_commit).
 * - `seq` is gapless per workspace from 1, and each event's `prev_hash` is the previous event's
 *   `hash` (the store seals drafts with `sealBatch` from src/core/chain.ts under its lock).
 * - The events table refuses UPDATE and DELETE inside the database itself.
 * - No read ever returns or counts another workspace's rows.
 */
import type { DerivedMismatch, DerivedModel, DerivedRow } from '../core/derived.js';
import type { ChainHead, EventDraft, StoredEvent, StoredText } from '../core/event.js';
import type { Filter, Position } from '../core/query/filter.js';
import type { JsonObject } from '../core/json.js';
import type { TreeReader } from './tree.js';
import type { WitnessStore } from './witnesses.js';

export type { StoredText } from '../core/event.js';
export type { TreeReader } from './tree.js';

export type Role = 'owner' | 'admin' | 'auditor' | 'member';
export type KeyScope = 'ingest' | 'read' | 'admin';

export interface Workspace {
  /** Slug used in URLs and the CLI (`acme`), unique. */
  id: string;
  /** Display name. */
  name: string;
  created_at: string;
  /** Category rules and resource schemas (see src/core/categories.ts and changes.ts). */
  settings: JsonObject;
}

export interface AppendedEvent {
  event: StoredEvent;
  /** false when the id was already stored with the same content (an idempotent re-send). */
  created: boolean;
}

export interface PageRequest {
  limit: number;
  /** Where to continue from; absent for the first (newest) page. */
  position?: Position;
  /** 'older' = strictly after `position` in newest-first order; 'newer' = strictly before it. */
  direction: 'older' | 'newer';
}

export interface FacetValue {
  value: string;
  count: number;
}

export interface ActorFacet {
  type: string;
  id: string;
  name?: string;
  email?: string;
  count: number;
}

export interface Facets {
  actions: FacetValue[];
  categories: FacetValue[];
  actor_types: FacetValue[];
  target_types: FacetValue[];
  outcomes: FacetValue[];
  /** Most active actors first, at most 1,000. */
  actors: ActorFacet[];
}

/**
 * One raw row for verification: the stored body text exactly as written, the chain columns and
 * the denormalized columns that indexes use, so verify can prove they agree with the body.
 */
export interface ChainRow {
  seq: number;
  id: string;
  prev_hash: string;
  hash: string;
  /** The canonical JSON the hash was computed over (the event without prev_hash and hash). */
  body: string;
  /** Indexed copies of body fields, as the engine stores them, keyed by body field name. */
  columns: Record<string, string | number | null>;
  /**
   * Where a column of `columns` is kept when it is not in the events row (SQLite keeps the
   * actor's id, name and email in its actors row), so verify names that row.
   */
  sources?: Readonly<Record<string, { table: string; key: string; column: string }>>;
  /** The event's derived rows as stored, for verify to compare with `Store.derived`. */
  derived?: StoredDerived;
  /**
   * Set on the tombstone of an event whose body was pruned by the retention policy: only seq,
   * prev_hash and hash are kept (body is ''), so the chain still links across it and the tree
   * keeps its leaf. `run` is null when no recorded pruning run names the tombstone.
   */
  pruned?: { run: string; record: PruneRun | null };
}

/** A workspace's retention policy: event bodies older than `days` may be pruned. */
export interface RetentionPolicy {
  days: number;
  set_at: string;
  /** Who set it (a user or key id); null from the CLI. */
  set_by: string | null;
}

/** A legal hold: while open, it stops pruning of what it covers. */
export interface LegalHold {
  /** `hold_...` */
  id: string;
  workspace: string;
  /** The target id it covers (any event naming it among its targets); null: the whole workspace. */
  target_id: string | null;
  reason: string;
  created_by: string | null;
  created_at: string;
  released_at: string | null;
  released_by: string | null;
  release_reason: string | null;
}

export type NewLegalHold = Omit<LegalHold, 'released_at' | 'released_by' | 'release_reason'>;

/** One run of pruning as recorded beside its tombstones. */
export interface PruneRun {
  /** `prune_...` */
  run: string;
  at: string;
  /** Bodies of events received before this instant were pruned. */
  cutoff: string;
  policy_days: number;
  /** The pruned seqs, as inclusive ranges (held events split them). */
  ranges: [number, number][];
  count: number;
  /** The open holds that kept events from being pruned. */
  holds: string[];
}

export interface PruneRequest {
  run: string;
  at: string;
  cutoff: string;
  /** The policy the caller read; the store refuses when the stored one differs. */
  policy_days: number;
  /** Only report what would be pruned. */
  dryRun?: boolean;
}

export interface PruneResult extends PruneRun {
  /** Events old enough that an open hold kept. */
  held: number;
  dry_run: boolean;
}

/** The derived rows of one event, as stored (see src/core/derived.ts). */
export interface StoredDerived {
  /** The rows kept for the event beside its events row, in the order of `eventRows`. */
  rows: DerivedRow[];
  /** The actors row the event is counted under, in the form DerivedModel.actorRow keys take. */
  actor_key: string;
  /** Differences the engine judged itself. */
  mismatches?: DerivedMismatch[];
}

/** The end of a verification walk, read in one snapshot (see Store.verifyTail). */
export interface VerifyTail {
  /** Rows appended after the walk's head, up to `head`. */
  rows: ChainRow[];
  /** The recorded head, in the same snapshot. */
  head: ChainHead;
  /**
   * The workspace-wide derived rows as stored: every actors row of the workspace or named by
   * one of its events, every facet counter, and any row kept for an event the workspace does
   * not have.
   */
  derived: DerivedRow[];
  /** Differences the engine judged itself (SQLite's actor search index). */
  mismatches: DerivedMismatch[];
}

/** What `reindex` rebuilt. */
export interface ReindexResult {
  /** Events whose bodies the rows were derived from. */
  events: number;
  /** Rows written, by table. */
  rows: Record<string, number>;
}

export interface UserRecord {
  id: string;
  email: string;
  name: string | null;
  password_hash: string;
  created_at: string;
}

export interface Membership {
  workspace: string;
  user_id: string;
  email: string;
  name: string | null;
  role: Role;
  created_at: string;
}

export interface ApiKeyRecord {
  id: string;
  workspace: string;
  name: string;
  scope: KeyScope;
  /** The visible, non-secret start of the key, e.g. `tk_ingest_AbC123`. */
  prefix: string;
  /** sha256 of the whole key, hex. */
  hash: string;
  created_at: string;
  created_by: string | null;
  revoked_at: string | null;
  last_used_at: string | null;
}

export interface SessionRecord {
  /** sha256 of the session token, hex. */
  id_hash: string;
  user_id: string;
  csrf_token: string;
  created_at: string;
  expires_at: string;
}

/** `invited` is open; every other status is final. Expiry is read from `expires_at`. */
export type InvitationStatus = 'invited' | 'accepted' | 'declined' | 'revoked';

/**
 * An offer of a role in a workspace to whoever holds an email address. The person becomes a
 * member only by accepting it, so adding someone never tells the inviter whether an account
 * exists for the address, and nobody joins a workspace without consenting.
 */
export interface InvitationRecord {
  /** `inv_...`: a public handle (listings, audit, accepting while signed in). */
  id: string;
  workspace: string;
  /** Normalized (trimmed, lower case). */
  email: string;
  role: Role;
  /** The display name for an account created by accepting, when the person gives none. */
  name: string | null;
  /** sha256 of the secret token of the invitation link, hex. */
  token_hash: string;
  /** The user or key id that invited; null from the CLI. */
  invited_by: string | null;
  created_at: string;
  expires_at: string;
  status: InvitationStatus;
  /** When it stopped being open (accepted, declined, revoked or replaced). */
  closed_at: string | null;
  accepted_by: string | null;
}

export type NewInvitation = Omit<InvitationRecord, 'status' | 'closed_at' | 'accepted_by'>;

export interface Store extends TreeReader, WitnessStore {
  readonly engine: 'sqlite' | 'postgres';

  /** Brings the schema up to date; safe to call concurrently from several processes. */
  migrate(): Promise<void>;
  /** Finishes in-flight work and releases the database. */
  close(): Promise<void>;
  /** Cheap round trip to the database, for health checks. */
  ping(): Promise<void>;
  /**
   * Commits a tiny durable write that leaves nothing behind, for health checks after a write
   * failed: it fails as an append would on a full disk or a broken device (`store_full`,
   * `store_io_error`).
   */
  probeWrite(): Promise<void>;

  // Workspaces
  createWorkspace(ws: Omit<Workspace, 'created_at'> & { created_at?: string }): Promise<Workspace>;
  getWorkspace(id: string): Promise<Workspace | undefined>;
  listWorkspaces(): Promise<Workspace[]>;
  updateWorkspaceSettings(id: string, settings: JsonObject): Promise<void>;

  // The log
  /**
   * Appends drafts atomically, in order. A draft whose id is already stored (or earlier in the
   * batch) with the same content on the fields its sender set (`planAppend`, core/resend.ts) is
   * not appended again: the stored event comes back with `created: false`. Different content
   * throws TrailkeepError `event_id_conflict` naming the index and the fields, and nothing of
   * the batch is stored.
   * Throws `workspace_not_found` for an unknown workspace.
   */
  append(workspace: string, drafts: readonly EventDraft[]): Promise<AppendedEvent[]>;
  head(workspace: string): Promise<ChainHead>;
  getEvent(workspace: string, id: string): Promise<StoredEvent | undefined>;
  /** At most `limit` matching events, always returned newest first (see PageRequest). */
  page(workspace: string, filter: Filter, request: PageRequest): Promise<StoredEvent[]>;
  /** Number of matching events, but never more than `cap` (callers show "10,000+"). */
  count(workspace: string, filter: Filter, cap: number): Promise<number>;
  /** Workspace-wide facet counts for dropdowns; not filtered. */
  facets(workspace: string): Promise<Facets>;
  /**
   * Every matching event in order as stored text, one bounded batch per iteration (one await
   * per batch, not per event), fetched so that memory stays flat: the consumer's pace is the
   * producer's pace. `limit` stops early. `streamEvents` (stored-text.ts) parses them.
   */
  streamText(
    workspace: string,
    filter: Filter,
    options: { order: 'newest' | 'oldest'; limit?: number },
  ): AsyncIterable<readonly StoredText[]>;
  /** Events whose targets include (type, id), oldest first (by occurred_at, then seq). */
  entityEvents(workspace: string, type: string, id: string): Promise<StoredEvent[]>;
  /** Raw rows in `seq` order starting at `fromSeq`, for verification. */
  scanChain(workspace: string, fromSeq: number): AsyncIterable<ChainRow>;
  /** How this engine derives its derived rows from a hashed event (src/core/derived.ts). */
  readonly derived: DerivedModel;
  /**
   * The end of a verification walk from seq 1, in one consistent snapshot: the rows appended
   * after `walked.head`, the recorded head, and the workspace-wide derived rows to compare with
   * the walk's tallies.
   */
  verifyTail(
    workspace: string,
    walked: { head: ChainHead; actorKeys: readonly string[]; targetRows: number },
  ): Promise<VerifyTail>;
  /**
   * Rebuilds every derived row of the workspace (targets, actors, counters, id lookups, the
   * actor search index) from the hashed bodies, in one transaction, and puts back the
   * append-only triggers of the derived tables. Refuses, changing nothing, when the chain does
   * not verify (throws `integrity_broken`): rows are rebuilt only from an intact log. The
   * events rows themselves are never rewritten, except SQLite's actor_key pointer into the
   * rebuilt actors rows. Throws `workspace_not_found` for an unknown workspace.
   */
  reindex(workspace: string): Promise<ReindexResult>;
  /**
   * Appends events already sealed elsewhere (`trailkeep copy` between engines), keeping their
   * seq, received_at and hashes. They must continue this store's chain exactly: the first has
   * seq = head.seq + 1 and prev_hash = head.hash, and each links to the one before; otherwise
   * it throws and stores nothing. Not for ingest: use `append`.
   */
  importEvents(workspace: string, events: readonly StoredEvent[]): Promise<void>;

  // Retention and legal holds (docs/integrity.md, "Retention and legal hold")
  retention(workspace: string): Promise<RetentionPolicy | undefined>;
  /** Sets (or, with null, removes) the policy; returns the one it replaced. */
  setRetention(
    workspace: string,
    policy: RetentionPolicy | null,
  ): Promise<RetentionPolicy | undefined>;
  createHold(hold: NewLegalHold): Promise<LegalHold>;
  /** Closes an open hold; undefined, changing nothing, when there is no such open hold. */
  releaseHold(
    workspace: string,
    id: string,
    release: { at: string; by: string | null; reason: string },
  ): Promise<LegalHold | undefined>;
  /** Every hold of the workspace, open and released, newest first. */
  listHolds(workspace: string): Promise<LegalHold[]>;
  /**
   * The one way event bodies leave the log. In one transaction: the events received before
   * `cutoff` (a prefix in seq order, never the newest event) and covered by no open hold lose
   * their body and derived rows; a tombstone keeps seq, prev_hash and hash; the run is
   * recorded; the tree is untouched. Throws `retention_not_set` without a policy, or when the
   * stored policy is not `policy_days`.
   */
  prune(workspace: string, request: PruneRequest): Promise<PruneResult>;
  /** The recorded pruning runs, oldest first. */
  pruneRuns(workspace: string): Promise<PruneRun[]>;

  // Service secrets (cursor HMAC key, checkpoint signing key): set once, then only read.
  /** Stores `value` under `name` unless present; returns whichever value is stored. */
  ensureSecret(name: string, value: string): Promise<string>;

  // People
  createUser(user: Omit<UserRecord, 'created_at'>): Promise<UserRecord>;
  getUserByEmail(email: string): Promise<UserRecord | undefined>;
  getUserById(id: string): Promise<UserRecord | undefined>;
  listUsers(): Promise<UserRecord[]>;
  setPassword(userId: string, passwordHash: string): Promise<void>;
  setMembership(workspace: string, userId: string, role: Role): Promise<void>;
  getMembership(workspace: string, userId: string): Promise<Membership | undefined>;
  listMembers(workspace: string): Promise<Membership[]>;
  listMembershipsOfUser(userId: string): Promise<Membership[]>;

  // Invitations
  /**
   * Stores an open invitation. Any other invitation still open for the same workspace and email
   * is revoked in the same transaction: the newest link is the only one that works.
   */
  createInvitation(invitation: NewInvitation): Promise<void>;
  getInvitation(id: string): Promise<InvitationRecord | undefined>;
  getInvitationByTokenHash(tokenHash: string): Promise<InvitationRecord | undefined>;
  /** A workspace's open invitations (expired ones too), newest first. */
  listInvitations(workspace: string): Promise<InvitationRecord[]>;
  /** The open invitations (expired ones too) for an email, in every workspace, newest first. */
  listInvitationsForEmail(email: string): Promise<InvitationRecord[]>;
  /**
   * In one transaction: closes the invitation as accepted by `userId` and makes them a member
   * with its role (a person who is a member already keeps their role). Undefined, changing
   * nothing, when the invitation is not open or expired at `at`; so of two concurrent
   * acceptances exactly one succeeds.
   */
  acceptInvitation(id: string, userId: string, at: string): Promise<Membership | undefined>;
  /** Closes an open invitation; false when it was not open. */
  closeInvitation(id: string, status: 'declined' | 'revoked', at: string): Promise<boolean>;

  // API keys
  createApiKey(key: Omit<ApiKeyRecord, 'revoked_at' | 'last_used_at'>): Promise<void>;
  getApiKeyByPrefix(prefix: string): Promise<ApiKeyRecord | undefined>;
  listApiKeys(workspace: string): Promise<ApiKeyRecord[]>;
  /** Returns false when no such live key exists in that workspace. */
  revokeApiKey(workspace: string, id: string, at: string): Promise<boolean>;
  /** Records when a key was last used (callers throttle this; it is not per request). */
  touchApiKey(id: string, at: string): Promise<void>;

  // Sessions
  createSession(session: SessionRecord): Promise<void>;
  getSession(idHash: string): Promise<SessionRecord | undefined>;
  deleteSession(idHash: string): Promise<void>;
}
