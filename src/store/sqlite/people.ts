/** Workspaces, users, memberships, API keys, sessions and service secrets. */
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
import type { SqliteContext } from './context.js';
import { sqliteErrorCode } from './driver.js';

function isUniqueViolation(error: unknown): boolean {
  const code = sqliteErrorCode(error);
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

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

export function createWorkspace(
  context: SqliteContext,
  ws: Omit<Workspace, 'created_at'> & { created_at?: string },
): Workspace {
  const workspace: Workspace = {
    id: ws.id,
    name: ws.name,
    created_at: ws.created_at ?? context.now(),
    settings: ws.settings,
  };
  try {
    context
      .statement('INSERT INTO workspaces (id, name, created_at, settings) VALUES (?, ?, ?, ?)')
      .run(workspace.id, workspace.name, workspace.created_at, JSON.stringify(workspace.settings));
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw new TrailkeepError('already_exists', `workspace "${ws.id}" already exists`);
    }
    throw error;
  }
  return workspace;
}

const WORKSPACE_COLUMNS = 'id, name, created_at, settings';

export function getWorkspace(context: SqliteContext, id: string): Workspace | undefined {
  const row = context
    .statement(`SELECT ${WORKSPACE_COLUMNS} FROM workspaces WHERE id = ?`)
    .get(id) as WorkspaceRow | undefined;
  return row === undefined ? undefined : toWorkspace(row);
}

export function listWorkspaces(context: SqliteContext): Workspace[] {
  const rows = context
    .statement(`SELECT ${WORKSPACE_COLUMNS} FROM workspaces ORDER BY id`)
    .all() as WorkspaceRow[];
  return rows.map(toWorkspace);
}

export function updateWorkspaceSettings(
  context: SqliteContext,
  id: string,
  settings: JsonObject,
): void {
  const { changes } = context
    .statement('UPDATE workspaces SET settings = ? WHERE id = ?')
    .run(JSON.stringify(settings), id);
  if (changes === 0) {
    throw new TrailkeepError('workspace_not_found', `workspace "${id}" does not exist`);
  }
}

export function ensureSecret(context: SqliteContext, name: string, value: string): string {
  context
    .statement('INSERT INTO secrets (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING')
    .run(name, value);
  const row = context.statement('SELECT value FROM secrets WHERE name = ?').get(name) as {
    value: string;
  };
  return row.value;
}

// People

const USER_COLUMNS = 'id, email, name, password_hash, created_at';

export function createUser(
  context: SqliteContext,
  user: Omit<UserRecord, 'created_at'>,
): UserRecord {
  const record: UserRecord = { ...user, created_at: context.now() };
  try {
    context
      .statement(`INSERT INTO users (${USER_COLUMNS}) VALUES (?, ?, ?, ?, ?)`)
      .run(record.id, record.email, record.name, record.password_hash, record.created_at);
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

export function getUserByEmail(context: SqliteContext, email: string): UserRecord | undefined {
  return context.statement(`SELECT ${USER_COLUMNS} FROM users WHERE email = ?`).get(email) as
    UserRecord | undefined;
}

export function getUserById(context: SqliteContext, id: string): UserRecord | undefined {
  return context.statement(`SELECT ${USER_COLUMNS} FROM users WHERE id = ?`).get(id) as
    UserRecord | undefined;
}

export function listUsers(context: SqliteContext): UserRecord[] {
  return context
    .statement(`SELECT ${USER_COLUMNS} FROM users ORDER BY email`)
    .all() as UserRecord[];
}

export function setPassword(context: SqliteContext, userId: string, passwordHash: string): void {
  const { changes } = context
    .statement('UPDATE users SET password_hash = ? WHERE id = ?')
    .run(passwordHash, userId);
  if (changes === 0) throw new TrailkeepError('not_found', `user "${userId}" does not exist`);
}

const MEMBERSHIP_SELECT = `SELECT w.id AS workspace, m.user_id, u.email, u.name, m.role, m.created_at
  FROM memberships m JOIN workspaces w ON w.wsk = m.ws JOIN users u ON u.id = m.user_id`;

export function setMembership(
  context: SqliteContext,
  workspace: string,
  userId: string,
  role: Role,
): void {
  const ws = context.requireWorkspaceKey(workspace);
  if (getUserById(context, userId) === undefined) {
    throw new TrailkeepError('not_found', `user "${userId}" does not exist`);
  }
  context
    .statement(
      `INSERT INTO memberships (ws, user_id, role, created_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (ws, user_id) DO UPDATE SET role = excluded.role`,
    )
    .run(ws, userId, role, context.now());
}

export function getMembership(
  context: SqliteContext,
  workspace: string,
  userId: string,
): Membership | undefined {
  const ws = context.workspaceKey(workspace);
  if (ws === undefined) return undefined;
  return context
    .statement(`${MEMBERSHIP_SELECT} WHERE m.ws = ? AND m.user_id = ?`)
    .get(ws, userId) as Membership | undefined;
}

export function listMembers(context: SqliteContext, workspace: string): Membership[] {
  const ws = context.workspaceKey(workspace);
  if (ws === undefined) return [];
  return context
    .statement(`${MEMBERSHIP_SELECT} WHERE m.ws = ? ORDER BY u.email`)
    .all(ws) as Membership[];
}

export function listMembershipsOfUser(context: SqliteContext, userId: string): Membership[] {
  return context
    .statement(`${MEMBERSHIP_SELECT} WHERE m.user_id = ? ORDER BY w.id`)
    .all(userId) as Membership[];
}

// API keys

const KEY_SELECT = `SELECT k.id, w.id AS workspace, k.name, k.scope, k.prefix, k.hash,
  k.created_at, k.created_by, k.revoked_at, k.last_used_at
  FROM api_keys k JOIN workspaces w ON w.wsk = k.ws`;

export function createApiKey(
  context: SqliteContext,
  key: Omit<ApiKeyRecord, 'revoked_at' | 'last_used_at'>,
): void {
  const ws = context.requireWorkspaceKey(key.workspace);
  try {
    context
      .statement(
        `INSERT INTO api_keys (id, ws, name, scope, prefix, hash, created_at, created_by)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(key.id, ws, key.name, key.scope, key.prefix, key.hash, key.created_at, key.created_by);
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw new TrailkeepError('already_exists', `an API key with this id or prefix exists`);
    }
    throw error;
  }
}

export function getApiKeyByPrefix(
  context: SqliteContext,
  prefix: string,
): ApiKeyRecord | undefined {
  return context.statement(`${KEY_SELECT} WHERE k.prefix = ?`).get(prefix) as
    ApiKeyRecord | undefined;
}

export function listApiKeys(context: SqliteContext, workspace: string): ApiKeyRecord[] {
  const ws = context.workspaceKey(workspace);
  if (ws === undefined) return [];
  return context
    .statement(`${KEY_SELECT} WHERE k.ws = ? ORDER BY k.created_at, k.id`)
    .all(ws) as ApiKeyRecord[];
}

export function revokeApiKey(
  context: SqliteContext,
  workspace: string,
  id: string,
  at: string,
): boolean {
  const ws = context.workspaceKey(workspace);
  if (ws === undefined) return false;
  const { changes } = context
    .statement('UPDATE api_keys SET revoked_at = ? WHERE ws = ? AND id = ? AND revoked_at IS NULL')
    .run(at, ws, id);
  return changes > 0;
}

export function touchApiKey(context: SqliteContext, id: string, at: string): void {
  context.statement('UPDATE api_keys SET last_used_at = ? WHERE id = ?').run(at, id);
}

// Sessions

export function createSession(context: SqliteContext, session: SessionRecord): void {
  context
    .statement(
      `INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, expires_at)
       VALUES (?, ?, ?, ?, ?)`,
    )
    .run(
      session.id_hash,
      session.user_id,
      session.csrf_token,
      session.created_at,
      session.expires_at,
    );
}

export function getSession(context: SqliteContext, idHash: string): SessionRecord | undefined {
  return context
    .statement(
      'SELECT id_hash, user_id, csrf_token, created_at, expires_at FROM sessions WHERE id_hash = ?',
    )
    .get(idHash) as SessionRecord | undefined;
}

export function deleteSession(context: SqliteContext, idHash: string): void {
  context.statement('DELETE FROM sessions WHERE id_hash = ?').run(idHash);
}
