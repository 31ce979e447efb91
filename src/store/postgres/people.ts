/** Workspaces, users, memberships, API keys, sessions and service secrets. */
import { EMPTY_HEAD } from '../../core/event.js';
import { TrailkeepError } from '../../core/errors.js';
import type { JsonObject } from '../../core/json.js';
import type {
  ApiKeyRecord,
  Membership,
  Role,
  SessionRecord,
  UserRecord,
  Workspace,
} from '../store.js';
import { inTransaction, sqlState, type Pool, type Queryable } from './driver.js';

const isUniqueViolation = (error: unknown): boolean => sqlState(error) === '23505';
const isForeignKeyViolation = (error: unknown): boolean => sqlState(error) === '23503';

interface WorkspaceRow {
  id: string;
  name: string;
  created_at: string;
  settings: string;
}

function toWorkspace(row: WorkspaceRow): Workspace {
  return {
    id: row.id,
    name: row.name,
    created_at: row.created_at,
    settings: JSON.parse(row.settings) as JsonObject,
  };
}

/** Creates the workspace and its empty chain head in one transaction. */
export async function createWorkspace(
  pool: Pool,
  ws: Omit<Workspace, 'created_at'> & { created_at?: string },
  now: () => string,
): Promise<Workspace> {
  const workspace: Workspace = {
    id: ws.id,
    name: ws.name,
    created_at: ws.created_at ?? now(),
    settings: ws.settings,
  };
  try {
    await inTransaction(pool, async (tx) => {
      await tx.query(
        'INSERT INTO workspaces (id, name, created_at, settings) VALUES ($1, $2, $3, $4)',
        [workspace.id, workspace.name, workspace.created_at, JSON.stringify(workspace.settings)],
      );
      await tx.query('INSERT INTO workspace_heads (workspace, seq, hash) VALUES ($1, $2, $3)', [
        workspace.id,
        EMPTY_HEAD.seq,
        EMPTY_HEAD.hash,
      ]);
    });
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw new TrailkeepError('already_exists', `workspace "${ws.id}" already exists`);
    }
    throw error;
  }
  return workspace;
}

const WORKSPACE_COLUMNS = 'id, name, created_at, settings';

export async function getWorkspace(db: Queryable, id: string): Promise<Workspace | undefined> {
  const result = await db.query<WorkspaceRow>(
    `SELECT ${WORKSPACE_COLUMNS} FROM workspaces WHERE id = $1`,
    [id],
  );
  const row = result.rows[0];
  return row === undefined ? undefined : toWorkspace(row);
}

export async function listWorkspaces(db: Queryable): Promise<Workspace[]> {
  const result = await db.query<WorkspaceRow>(
    `SELECT ${WORKSPACE_COLUMNS} FROM workspaces ORDER BY id COLLATE "C"`,
  );
  return result.rows.map(toWorkspace);
}

export async function updateWorkspaceSettings(
  db: Queryable,
  id: string,
  settings: JsonObject,
): Promise<void> {
  const result = await db.query('UPDATE workspaces SET settings = $1 WHERE id = $2', [
    JSON.stringify(settings),
    id,
  ]);
  if (result.rowCount === 0) {
    throw new TrailkeepError('workspace_not_found', `workspace "${id}" does not exist`);
  }
}

export async function requireWorkspace(db: Queryable, id: string): Promise<void> {
  const result = await db.query('SELECT 1 FROM workspaces WHERE id = $1', [id]);
  if (result.rows.length === 0) {
    throw new TrailkeepError('workspace_not_found', `workspace "${id}" does not exist`);
  }
}

export async function ensureSecret(db: Queryable, name: string, value: string): Promise<string> {
  await db.query(
    'INSERT INTO secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING',
    [name, value],
  );
  const result = await db.query<{ value: string }>('SELECT value FROM secrets WHERE name = $1', [
    name,
  ]);
  const row = result.rows[0];
  if (row === undefined) throw new Error(`secret "${name}" vanished after it was stored`);
  return row.value;
}

// People

const USER_COLUMNS = 'id, email, name, password_hash, created_at';

export async function createUser(
  db: Queryable,
  user: Omit<UserRecord, 'created_at'>,
  now: () => string,
): Promise<UserRecord> {
  const record: UserRecord = { ...user, created_at: now() };
  try {
    await db.query(
      `INSERT INTO users (id, email, email_lc, name, password_hash, created_at)
       VALUES ($1, $2, $3, $4, $5, $6)`,
      [
        record.id,
        record.email,
        record.email.toLowerCase(),
        record.name,
        record.password_hash,
        record.created_at,
      ],
    );
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw new TrailkeepError(
        'already_exists',
        `a user with id "${user.id}" or email "${user.email}" already exists`,
      );
    }
    throw error;
  }
  return record;
}

export async function getUserByEmail(
  db: Queryable,
  email: string,
): Promise<UserRecord | undefined> {
  const result = await db.query<UserRecord>(
    `SELECT ${USER_COLUMNS} FROM users WHERE email_lc = $1`,
    [email.toLowerCase()],
  );
  return result.rows[0];
}

export async function getUserById(db: Queryable, id: string): Promise<UserRecord | undefined> {
  const result = await db.query<UserRecord>(`SELECT ${USER_COLUMNS} FROM users WHERE id = $1`, [
    id,
  ]);
  return result.rows[0];
}

export async function listUsers(db: Queryable): Promise<UserRecord[]> {
  const result = await db.query<UserRecord>(
    `SELECT ${USER_COLUMNS} FROM users ORDER BY email_lc COLLATE "C", id COLLATE "C"`,
  );
  return result.rows;
}

export async function setPassword(
  db: Queryable,
  userId: string,
  passwordHash: string,
): Promise<void> {
  const result = await db.query('UPDATE users SET password_hash = $1 WHERE id = $2', [
    passwordHash,
    userId,
  ]);
  if (result.rowCount === 0) {
    throw new TrailkeepError('not_found', `user "${userId}" does not exist`);
  }
}

const MEMBERSHIP_SELECT = `SELECT m.workspace, m.user_id, u.email, u.name, m.role, m.created_at
  FROM memberships m JOIN users u ON u.id = m.user_id`;

export async function setMembership(
  db: Queryable,
  workspace: string,
  userId: string,
  role: Role,
  now: () => string,
): Promise<void> {
  await requireWorkspace(db, workspace);
  if ((await getUserById(db, userId)) === undefined) {
    throw new TrailkeepError('not_found', `user "${userId}" does not exist`);
  }
  await db.query(
    `INSERT INTO memberships (workspace, user_id, role, created_at) VALUES ($1, $2, $3, $4)
     ON CONFLICT (workspace, user_id) DO UPDATE SET role = excluded.role`,
    [workspace, userId, role, now()],
  );
}

export async function getMembership(
  db: Queryable,
  workspace: string,
  userId: string,
): Promise<Membership | undefined> {
  const result = await db.query<Membership>(
    `${MEMBERSHIP_SELECT} WHERE m.workspace = $1 AND m.user_id = $2`,
    [workspace, userId],
  );
  return result.rows[0];
}

export async function listMembers(db: Queryable, workspace: string): Promise<Membership[]> {
  const result = await db.query<Membership>(
    `${MEMBERSHIP_SELECT} WHERE m.workspace = $1 ORDER BY u.email_lc COLLATE "C"`,
    [workspace],
  );
  return result.rows;
}

export async function listMembershipsOfUser(db: Queryable, userId: string): Promise<Membership[]> {
  const result = await db.query<Membership>(
    `${MEMBERSHIP_SELECT} WHERE m.user_id = $1 ORDER BY m.workspace COLLATE "C"`,
    [userId],
  );
  return result.rows;
}

// API keys

const KEY_COLUMNS = `id, workspace, name, scope, prefix, hash, created_at, created_by, revoked_at,
  last_used_at`;

export async function createApiKey(
  db: Queryable,
  key: Omit<ApiKeyRecord, 'revoked_at' | 'last_used_at'>,
): Promise<void> {
  await requireWorkspace(db, key.workspace);
  try {
    await db.query(
      `INSERT INTO api_keys (id, workspace, name, scope, prefix, hash, created_at, created_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [
        key.id,
        key.workspace,
        key.name,
        key.scope,
        key.prefix,
        key.hash,
        key.created_at,
        key.created_by,
      ],
    );
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw new TrailkeepError('already_exists', `an API key with this id or prefix exists`);
    }
    if (isForeignKeyViolation(error)) {
      throw new TrailkeepError(
        'workspace_not_found',
        `workspace "${key.workspace}" does not exist`,
      );
    }
    throw error;
  }
}

export async function getApiKeyByPrefix(
  db: Queryable,
  prefix: string,
): Promise<ApiKeyRecord | undefined> {
  const result = await db.query<ApiKeyRecord>(
    `SELECT ${KEY_COLUMNS} FROM api_keys WHERE prefix = $1`,
    [prefix],
  );
  return result.rows[0];
}

export async function listApiKeys(db: Queryable, workspace: string): Promise<ApiKeyRecord[]> {
  const result = await db.query<ApiKeyRecord>(
    `SELECT ${KEY_COLUMNS} FROM api_keys WHERE workspace = $1
      ORDER BY created_at COLLATE "C", id COLLATE "C"`,
    [workspace],
  );
  return result.rows;
}

export async function revokeApiKey(
  db: Queryable,
  workspace: string,
  id: string,
  at: string,
): Promise<boolean> {
  const result = await db.query(
    `UPDATE api_keys SET revoked_at = $1
      WHERE workspace = $2 AND id = $3 AND revoked_at IS NULL`,
    [at, workspace, id],
  );
  return (result.rowCount ?? 0) > 0;
}

export async function touchApiKey(db: Queryable, id: string, at: string): Promise<void> {
  await db.query('UPDATE api_keys SET last_used_at = $1 WHERE id = $2', [at, id]);
}

// Sessions

export async function createSession(db: Queryable, session: SessionRecord): Promise<void> {
  await db.query(
    `INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, expires_at)
     VALUES ($1, $2, $3, $4, $5)`,
    [session.id_hash, session.user_id, session.csrf_token, session.created_at, session.expires_at],
  );
}

export async function getSession(
  db: Queryable,
  idHash: string,
): Promise<SessionRecord | undefined> {
  const result = await db.query<SessionRecord>(
    'SELECT id_hash, user_id, csrf_token, created_at, expires_at FROM sessions WHERE id_hash = $1',
    [idHash],
  );
  return result.rows[0];
}

export async function deleteSession(db: Queryable, idHash: string): Promise<void> {
  await db.query('DELETE FROM sessions WHERE id_hash = $1', [idHash]);
}
