/**
 * The PostgreSQL engine: many Trailkeep processes on one database. See docs/postgres.md for the
 * schema, the partitions, the concurrency design and operations.
 */
import type { ChainHead, EventDraft, StoredEvent } from '../../core/event.js';
import type { JsonObject } from '../../core/json.js';
import type { Filter } from '../../core/query/filter.js';
import type { DerivedModel } from '../../core/derived.js';
import type { NewInvitation, PageRequest, Store } from '../store.js';
import type { NewWitness, WitnessOutcome } from '../witnesses.js';
import * as chain from './chain.js';
import { postgresModel, reindexWorkspace, verifyTail } from './derived.js';
import {
  createPool,
  describeTarget,
  inTransaction,
  poolSettings,
  type Pool,
  type PoolOptions,
} from './driver.js';
import { migrateSchema } from './migrations.js';
import { PartitionKeeper } from './partitions.js';
import { createAppRole, type AppRoleOptions } from './roles.js';
import * as invitations from './invitations.js';
import * as witnesses from './witnesses.js';
import * as people from './people.js';
import * as read from './read.js';
import * as retention from './retention.js';
import { appendDrafts, importSealedEvents } from './write.js';
import { postgresTree } from './tree.js';
import { FrontierCache, type BenchOnlyTreeOptions } from '../tree.js';
import type { TileRef } from '../../core/tlog/tiles.js';

export { createAppRole, type AppRoleOptions } from './roles.js';

/**
 * Pool settings; each may also ride in the URL's query (`?pool_size=20&statement_timeout_ms=
 * 15000&connection_timeout_ms=5000`), and explicit options win.
 */
export type PostgresStoreOptions = PoolOptions & BenchOnlyTreeOptions;

/**
 * Connects, brings the schema up to date (safe when several processes start at once) and
 * returns the store. Throws `store_unavailable` naming host:port when the database cannot be
 * reached, and `schema_too_new` when it was migrated by a newer Trailkeep.
 */
export async function openPostgresStore(
  url: string,
  options: PostgresStoreOptions = {},
): Promise<Store> {
  const settings = poolSettings(url, options);
  const pool = await createPool(settings.url, settings.options);
  try {
    const store = new PostgresStore(
      pool,
      describeTarget(url),
      options.benchOnlySkipTreeWrites === true,
    );
    await store.migrate();
    return store;
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw error;
  }
}

/**
 * Creates or updates the least-privilege service role (see roles.ts) on the database at `url`,
 * connecting as its owner: what `trailkeep migrate --app-role NAME` runs after migrating.
 */
export async function createAppRoleAt(
  url: string,
  name: string,
  options: AppRoleOptions = {},
): Promise<void> {
  const settings = poolSettings(url);
  const pool = await createPool(settings.url, { ...settings.options, poolSize: 1 });
  try {
    await createAppRole(pool, name, options);
  } finally {
    await pool.end();
  }
}

class PostgresStore implements Store {
  readonly engine = 'postgres' as const;
  readonly derived: DerivedModel = postgresModel;
  private readonly partitions = new PartitionKeeper();
  private readonly now = (): string => new Date().toISOString();
  private closing: Promise<void> | undefined;
  private readonly frontiers: FrontierCache;
  private readonly tree: ReturnType<typeof postgresTree>;

  constructor(
    private readonly pool: Pool,
    readonly target: string,
    skipTreeWritesForBench: boolean,
  ) {
    this.frontiers = new FrontierCache(skipTreeWritesForBench);
    this.tree = postgresTree(pool);
  }

  migrate(): Promise<void> {
    return migrateSchema(this.pool, this.partitions);
  }

  close(): Promise<void> {
    this.closing ??= this.pool.end();
    return this.closing;
  }

  async ping(): Promise<void> {
    await this.pool.query('SELECT 1');
  }

  async probeWrite(): Promise<void> {
    // The INSERT meets every refusal an append meets before touching a row (a read-only
    // database, a standby); after the first probe it conflicts and writes nothing, but taking
    // a transaction id still makes the durable COMMIT write and flush WAL. The service role
    // may insert secrets but never delete them, so the one row stays.
    await inTransaction(
      this.pool,
      async (client) => {
        await client.query('SELECT txid_current()');
        await client.query(
          `INSERT INTO secrets (name, value) VALUES ('write_probe', 'see Store.probeWrite')
           ON CONFLICT (name) DO NOTHING`,
        );
      },
      { durable: true },
    );
  }

  createWorkspace(
    ...args: Parameters<Store['createWorkspace']>
  ): ReturnType<Store['createWorkspace']> {
    return people.createWorkspace(this.pool, args[0], this.now);
  }
  getWorkspace(id: string): ReturnType<Store['getWorkspace']> {
    return people.getWorkspace(this.pool, id);
  }
  listWorkspaces(): ReturnType<Store['listWorkspaces']> {
    return people.listWorkspaces(this.pool);
  }
  updateWorkspaceSettings(id: string, settings: JsonObject): Promise<void> {
    return people.updateWorkspaceSettings(this.pool, id, settings);
  }

  append(workspace: string, drafts: readonly EventDraft[]): ReturnType<Store['append']> {
    return appendDrafts(this.writeContext(), workspace, drafts);
  }
  head(workspace: string): Promise<ChainHead> {
    return read.head(this.pool, workspace);
  }
  getEvent(workspace: string, id: string): Promise<StoredEvent | undefined> {
    return read.getEvent(this.pool, workspace, id);
  }
  page(workspace: string, filter: Filter, request: PageRequest): Promise<StoredEvent[]> {
    return read.page(this.pool, workspace, filter, request);
  }
  count(workspace: string, filter: Filter, cap: number): Promise<number> {
    return read.count(this.pool, workspace, filter, cap);
  }
  facets(workspace: string): ReturnType<Store['facets']> {
    return read.facets(this.pool, workspace);
  }
  streamText(
    workspace: string,
    filter: Filter,
    options: { order: 'newest' | 'oldest'; limit?: number },
  ): ReturnType<Store['streamText']> {
    return read.streamText(this.pool, workspace, filter, options);
  }
  entityEvents(workspace: string, type: string, id: string): Promise<StoredEvent[]> {
    return read.entityEvents(this.pool, workspace, type, id);
  }
  scanChain(workspace: string, fromSeq: number): ReturnType<Store['scanChain']> {
    return chain.scanChain(this.pool, workspace, fromSeq);
  }
  verifyTail(...args: Parameters<Store['verifyTail']>): ReturnType<Store['verifyTail']> {
    return verifyTail(this.pool, ...args);
  }
  reindex(workspace: string): ReturnType<Store['reindex']> {
    return reindexWorkspace(this.pool, this.frontiers, workspace);
  }
  retention(workspace: string): ReturnType<Store['retention']> {
    return retention.retention(this.pool, workspace);
  }
  setRetention(...args: Parameters<Store['setRetention']>): ReturnType<Store['setRetention']> {
    return retention.setRetention(this.pool, ...args);
  }
  createHold(...args: Parameters<Store['createHold']>): ReturnType<Store['createHold']> {
    return retention.createHold(this.pool, ...args);
  }
  releaseHold(...args: Parameters<Store['releaseHold']>): ReturnType<Store['releaseHold']> {
    return retention.releaseHold(this.pool, ...args);
  }
  listHolds(workspace: string): ReturnType<Store['listHolds']> {
    return retention.listHolds(this.pool, workspace);
  }
  prune(...args: Parameters<Store['prune']>): ReturnType<Store['prune']> {
    return retention.pruneWorkspace(this.pool, ...args);
  }
  pruneRuns(workspace: string): ReturnType<Store['pruneRuns']> {
    return retention.pruneRuns(this.pool, workspace);
  }
  importEvents(workspace: string, events: readonly StoredEvent[]): Promise<void> {
    return importSealedEvents(this.writeContext(), workspace, events);
  }

  treeSize(workspace: string): Promise<number> {
    return this.tree.treeSize(workspace);
  }
  treeRoot(workspace: string, size: number): Promise<Buffer> {
    return this.tree.treeRoot(workspace, size);
  }
  inclusionProof(workspace: string, seq: number, size: number): Promise<Buffer[]> {
    return this.tree.inclusionProof(workspace, seq, size);
  }
  consistencyProof(workspace: string, from: number, to: number): Promise<Buffer[]> {
    return this.tree.consistencyProof(workspace, from, to);
  }
  readTiles(workspace: string, tiles: readonly TileRef[]): Promise<Buffer[]> {
    return this.tree.readTiles(workspace, tiles);
  }

  ensureSecret(name: string, value: string): Promise<string> {
    return people.ensureSecret(this.pool, name, value);
  }

  createUser(...args: Parameters<Store['createUser']>): ReturnType<Store['createUser']> {
    return people.createUser(this.pool, args[0], this.now);
  }
  getUserByEmail(email: string): ReturnType<Store['getUserByEmail']> {
    return people.getUserByEmail(this.pool, email);
  }
  getUserById(id: string): ReturnType<Store['getUserById']> {
    return people.getUserById(this.pool, id);
  }
  listUsers(): ReturnType<Store['listUsers']> {
    return people.listUsers(this.pool);
  }
  setPassword(userId: string, passwordHash: string): Promise<void> {
    return people.setPassword(this.pool, userId, passwordHash);
  }
  setMembership(...args: Parameters<Store['setMembership']>): Promise<void> {
    return people.setMembership(this.pool, ...args, this.now);
  }
  getMembership(workspace: string, userId: string): ReturnType<Store['getMembership']> {
    return people.getMembership(this.pool, workspace, userId);
  }
  listMembers(workspace: string): ReturnType<Store['listMembers']> {
    return people.listMembers(this.pool, workspace);
  }
  listMembershipsOfUser(userId: string): ReturnType<Store['listMembershipsOfUser']> {
    return people.listMembershipsOfUser(this.pool, userId);
  }

  listWitnesses(workspace: string): ReturnType<Store['listWitnesses']> {
    return witnesses.listWitnesses(this.pool, workspace);
  }
  addWitness(witness: NewWitness): Promise<boolean> {
    return witnesses.addWitness(this.pool, witness);
  }
  removeWitness(workspace: string, name: string): ReturnType<Store['removeWitness']> {
    return witnesses.removeWitness(this.pool, workspace, name);
  }
  recordWitnessOutcome(
    workspace: string,
    witness: { name: string; vkey: string },
    outcome: WitnessOutcome,
  ): Promise<void> {
    return witnesses.recordWitnessOutcome(this.pool, workspace, witness, outcome);
  }
  createInvitation(invitation: NewInvitation): Promise<void> {
    return invitations.createInvitation(this.pool, invitation);
  }
  getInvitation(id: string): ReturnType<Store['getInvitation']> {
    return invitations.getInvitation(this.pool, id);
  }
  getInvitationByTokenHash(tokenHash: string): ReturnType<Store['getInvitationByTokenHash']> {
    return invitations.getInvitationByTokenHash(this.pool, tokenHash);
  }
  listInvitations(workspace: string): ReturnType<Store['listInvitations']> {
    return invitations.listInvitations(this.pool, workspace);
  }
  listInvitationsForEmail(email: string): ReturnType<Store['listInvitationsForEmail']> {
    return invitations.listInvitationsForEmail(this.pool, email);
  }
  acceptInvitation(id: string, userId: string, at: string): ReturnType<Store['acceptInvitation']> {
    return invitations.acceptInvitation(this.pool, id, userId, at);
  }
  closeInvitation(id: string, status: 'declined' | 'revoked', at: string): Promise<boolean> {
    return invitations.closeInvitation(this.pool, id, status, at);
  }

  createApiKey(...args: Parameters<Store['createApiKey']>): Promise<void> {
    return people.createApiKey(this.pool, ...args);
  }
  getApiKeyByPrefix(prefix: string): ReturnType<Store['getApiKeyByPrefix']> {
    return people.getApiKeyByPrefix(this.pool, prefix);
  }
  listApiKeys(workspace: string): ReturnType<Store['listApiKeys']> {
    return people.listApiKeys(this.pool, workspace);
  }
  revokeApiKey(workspace: string, id: string, at: string): Promise<boolean> {
    return people.revokeApiKey(this.pool, workspace, id, at);
  }

  touchApiKey(id: string, at: string): Promise<void> {
    return people.touchApiKey(this.pool, id, at);
  }

  createSession(...args: Parameters<Store['createSession']>): Promise<void> {
    return people.createSession(this.pool, ...args);
  }
  getSession(idHash: string): ReturnType<Store['getSession']> {
    return people.getSession(this.pool, idHash);
  }
  deleteSession(idHash: string): Promise<void> {
    return people.deleteSession(this.pool, idHash);
  }

  private writeContext(): { pool: Pool; partitions: PartitionKeeper; frontiers: FrontierCache } {
    return { pool: this.pool, partitions: this.partitions, frontiers: this.frontiers };
  }
}
