/**
 * The log's use cases on top of a Store: ingest (validate, enrich, diff, chain, append), pages
 * with signed cursors, facets, verify and checkpoints. The HTTP layer, the CLI and the demo all
 * go through here, so every path into the log applies the same rules.
 */
import { randomBytes } from 'node:crypto';
import { categoryCatalog, categoryLabel } from '../core/categories.js';
import { signCheckpoint, verifyCheckpointSignature } from '../core/checkpoint.js';
import type { SignedCheckpoint } from '../core/checkpoint.js';
import { checkCursor, cursorFilter, decodeCursor, encodeCursor } from '../core/cursor.js';
import { toDraft } from '../core/draft.js';
import { TrailkeepError, isTrailkeepError } from '../core/errors.js';
import { EMPTY_HEAD, type ChainHead, type EventInput, type StoredEvent } from '../core/event.js';
import type { Filter, Position } from '../core/query/filter.js';
import { combineFilters, filterFromParams, parseFilter, printFilter } from '../core/query/index.js';
import { ownValue } from '../core/safe-keys.js';
import { parseWorkspaceSettings, type WorkspaceSettings } from '../core/settings.js';
import { eventsFromBody, validateEvents } from '../core/validate.js';
import { ChainVerifier, checkTail, type PrunedRange, type VerifyProblem } from '../core/verify.js';
import { TreeVerifier } from '../core/tree-verify.js';
import { rememberBounded } from './bounded-map.js';
import { DEFAULT_LOG_ORIGIN_HOST, checkLogOriginHost, logOrigin } from '../core/log-origin.js';
import { signCheckpoint as signCheckpointNote, parseCheckpoint } from '../core/tlog/checkpoint.js';
import { eventLeafEntry } from '../core/tlog/merkle.js';
import { parseNote } from '../core/tlog/note.js';
import { formatTlogProof } from '../core/tlog/proof.js';
import { parseDecimal } from '../core/tlog/text.js';
import {
  TILE_WIDTH,
  encodeEntryBundle,
  parseTilePath,
  tilePath,
  tileWidth,
  type TilePath,
} from '../core/tlog/tiles.js';
import type {
  AppendedEvent,
  ChainRow,
  Facets,
  FacetValue,
  Store,
  Workspace,
} from '../store/store.js';
import type { NoteSigner } from '../core/tlog/note.js';
import { withCosignatures } from './cosignatures.js';
import { ephemeralKeys, type SigningKeys } from './signing-keys.js';

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 200;
/** Counts are exact up to this and shown as "10,000+" beyond, so they stay fast on huge logs. */
export const COUNT_CAP = 10_000;

export interface ServiceOptions {
  clock?: () => Date;
  /** Server-chosen event ids for events sent without one. */
  newId?: () => string;
  /**
   * The checkpoint signing keys, loaded from outside the database (see signing-keys.ts); without
   * them the service signs with a throwaway key, never with one from the database.
   */
  keys?: SigningKeys;
  /**
   * The host part of every workspace's checkpoint origin (`<host>/<workspace>`); default
   * "localhost". `trailkeep serve` passes --log-origin-host.
   */
  logOriginHost?: string;
}

/** A checkpoint note and the size of the tree it signs. */
export interface SignedTree {
  note: string;
  size: number;
}

/** A tile or entry bundle as served: immutable when full, replaced by a wider one when partial. */
export interface LogTile {
  data: Buffer;
  full: boolean;
}

export interface IngestResult {
  events: AppendedEvent[];
  /** How many of them were newly stored (the rest were idempotent re-sends). */
  created: number;
}

export interface QueryRequest {
  q?: string | undefined;
  params?: Readonly<Record<string, string | readonly string[] | undefined>> | undefined;
  cursor?: string | undefined;
  limit?: number | undefined;
  withCount?: boolean | undefined;
}

/** Why the store could not write, from the first failure until a write succeeds again. */
export interface WriteProblem {
  error: TrailkeepError;
  since: string;
}

/** Failures that mean the store cannot take writes now, whatever is sent (see /healthz). */
const CANNOT_WRITE: ReadonlySet<string> = new Set(['store_full', 'store_io_error']);

export interface BoundedCount {
  value: number;
  /** true: there are more than `value` (= COUNT_CAP); show "10,000+". */
  capped: boolean;
}

export interface PageResult {
  events: StoredEvent[];
  /** Older events (further down the newest-first list). */
  next_cursor: string | null;
  /** Newer events. */
  prev_cursor: string | null;
  /** The canonical text of the question, for display and for the viewer's search box. */
  query: string;
  count?: BoundedCount;
}

export interface VerifyReport {
  workspace: string;
  ok: boolean;
  checked: number;
  head: ChainHead;
  verified_at: string;
  problem?: VerifyProblem;
  checkpoint?: { seq: number; hash: string; ok: boolean };
  /** Ranges pruned by the retention policy, checked across through their kept hashes. */
  pruned?: PrunedRange[];
}

export interface FacetsView extends Omit<Facets, 'categories'> {
  categories: Array<FacetValue & { label: string }>;
  catalog: Array<{ id: string; label: string }>;
}

function defaultNewId(): string {
  // Time-ordered prefix so ids sort roughly by arrival; 80 random bits make collisions moot.
  return `evt_${Date.now().toString(36)}${randomBytes(10).toString('hex')}`;
}

export class LogService {
  private readonly clock: () => Date;
  private readonly newId: () => string;
  private readonly knownWorkspaces = new Set<string>();
  private writeFailure: WriteProblem | undefined;
  private readonly appendListeners = new Set<(workspace: string) => void>();
  private readonly originHost: string;
  /** Full hash tiles served lately, by workspace, level and index (see tile()). */
  private readonly fullTiles = new Map<string, Buffer>();
  /** The last note signed per workspace: re-signed only once the tree has grown. */
  private readonly notes = new Map<string, { size: number; note: string }>();
  /**
   * The largest tree size seen per workspace. The tree only grows, so a tile within it exists
   * for good: serving one costs the tile's read alone, not a size query too.
   */
  private readonly treeSizes = new Map<string, number>();

  private constructor(
    readonly store: Store,
    private readonly cursorKey: Uint8Array,
    private readonly signing: SigningKeys,
    options: ServiceOptions,
  ) {
    this.clock = options.clock ?? (() => new Date());
    this.newId = options.newId ?? defaultNewId;
    this.originHost = checkLogOriginHost(options.logOriginHost ?? DEFAULT_LOG_ORIGIN_HOST);
  }

  /**
   * Loads the cursor key from the store, creating it on first use. It only authenticates page
   * cursors the server hands out, so it may live in the database; signing keys may not.
   */
  static async open(store: Store, options: ServiceOptions = {}): Promise<LogService> {
    const cursorKey = Buffer.from(
      await store.ensureSecret('cursor_key', randomBytes(32).toString('base64')),
      'base64',
    );
    return new LogService(store, cursorKey, options.keys ?? ephemeralKeys(), options);
  }

  /** The service's clock (tests move it), for the use cases built on this service. */
  now(): Date {
    return this.clock();
  }

  get checkpointPublicKey(): string {
    return this.signing.publicPem;
  }

  /** The signer of the C2SP checkpoints (the deployment's note key). */
  get noteSigner(): NoteSigner {
    return this.signing.signer;
  }

  /**
   * Calls `listener` after each append that stored new events (background work such as
   * witnessing hangs here; it must return at once and never throw into ingest). Returns the
   * function that removes it.
   */
  onAppended(listener: (workspace: string) => void): () => void {
    this.appendListeners.add(listener);
    return () => this.appendListeners.delete(listener);
  }

  /** The current verifier key first, then the retired ones. */
  get verifierKeys(): readonly string[] {
    return [this.signing.verifierKey, ...this.signing.retired];
  }

  /**
   * Proves a workspace exists. Workspaces are never deleted, so each one is looked up once per
   * process (a page otherwise paid a database round trip for it).
   */
  private async requireWorkspace(id: string): Promise<void> {
    if (this.knownWorkspaces.has(id)) return;
    await this.workspace(id);
    this.knownWorkspaces.add(id);
  }

  async workspace(id: string): Promise<Workspace> {
    const ws = await this.store.getWorkspace(id);
    if (!ws) throw new TrailkeepError('workspace_not_found', `No workspace "${id}"`);
    return ws;
  }

  async settings(id: string): Promise<WorkspaceSettings> {
    return parseWorkspaceSettings((await this.workspace(id)).settings);
  }

  /**
   * Whether the workspace's log endpoints are public. false for a workspace that does not exist,
   * so an anonymous caller learns nothing more about it than about a private one.
   */
  async isLogPublic(id: string): Promise<boolean> {
    const ws = await this.store.getWorkspace(id);
    return ws !== undefined && parseWorkspaceSettings(ws.settings).log?.public === true;
  }

  /** Sets whether the log endpoints are public; returns the value before and after. */
  async setLogPublic(id: string, value: boolean): Promise<{ old: boolean; new: boolean }> {
    const stored = (await this.workspace(id)).settings;
    const old = parseWorkspaceSettings(stored).log?.public === true;
    const next = { ...stored, log: { public: value } };
    // The whole document is checked again, so a write can never store what a read refuses.
    parseWorkspaceSettings(next);
    if (old !== value) await this.store.updateWorkspaceSettings(id, next);
    return { old, new: value };
  }

  /** One event object or `{ events: [...] }`; all stored, or none and every issue named. */
  async ingest(workspace: string, body: unknown): Promise<IngestResult> {
    return this.ingestEvents(workspace, eventsFromBody(body));
  }

  async ingestEvents(
    workspace: string,
    items: readonly unknown[],
    options: { own?: boolean } = {},
  ): Promise<IngestResult> {
    const settings = await this.settings(workspace);
    const now = this.clock();
    const inputs = validateEvents(items, { now, own: options.own === true });
    const receivedAt = now.toISOString();
    const drafts = inputs.map((input) =>
      toDraft(input, {
        workspace,
        id: ownValue(input, 'id') ?? this.newId(),
        receivedAt,
        settings,
      }),
    );
    const events = await this.tracked(() => this.store.append(workspace, drafts));
    const created = events.filter((e) => e.created).length;
    if (created > 0) {
      for (const listener of this.appendListeners) {
        try {
          listener(workspace);
        } catch {
          // A listener's failure is its own: the events are stored, ingest succeeded.
        }
      }
    }
    return { events, created };
  }

  /** Why the store cannot write, while the last write failed for want of space or an I/O error. */
  writeProblem(): WriteProblem | undefined {
    return this.writeFailure;
  }

  /**
   * Tries a tiny durable write (see Store.probeWrite) and returns the write problem that is
   * left: undefined once the store writes again. What a health check runs after a failure, so
   * that a server taken out of rotation for it comes back without needing an append.
   */
  async probeWrite(): Promise<WriteProblem | undefined> {
    await this.tracked(() => this.store.probeWrite()).catch(() => undefined);
    return this.writeFailure;
  }

  /** Runs a write, remembering whether the store could not take it. */
  private async tracked<T>(write: () => Promise<T>): Promise<T> {
    try {
      const result = await write();
      this.writeFailure = undefined;
      return result;
    } catch (error) {
      if (isTrailkeepError(error) && CANNOT_WRITE.has(error.code)) {
        this.writeFailure = {
          error,
          since: this.writeFailure?.since ?? this.clock().toISOString(),
        };
      }
      throw error;
    }
  }

  /** Records one event on behalf of Trailkeep itself (its own audit trail). */
  async record(workspace: string, event: EventInput): Promise<StoredEvent> {
    const [appended] = (await this.ingestEvents(workspace, [event], { own: true })).events;
    if (!appended) throw new TrailkeepError('internal', 'the store returned no event');
    return appended.event;
  }

  async getEvent(workspace: string, id: string): Promise<StoredEvent> {
    await this.requireWorkspace(workspace);
    const event = await this.store.getEvent(workspace, id);
    if (!event) throw new TrailkeepError('event_not_found', `No event "${id}" in "${workspace}"`);
    return event;
  }

  /** Resolves a request's filter: from its cursor when it has one, else from q and params. */
  resolveFilter(workspace: string, request: QueryRequest): Filter {
    const fromText = parseFilter(request.q ?? '');
    return request.params ? combineFilters(fromText, filterFromParams(request.params)) : fromText;
  }

  async query(workspace: string, request: QueryRequest): Promise<PageResult> {
    await this.requireWorkspace(workspace);
    let filter: Filter;
    let position: Position | undefined;
    let direction: 'older' | 'newer' = 'older';
    let limit = request.limit;
    if (request.cursor) {
      const payload = decodeCursor(request.cursor, this.cursorKey);
      const asked =
        request.q || request.params ? this.resolveFilter(workspace, request) : undefined;
      const sentQuestion =
        asked !== undefined && (asked.clauses.length > 0 || asked.since || asked.until);
      checkCursor(payload, { workspace, ...(sentQuestion ? { query: asked } : {}) });
      filter = cursorFilter(payload);
      position = payload.position;
      direction = payload.direction;
      limit ??= payload.limit;
    } else {
      filter = this.resolveFilter(workspace, request);
    }
    const size = clampLimit(limit);
    const fetched = await this.store.page(workspace, filter, {
      limit: size + 1,
      direction,
      ...(position ? { position } : {}),
    });
    const query = printFilter(filter);
    // One extra row tells whether more exist beyond this page, in the direction of travel.
    let events: StoredEvent[];
    let hasOlder: boolean;
    let hasNewer: boolean;
    if (direction === 'older') {
      events = fetched.slice(0, size);
      hasOlder = fetched.length > size;
      hasNewer = position !== undefined;
    } else {
      events = fetched.length > size ? fetched.slice(fetched.length - size) : fetched;
      hasNewer = fetched.length > size;
      hasOlder = true;
    }
    const cursorAt = (at: Position, dir: 'older' | 'newer'): string =>
      encodeCursor(
        { v: 1, workspace, query, direction: dir, position: at, limit: size },
        this.cursorKey,
      );
    const first = events[0];
    const last = events[events.length - 1];
    const result: PageResult = {
      events,
      next_cursor:
        hasOlder && last
          ? cursorAt(positionOf(last), 'older')
          : hasOlder && position && events.length === 0
            ? cursorAt(position, 'older')
            : null,
      prev_cursor: hasNewer && first ? cursorAt(positionOf(first), 'newer') : null,
      query,
    };
    if (request.withCount) {
      // An empty first page already proves there is nothing to count.
      result.count =
        position === undefined && events.length === 0
          ? { value: 0, capped: false }
          : await this.count(workspace, filter);
    }
    return result;
  }

  async count(workspace: string, filter: Filter): Promise<BoundedCount> {
    const n = await this.store.count(workspace, filter, COUNT_CAP + 1);
    return { value: Math.min(n, COUNT_CAP), capped: n > COUNT_CAP };
  }

  async facets(workspace: string): Promise<FacetsView> {
    const settings = await this.settings(workspace);
    const catalog = categoryCatalog(settings);
    const facets = await this.store.facets(workspace);
    return {
      ...facets,
      categories: facets.categories.map((c) => ({ ...c, label: categoryLabel(c.value, catalog) })),
      catalog: catalog.map((c) => ({ id: c.id, label: c.label })),
    };
  }

  /**
   * Re-derives the whole chain from raw rows (see src/core/verify.ts) and, given a checkpoint,
   * proves the log still extends it.
   */
  async verify(
    workspace: string,
    options: { checkpoint?: unknown; onProgress?: (checked: number) => void } = {},
  ): Promise<VerifyReport> {
    await this.workspace(workspace);
    let checkpoint: SignedCheckpoint | undefined;
    if (options.checkpoint !== undefined) {
      const checked = verifyCheckpointSignature(options.checkpoint, this.signing.trustedPublicPems);
      if (!checked.ok) {
        throw new TrailkeepError('bad_request', `The checkpoint is not valid: ${checked.reason}`);
      }
      checkpoint = checked.checkpoint;
      if (checkpoint.workspace !== workspace) {
        throw new TrailkeepError(
          'bad_request',
          `The checkpoint is for workspace "${checkpoint.workspace}", not "${workspace}"`,
        );
      }
    }
    const verifier = new ChainVerifier(workspace, EMPTY_HEAD, this.store.derived);
    const tree = new TreeVerifier();
    let problem: VerifyProblem | undefined;
    let hashAtCheckpoint: string | undefined;
    const walk = (row: ChainRow): boolean => {
      problem = verifier.check(row);
      if (problem) return false;
      tree.add(row.hash);
      if (checkpoint && row.seq === checkpoint.seq) hashAtCheckpoint = row.hash;
      if (options.onProgress && verifier.checked % 10_000 === 0)
        options.onProgress(verifier.checked);
      return true;
    };
    for await (const row of this.store.scanChain(workspace, 1)) {
      if (!walk(row)) break;
    }
    let head: ChainHead;
    let derived: VerifyProblem | undefined;
    if (problem) {
      head = await this.store.head(workspace);
    } else {
      // Rows appended while the walk ran, the head and the derived rows, of one moment.
      const tail = await this.store.verifyTail(workspace, verifier.walked());
      tail.rows.every(walk);
      head = tail.head;
      problem ??= compareHeads(verifier.head, head);
      if (!problem) derived = verifier.compareTotals(tail.derived, tail.mismatches);
    }
    const report: VerifyReport = {
      workspace,
      ok: problem === undefined,
      checked: verifier.checked,
      head: problem ? verifier.head : head,
      verified_at: this.clock().toISOString(),
    };
    if (verifier.pruned.length > 0) report.pruned = [...verifier.pruned];
    if (checkpoint && !problem) {
      problem = checkTail(verifier.head, checkpoint, hashAtCheckpoint);
      report.checkpoint = { seq: checkpoint.seq, hash: checkpoint.hash, ok: problem === undefined };
    }
    // The chain and the checkpoint first: a cut tail also leaves counters that disagree.
    problem ??= derived;
    // Last: the tree is derived from the chain, so a problem in the chain (or its tail against a
    // checkpoint, or a derived row) is the more precise diagnosis of one tampering.
    if (!problem) {
      problem = await tree.compare({
        // Events appended since the walk grow the tree and the chain together; only leaves
        // beyond the chain's head are out of step.
        treeSize: async () => {
          const size = await this.store.treeSize(workspace);
          if (size <= tree.size) return size;
          return (await this.store.head(workspace)).seq >= size ? tree.size : size;
        },
        readTiles: (tiles) => this.store.readTiles(workspace, tiles),
      });
    }
    report.ok = problem === undefined;
    if (problem) report.problem = problem;
    return report;
  }

  /** Signs the current head, after proving the chain up to it is intact. */
  async checkpoint(workspace: string): Promise<SignedCheckpoint> {
    const report = await this.verify(workspace);
    if (!report.ok) {
      throw new TrailkeepError(
        'integrity_broken',
        `Refusing to sign a checkpoint: ${report.problem?.message ?? 'verify failed'}`,
      );
    }
    return signCheckpoint(
      {
        workspace,
        seq: report.head.seq,
        hash: report.head.hash,
        time: this.clock().toISOString(),
      },
      this.signing.privatePem,
      this.signing.publicPem,
    );
  }
  /** The origin line of the workspace's checkpoints. */
  logOrigin(workspace: string): string {
    return logOrigin(this.originHost, workspace);
  }

  /**
   * The workspace's current checkpoint as a C2SP signed note, signed by the current key. Every
   * checkpoint the log hands out (log/checkpoint, inclusion proofs, exports) comes from here, so
   * whatever is added to the note (witness cosignatures) reaches all of them: the cosignatures
   * the workspace's witnesses gave for exactly this checkpoint, each verified again here.
   */
  async checkpointNote(workspace: string): Promise<string> {
    const note = await this.logSignedNote(workspace);
    const witnesses = await this.store.listWitnesses(workspace);
    if (witnesses.length === 0) return note;
    return withCosignatures(note, witnesses, this.signing.signer.verifier).note;
  }

  /** The current checkpoint signed by the log alone: what is sent to witnesses to cosign. */
  async logSignedNote(workspace: string): Promise<string> {
    await this.requireWorkspace(workspace);
    const size = await this.treeSize(workspace);
    const cached = this.notes.get(workspace);
    if (cached !== undefined && cached.size >= size) {
      // A request that read the size before a concurrent one signed a larger tree gets the
      // larger: a log never goes back to an older checkpoint once it has published a newer.
      return cached.note;
    }
    const root = await this.store.treeRoot(workspace, size);
    const note = signCheckpointNote(
      { origin: this.logOrigin(workspace), size, root, extensions: [] },
      [this.signing.signer],
    );
    const latest = this.notes.get(workspace);
    if (latest === undefined || latest.size < size) this.notes.set(workspace, { size, note });
    return note;
  }

  /** The stored tree's size now, remembered for tile reads. */
  private async treeSize(workspace: string): Promise<number> {
    const size = await this.store.treeSize(workspace);
    if (size > (this.treeSizes.get(workspace) ?? 0)) this.treeSizes.set(workspace, size);
    return size;
  }

  /** The tree size a note from checkpointNote is for. */
  private static noteSize(note: string): number {
    return parseCheckpoint(parseNote(note).text).size;
  }

  /**
   * A hash tile or entry bundle by its tlog-tiles path (`tile/0/x001/234`, `tile/entries/000.p/7`),
   * read from the stored tree: nothing is rehashed. A partial tile narrower than the tree's is
   * served too (it is a prefix of it), so a client holding an older checkpoint can read its tiles.
   */
  async tile(workspace: string, path: string): Promise<LogTile> {
    let parsed: TilePath;
    try {
      parsed = parseTilePath(path);
    } catch (error) {
      throw new TrailkeepError('tile_path_invalid', (error as Error).message);
    }
    await this.requireWorkspace(workspace);
    const tile = parsed.kind === 'tile' ? parsed.tile : { level: 0, ...parsed };
    // A full tile, once it exists, never changes: the tree only grows.
    const cacheKey = JSON.stringify([workspace, tile.level, tile.index]);
    const cached = parsed.kind === 'tile' ? this.fullTiles.get(cacheKey) : undefined;
    if (cached !== undefined && tile.width === TILE_WIDTH) return { data: cached, full: true };
    let size = this.treeSizes.get(workspace) ?? 0;
    if (tile.width > tileWidth(tile.level, tile.index, size)) size = await this.treeSize(workspace);
    const available = tileWidth(tile.level, tile.index, size);
    if (tile.width > available) {
      throw new TrailkeepError(
        'tile_not_found',
        `${path} is not in the tree of ${size} events` +
          (available > 0 ? `: it has ${tilePath({ ...tile, width: available })} so far` : ''),
      );
    }
    const full = tile.width === TILE_WIDTH;
    if (parsed.kind === 'tile') {
      const [data] = await this.store.readTiles(workspace, [tile]);
      if (data === undefined) throw new TrailkeepError('internal', 'the store returned no tile');
      if (full) rememberBounded(this.fullTiles, cacheKey, data, FULL_TILE_CACHE);
      return { data, full };
    }
    const entries: Buffer[] = [];
    for await (const row of this.store.scanChain(workspace, tile.index * TILE_WIDTH + 1)) {
      entries.push(eventLeafEntry(row.hash));
      if (entries.length === tile.width) break;
    }
    if (entries.length !== tile.width) {
      throw new TrailkeepError(
        'integrity_broken',
        `the chain holds ${entries.length} of the ${tile.width} events of ${path}`,
      );
    }
    return { data: encodeEntryBundle(entries), full };
  }

  /**
   * The C2SP tlog-proof that event `id` is in the log: its inclusion proof in the tree of the
   * current checkpoint, followed by that checkpoint.
   */
  async inclusionProof(workspace: string, id: string): Promise<string> {
    const event = await this.getEvent(workspace, id);
    // The event is committed with its leaf, so the checkpoint read after it includes it.
    return this.inclusionProofAt(workspace, event.seq, await this.signedTree(workspace));
  }

  /** The current checkpoint note and the tree size it signs, for proofs relative to it. */
  async signedTree(workspace: string): Promise<SignedTree> {
    const note = await this.checkpointNote(workspace);
    return { note, size: LogService.noteSize(note) };
  }

  /** The tlog-proof of the event with `seq` relative to one checkpoint (seq ≤ its size). */
  async inclusionProofAt(workspace: string, seq: number, tree: SignedTree): Promise<string> {
    const proof = await this.store.inclusionProof(workspace, seq, tree.size);
    return formatTlogProof({ index: seq - 1, proof, checkpoint: tree.note });
  }

  /**
   * The consistency proof (RFC 9162 §2.1.4) that the tree of `from` events is a prefix of the
   * tree of `to` events. Sizes are the query's raw text: decimals without leading zeros only.
   */
  async consistencyProof(
    workspace: string,
    fromText: string | undefined,
    toText: string | undefined,
  ): Promise<Buffer[]> {
    const from = fromText === undefined ? undefined : parseDecimal(fromText);
    const to = toText === undefined ? undefined : parseDecimal(toText);
    const shown = (text: string | undefined): string =>
      text === undefined ? 'missing' : JSON.stringify(text.slice(0, 40));
    if (from === undefined || to === undefined) {
      throw new TrailkeepError(
        'tree_range_invalid',
        `from and to are tree sizes written as decimals without leading zeros; from is ` +
          `${shown(fromText)}, to is ${shown(toText)}`,
      );
    }
    if (from > to) {
      throw new TrailkeepError(
        'tree_range_invalid',
        `from (${from}) is larger than to (${to}): a tree is only a prefix of a larger one`,
      );
    }
    await this.requireWorkspace(workspace);
    const size = await this.treeSize(workspace);
    if (to > size) {
      throw new TrailkeepError(
        'tree_range_invalid',
        `to (${to}) is larger than the workspace's tree (${size} events)`,
      );
    }
    return this.store.consistencyProof(workspace, from, to);
  }
}

function clampLimit(limit: number | undefined): number {
  if (limit === undefined || !Number.isFinite(limit)) return DEFAULT_PAGE_SIZE;
  return Math.max(1, Math.min(MAX_PAGE_SIZE, Math.trunc(limit)));
}

function positionOf(event: StoredEvent): Position {
  return { occurred_at: event.occurred_at, seq: event.seq };
}

/** The store's recorded head must be exactly where the rows end: else rows were cut off. */
function compareHeads(walked: ChainHead, recorded: ChainHead): VerifyProblem | undefined {
  if (recorded.seq > walked.seq) {
    return {
      seq: walked.seq + 1,
      kind: 'missing',
      message: `seq ${walked.seq + 1}..${recorded.seq}: the log's head says ${recorded.seq} events but only ${walked.seq} are stored; the tail was removed`,
    };
  }
  if (recorded.seq < walked.seq) {
    return {
      seq: recorded.seq + 1,
      kind: 'inserted',
      message: `seq ${recorded.seq + 1}..${walked.seq}: rows exist past the log's recorded head ${recorded.seq}; they were inserted`,
    };
  }
  if (recorded.seq === walked.seq && recorded.hash !== walked.hash) {
    return {
      seq: walked.seq,
      kind: 'altered',
      message: `seq ${walked.seq}: the recorded head hash differs from the last event's hash`,
    };
  }
  return undefined;
}

/**
 * Full tiles kept in memory: the 4,096 read last, 8 KiB each, 32 MiB at most (every tile of
 * level 1 and up of a 250-million-event log would fit).
 */
const FULL_TILE_CACHE = 4096;
