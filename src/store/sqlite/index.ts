/**
 * The embedded SQLite engine: one file, WAL journal, synchronous=FULL so an acknowledged append
 * survives a process crash and a power loss. See docs/storage.md for the schema and why.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { TrailkeepError } from '../../core/errors.js';
import type { ChainHead, EventDraft, StoredEvent } from '../../core/event.js';
import { EMPTY_HEAD } from '../../core/event.js';
import type { JsonObject } from '../../core/json.js';
import type { Filter } from '../../core/query/filter.js';
import type { DerivedModel } from '../../core/derived.js';
import type { NewInvitation, PageRequest, Store } from '../store.js';
import type { NewWitness, WitnessOutcome } from '../witnesses.js';
import { ActorKeys, appendDrafts, importSealed, readHead } from './append.js';
import * as chain from './chain.js';
import { SORT_BUDGET } from './compile-filter.js';
import { SqliteContext } from './context.js';
import { reindexWorkspace, sqliteModel, verifyTail, type IndexCheckCache } from './derived.js';
import { openSqliteDatabase, translateSqliteError, type SqliteDatabase } from './driver.js';
import { migrateSchema, recordedVersion, refuseNewerSchema } from './migrate.js';
import { ACTOR_INDEX_VERSION, RETENTION_VERSION } from './schema.js';
import * as invitations from './invitations.js';
import * as witnesses from './witnesses.js';
import * as people from './people.js';
import * as read from './read.js';
import * as retention from './retention.js';
import { sqliteTree } from './tree.js';
import { FrontierCache, checkTiles, type BenchOnlyTreeOptions } from '../tree.js';
import type { TileRef } from '../../core/tlog/tiles.js';

export interface SqliteStoreOptions extends BenchOnlyTreeOptions {
  /** Open without writing anything (no migrations, no WAL switch). */
  readonly?: boolean;
  /** Page cache per connection, in MiB (default 64). */
  cacheSizeMb?: number;
  /**
   * Matching events up to which a multi-valued filter (glob, OR, actor search) reads its index
   * ranges and sorts them; above it the page is read in time order (default 2,000). Tests set
   * it to 0 and to Infinity to pin both plans to the same results.
   */
  sortBudget?: number;
}

const BUSY_TIMEOUT_MS = 5000;
/** The name of the secrets row that `probeWrite` writes and removes. */
const WRITE_PROBE = 'write_probe';
/** Refresh the planner's statistics after this many appended events (cheap, bounded). */
const OPTIMIZE_EVERY_EVENTS = 100_000;

function configure(db: SqliteDatabase, options: SqliteStoreOptions): void {
  if (options.readonly !== true) db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  db.pragma(`cache_size = ${-Math.round((options.cacheSizeMb ?? 64) * 1024)}`);
  db.pragma('temp_store = MEMORY');
  db.pragma('analysis_limit = 1000');
}

export async function openSqliteStore(
  path: string,
  options: SqliteStoreOptions = {},
): Promise<Store> {
  const readonly = options.readonly === true;
  if (!readonly && path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = await openSqliteDatabase(path, {
    readonly,
    fileMustExist: readonly,
    timeout: BUSY_TIMEOUT_MS,
  });
  try {
    configure(db, options);
    const now = (): string => new Date().toISOString();
    let actorIndex = true;
    let retentionTables = true;
    if (readonly) {
      const version = recordedVersion(db);
      refuseNewerSchema(version);
      actorIndex = version >= ACTOR_INDEX_VERSION;
      retentionTables = version >= RETENTION_VERSION;
    } else {
      migrateSchema(db, now);
      db.pragma('optimize = 0x10002');
    }
    const context = new SqliteContext(
      db,
      now,
      options.sortBudget ?? SORT_BUDGET,
      actorIndex,
      retentionTables,
    );
    return new SqliteStore(context, readonly, options.benchOnlySkipTreeWrites === true);
  } catch (error) {
    db.close();
    throw error;
  }
}

class SqliteStore implements Store {
  readonly engine = 'sqlite' as const;
  readonly derived: DerivedModel;
  private readonly caches: { actors: ActorKeys; frontiers: FrontierCache };
  private readonly searchIndexChecked: IndexCheckCache = {};
  private appendedSinceOptimize = 0;
  private closed = false;

  constructor(
    private readonly context: SqliteContext,
    private readonly readonly: boolean,
    skipTreeWritesForBench: boolean,
  ) {
    this.derived = sqliteModel(context);
    this.caches = {
      actors: new ActorKeys(),
      frontiers: new FrontierCache(skipTreeWritesForBench),
    };
  }

  migrate(): Promise<void> {
    if (!this.readonly) migrateSchema(this.context.db, this.context.now);
    return Promise.resolve();
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    if (!this.readonly) this.context.db.pragma('optimize');
    this.context.db.close();
    return Promise.resolve();
  }

  ping(): Promise<void> {
    return run(() => {
      this.context.statement('SELECT 1').get();
    });
  }

  probeWrite(): Promise<void> {
    return run(() =>
      this.context.write(() => {
        // A row written and removed in one transaction: its commit still appends a frame to
        // the WAL and syncs it, which is what fails on a full disk, and leaves nothing behind.
        this.context
          .statement('INSERT OR REPLACE INTO secrets (name, value) VALUES (?, ?)')
          .run(WRITE_PROBE, this.context.now());
        this.context.statement('DELETE FROM secrets WHERE name = ?').run(WRITE_PROBE);
      }),
    );
  }

  createWorkspace(
    ...args: Parameters<Store['createWorkspace']>
  ): ReturnType<Store['createWorkspace']> {
    return run(() => people.createWorkspace(this.context, ...args));
  }
  getWorkspace(id: string): ReturnType<Store['getWorkspace']> {
    return run(() => people.getWorkspace(this.context, id));
  }
  listWorkspaces(): ReturnType<Store['listWorkspaces']> {
    return run(() => people.listWorkspaces(this.context));
  }
  updateWorkspaceSettings(id: string, settings: JsonObject): Promise<void> {
    return run(() => people.updateWorkspaceSettings(this.context, id, settings));
  }

  append(workspace: string, drafts: readonly EventDraft[]): ReturnType<Store['append']> {
    return run(() => {
      const appended = appendDrafts(this.context, this.caches, workspace, drafts);
      this.afterAppend(drafts.length);
      return appended;
    });
  }
  head(workspace: string): Promise<ChainHead> {
    return run(() => {
      const ws = this.context.workspaceKey(workspace);
      return ws === undefined ? EMPTY_HEAD : readHead(this.context, ws);
    });
  }
  getEvent(workspace: string, id: string): Promise<StoredEvent | undefined> {
    return run(() => read.getEvent(this.context, workspace, id));
  }
  page(workspace: string, filter: Filter, request: PageRequest): Promise<StoredEvent[]> {
    return run(() => read.readPage(this.context, workspace, filter, request));
  }
  count(workspace: string, filter: Filter, cap: number): Promise<number> {
    return run(() => read.countMatching(this.context, workspace, filter, cap));
  }
  facets(workspace: string): ReturnType<Store['facets']> {
    return run(() => read.readFacets(this.context, workspace));
  }
  streamText(
    workspace: string,
    filter: Filter,
    options: { order: 'newest' | 'oldest'; limit?: number },
  ): ReturnType<Store['streamText']> {
    return translated(read.streamText(this.context, workspace, filter, options));
  }
  entityEvents(workspace: string, type: string, id: string): Promise<StoredEvent[]> {
    return run(() => read.entityEvents(this.context, workspace, type, id));
  }
  scanChain(workspace: string, fromSeq: number): ReturnType<Store['scanChain']> {
    return translated(chain.scanChain(this.context, workspace, fromSeq));
  }
  verifyTail(...args: Parameters<Store['verifyTail']>): ReturnType<Store['verifyTail']> {
    return run(() => verifyTail(this.context, ...args, this.searchIndexChecked));
  }
  reindex(workspace: string): ReturnType<Store['reindex']> {
    return run(() => {
      if (this.readonly) {
        throw new TrailkeepError(
          'bad_request',
          'the SQLite file is open read-only; reindex writes',
        );
      }
      return reindexWorkspace(this.context, this.caches, workspace);
    });
  }
  retention(workspace: string): ReturnType<Store['retention']> {
    return run(() => retention.retention(this.context, workspace));
  }
  setRetention(...args: Parameters<Store['setRetention']>): ReturnType<Store['setRetention']> {
    return run(() => retention.setRetention(this.context, ...args));
  }
  createHold(...args: Parameters<Store['createHold']>): ReturnType<Store['createHold']> {
    return run(() => retention.createHold(this.context, ...args));
  }
  releaseHold(...args: Parameters<Store['releaseHold']>): ReturnType<Store['releaseHold']> {
    return run(() => retention.releaseHold(this.context, ...args));
  }
  listHolds(workspace: string): ReturnType<Store['listHolds']> {
    return run(() => retention.listHolds(this.context, workspace));
  }
  prune(...args: Parameters<Store['prune']>): ReturnType<Store['prune']> {
    return run(() => retention.pruneWorkspace(this.context, this.caches, ...args));
  }
  pruneRuns(workspace: string): ReturnType<Store['pruneRuns']> {
    return run(() => retention.pruneRuns(this.context, workspace));
  }
  importEvents(workspace: string, events: readonly StoredEvent[]): Promise<void> {
    return run(() => {
      importSealed(this.context, this.caches, workspace, events);
      this.afterAppend(events.length);
    });
  }

  treeSize(workspace: string): Promise<number> {
    return run(() => {
      const ws = this.context.workspaceKey(workspace);
      return ws === undefined ? 0 : sqliteTree.size(this.context, ws);
    });
  }
  treeRoot(workspace: string, size: number): Promise<Buffer> {
    return this.readTree(workspace, (ws) => sqliteTree.root(this.context, ws, size));
  }
  inclusionProof(workspace: string, seq: number, size: number): Promise<Buffer[]> {
    return this.readTree(workspace, (ws) => sqliteTree.inclusion(this.context, ws, seq, size));
  }
  consistencyProof(workspace: string, from: number, to: number): Promise<Buffer[]> {
    return this.readTree(workspace, (ws) => sqliteTree.consistency(this.context, ws, from, to));
  }
  readTiles(workspace: string, tiles: readonly TileRef[]): Promise<Buffer[]> {
    return this.readTree(workspace, (ws) => {
      checkTiles(tiles, sqliteTree.size(this.context, ws));
      return sqliteTree.tiles(this.context, ws, tiles);
    });
  }
  /** Size and rows are read in one snapshot, so an append in between cannot split them. */
  private readTree<T>(workspace: string, read: (ws: number) => T): Promise<T> {
    return run(() => {
      const ws = this.context.requireWorkspaceKey(workspace);
      this.context.statement('BEGIN').run();
      try {
        return read(ws);
      } finally {
        this.context.statement('COMMIT').run();
      }
    });
  }

  ensureSecret(name: string, value: string): Promise<string> {
    return run(() => people.ensureSecret(this.context, name, value));
  }

  createUser(...args: Parameters<Store['createUser']>): ReturnType<Store['createUser']> {
    return run(() => people.createUser(this.context, ...args));
  }
  getUserByEmail(email: string): ReturnType<Store['getUserByEmail']> {
    return run(() => people.getUserByEmail(this.context, email));
  }
  getUserById(id: string): ReturnType<Store['getUserById']> {
    return run(() => people.getUserById(this.context, id));
  }
  listUsers(): ReturnType<Store['listUsers']> {
    return run(() => people.listUsers(this.context));
  }
  setPassword(userId: string, passwordHash: string): Promise<void> {
    return run(() => people.setPassword(this.context, userId, passwordHash));
  }
  setMembership(...args: Parameters<Store['setMembership']>): Promise<void> {
    return run(() => people.setMembership(this.context, ...args));
  }
  getMembership(workspace: string, userId: string): ReturnType<Store['getMembership']> {
    return run(() => people.getMembership(this.context, workspace, userId));
  }
  listMembers(workspace: string): ReturnType<Store['listMembers']> {
    return run(() => people.listMembers(this.context, workspace));
  }
  listMembershipsOfUser(userId: string): ReturnType<Store['listMembershipsOfUser']> {
    return run(() => people.listMembershipsOfUser(this.context, userId));
  }

  listWitnesses(workspace: string): ReturnType<Store['listWitnesses']> {
    return run(() => witnesses.listWitnesses(this.context, workspace));
  }
  addWitness(witness: NewWitness): Promise<boolean> {
    return run(() => witnesses.addWitness(this.context, witness));
  }
  removeWitness(workspace: string, name: string): ReturnType<Store['removeWitness']> {
    return run(() => witnesses.removeWitness(this.context, workspace, name));
  }
  recordWitnessOutcome(
    workspace: string,
    witness: { name: string; vkey: string },
    outcome: WitnessOutcome,
  ): Promise<void> {
    return run(() => witnesses.recordWitnessOutcome(this.context, workspace, witness, outcome));
  }
  createInvitation(invitation: NewInvitation): Promise<void> {
    return run(() => invitations.createInvitation(this.context, invitation));
  }
  getInvitation(id: string): ReturnType<Store['getInvitation']> {
    return run(() => invitations.getInvitation(this.context, id));
  }
  getInvitationByTokenHash(tokenHash: string): ReturnType<Store['getInvitationByTokenHash']> {
    return run(() => invitations.getInvitationByTokenHash(this.context, tokenHash));
  }
  listInvitations(workspace: string): ReturnType<Store['listInvitations']> {
    return run(() => invitations.listInvitations(this.context, workspace));
  }
  listInvitationsForEmail(email: string): ReturnType<Store['listInvitationsForEmail']> {
    return run(() => invitations.listInvitationsForEmail(this.context, email));
  }
  acceptInvitation(id: string, userId: string, at: string): ReturnType<Store['acceptInvitation']> {
    return run(() => invitations.acceptInvitation(this.context, id, userId, at));
  }
  closeInvitation(id: string, status: 'declined' | 'revoked', at: string): Promise<boolean> {
    return run(() => invitations.closeInvitation(this.context, id, status, at));
  }

  createApiKey(...args: Parameters<Store['createApiKey']>): Promise<void> {
    return run(() => people.createApiKey(this.context, ...args));
  }
  getApiKeyByPrefix(prefix: string): ReturnType<Store['getApiKeyByPrefix']> {
    return run(() => people.getApiKeyByPrefix(this.context, prefix));
  }
  listApiKeys(workspace: string): ReturnType<Store['listApiKeys']> {
    return run(() => people.listApiKeys(this.context, workspace));
  }
  revokeApiKey(workspace: string, id: string, at: string): Promise<boolean> {
    return run(() => people.revokeApiKey(this.context, workspace, id, at));
  }

  touchApiKey(id: string, at: string): Promise<void> {
    return run(() => people.touchApiKey(this.context, id, at));
  }

  createSession(...args: Parameters<Store['createSession']>): Promise<void> {
    return run(() => people.createSession(this.context, ...args));
  }
  getSession(idHash: string): ReturnType<Store['getSession']> {
    return run(() => people.getSession(this.context, idHash));
  }
  deleteSession(idHash: string): Promise<void> {
    return run(() => people.deleteSession(this.context, idHash));
  }

  /** Keeps the planner's statistics current as a log grows from empty to millions of rows. */
  private afterAppend(count: number): void {
    this.appendedSinceOptimize += count;
    if (this.appendedSinceOptimize >= OPTIMIZE_EVERY_EVENTS) {
      this.appendedSinceOptimize = 0;
      try {
        this.context.db.pragma('optimize');
      } catch {
        // The append is committed: failing it now (say on a full disk) would report stored
        // events as refused. Fresh statistics only speed plans up; the next round tries again.
      }
    }
  }
}

/**
 * The driver is synchronous; errors still reach callers as rejected promises, never throws,
 * and the store's own conditions (full disk, I/O error) as registry errors.
 */
function run<T>(work: () => T): Promise<T> {
  try {
    return Promise.resolve(work());
  } catch (error) {
    return Promise.reject(asError(translateSqliteError(error)));
  }
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/** A stream whose failures are translated like those of `run`. */
async function* translated<T>(stream: AsyncGenerator<T>): AsyncGenerator<T> {
  try {
    yield* stream;
  } catch (error) {
    throw asError(translateSqliteError(error));
  }
}
