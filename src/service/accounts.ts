/**
 * People, roles, sessions and API keys on top of a Store. The HTTP layer and the CLI both go
 * through here so that the same rules hold everywhere: keys are shown once and kept as hashes,
 * passwords as scrypt hashes, sessions as hashes of random tokens; a workspace always keeps an
 * owner; only owners make owners.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { TrailkeepError } from '../core/errors.js';
import type {
  ApiKeyRecord,
  InvitationRecord,
  KeyScope,
  Membership,
  Role,
  SessionRecord,
  Store,
  UserRecord,
  Workspace,
} from '../store/store.js';
import { apiKeyMatches, generateApiKey, parseApiKey } from './api-keys.js';
import {
  checkPasswordPolicy,
  decoyHash,
  DEFAULT_SCRYPT,
  generatePassword,
  hashPassword,
  verifyPassword,
  type ScryptParams,
} from './passwords.js';
import { randomBase62, randomToken } from './random.js';
import { LoginThrottle, type LoginThrottleOptions } from './throttle.js';

export const ROLES = ['owner', 'admin', 'auditor', 'member'] as const satisfies readonly Role[];
/** Roles that may read the audit log. */
export const LOG_READER_ROLES: readonly Role[] = ['owner', 'admin', 'auditor'];
/** Roles that may manage keys and members. */
export const MANAGER_ROLES: readonly Role[] = ['owner', 'admin'];

export const DEFAULT_SESSION_TTL_MS = 12 * 60 * 60 * 1000;
/** How long an invitation link works. */
export const INVITATION_TTL_MS = 7 * 24 * 60 * 60 * 1000;
const WORKSPACE_ID = /^[a-z0-9][a-z0-9_-]{0,62}$/;
const EMAIL = /^[^\s@]{1,200}@[^\s@]{1,200}$/;
const MAX_NAME_LENGTH = 200;

export interface AccountServiceOptions {
  clock?: () => Date;
  /** scrypt cost; tests lower it to keep sign-ins fast. */
  scrypt?: ScryptParams;
  sessionTtlMs?: number;
  loginThrottle?: Partial<LoginThrottleOptions>;
}

export interface CreatedKey {
  /** The whole secret: shown once, never stored. */
  key: string;
  record: ApiKeyRecord;
}

export interface InitWorkspaceRequest {
  workspace: string;
  name?: string | undefined;
  ownerEmail: string;
  ownerName?: string | undefined;
  /** Generated when absent. */
  ownerPassword?: string | undefined;
  /** Which keys to create, e.g. ['ingest'] on a first start, all three for `init`. */
  keyScopes: readonly KeyScope[];
}

export interface InitWorkspaceResult {
  workspace: Workspace;
  owner: {
    id: string;
    email: string;
    /** null when the owner already had an account (their password is not known or changed). */
    password: string | null;
  };
  keys: Partial<Record<KeyScope, string>>;
}

export interface AddMemberRequest {
  email: string;
  role: Role;
  name?: string | undefined;
  /** For a new account; generated when absent. Ignored for an existing account. */
  password?: string | undefined;
}

export interface AddedMember {
  membership: Membership;
  /** Set only when a new account was created with a generated password: show it once. */
  generatedPassword?: string;
  newAccount: boolean;
}

export interface InviteRequest {
  email: string;
  role: Role;
  /** The display name for an account created by accepting, when the person gives none. */
  name?: string | undefined;
  /** The user or key id inviting. */
  invitedBy: string | null;
}

export interface CreatedInvitation {
  invitation: InvitationRecord;
  /** The secret of the invitation link: shown once to the inviter, stored only as a hash. */
  token: string;
}

export interface AcceptedInvitation {
  invitation: InvitationRecord;
  membership: Membership;
  user: UserRecord;
}

/** Who asks for a role change: decides what they may grant. The CLI acts as an owner. */
export type ActingRole = 'owner' | 'admin';

export interface SignedIn {
  user: UserRecord;
  session: SessionRecord;
  /** The cookie value; only its hash is stored. */
  token: string;
}

export interface WorkspaceAccess {
  id: string;
  name: string;
  role: Role;
}

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

export function isKeyScope(value: string): value is KeyScope {
  return value === 'ingest' || value === 'read' || value === 'admin';
}

export function normalizeEmail(email: string): string {
  const normalized = email.trim().toLowerCase();
  if (!EMAIL.test(normalized)) {
    throw new TrailkeepError('bad_request', `"${email}" is not an email address`);
  }
  return normalized;
}

function invalidInvitation(): TrailkeepError {
  return new TrailkeepError(
    'invitation_invalid',
    'This invitation is not open: it was used, withdrawn, replaced or has expired; ask to be invited again',
  );
}

function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

function safeEqualText(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  return left.length === right.length && timingSafeEqual(left, right);
}

function checkName(name: string, what: string): string {
  const trimmed = name.trim();
  if (trimmed.length === 0 || trimmed.length > MAX_NAME_LENGTH) {
    throw new TrailkeepError(
      'bad_request',
      `The ${what} must be 1 to ${MAX_NAME_LENGTH} characters`,
    );
  }
  return trimmed;
}

/** How stale a key's `last_used_at` may get before a request refreshes it. */
const KEY_USE_PRECISION_MS = 60_000;

export class AccountService {
  readonly throttle: LoginThrottle;
  private readonly clock: () => Date;
  private readonly scrypt: ScryptParams;
  private readonly sessionTtlMs: number;
  private decoy: Promise<string> | undefined;

  constructor(
    readonly store: Store,
    options: AccountServiceOptions = {},
  ) {
    this.clock = options.clock ?? (() => new Date());
    this.scrypt = options.scrypt ?? DEFAULT_SCRYPT;
    this.sessionTtlMs = options.sessionTtlMs ?? DEFAULT_SESSION_TTL_MS;
    this.throttle = new LoginThrottle(options.loginThrottle, () => this.clock().getTime());
  }

  private now(): string {
    return this.clock().toISOString();
  }

  async requireWorkspace(id: string): Promise<Workspace> {
    const ws = await this.store.getWorkspace(id);
    if (!ws) throw new TrailkeepError('workspace_not_found', `No workspace "${id}"`);
    return ws;
  }

  // Workspaces

  /**
   * Creates a workspace with its owner and the requested keys: what `trailkeep init` and the
   * first start of `trailkeep serve` do.
   */
  async initWorkspace(request: InitWorkspaceRequest): Promise<InitWorkspaceResult> {
    if (!WORKSPACE_ID.test(request.workspace)) {
      throw new TrailkeepError(
        'bad_request',
        `"${request.workspace}" is not a workspace id: use 1 to 63 lower-case letters, digits, "-" or "_", starting with a letter or digit`,
      );
    }
    const email = normalizeEmail(request.ownerEmail);
    if (await this.store.getWorkspace(request.workspace)) {
      throw new TrailkeepError(
        'already_exists',
        `The workspace "${request.workspace}" already exists`,
      );
    }
    const workspace = await this.store.createWorkspace({
      id: request.workspace,
      name: checkName(request.name ?? request.workspace, 'workspace name'),
      settings: {},
    });
    const added = await this.addMember(workspace.id, {
      email,
      role: 'owner',
      name: request.ownerName,
      password: request.ownerPassword,
    });
    const password = added.newAccount
      ? (added.generatedPassword ?? request.ownerPassword ?? null)
      : null;
    const keys: Partial<Record<KeyScope, string>> = {};
    for (const scope of request.keyScopes) {
      const created = await this.createKey(workspace.id, {
        name: `${scope} key (created by init)`,
        scope,
        createdBy: added.membership.user_id,
      });
      keys[scope] = created.key;
    }
    return {
      workspace,
      owner: { id: added.membership.user_id, email, password },
      keys,
    };
  }

  /** The workspaces a person belongs to, with their role in each. */
  async workspacesOf(userId: string): Promise<WorkspaceAccess[]> {
    const memberships = await this.store.listMembershipsOfUser(userId);
    const result: WorkspaceAccess[] = [];
    for (const m of memberships) {
      const ws = await this.store.getWorkspace(m.workspace);
      if (ws) result.push({ id: ws.id, name: ws.name, role: m.role });
    }
    return result.sort((a, b) => a.id.localeCompare(b.id));
  }

  // API keys

  async createKey(
    workspace: string,
    request: { name: string; scope: KeyScope; createdBy: string | null },
  ): Promise<CreatedKey> {
    await this.requireWorkspace(workspace);
    const name = checkName(request.name, 'key name');
    // The 8-character lookup prefix has 47 random bits; a clash is rare enough to just retry.
    for (let attempt = 0; attempt < 5; attempt++) {
      const generated = generateApiKey(request.scope);
      if (await this.store.getApiKeyByPrefix(generated.prefix)) continue;
      const record: ApiKeyRecord = {
        id: `key_${randomBase62(16)}`,
        workspace,
        name,
        scope: request.scope,
        prefix: generated.prefix,
        hash: generated.hash,
        created_at: this.now(),
        created_by: request.createdBy,
        revoked_at: null,
        last_used_at: null,
      };
      await this.store.createApiKey({
        id: record.id,
        workspace: record.workspace,
        name: record.name,
        scope: record.scope,
        prefix: record.prefix,
        hash: record.hash,
        created_at: record.created_at,
        created_by: record.created_by,
      });
      return { key: generated.key, record };
    }
    throw new TrailkeepError('internal', 'Could not find a free key prefix');
  }

  async listKeys(workspace: string): Promise<ApiKeyRecord[]> {
    await this.requireWorkspace(workspace);
    return this.store.listApiKeys(workspace);
  }

  /** Revokes at once: the next request with the key is refused. */
  async revokeKey(workspace: string, id: string): Promise<ApiKeyRecord> {
    const keys = await this.listKeys(workspace);
    const key = keys.find((k) => k.id === id);
    if (!key || key.revoked_at !== null) {
      throw new TrailkeepError('not_found', `No live key "${id}" in workspace "${workspace}"`);
    }
    const at = this.now();
    if (!(await this.store.revokeApiKey(workspace, id, at))) {
      throw new TrailkeepError('not_found', `No live key "${id}" in workspace "${workspace}"`);
    }
    return { ...key, revoked_at: at };
  }

  /** The live key record for a presented secret; `unauthenticated` for anything else. */
  async authenticateKey(presented: string): Promise<ApiKeyRecord> {
    const parsed = parseApiKey(presented);
    const record = parsed ? await this.store.getApiKeyByPrefix(parsed.prefix) : undefined;
    if (!record || !apiKeyMatches(presented, record.hash) || record.scope !== parsed?.scope) {
      throw new TrailkeepError('unauthenticated', 'The API key is not valid');
    }
    if (record.revoked_at !== null) {
      throw new TrailkeepError('unauthenticated', 'The API key has been revoked');
    }
    const now = this.clock();
    const last = record.last_used_at === null ? 0 : Date.parse(record.last_used_at);
    // A write per request would cost ingest dearly; a minute's precision is what people read.
    if (now.getTime() - last >= KEY_USE_PRECISION_MS) {
      await this.store.touchApiKey(record.id, now.toISOString());
    }
    return record;
  }

  // People

  async addMember(workspace: string, request: AddMemberRequest): Promise<AddedMember> {
    await this.requireWorkspace(workspace);
    const email = normalizeEmail(request.email);
    if (!isRole(request.role)) {
      throw new TrailkeepError('bad_request', `"${String(request.role)}" is not a role`);
    }
    let user = await this.store.getUserByEmail(email);
    let generatedPassword: string | undefined;
    const newAccount = user === undefined;
    if (!user) {
      if (request.password !== undefined) checkPasswordPolicy(request.password);
      else generatedPassword = generatePassword();
      const password = request.password ?? generatedPassword ?? generatePassword();
      user = await this.store.createUser({
        id: `usr_${randomBase62(16)}`,
        email,
        name: request.name === undefined ? null : checkName(request.name, 'name'),
        password_hash: await hashPassword(password, this.scrypt),
      });
    } else if (await this.store.getMembership(workspace, user.id)) {
      throw new TrailkeepError(
        'already_exists',
        `${email} is already a member of "${workspace}"; change the role instead`,
      );
    }
    await this.store.setMembership(workspace, user.id, request.role);
    const membership = await this.store.getMembership(workspace, user.id);
    if (!membership) throw new TrailkeepError('internal', 'The membership was not stored');
    return {
      membership,
      newAccount,
      ...(generatedPassword === undefined ? {} : { generatedPassword }),
    };
  }

  async listMembers(workspace: string): Promise<Membership[]> {
    await this.requireWorkspace(workspace);
    return this.store.listMembers(workspace);
  }

  async findMember(workspace: string, userIdOrEmail: string): Promise<Membership> {
    const members = await this.listMembers(workspace);
    const wanted = userIdOrEmail.trim().toLowerCase();
    const member = members.find((m) => m.user_id === userIdOrEmail || m.email === wanted);
    if (!member) {
      throw new TrailkeepError('not_found', `No member "${userIdOrEmail}" in "${workspace}"`);
    }
    return member;
  }

  /**
   * Changes a member's role. Only owners grant or take away the owner role, and the last owner
   * cannot be demoted (a workspace without an owner could not be managed by a person).
   */
  async setRole(
    workspace: string,
    userIdOrEmail: string,
    role: Role,
    actingAs: ActingRole,
  ): Promise<{ before: Membership; after: Membership }> {
    if (!isRole(role)) throw new TrailkeepError('bad_request', `"${String(role)}" is not a role`);
    const before = await this.findMember(workspace, userIdOrEmail);
    if ((role === 'owner' || before.role === 'owner') && actingAs !== 'owner') {
      throw new TrailkeepError('forbidden', 'Only an owner can grant or change the owner role');
    }
    if (before.role === 'owner' && role !== 'owner') {
      const owners = (await this.store.listMembers(workspace)).filter((m) => m.role === 'owner');
      if (owners.length <= 1) {
        throw new TrailkeepError(
          'forbidden',
          `${before.email} is the last owner of "${workspace}"; make someone else owner first`,
        );
      }
    }
    await this.store.setMembership(workspace, before.user_id, role);
    return { before, after: { ...before, role } };
  }

  async role(workspace: string, userId: string): Promise<Role | undefined> {
    return (await this.store.getMembership(workspace, userId))?.role;
  }

  // Sessions

  /**
   * Checks an email and password and opens a session. Throttled per email and per IP:
   * while locked no password is checked at all and `login_throttled` says when to retry.
   * Unknown emails cost as much time as wrong passwords.
   */
  async login(emailText: string, password: string, ip: string): Promise<SignedIn> {
    const email = emailText.trim().toLowerCase();
    const waitMs = this.throttle.lockedFor(email, ip);
    if (waitMs > 0) {
      const retryAfter = Math.ceil(waitMs / 1000);
      throw new TrailkeepError(
        'login_throttled',
        `Too many failed sign-in attempts; try again in ${retryAfter} s`,
        { retryAfter },
      );
    }
    const user = EMAIL.test(email) ? await this.store.getUserByEmail(email) : undefined;
    const ok = user
      ? await verifyPassword(password, user.password_hash)
      : await verifyPassword(password, await this.decoyHash()).then(() => false);
    if (!user || !ok) {
      this.throttle.recordFailure(email, ip);
      throw new TrailkeepError('unauthenticated', 'The email or password is wrong');
    }
    this.throttle.recordSuccess(email);
    return this.openSession(user);
  }

  private async openSession(user: UserRecord): Promise<SignedIn> {
    const token = randomToken();
    const created = this.clock();
    const session: SessionRecord = {
      id_hash: sha256Hex(token),
      user_id: user.id,
      csrf_token: randomToken(),
      created_at: created.toISOString(),
      expires_at: new Date(created.getTime() + this.sessionTtlMs).toISOString(),
    };
    await this.store.createSession(session);
    return { user, session, token };
  }

  /** The person and session behind a cookie value, or undefined when unknown or expired. */
  async resolveSession(
    token: string,
  ): Promise<{ user: UserRecord; session: SessionRecord } | undefined> {
    if (token.length === 0 || token.length > 200) return undefined;
    const idHash = sha256Hex(token);
    const session = await this.store.getSession(idHash);
    if (!session) return undefined;
    if (Date.parse(session.expires_at) <= this.clock().getTime()) {
      await this.store.deleteSession(idHash);
      return undefined;
    }
    const user = await this.store.getUserById(session.user_id);
    return user ? { user, session } : undefined;
  }

  checkCsrf(session: SessionRecord, presented: string | undefined): boolean {
    return presented !== undefined && safeEqualText(presented, session.csrf_token);
  }

  async logout(token: string): Promise<void> {
    if (token.length > 0 && token.length <= 200) await this.store.deleteSession(sha256Hex(token));
  }

  async setPassword(email: string, password: string): Promise<void> {
    checkPasswordPolicy(password);
    const user = await this.store.getUserByEmail(normalizeEmail(email));
    if (!user) throw new TrailkeepError('not_found', `No account for ${email}`);
    await this.store.setPassword(user.id, await hashPassword(password, this.scrypt));
  }

  // Invitations

  /**
   * Invites an email address to a workspace. Nothing here depends on whether an account exists
   * for the address (only this workspace's own members are looked at), so the answer tells the
   * inviter nothing about other workspaces; and nobody joins until they accept.
   */
  async invite(workspace: string, request: InviteRequest): Promise<CreatedInvitation> {
    await this.requireWorkspace(workspace);
    const email = normalizeEmail(request.email);
    if (!isRole(request.role)) {
      throw new TrailkeepError('bad_request', `"${String(request.role)}" is not a role`);
    }
    const name = request.name === undefined ? null : checkName(request.name, 'name');
    const members = await this.store.listMembers(workspace);
    if (members.some((m) => m.email.toLowerCase() === email)) {
      throw new TrailkeepError(
        'already_exists',
        `${email} is already a member of "${workspace}"; change the role instead`,
      );
    }
    const token = randomToken();
    const now = this.clock();
    const invitation: InvitationRecord = {
      id: `inv_${randomBase62(16)}`,
      workspace,
      email,
      role: request.role,
      name,
      token_hash: sha256Hex(token),
      invited_by: request.invitedBy,
      created_at: now.toISOString(),
      expires_at: new Date(now.getTime() + INVITATION_TTL_MS).toISOString(),
      status: 'invited',
      closed_at: null,
      accepted_by: null,
    };
    const { status: _status, closed_at: _closed, accepted_by: _by, ...created } = invitation;
    await this.store.createInvitation(created);
    return { invitation, token };
  }

  /** A workspace's invitations that can still be accepted, newest first. */
  async listInvitations(workspace: string): Promise<InvitationRecord[]> {
    await this.requireWorkspace(workspace);
    return (await this.store.listInvitations(workspace)).filter((i) => this.isOpen(i));
  }

  /** Withdraws an open invitation of this workspace; its link stops working at once. */
  async revokeInvitation(workspace: string, id: string): Promise<InvitationRecord> {
    const invitation = await this.store.getInvitation(id);
    if (
      !this.isOpen(invitation) ||
      invitation.workspace !== workspace ||
      !(await this.store.closeInvitation(id, 'revoked', this.now()))
    ) {
      throw new TrailkeepError('not_found', `No open invitation "${id}" in "${workspace}"`);
    }
    return { ...invitation, status: 'revoked', closed_at: this.now() };
  }

  /** The open invitations addressed to this person's email, with their workspaces. */
  async invitationsFor(
    user: UserRecord,
  ): Promise<Array<{ invitation: InvitationRecord; workspace: Workspace }>> {
    const result = [];
    for (const invitation of await this.store.listInvitationsForEmail(user.email.toLowerCase())) {
      const workspace = await this.store.getWorkspace(invitation.workspace);
      if (workspace && this.isOpen(invitation)) result.push({ invitation, workspace });
    }
    return result;
  }

  /** A signed-in person accepts an invitation addressed to their email. */
  async acceptInvitation(id: string, user: UserRecord): Promise<AcceptedInvitation> {
    const invitation = await this.store.getInvitation(id);
    if (!this.isOpen(invitation) || invitation.email !== user.email.toLowerCase()) {
      throw invalidInvitation();
    }
    return this.join(invitation, user);
  }

  /** The open invitation whose link holds this secret. */
  async invitationByToken(token: string): Promise<InvitationRecord> {
    const invitation =
      token.length > 0 && token.length <= 200
        ? await this.store.getInvitationByTokenHash(sha256Hex(token))
        : undefined;
    if (!this.isOpen(invitation)) throw invalidInvitation();
    return invitation;
  }

  /**
   * Accepts with the secret of an invitation link (found by invitationByToken). A signed-in person accepts for themselves
   * (the invitation must be addressed to their email). Otherwise the password decides: the
   * password of the account that has the invited email, checked like a sign-in (throttled),
   * or, when there is none, the password of the account created now. Either way the person is
   * signed in, so the link works the same whether or not an account existed.
   */
  async acceptInvitationWithToken(
    invitation: InvitationRecord,
    request: { password?: string | undefined; name?: string | undefined },
    as: { user?: UserRecord | undefined; ip: string },
  ): Promise<AcceptedInvitation & { signedIn?: SignedIn; newAccount: boolean }> {
    if (as.user !== undefined) {
      if (invitation.email !== as.user.email.toLowerCase()) {
        throw new TrailkeepError(
          'forbidden',
          'This invitation was sent to another email address: sign out, then open the link again',
        );
      }
      return { ...(await this.join(invitation, as.user)), newAccount: false };
    }
    if (request.password === undefined) {
      throw new TrailkeepError(
        'bad_request',
        'Send "password": the password of your account, or the one to create it with',
      );
    }
    // Before anything depends on whether the account exists.
    checkPasswordPolicy(request.password);
    const existing = await this.store.getUserByEmail(invitation.email);
    let signedIn: SignedIn;
    if (existing) {
      signedIn = await this.login(invitation.email, request.password, as.ip);
    } else {
      const name = request.name ?? invitation.name;
      const user = await this.store.createUser({
        id: `usr_${randomBase62(16)}`,
        email: invitation.email,
        name: name === null ? null : checkName(name, 'name'),
        password_hash: await hashPassword(request.password, this.scrypt),
      });
      signedIn = await this.openSession(user);
    }
    const joined = await this.join(invitation, signedIn.user);
    return { ...joined, signedIn, newAccount: existing === undefined };
  }

  private async join(invitation: InvitationRecord, user: UserRecord): Promise<AcceptedInvitation> {
    const at = this.now();
    const membership = await this.store.acceptInvitation(invitation.id, user.id, at);
    if (!membership) throw invalidInvitation();
    return {
      invitation: { ...invitation, status: 'accepted', closed_at: at, accepted_by: user.id },
      membership,
      user,
    };
  }

  private isOpen(invitation: InvitationRecord | undefined): invitation is InvitationRecord {
    return (
      invitation !== undefined &&
      invitation.status === 'invited' &&
      Date.parse(invitation.expires_at) > this.clock().getTime()
    );
  }

  private decoyHash(): Promise<string> {
    this.decoy ??= decoyHash(this.scrypt);
    return this.decoy;
  }
}
