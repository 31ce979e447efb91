/**
 * A developer platform (cloud dev environments): bare verb actions (`create`, `write`, `ssh`,
 * `auto_off`...) whose meaning comes from the resource type of the primary target. Builds carry
 * `build_reason` metadata; the `user` schema tracks email, username, status and roles, keeps
 * hashed_password secret and ignores the timestamps, as the design's example says.
 */
import type { EventInput, Target } from '../../core/event.js';
import { machine, NEWCOMER_NAMES, people, publicAddress, type CastMember } from '../cast.js';
import { Random, Weighted } from '../random.js';
import {
  created,
  deleted,
  changed,
  evolve,
  FollowUps,
  makeEvent,
  Pool,
  randomIndex,
  target,
  type Entity,
  type Script,
  type Stamp,
  type Vocabulary,
} from '../vocabulary.js';

const DOMAIN = 'forge.example';
const CLI_AGENT = 'forge-cli/2.14.1 (darwin; arm64)';

export const DEVPLATFORM_ACTIONS = [
  'auto_off',
  'auto_start',
  'connect',
  'cordon',
  'create',
  'delete',
  'enqueue',
  'login',
  'open',
  'ssh',
  'stop',
  'uncordon',
  'view',
  'write',
] as const;

export const DEVPLATFORM_RESOURCE_TYPES = [
  'workspace',
  'template',
  'template_version',
  'user',
  'group',
  'organization',
  'organization_member',
  'git_ssh_key',
  'workspace_build',
] as const;

type UserState = {
  email: string;
  username: string;
  status: 'active' | 'suspended' | 'dormant';
  rbac_roles: string[];
  hashed_password: string;
  created_at: string;
  updated_at: string;
  last_seen_at: string;
};

type WorkspaceState = {
  name: string;
  owner: string;
  template_id: string;
  template_version_id: string;
  ttl_ms: number;
  autostart_schedule: string | null;
  cordoned: boolean;
  updated_at: string;
};

type BuildState = {
  workspace_id: string;
  build_number: number;
  transition: 'start' | 'stop';
  reason: string;
  initiator: string;
  job_status: 'pending' | 'running';
};

type TemplateState = {
  name: string;
  display_name: string;
  description: string;
  active_version_id: string;
  default_ttl_ms: number;
};

interface User extends Entity<UserState> {
  member: CastMember | undefined;
  sshKey: Entity<{ public_key: string; fingerprint: string; private_key: string }> | undefined;
  orgMember: Entity<{ user_id: string; roles: string[] }>;
}

interface DevWorkspace extends Entity<WorkspaceState> {
  owner: User;
  running: boolean;
  builds: number;
}

/** Bounds the state a long run keeps. */
const MAX_USERS = 80;
const MAX_GROUPS = 12;
const TEMPLATES: readonly [string, string][] = [
  ['docker-dev', 'Docker dev box'],
  ['k8s-go', 'Kubernetes Go'],
  ['gpu-notebook', 'GPU notebook'],
  ['aws-linux', 'AWS Linux VM'],
];
const ADJECTIVES = ['brave', 'calm', 'eager', 'fuzzy', 'jolly', 'keen', 'lucid', 'merry', 'quiet'];
const NOUNS = ['hopper', 'lovelace', 'turing', 'morse', 'noether', 'ritchie', 'curie', 'knuth'];
const APPS = ['code-server', 'jupyter', 'terminal', 'vscode-desktop', 'filebrowser'];
const ROLES = ['template-admin', 'user-admin', 'auditor'];

export const devplatformVocabulary: Vocabulary = {
  id: 'devplatform',
  name: 'Forge Dev Platform (demo)',
  share: 0.25,
  utcOffsetHours: 0,
  settings: {
    categories: [
      { id: 'authentication', label: 'Authentication', patterns: ['login'] },
      { id: 'connections', label: 'Connections', patterns: ['connect', 'ssh', 'open'] },
      { id: 'builds', label: 'Builds', patterns: ['auto_start', 'auto_off', 'stop', 'enqueue'] },
      { id: 'maintenance', label: 'Maintenance', patterns: ['cordon', 'uncordon'] },
      { id: 'resources', label: 'Resources', patterns: ['create', 'write', 'delete'] },
      { id: 'access', label: 'Access', patterns: ['view'] },
    ],
    resources: {
      user: {
        fields: {
          email: 'track',
          username: 'track',
          status: 'track',
          rbac_roles: 'track',
          hashed_password: 'secret',
          created_at: 'ignore',
          updated_at: 'ignore',
          last_seen_at: 'ignore',
        },
      },
      workspace: {
        fields: {
          name: 'track',
          owner: 'track',
          template_id: 'track',
          template_version_id: 'track',
          ttl_ms: 'track',
          autostart_schedule: 'track',
          cordoned: 'track',
          updated_at: 'ignore',
        },
      },
      workspace_build: {
        fields: {
          workspace_id: 'track',
          build_number: 'track',
          transition: 'track',
          reason: 'track',
          initiator: 'track',
          job_status: 'track',
        },
      },
      template: {
        fields: {
          name: 'track',
          display_name: 'track',
          description: 'track',
          active_version_id: 'track',
          default_ttl_ms: 'track',
        },
      },
      template_version: {
        fields: { template_id: 'track', name: 'track', git_ref: 'track', job_status: 'track' },
      },
      group: { fields: { name: 'track', members: 'track', quota_allowance: 'track' } },
      organization: { fields: { name: 'track', display_name: 'track', description: 'track' } },
      organization_member: { fields: { user_id: 'track', roles: 'track' } },
      git_ssh_key: { fields: { public_key: 'track', fingerprint: 'track', private_key: 'secret' } },
    },
  },
  actions: DEVPLATFORM_ACTIONS,
  script: (rng) => new DevPlatformScript(rng),
};

class DevPlatformScript implements Script {
  private readonly people: CastMember[];
  private readonly lifecycle: CastMember;
  private readonly provisioner: CastMember;
  private readonly ci: CastMember;
  private readonly intruder: CastMember;
  private readonly users: User[] = [];
  private readonly workspaces = new Pool<DevWorkspace>(300);
  private readonly templates: Entity<TemplateState>[] = [];
  private readonly groups: Entity<{ name: string; members: string[]; quota_allowance: number }>[] =
    [];
  private readonly organization: Entity<{
    name: string;
    display_name: string;
    description: string;
  }>;
  private readonly followUps = new FollowUps();
  private readonly choices: Weighted<(stamp: Stamp) => EventInput>;
  private started = false;
  private serial = 0;

  constructor(private readonly rng: Random) {
    this.people = people(rng, DOMAIN, 8);
    this.lifecycle = machine(
      rng,
      'system',
      'sys_lifecycle',
      'Lifecycle executor',
      'forged/2.14.1',
      'none',
    );
    this.provisioner = machine(
      rng,
      'automation',
      'prv_default',
      'provisioner-default',
      'forge-provisionerd/2.14.1',
      'internal',
    );
    this.ci = machine(
      rng,
      'api_token',
      'tok_ci_templates',
      'ci-templates',
      'forge-cli/2.14.1 (linux; amd64)',
      'public',
    );
    this.intruder = {
      actor: { type: 'user', id: 'usr_unknown', email: `admin@${DOMAIN}` },
      ips: [publicAddress(rng), publicAddress(rng), publicAddress(rng)],
      rareIp: undefined,
      userAgent: 'python-requests/2.32.3',
    };
    this.organization = {
      id: 'org_forge',
      state: { name: 'forge', display_name: 'Forge', description: 'Default organization' },
    };
    this.choices = new Weighted<(stamp: Stamp) => EventInput>([
      [14, (s) => this.login(s)],
      [10, (s) => this.connectTo(s, 'ssh')],
      [8, (s) => this.connectTo(s, 'open')],
      [5, (s) => this.connectTo(s, 'connect')],
      [2.5, (s) => this.view(s)],
      [4, (s) => this.createWorkspace(s)],
      [4, (s) => this.writeWorkspace(s)],
      [5, (s) => this.build(s, 'initiator')],
      [6, (s) => this.build(s, 'autostop')],
      [6, (s) => this.build(s, 'autostart')],
      [1.5, (s) => this.deleteWorkspace(s)],
      [1.2, (s) => this.cordon(s)],
      [2, (s) => this.newTemplateVersion(s)],
      [1, (s) => this.writeTemplate(s)],
      [
        0.8,
        (s) =>
          this.users.length >= MAX_USERS
            ? this.deleteUser(s)
            : this.createUser(s, this.admin(), undefined),
      ],
      [3, (s) => this.writeUser(s)],
      [0.3, (s) => this.deleteUser(s)],
      [0.3, (s) => (this.groups.length >= MAX_GROUPS ? this.writeGroup(s) : this.createGroup(s))],
      [1, (s) => this.writeGroup(s)],
      [0.3, (s) => this.writeOrganization(s)],
      [1, (s) => this.writeOrganizationMember(s)],
      [1.2, (s) => this.rotateSshKey(s)],
    ]);
  }

  next(stamp: Stamp): EventInput {
    if (!this.started) {
      this.started = true;
      return this.onboard(stamp);
    }
    return this.followUps.take(stamp) ?? this.choices.pick(this.rng)(stamp);
  }

  /** The owner creates the organization, then its people, templates and groups. */
  private onboard(stamp: Stamp): EventInput {
    const owner = this.people[0] as CastMember;
    for (const person of this.people) this.followUps.push((s) => this.createUser(s, owner, person));
    for (const [name, display] of TEMPLATES) {
      this.followUps.push((s) => this.createTemplate(s, name, display));
    }
    for (const name of ['platform', 'data-science', 'contractors']) {
      this.followUps.push((s) => this.createGroup(s, name));
    }
    return makeEvent(this.rng, stamp, 'create', owner, {
      targets: [target('organization', this.organization.id, 'forge')],
      ...created(this.organization),
    });
  }

  private id(prefix: string): string {
    return `${prefix}_${this.rng.hex(4)}${(++this.serial).toString(36).padStart(5, '0')}`;
  }

  private admin(): CastMember {
    return this.rng.pick(this.people.slice(0, 2));
  }

  private userTarget(user: User): Target {
    return target('user', user.id, user.state.username);
  }

  private workspaceTarget(ws: DevWorkspace): Target {
    return target('workspace', ws.id, `${ws.owner.state.username}/${ws.state.name}`);
  }

  /** A user who can act (one of the cast, not suspended), or undefined before any exists. */
  private activeUser(): User | undefined {
    for (let tries = 0; tries < 6 && this.users.length > 0; tries++) {
      const user = this.rng.pick(this.users);
      if (user.member !== undefined && user.state.status === 'active') return user;
    }
    return undefined;
  }

  /** Always possible, so it is where every other choice falls back to. */
  private login(stamp: Stamp): EventInput {
    const rng = this.rng;
    if (rng.chance(0.015)) {
      // Someone guessing at an account that does not exist.
      return makeEvent(rng, stamp, 'login', this.intruder, {
        targets: [target('user', 'usr_unknown', 'admin')],
        outcome: 'failure',
        metadata: { login_type: 'password', error: 'no_such_user' },
      });
    }
    const person = rng.pick(this.people);
    const user = this.users.find((u) => u.member === person);
    const suspended = user?.state.status !== 'active';
    const failed = suspended || rng.chance(0.08);
    return makeEvent(rng, stamp, 'login', person, {
      targets: [target('user', person.actor.id, user?.state.username)],
      ...(failed
        ? {
            outcome: 'failure',
            metadata: {
              login_type: 'password',
              error: suspended ? 'account_suspended' : 'invalid_credentials',
            },
            rareIpRate: 0.3,
          }
        : { metadata: { login_type: rng.pick(['password', 'github', 'oidc', 'oidc']) } }),
    });
  }

  private connectTo(stamp: Stamp, action: 'ssh' | 'open' | 'connect'): EventInput {
    const rng = this.rng;
    const ws = this.workspaces.find(rng, (w) => w.running && w.owner.member !== undefined);
    if (ws === undefined || ws.owner.member === undefined) return this.createWorkspace(stamp);
    if (action === 'ssh' && ws.owner.sshKey === undefined)
      return this.rotateSshKey(stamp, ws.owner);
    const metadata =
      action === 'open'
        ? { app: rng.pick(APPS), agent: 'main' }
        : action === 'ssh'
          ? { agent: 'main', connection: 'ssh' }
          : { agent: 'main', port: rng.pick([3000, 5432, 8080, 8888]) };
    return makeEvent(rng, stamp, action, ws.owner.member, {
      targets: [this.workspaceTarget(ws)],
      metadata,
      ...(action === 'open' ? {} : { userAgent: CLI_AGENT }),
    });
  }

  /** An admin looks at someone else's workspace: a read worth auditing. */
  private view(stamp: Stamp): EventInput {
    const ws = this.workspaces.pick(this.rng);
    if (ws === undefined) return this.createWorkspace(stamp);
    return makeEvent(this.rng, stamp, 'view', this.admin(), {
      targets: [this.workspaceTarget(ws)],
      operation: 'read',
      metadata: { page: this.rng.pick(['workspace', 'build_logs', 'parameters']) },
    });
  }

  private createWorkspace(stamp: Stamp): EventInput {
    const rng = this.rng;
    const owner = this.activeUser();
    const template = this.templates.length > 0 ? rng.pick(this.templates) : undefined;
    if (
      this.workspaces.full ||
      owner === undefined ||
      owner.member === undefined ||
      template === undefined
    ) {
      return this.build(stamp, 'autostop');
    }
    const ws: DevWorkspace = {
      id: this.id('wks'),
      owner,
      running: false,
      builds: 0,
      state: {
        name: `${rng.pick(['dev', 'sandbox', 'review', 'data', 'main'])}-${rng.between(1, 99)}`,
        owner: owner.state.username,
        template_id: template.id,
        template_version_id: template.state.active_version_id,
        ttl_ms: rng.pick([3_600_000, 28_800_000, 43_200_000]),
        autostart_schedule: rng.chance(0.5) ? 'CRON_TZ=Europe/London 30 8 * * 1-5' : null,
        cordoned: false,
        updated_at: stamp.occurred_at,
      },
    };
    this.workspaces.add(ws);
    const member = owner.member;
    this.followUps.push((s) => this.startBuild(s, ws, member, 'initiator', 'start', 'create'));
    return makeEvent(rng, stamp, 'create', member, {
      targets: [this.workspaceTarget(ws), target('template', template.id, template.state.name)],
      ...created(ws),
    });
  }

  /** A new build: started or stopped by the owner, or by the lifecycle executor on schedule. */
  private build(stamp: Stamp, reason: 'initiator' | 'autostart' | 'autostop'): EventInput {
    const rng = this.rng;
    const wantRunning = reason === 'autostop' || (reason === 'initiator' && rng.chance(0.5));
    const ws = this.workspaces.find(
      rng,
      (w) =>
        w.running === wantRunning &&
        !w.state.cordoned &&
        (reason !== 'autostart' || w.state.autostart_schedule !== null),
    );
    if (ws === undefined) return this.login(stamp);
    if (reason !== 'initiator') {
      const action = reason === 'autostart' ? 'auto_start' : 'auto_off';
      return this.startBuild(
        stamp,
        ws,
        this.lifecycle,
        reason,
        reason === 'autostart' ? 'start' : 'stop',
        action,
      );
    }
    if (ws.owner.member === undefined) return this.login(stamp);
    return ws.running
      ? this.startBuild(stamp, ws, ws.owner.member, reason, 'stop', 'stop')
      : this.startBuild(stamp, ws, ws.owner.member, reason, 'start', 'create');
  }

  private startBuild(
    stamp: Stamp,
    ws: DevWorkspace,
    by: CastMember,
    reason: string,
    transition: BuildState['transition'],
    action: string,
  ): EventInput {
    ws.running = transition === 'start';
    const build: Entity<BuildState> = {
      id: this.id('bld'),
      state: {
        workspace_id: ws.id,
        build_number: ++ws.builds,
        transition,
        reason,
        initiator: by.actor.name ?? by.actor.id,
        job_status: 'pending',
      },
    };
    const targets = (): Target[] => [
      target('workspace_build', build.id, `${ws.state.name} #${build.state.build_number}`),
      this.workspaceTarget(ws),
    ];
    this.followUps.push((s) =>
      makeEvent(this.rng, s, 'enqueue', this.provisioner, {
        targets: targets(),
        operation: 'update',
        ...changed(build, { job_status: 'running' }),
        metadata: { build_reason: reason, provisioner: 'default' },
      }),
    );
    return makeEvent(this.rng, stamp, action, by, {
      targets: targets(),
      operation: 'create',
      ...created(build),
      metadata: { build_reason: reason },
    });
  }

  private writeWorkspace(stamp: Stamp): EventInput {
    const rng = this.rng;
    const ws = this.workspaces.find(rng, (w) => w.owner.member !== undefined);
    if (ws === undefined || ws.owner.member === undefined) return this.createWorkspace(stamp);
    const patch: Partial<WorkspaceState> = { updated_at: stamp.occurred_at };
    const roll = rng.next();
    if (roll < 0.4) patch.ttl_ms = rng.pick([3_600_000, 14_400_000, 28_800_000, 86_400_000]);
    else if (roll < 0.7) {
      patch.autostart_schedule =
        ws.state.autostart_schedule === null ? 'CRON_TZ=UTC 0 9 * * 1-5' : null;
    } else {
      const template = this.templates.find((t) => t.id === ws.state.template_id);
      patch.template_version_id = template?.state.active_version_id ?? ws.state.template_version_id;
    }
    return makeEvent(rng, stamp, 'write', ws.owner.member, {
      targets: [this.workspaceTarget(ws)],
      ...(rng.chance(0.3) ? evolve(ws, patch) : changed(ws, patch, ['updated_at'])),
    });
  }

  private deleteWorkspace(stamp: Stamp): EventInput {
    const ws = this.workspaces.pick(this.rng);
    if (ws === undefined) return this.createWorkspace(stamp);
    this.workspaces.remove(ws);
    const by =
      ws.owner.member !== undefined && this.rng.chance(0.8) ? ws.owner.member : this.admin();
    return makeEvent(this.rng, stamp, 'delete', by, {
      targets: [this.workspaceTarget(ws)],
      ...deleted(ws),
    });
  }

  private cordon(stamp: Stamp): EventInput {
    const ws = this.workspaces.pick(this.rng);
    if (ws === undefined) return this.createWorkspace(stamp);
    const cordoned = !ws.state.cordoned;
    return makeEvent(this.rng, stamp, cordoned ? 'cordon' : 'uncordon', this.admin(), {
      targets: [this.workspaceTarget(ws)],
      operation: 'update',
      ...changed(ws, { cordoned, updated_at: stamp.occurred_at }, ['updated_at']),
      metadata: {
        reason: cordoned ? this.rng.pick(['maintenance', 'security_review']) : 'cleared',
      },
    });
  }

  private versionName(): string {
    return `${this.rng.pick(ADJECTIVES)}_${this.rng.pick(NOUNS)}${this.rng.between(1, 99)}`;
  }

  private createTemplate(stamp: Stamp, name: string, displayName: string): EventInput {
    const template: Entity<TemplateState> = {
      id: this.id('tpl'),
      state: {
        name,
        display_name: displayName,
        description: `${displayName} for everyday development`,
        active_version_id: this.id('tv'),
        default_ttl_ms: 28_800_000,
      },
    };
    this.templates.push(template);
    return makeEvent(this.rng, stamp, 'create', this.people[0] as CastMember, {
      targets: [target('template', template.id, name)],
      ...created(template),
    });
  }

  /** CI pushes a template version; when its build succeeds, CI makes it the active one. */
  private newTemplateVersion(stamp: Stamp): EventInput {
    const rng = this.rng;
    const template = rng.pick(this.templates);
    const version = {
      id: this.id('tv'),
      state: {
        template_id: template.id,
        name: this.versionName(),
        git_ref: rng.hex(7),
        job_status: rng.chance(0.88) ? 'succeeded' : 'failed',
      },
    };
    if (version.state.job_status === 'succeeded') {
      this.followUps.push((s) =>
        makeEvent(rng, s, 'write', this.ci, {
          targets: [target('template', template.id, template.state.name)],
          ...evolve(template, { active_version_id: version.id }),
          metadata: { reason: 'promote_version' },
        }),
      );
    }
    return makeEvent(rng, stamp, 'create', this.ci, {
      targets: [
        target('template_version', version.id, version.state.name),
        target('template', template.id, template.state.name),
      ],
      ...created(version),
    });
  }

  private writeTemplate(stamp: Stamp): EventInput {
    const rng = this.rng;
    const template = rng.pick(this.templates);
    const patch: Partial<TemplateState> = rng.chance(0.5)
      ? { default_ttl_ms: rng.pick([3_600_000, 28_800_000, 43_200_000]) }
      : {
          description: `${template.state.display_name}: ${rng.pick(['now with Node 22', 'faster boot', 'bigger disk'])}`,
        };
    return makeEvent(rng, stamp, 'write', this.admin(), {
      targets: [target('template', template.id, template.state.name)],
      ...evolve(template, patch),
    });
  }

  private hashedPassword(): string {
    return `$2a$10$${this.rng.hex(40)}`;
  }

  /** A new account (a cast member during onboarding, else a newcomer) and its membership. */
  private createUser(stamp: Stamp, by: CastMember, person: CastMember | undefined): EventInput {
    const rng = this.rng;
    const name = person?.actor.name ?? rng.pick(NEWCOMER_NAMES);
    const username =
      person?.actor.email?.split('@')[0] ??
      `${name.split(' ')[0]?.toLowerCase() ?? 'user'}${rng.between(2, 99)}`;
    const id = person?.actor.id ?? this.id('usr');
    const user: User = {
      id,
      member: person,
      sshKey: undefined,
      orgMember: {
        id: `${this.organization.id}:${id}`,
        state: { user_id: id, roles: ['organization-member'] },
      },
      state: {
        email: person?.actor.email ?? `${username}@${DOMAIN}`,
        username,
        status: 'active',
        rbac_roles: person === this.people[0] ? ['owner'] : [],
        hashed_password: this.hashedPassword(),
        created_at: stamp.occurred_at,
        updated_at: stamp.occurred_at,
        last_seen_at: stamp.occurred_at,
      },
    };
    this.users.push(user);
    this.followUps.push((s) =>
      makeEvent(rng, s, 'create', by, {
        targets: [
          target('organization_member', user.orgMember.id, username),
          this.userTarget(user),
        ],
        ...created(user.orgMember),
      }),
    );
    return makeEvent(rng, stamp, 'create', by, {
      targets: [this.userTarget(user)],
      ...created(user),
      metadata: { login_type: rng.pick(['password', 'oidc']) },
    });
  }

  private writeUser(stamp: Stamp): EventInput {
    const rng = this.rng;
    const user = rng.pick(this.users);
    const patch: Partial<UserState> = {
      updated_at: stamp.occurred_at,
      last_seen_at: stamp.occurred_at,
    };
    let by = this.admin();
    const roll = rng.next();
    if (roll < 0.35 && user.member !== undefined) {
      // People change their own password.
      by = user.member;
      patch.hashed_password = this.hashedPassword();
    } else if (roll < 0.6) {
      patch.status = user.state.status === 'active' ? 'suspended' : 'active';
    } else if (roll < 0.9) {
      const role = rng.pick(ROLES);
      const roles = user.state.rbac_roles;
      patch.rbac_roles = roles.includes(role) ? roles.filter((r) => r !== role) : [...roles, role];
    } else {
      patch.username = `${user.state.username.replace(/\d+$/, '')}${rng.between(2, 99)}`;
    }
    return makeEvent(rng, stamp, 'write', by, {
      targets: [this.userTarget(user)],
      ...evolve(user, patch),
    });
  }

  private deleteUser(stamp: Stamp): EventInput {
    const rng = this.rng;
    // Only newcomers leave, so the cast keeps acting.
    const index = randomIndex(rng, this.users, (user) => user.member === undefined);
    if (index < 0) return this.createUser(stamp, this.admin(), undefined);
    const [user] = this.users.splice(index, 1) as [User];
    this.workspaces.removeWhere((ws) => ws.owner === user);
    const by = this.admin();
    this.followUps.push((s) =>
      makeEvent(rng, s, 'delete', by, {
        targets: [target('organization_member', user.orgMember.id, user.state.username)],
        ...deleted(user.orgMember),
      }),
    );
    return makeEvent(rng, stamp, 'delete', by, {
      targets: [this.userTarget(user)],
      ...deleted(user),
    });
  }

  private createGroup(stamp: Stamp, name = `team-${this.rng.pick(NOUNS)}`): EventInput {
    const group = {
      id: this.id('grp'),
      state: { name, members: [] as string[], quota_allowance: this.rng.pick([0, 4, 8]) },
    };
    this.groups.push(group);
    return makeEvent(this.rng, stamp, 'create', this.admin(), {
      targets: [target('group', group.id, name)],
      ...created(group),
    });
  }

  private writeGroup(stamp: Stamp): EventInput {
    const rng = this.rng;
    const group = rng.pick(this.groups);
    const user = rng.pick(this.users);
    const members = group.state.members;
    const patch = rng.chance(0.8)
      ? {
          members: members.includes(user.state.username)
            ? members.filter((m) => m !== user.state.username)
            : [...members, user.state.username],
        }
      : { quota_allowance: rng.pick([0, 4, 8, 16]) };
    return makeEvent(rng, stamp, 'write', this.admin(), {
      targets: [target('group', group.id, group.state.name)],
      ...evolve(group, patch),
    });
  }

  private writeOrganization(stamp: Stamp): EventInput {
    const patch = this.rng.chance(0.5)
      ? { display_name: this.rng.pick(['Forge', 'Forge Labs', 'Forge Inc.']) }
      : { description: this.rng.pick(['Default organization', 'Engineering at Forge']) };
    return makeEvent(this.rng, stamp, 'write', this.people[0] as CastMember, {
      targets: [target('organization', this.organization.id, this.organization.state.name)],
      ...evolve(this.organization, patch),
    });
  }

  private writeOrganizationMember(stamp: Stamp): EventInput {
    const rng = this.rng;
    const user = rng.pick(this.users);
    const roles = user.orgMember.state.roles;
    const role = rng.pick([
      'organization-admin',
      'organization-auditor',
      'organization-template-admin',
    ]);
    return makeEvent(rng, stamp, 'write', this.admin(), {
      targets: [
        target('organization_member', user.orgMember.id, user.state.username),
        this.userTarget(user),
      ],
      ...evolve(user.orgMember, {
        roles: roles.includes(role) ? roles.filter((r) => r !== role) : [...roles, role],
      }),
    });
  }

  /** A person adds their first SSH key or regenerates it. */
  private rotateSshKey(stamp: Stamp, owner?: User): EventInput {
    const rng = this.rng;
    const user = owner ?? this.activeUser();
    if (user === undefined || user.member === undefined) return this.login(stamp);
    const state = {
      public_key: `ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI${rng.hex(40)} ${user.state.username}@forge`,
      fingerprint: `SHA256:${rng.hex(32)}`,
      private_key: `-----BEGIN OPENSSH PRIVATE KEY-----${rng.hex(48)}-----END OPENSSH PRIVATE KEY-----`,
    };
    const keyTarget = target('git_ssh_key', `key_${user.id}`, user.state.username);
    if (user.sshKey === undefined) {
      user.sshKey = { id: keyTarget.id, state };
      return makeEvent(rng, stamp, 'create', user.member, {
        targets: [keyTarget, this.userTarget(user)],
        ...created(user.sshKey),
      });
    }
    return makeEvent(rng, stamp, 'write', user.member, {
      targets: [keyTarget, this.userTarget(user)],
      ...evolve(user.sshKey, state),
      metadata: { reason: 'regenerated' },
    });
  }
}
