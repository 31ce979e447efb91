/**
 * Moves everything from one store to another (`trailkeep copy`, e.g. SQLite -> PostgreSQL):
 * workspaces, people, memberships, open invitations, API keys, the service secrets, and every
 * event with its original seq, received_at and hashes, so the chain verifies on the target and
 * checkpoints signed before the move still hold.
 *
 * Events travel through `scanChain` -> `importEvents`: the raw rows the hashes were computed
 * over, never re-sealed. Each source row is verified on the way, so a broken source chain is
 * refused rather than copied. A copy can be resumed: a workspace whose target chain is a prefix
 * of the source's (same hash at the target's head) continues after it; any other difference is
 * refused.
 */
import { randomBytes } from 'node:crypto';
import type { HashedBody } from '../core/chain.js';
import { TrailkeepError } from '../core/errors.js';
import type { ChainHead, StoredEvent } from '../core/event.js';
import { ChainVerifier } from '../core/verify.js';
import type { ChainRow, Store, Workspace } from './store.js';

export interface CopyOptions {
  /** Called after each batch with events copied so far and the number this run will copy. */
  onProgress?: (done: number, total?: number) => void;
  /** Events per importEvents call; default 500. */
  batchSize?: number;
}

export interface CopyResult {
  workspaces: number;
  /** Events copied by this run (not those a previous, interrupted run already copied). */
  events: number;
}

export async function copyStore(
  from: Store,
  to: Store,
  options: CopyOptions = {},
): Promise<CopyResult> {
  const workspaces = await from.listWorkspaces();
  // Plan first, so a diverged target is refused before anything is written to it.
  const plans: { workspace: string; start: ChainHead; end: ChainHead }[] = [];
  for (const { id } of workspaces) {
    plans.push({ workspace: id, ...(await resumePoint(from, to, id)) });
  }
  await copySecrets(from, to);
  for (const workspace of workspaces) await copyWorkspace(to, workspace);
  await copyUsers(from, to);
  for (const workspace of workspaces) {
    await copyMemberships(from, to, workspace.id);
    await copyApiKeys(from, to, workspace.id);
    await copyInvitations(from, to, workspace.id);
  }

  const total = plans.reduce((sum, plan) => sum + (plan.end.seq - plan.start.seq), 0);
  let done = 0;
  options.onProgress?.(done, total);
  for (const plan of plans) {
    const before = done;
    done += await copyEvents(from, to, plan.workspace, plan.start, {
      batchSize: options.batchSize ?? 500,
      onBatch: (copied) => options.onProgress?.(before + copied, total),
    });
    const reached = await to.head(plan.workspace);
    if (reached.seq < plan.end.seq) {
      throw new TrailkeepError(
        'integrity_broken',
        `workspace "${plan.workspace}": the source's head is seq ${plan.end.seq} but its rows ` +
          `end at seq ${reached.seq}; the source is missing its tail`,
      );
    }
  }
  return { workspaces: workspaces.length, events: done };
}

/**
 * The service secrets: the cursor key (so cursors issued before the move keep working) and, when
 * the source still holds one, the old in-database checkpoint key pair (so a target that has not
 * moved it out yet can still move it out; see src/service/signing-keys.ts). The signing key
 * itself lives in a file now and moves with the deployment, not with the database.
 * The interface can only read a secret through `ensureSecret`: probing the public key with ''
 * is harmless to an old release, which derives the public key from the private one.
 */
async function copySecrets(from: Store, to: Store): Promise<void> {
  const cursorKey = await from.ensureSecret('cursor_key', randomBytes(32).toString('base64'));
  const secrets: Array<readonly [string, string]> = [['cursor_key', cursorKey]];
  const publicPem = await from.ensureSecret('checkpoint_public_key', '');
  if (publicPem !== '') {
    const privatePem = await from.ensureSecret('checkpoint_private_key', '');
    secrets.push(['checkpoint_private_key', privatePem], ['checkpoint_public_key', publicPem]);
  }
  for (const [name, value] of secrets) {
    const stored = await to.ensureSecret(name, value);
    if (stored !== value) {
      throw new TrailkeepError(
        'already_exists',
        `the target already has a different ${name}: it was used by another Trailkeep before ` +
          'this copy; copy into a fresh database so that cursors and checkpoints stay valid',
      );
    }
  }
}

async function copyWorkspace(to: Store, workspace: Workspace): Promise<void> {
  const existing = await to.getWorkspace(workspace.id);
  if (existing === undefined) {
    await to.createWorkspace(workspace);
  } else {
    await to.updateWorkspaceSettings(workspace.id, workspace.settings);
  }
}

async function copyUsers(from: Store, to: Store): Promise<void> {
  for (const user of await from.listUsers()) {
    const existing = await to.getUserById(user.id);
    if (existing === undefined) {
      await to.createUser({
        id: user.id,
        email: user.email,
        name: user.name,
        password_hash: user.password_hash,
      });
    } else if (existing.password_hash !== user.password_hash) {
      await to.setPassword(user.id, user.password_hash);
    }
  }
}

async function copyMemberships(from: Store, to: Store, workspace: string): Promise<void> {
  for (const member of await from.listMembers(workspace)) {
    await to.setMembership(workspace, member.user_id, member.role);
  }
}

async function copyApiKeys(from: Store, to: Store, workspace: string): Promise<void> {
  for (const key of await from.listApiKeys(workspace)) {
    const existing = await to.getApiKeyByPrefix(key.prefix);
    if (existing === undefined) {
      await to.createApiKey({
        id: key.id,
        workspace: key.workspace,
        name: key.name,
        scope: key.scope,
        prefix: key.prefix,
        hash: key.hash,
        created_at: key.created_at,
        created_by: key.created_by,
      });
    } else if (existing.workspace !== key.workspace || existing.hash !== key.hash) {
      throw new TrailkeepError(
        'already_exists',
        `the target holds another API key with prefix ${key.prefix}; refusing to copy over it`,
      );
    }
    if (key.revoked_at !== null && existing?.revoked_at == null) {
      await to.revokeApiKey(workspace, key.id, key.revoked_at);
    }
  }
}

/** Open invitations (links already handed out keep working after the move). */
async function copyInvitations(from: Store, to: Store, workspace: string): Promise<void> {
  for (const invitation of [...(await from.listInvitations(workspace))].reverse()) {
    if ((await to.getInvitation(invitation.id)) !== undefined) continue;
    const { status: _status, closed_at: _closed, accepted_by: _by, ...open } = invitation;
    await to.createInvitation(open);
  }
}

/**
 * Where to continue a workspace's chain on the target: its head, provided the source has the
 * very same link at that seq (the hash covers everything before it, so the prefixes agree).
 */
async function resumePoint(
  from: Store,
  to: Store,
  workspace: string,
): Promise<{ start: ChainHead; end: ChainHead }> {
  const end = await from.head(workspace);
  const start = await to.head(workspace);
  if (start.seq === 0) return { start, end };
  const diverged = (detail: string) =>
    new TrailkeepError(
      'integrity_broken',
      `workspace "${workspace}" on the target ${detail}: the target is not a copy of this ` +
        'source, so copying into it is refused',
    );
  if (start.seq > end.seq) {
    throw diverged(`ends at seq ${start.seq}, beyond the source's last seq ${end.seq}`);
  }
  const row = await firstRow(from.scanChain(workspace, start.seq));
  if (row?.seq !== start.seq || row.hash !== start.hash) {
    throw diverged(`has hash ${start.hash} at seq ${start.seq} where the source has another`);
  }
  return { start, end };
}

async function firstRow(rows: AsyncIterable<ChainRow>): Promise<ChainRow | undefined> {
  for await (const row of rows) return row;
  return undefined;
}

/** Copies the chain after `start`, verifying each source row; returns how many were copied. */
async function copyEvents(
  from: Store,
  to: Store,
  workspace: string,
  start: ChainHead,
  options: { batchSize: number; onBatch: (copied: number) => void },
): Promise<number> {
  const verifier = new ChainVerifier(workspace, start);
  let batch: StoredEvent[] = [];
  let copied = 0;
  const flush = async () => {
    if (batch.length === 0) return;
    await to.importEvents(workspace, batch);
    copied += batch.length;
    batch = [];
    options.onBatch(copied);
  };
  for await (const row of from.scanChain(workspace, start.seq + 1)) {
    const problem = verifier.check(row);
    if (problem !== undefined) {
      throw new TrailkeepError(
        'integrity_broken',
        `workspace "${workspace}" does not verify on the source at seq ${problem.seq}: ` +
          `${problem.message}; nothing after seq ${row.seq - 1} was copied`,
      );
    }
    if (row.pruned !== undefined) {
      // A tombstone has no body for importEvents to re-check its hash against. Refused rather
      // than half-copied; what went before it is on the target and a re-run resumes there.
      await flush();
      throw new TrailkeepError(
        'bad_request',
        `workspace "${workspace}" has event bodies pruned by its retention policy from seq ` +
          `${row.seq}; copying a pruned workspace is not supported (events up to seq ` +
          `${row.seq - 1} were copied)`,
      );
    }
    batch.push({
      ...(JSON.parse(row.body) as HashedBody),
      prev_hash: row.prev_hash,
      hash: row.hash,
    });
    if (batch.length >= options.batchSize) await flush();
  }
  await flush();
  return copied;
}
