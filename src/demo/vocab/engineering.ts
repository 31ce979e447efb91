/**
 * An engineering workspace product: upper-case event tokens (`REPOSITORY_RUN_CLAIM`,
 * `TOKEN_MINTED`...), people working with AI agents on improvements, CI tokens and runners
 * driving pipelines, and a platform (system) that reshuffles memberships and assignments.
 */
import type { EventInput, Target } from '../../core/event.js';
import { guest, machine, NEWCOMER_NAMES, people, type CastMember } from '../cast.js';
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

const DOMAIN = 'northwind.example';

export const ENGINEERING_ACTIONS = [
  'WORKSPACE_CREATED',
  'WORKSPACE_SETTINGS_UPDATED',
  'MEMBER_JOINED',
  'MEMBER_PROMOTED',
  'MEMBER_DEMOTED',
  'MEMBER_REMOVED',
  'MEMBERSHIP_DEFAULTED',
  'GROUP_MEMBERSHIP_VOL_QUEUE',
  'LOGIN_SUCCEEDED',
  'LOGIN_FAILED',
  'TOKEN_MINTED',
  'TOKEN_ROTATED',
  'TOKEN_REVOKED',
  'INTEGRATION_CONNECTED',
  'INTEGRATION_DISCONNECTED',
  'INTEGRATION_SYNCED',
  'ARTIFACT_REPO_CREATED',
  'ARTIFACT_REPO_UPDATED',
  'PIPELINE_CREATED',
  'PIPELINE_UPDATED',
  'PIPELINE_RUN_QUEUED',
  'REPOSITORY_RUN_CLAIM',
  'PIPELINE_RUN_COMPLETED',
  'WORKSPACE_REPO_ADDED',
  'WORKSPACE_REPO_UPDATED',
  'WORKSPACE_REPO_REMOVED',
  'IMPROVEMENT_PROPOSED',
  'IMPROVEMENT_ACCEPTED',
  'IMPROVEMENT_DISMISSED',
  'IMPROVEMENT_COMPLETED',
  'CLARIFICATION_REQUESTED',
  'CLARIFICATION_ANSWERED',
  'INVITE_SENT',
  'INVITE_ACCEPTED',
  'INVITE_REVOKED',
  'AGENT_SESSION_STARTED',
  'AGENT_REASSIGNMENT_QUEUED',
] as const;

export const ENGINEERING_TARGET_TYPES = [
  'workspace',
  'user',
  'api_token',
  'integration',
  'artifact_repo',
  'pipeline',
  'pipeline_run',
  'workspace_repo',
  'invite',
  'improvement',
] as const;

type Role = 'owner' | 'admin' | 'member' | 'guest';
type UserState = {
  email: string;
  name: string;
  role: Role;
  status: string;
  last_active_at: string;
};
type TokenState = {
  name: string;
  owner: string;
  scopes: string[];
  expires_at: string;
  token: string;
  last_used_at: string;
};
type IntegrationState = {
  provider: string;
  status: 'connected' | 'disconnected';
  scopes: string[];
  client_secret: string | null;
};
type RunState = {
  pipeline_id: string;
  status: 'queued' | 'running' | 'passed' | 'failed';
  commit: string;
  branch: string;
  runner: string | null;
  duration_ms: number | null;
};
type ImprovementState = {
  title: string;
  repo: string;
  status:
    'proposed' | 'needs_clarification' | 'accepted' | 'in_progress' | 'completed' | 'dismissed';
  assignee: string;
};
type InviteState = { email: string; role: Role; status: string; invite_code: string | null };

interface User extends Entity<UserState> {
  removable: boolean;
}
interface Integration extends Entity<IntegrationState> {
  /** Whether the log has seen it yet. */
  seen: boolean;
}
interface Invite extends Entity<InviteState> {
  name: string;
}

/** Bounds the state a long run keeps: newcomers leave once the team is this big. */
const MAX_USERS = 80;
const REPOS = ['api-gateway', 'web-app', 'billing-service', 'mobile-app', 'infra'];
const PROVIDERS: readonly [string, string[]][] = [
  ['github', ['repo', 'read:org']],
  ['slack', ['chat:write', 'channels:read']],
  ['jira', ['read:jira-work', 'write:jira-work']],
  ['pagerduty', ['read']],
  ['linear', ['read', 'write']],
];
const IMPROVEMENTS = [
  'Cache dependency installs in CI',
  'Remove dead feature flags',
  'Add retries to webhook sender',
  'Upgrade to Node 22',
  'Split the billing test suite',
  'Fix flaky login test',
  'Tighten token scopes',
];
const TOKEN_SCOPES = ['repo:read', 'repo:write', 'pipelines:run', 'artifacts:publish', 'admin'];

export const engineeringVocabulary: Vocabulary = {
  id: 'engineering',
  name: 'Northwind Engineering (demo)',
  share: 0.2,
  utcOffsetHours: 1,
  settings: {
    categories: [
      {
        id: 'workspace',
        label: 'Workspace',
        patterns: ['WORKSPACE_CREATED', 'WORKSPACE_SETTINGS_*'],
      },
      {
        id: 'members',
        label: 'Members',
        patterns: ['MEMBER_*', 'MEMBERSHIP_*', 'GROUP_MEMBERSHIP_*'],
      },
      { id: 'auth_tokens', label: 'Auth & tokens', patterns: ['LOGIN_*', 'TOKEN_*'] },
      { id: 'integrations', label: 'Integrations', patterns: ['INTEGRATION_*'] },
      { id: 'artifact_repos', label: 'Artifact repos', patterns: ['ARTIFACT_REPO_*'] },
      { id: 'pipelines', label: 'Pipelines', patterns: ['PIPELINE_*', 'REPOSITORY_RUN_*'] },
      { id: 'repos', label: 'Repos', patterns: ['WORKSPACE_REPO_*'] },
      { id: 'improvements', label: 'Improvements', patterns: ['IMPROVEMENT_*'] },
      { id: 'clarifications', label: 'Clarifications', patterns: ['CLARIFICATION_*'] },
      { id: 'invites', label: 'Invites', patterns: ['INVITE_*'] },
      { id: 'agent', label: 'Agent', patterns: ['AGENT_*'] },
    ],
    resources: {
      workspace: {
        fields: {
          name: 'track',
          plan: 'track',
          sso_enforced: 'track',
          default_role: 'track',
          retention_days: 'track',
        },
      },
      user: {
        fields: {
          email: 'track',
          name: 'track',
          role: 'track',
          status: 'track',
          last_active_at: 'ignore',
        },
      },
      api_token: {
        fields: {
          name: 'track',
          owner: 'track',
          scopes: 'track',
          expires_at: 'track',
          token: 'secret',
          last_used_at: 'ignore',
        },
      },
      integration: {
        fields: { provider: 'track', status: 'track', scopes: 'track', client_secret: 'secret' },
      },
      artifact_repo: {
        fields: {
          name: 'track',
          format: 'track',
          url: 'track',
          username: 'track',
          password: 'secret',
        },
      },
      pipeline: { fields: { name: 'track', repo: 'track', branch: 'track', trigger: 'track' } },
      pipeline_run: {
        fields: {
          pipeline_id: 'track',
          status: 'track',
          commit: 'track',
          branch: 'track',
          runner: 'track',
          duration_ms: 'track',
        },
      },
      workspace_repo: {
        fields: { name: 'track', default_branch: 'track', visibility: 'track' },
      },
      invite: {
        fields: { email: 'track', role: 'track', status: 'track', invite_code: 'secret' },
      },
      improvement: {
        fields: { title: 'track', repo: 'track', status: 'track', assignee: 'track' },
      },
    },
  },
  actions: ENGINEERING_ACTIONS,
  script: (rng) => new EngineeringScript(rng),
};

class EngineeringScript implements Script {
  private readonly people: CastMember[];
  private readonly agents: CastMember[];
  private readonly ci: CastMember;
  private readonly runner: CastMember;
  private readonly platform: CastMember;
  private readonly users: User[];
  private readonly workspace: Entity<{
    name: string;
    plan: string;
    sso_enforced: boolean;
    default_role: Role;
    retention_days: number;
  }>;
  private readonly tokens = new Pool<Entity<TokenState>>(60);
  private readonly integrations: Integration[];
  private readonly artifactRepos: Entity<{
    name: string;
    format: string;
    url: string;
    username: string;
    password: string;
  }>[] = [];
  private readonly pipelines: Entity<{
    name: string;
    repo: string;
    branch: string;
    trigger: string;
  }>[] = [];
  private readonly runs = new Pool<Entity<RunState>>(200);
  private readonly repos: Entity<{ name: string; default_branch: string; visibility: string }>[] =
    [];
  private readonly invites = new Pool<Invite>(30);
  private readonly improvements = new Pool<Entity<ImprovementState>>(150);
  private readonly followUps = new FollowUps();
  private readonly choices: Weighted<(stamp: Stamp) => EventInput>;
  private started = false;
  private serial = 0;

  constructor(private readonly rng: Random) {
    this.people = people(rng, DOMAIN, 9);
    this.agents = [
      machine(rng, 'agent', 'agt_codefix', 'Codefix Agent', 'northwind-agents/1.8.0', 'public'),
      machine(rng, 'agent', 'agt_docs', 'Docs Agent', 'northwind-agents/1.8.0', 'public'),
      machine(rng, 'agent', 'agt_review', 'Review Agent', 'northwind-agents/1.8.0', 'public'),
    ];
    this.ci = machine(
      rng,
      'api_token',
      'tok_ci_pipeline',
      'ci-pipeline',
      'northwind-ci/5.2.0',
      'public',
    );
    this.runner = machine(
      rng,
      'automation',
      'rnr_pool_a',
      'runner-pool-a',
      'northwind-runner/5.2.0',
      'internal',
    );
    this.platform = machine(
      rng,
      'system',
      'sys_platform',
      'Northwind platform',
      'northwind-core/5.2.0',
      'none',
    );
    this.users = this.people.map((person, i) => ({
      id: person.actor.id,
      removable: false,
      state: {
        email: person.actor.email ?? '',
        name: person.actor.name ?? '',
        role: i === 0 ? 'owner' : i < 3 ? 'admin' : 'member',
        status: 'active',
        last_active_at: '',
      },
    }));
    this.workspace = {
      id: 'ws_northwind',
      state: {
        name: 'Northwind',
        plan: 'growth',
        sso_enforced: false,
        default_role: 'member',
        retention_days: 365,
      },
    };
    this.integrations = PROVIDERS.map(([provider, scopes]) => ({
      id: `int_${provider}`,
      seen: false,
      state: { provider, status: 'disconnected', scopes, client_secret: null },
    }));
    this.choices = new Weighted<(stamp: Stamp) => EventInput>([
      [30, (s) => this.advanceRun(s)],
      [12, (s) => this.queueRun(s)],
      [10, (s) => this.login(s)],
      [5, (s) => this.proposeImprovement(s)],
      [12, (s) => this.advanceImprovement(s)],
      [4, (s) => this.syncIntegration(s)],
      [1.5, (s) => this.mintToken(s)],
      [1.5, (s) => this.rotateToken(s)],
      [0.5, (s) => this.revokeToken(s)],
      [0.6, (s) => this.toggleIntegration(s)],
      [0.8, (s) => this.updateArtifactRepo(s)],
      [1, (s) => this.updatePipeline(s)],
      [1.4, (s) => this.changeRepo(s)],
      [1, (s) => this.sendInvite(s)],
      [0.8, (s) => this.acceptInvite(s)],
      [0.2, (s) => this.revokeInvite(s)],
      [0.9, (s) => this.changeRole(s)],
      [0.2, (s) => this.removeMember(s)],
      [0.4, (s) => this.defaultMembership(s)],
      [0.6, (s) => this.queueGroupMembership(s)],
      [0.3, (s) => this.updateSettings(s)],
    ]);
  }

  next(stamp: Stamp): EventInput {
    if (!this.started) {
      this.started = true;
      return this.onboard(stamp);
    }
    return this.followUps.take(stamp) ?? this.choices.pick(this.rng)(stamp);
  }

  private onboard(stamp: Stamp): EventInput {
    const owner = this.people[0] as CastMember;
    for (const user of this.users.slice(1)) {
      this.followUps.push((s) =>
        makeEvent(this.rng, s, 'MEMBER_JOINED', this.platform, {
          targets: [this.userTarget(user), this.workspaceTarget()],
          operation: 'create',
          ...created(user),
          metadata: { via: 'sso' },
        }),
      );
    }
    for (const integration of this.integrations.slice(0, 2)) {
      this.followUps.push((s) => this.connectIntegration(s, integration, owner));
    }
    for (const name of REPOS.slice(0, 3)) this.followUps.push((s) => this.addRepo(s, name));
    for (const [name, format] of [
      ['npm-internal', 'npm'],
      ['containers', 'docker'],
    ] as const) {
      this.followUps.push((s) => this.createArtifactRepo(s, name, format));
    }
    for (const repo of REPOS.slice(0, 3)) {
      this.followUps.push((s) => this.createPipeline(s, repo));
    }
    return makeEvent(this.rng, stamp, 'WORKSPACE_CREATED', owner, {
      targets: [this.workspaceTarget()],
      operation: 'create',
      ...created(this.workspace),
    });
  }

  private id(prefix: string): string {
    return `${prefix}_${this.rng.hex(4)}${(++this.serial).toString(36).padStart(5, '0')}`;
  }

  private workspaceTarget(): Target {
    return target('workspace', this.workspace.id, this.workspace.state.name);
  }

  private userTarget(user: User): Target {
    return target('user', user.id, user.state.email);
  }

  private admin(): CastMember {
    return this.rng.pick(this.people.slice(0, 3));
  }

  private person(): CastMember {
    return this.rng.pick(this.people);
  }

  private login(stamp: Stamp): EventInput {
    const rng = this.rng;
    const person = this.person();
    if (rng.chance(0.1)) {
      return makeEvent(rng, stamp, 'LOGIN_FAILED', person, {
        targets: [target('user', person.actor.id, person.actor.email)],
        outcome: 'failure',
        operation: 'other',
        metadata: {
          method: rng.pick(['password', 'sso']),
          error: rng.pick(['bad_password', 'mfa_failed']),
        },
        rareIpRate: 0.35,
      });
    }
    return makeEvent(rng, stamp, 'LOGIN_SUCCEEDED', person, {
      targets: [target('user', person.actor.id, person.actor.email)],
      operation: 'other',
      metadata: { method: rng.pick(['sso', 'sso', 'password', 'passkey']) },
    });
  }

  // Pipelines: CI queues runs, runners (sometimes an agent) claim them, runners report.

  private createPipeline(stamp: Stamp, repo: string): EventInput {
    const pipeline = {
      id: this.id('pl'),
      state: { name: `${repo}-ci`, repo, branch: 'main', trigger: 'push' },
    };
    this.pipelines.push(pipeline);
    return makeEvent(this.rng, stamp, 'PIPELINE_CREATED', this.admin(), {
      targets: [target('pipeline', pipeline.id, pipeline.state.name)],
      ...created(pipeline),
    });
  }

  private updatePipeline(stamp: Stamp): EventInput {
    const rng = this.rng;
    const pipeline = rng.pick(this.pipelines);
    const patch = rng.chance(0.5)
      ? { trigger: rng.pick(['push', 'pull_request', 'schedule', 'manual']) }
      : { branch: rng.pick(['main', 'release', 'develop']) };
    return makeEvent(rng, stamp, 'PIPELINE_UPDATED', this.person(), {
      targets: [target('pipeline', pipeline.id, pipeline.state.name)],
      ...evolve(pipeline, patch),
    });
  }

  private queueRun(stamp: Stamp): EventInput {
    const rng = this.rng;
    if (this.runs.full) return this.advanceRun(stamp);
    const pipeline = rng.pick(this.pipelines);
    const run: Entity<RunState> = {
      id: this.id('run'),
      state: {
        pipeline_id: pipeline.id,
        status: 'queued',
        commit: rng.hex(12),
        branch: rng.chance(0.6)
          ? pipeline.state.branch
          : `feature/${rng.pick(['auth', 'search', 'ui'])}-${rng.between(1, 500)}`,
        runner: null,
        duration_ms: null,
      },
    };
    this.runs.add(run);
    return makeEvent(rng, stamp, 'PIPELINE_RUN_QUEUED', this.ci, {
      targets: [this.runTarget(run), target('pipeline', pipeline.id, pipeline.state.name)],
      operation: 'create',
      ...created(run),
      metadata: { trigger: pipeline.state.trigger },
    });
  }

  private runTarget(run: Entity<RunState>): Target {
    return target('pipeline_run', run.id, `${run.state.branch}@${run.state.commit.slice(0, 7)}`);
  }

  private advanceRun(stamp: Stamp): EventInput {
    const rng = this.rng;
    const run = this.runs.pick(rng);
    if (run === undefined || this.pipelines.length === 0) return this.queueRun(stamp);
    if (run.state.status === 'queued') {
      const claimer = rng.chance(0.2) ? rng.pick(this.agents) : this.runner;
      if (rng.chance(0.03)) {
        return makeEvent(rng, stamp, 'REPOSITORY_RUN_CLAIM', claimer, {
          targets: [this.runTarget(run)],
          operation: 'update',
          outcome: 'failure',
          metadata: { error: 'already_claimed' },
        });
      }
      return makeEvent(rng, stamp, 'REPOSITORY_RUN_CLAIM', claimer, {
        targets: [this.runTarget(run)],
        operation: 'update',
        ...changed(run, { status: 'running', runner: claimer.actor.name ?? claimer.actor.id }),
      });
    }
    this.runs.remove(run);
    const status = rng.chance(0.82) ? 'passed' : 'failed';
    return makeEvent(rng, stamp, 'PIPELINE_RUN_COMPLETED', this.runner, {
      targets: [this.runTarget(run)],
      operation: 'update',
      ...changed(run, { status, duration_ms: rng.between(20_000, 1_800_000) }),
    });
  }

  // Improvements: agents propose, people decide and clarify, agents work, the platform reassigns.

  private proposeImprovement(stamp: Stamp): EventInput {
    const rng = this.rng;
    if (this.improvements.full) return this.advanceImprovement(stamp);
    const agent = rng.pick(this.agents);
    const improvement: Entity<ImprovementState> = {
      id: this.id('imp'),
      state: {
        title: rng.pick(IMPROVEMENTS),
        repo: rng.pick(REPOS),
        status: 'proposed',
        assignee: agent.actor.name ?? agent.actor.id,
      },
    };
    this.improvements.add(improvement);
    return makeEvent(rng, stamp, 'IMPROVEMENT_PROPOSED', agent, {
      targets: [this.improvementTarget(improvement)],
      operation: 'create',
      ...created(improvement),
    });
  }

  private improvementTarget(improvement: Entity<ImprovementState>): Target {
    return target('improvement', improvement.id, improvement.state.title);
  }

  private assignee(improvement: Entity<ImprovementState>): CastMember {
    return (
      this.agents.find((agent) => agent.actor.name === improvement.state.assignee) ??
      (this.agents[0] as CastMember)
    );
  }

  private advanceImprovement(stamp: Stamp): EventInput {
    const rng = this.rng;
    const improvement = this.improvements.pick(rng);
    if (improvement === undefined) return this.proposeImprovement(stamp);
    const targets = [this.improvementTarget(improvement)];
    const roll = rng.next();
    switch (improvement.state.status) {
      case 'proposed':
        if (roll < 0.3) {
          return makeEvent(rng, stamp, 'CLARIFICATION_REQUESTED', this.assignee(improvement), {
            targets,
            operation: 'update',
            ...changed(improvement, { status: 'needs_clarification' }),
            metadata: { question: 'Which environments should this cover?' },
          });
        }
        if (roll < 0.85) {
          return makeEvent(rng, stamp, 'IMPROVEMENT_ACCEPTED', this.person(), {
            targets,
            operation: 'update',
            ...changed(improvement, { status: 'accepted' }),
          });
        }
        this.improvements.remove(improvement);
        return makeEvent(rng, stamp, 'IMPROVEMENT_DISMISSED', this.person(), {
          targets,
          operation: 'update',
          ...changed(improvement, { status: 'dismissed' }),
          metadata: { reason: rng.pick(['duplicate', 'not_now', 'wont_fix']) },
        });
      case 'needs_clarification':
        return makeEvent(rng, stamp, 'CLARIFICATION_ANSWERED', this.person(), {
          targets,
          operation: 'update',
          ...changed(improvement, { status: 'proposed' }),
        });
      case 'accepted':
        return makeEvent(rng, stamp, 'AGENT_SESSION_STARTED', this.assignee(improvement), {
          targets: [
            ...targets,
            target('workspace_repo', `repo_${improvement.state.repo}`, improvement.state.repo),
          ],
          operation: 'update',
          ...changed(improvement, { status: 'in_progress' }),
        });
      default: {
        if (roll < 0.25) {
          const others = this.agents.filter(
            (agent) => agent.actor.name !== improvement.state.assignee,
          );
          const next = rng.pick(others);
          return makeEvent(
            rng,
            stamp,
            'AGENT_REASSIGNMENT_QUEUED',
            rng.chance(0.6) ? this.platform : this.person(),
            {
              targets,
              operation: 'update',
              ...evolve(improvement, { assignee: next.actor.name ?? next.actor.id }),
              metadata: { reason: rng.pick(['agent_overloaded', 'skill_mismatch', 'requested']) },
            },
          );
        }
        this.improvements.remove(improvement);
        return makeEvent(rng, stamp, 'IMPROVEMENT_COMPLETED', this.assignee(improvement), {
          targets,
          operation: 'update',
          ...changed(improvement, { status: 'completed' }),
          metadata: { pull_request: rng.between(100, 9999) },
        });
      }
    }
  }

  // Auth & tokens.

  private mintToken(stamp: Stamp): EventInput {
    const rng = this.rng;
    if (this.tokens.full) return this.rotateToken(stamp);
    const person = this.person();
    const token: Entity<TokenState> = {
      id: this.id('tok'),
      state: {
        name: `${rng.pick(['deploy', 'ci', 'local-dev', 'metrics', 'backup'])}-${rng.between(1, 99)}`,
        owner: person.actor.email ?? person.actor.id,
        scopes: [rng.pick(TOKEN_SCOPES), rng.pick(TOKEN_SCOPES)].filter(
          (s, i, all) => all.indexOf(s) === i,
        ),
        expires_at: new Date(stamp.at + rng.pick([30, 90, 365]) * 86_400_000).toISOString(),
        token: `nwt_${rng.hex(32)}`,
        last_used_at: stamp.occurred_at,
      },
    };
    this.tokens.add(token);
    return makeEvent(rng, stamp, 'TOKEN_MINTED', person, {
      targets: [target('api_token', token.id, token.state.name)],
      operation: 'create',
      ...created(token),
    });
  }

  private rotateToken(stamp: Stamp): EventInput {
    const rng = this.rng;
    const token = this.tokens.pick(rng);
    if (token === undefined) return this.mintToken(stamp);
    const targets = [target('api_token', token.id, token.state.name)];
    const by = this.person();
    if (rng.chance(0.06)) {
      return makeEvent(rng, stamp, 'TOKEN_ROTATED', by, {
        targets,
        operation: 'update',
        outcome: 'failure',
        metadata: { error: 'not_token_owner' },
      });
    }
    return makeEvent(rng, stamp, 'TOKEN_ROTATED', by, {
      targets,
      operation: 'update',
      ...evolve(token, {
        token: `nwt_${rng.hex(32)}`,
        expires_at: new Date(stamp.at + 90 * 86_400_000).toISOString(),
        last_used_at: stamp.occurred_at,
      }),
    });
  }

  private revokeToken(stamp: Stamp): EventInput {
    const token = this.tokens.pick(this.rng);
    if (token === undefined) return this.mintToken(stamp);
    this.tokens.remove(token);
    return makeEvent(this.rng, stamp, 'TOKEN_REVOKED', this.admin(), {
      targets: [target('api_token', token.id, token.state.name)],
      operation: 'delete',
      ...deleted(token),
    });
  }

  // Integrations, artifact repos and workspace repos.

  private connectIntegration(stamp: Stamp, integration: Integration, by: CastMember): EventInput {
    const patch = { status: 'connected' as const, client_secret: `cs_${this.rng.hex(28)}` };
    // The first connection creates the integration; later ones bring it back.
    const change = integration.seen ? evolve(integration, patch) : created(integration, patch);
    integration.seen = true;
    return makeEvent(this.rng, stamp, 'INTEGRATION_CONNECTED', by, {
      targets: [target('integration', integration.id, integration.state.provider)],
      operation: 'create',
      ...change,
    });
  }

  private toggleIntegration(stamp: Stamp): EventInput {
    const rng = this.rng;
    const integration = rng.pick(this.integrations);
    const by = this.admin();
    if (integration.state.status === 'connected') {
      return makeEvent(rng, stamp, 'INTEGRATION_DISCONNECTED', by, {
        targets: [target('integration', integration.id, integration.state.provider)],
        operation: 'delete',
        ...evolve(integration, { status: 'disconnected', client_secret: null }),
      });
    }
    if (rng.chance(0.15)) {
      return makeEvent(rng, stamp, 'INTEGRATION_CONNECTED', by, {
        targets: [target('integration', integration.id, integration.state.provider)],
        operation: 'create',
        outcome: 'failure',
        metadata: { error: 'oauth_denied' },
      });
    }
    return this.connectIntegration(stamp, integration, by);
  }

  private syncIntegration(stamp: Stamp): EventInput {
    const rng = this.rng;
    const integration = this.integrations.find((i) => i.state.status === 'connected');
    if (integration === undefined) return this.toggleIntegration(stamp);
    const failed = rng.chance(0.05);
    return makeEvent(rng, stamp, 'INTEGRATION_SYNCED', this.platform, {
      targets: [target('integration', integration.id, integration.state.provider)],
      operation: 'other',
      ...(failed ? { outcome: 'failure' as const } : {}),
      metadata: failed ? { error: 'rate_limited', items: 0 } : { items: rng.between(1, 400) },
    });
  }

  private createArtifactRepo(stamp: Stamp, name: string, format: string): EventInput {
    const repo = {
      id: this.id('ar'),
      state: {
        name,
        format,
        url: `https://artifacts.${DOMAIN}/${name}`,
        username: 'publisher',
        password: `ap_${this.rng.hex(24)}`,
      },
    };
    this.artifactRepos.push(repo);
    return makeEvent(this.rng, stamp, 'ARTIFACT_REPO_CREATED', this.admin(), {
      targets: [target('artifact_repo', repo.id, name)],
      ...created(repo),
    });
  }

  private updateArtifactRepo(stamp: Stamp): EventInput {
    const rng = this.rng;
    const repo = rng.pick(this.artifactRepos);
    const patch = rng.chance(0.6)
      ? { password: `ap_${rng.hex(24)}` }
      : { url: `https://artifacts-${rng.between(2, 9)}.${DOMAIN}/${repo.state.name}` };
    return makeEvent(rng, stamp, 'ARTIFACT_REPO_UPDATED', this.admin(), {
      targets: [target('artifact_repo', repo.id, repo.state.name)],
      ...evolve(repo, patch),
    });
  }

  private addRepo(stamp: Stamp, name: string): EventInput {
    const repo = {
      id: `repo_${name}`,
      state: { name, default_branch: 'main', visibility: 'private' },
    };
    this.repos.push(repo);
    return makeEvent(this.rng, stamp, 'WORKSPACE_REPO_ADDED', this.admin(), {
      targets: [target('workspace_repo', repo.id, name)],
      operation: 'create',
      ...created(repo),
    });
  }

  private changeRepo(stamp: Stamp): EventInput {
    const rng = this.rng;
    const missing = REPOS.filter((name) => !this.repos.some((repo) => repo.state.name === name));
    const roll = rng.next();
    if (missing.length > 0 && (roll < 0.3 || this.repos.length === 0)) {
      return this.addRepo(stamp, rng.pick(missing));
    }
    const repo = rng.pick(this.repos);
    if (roll < 0.42 && this.repos.length > 1) {
      this.repos.splice(this.repos.indexOf(repo), 1);
      return makeEvent(rng, stamp, 'WORKSPACE_REPO_REMOVED', this.admin(), {
        targets: [target('workspace_repo', repo.id, repo.state.name)],
        operation: 'delete',
        ...deleted(repo),
      });
    }
    const patch = rng.chance(0.5)
      ? { default_branch: rng.pick(['main', 'trunk', 'develop']) }
      : { visibility: repo.state.visibility === 'private' ? 'internal' : 'private' };
    return makeEvent(rng, stamp, 'WORKSPACE_REPO_UPDATED', this.person(), {
      targets: [target('workspace_repo', repo.id, repo.state.name)],
      operation: 'update',
      ...evolve(repo, patch),
    });
  }

  // Invites and members.

  private sendInvite(stamp: Stamp): EventInput {
    const rng = this.rng;
    if (this.invites.full) return this.acceptInvite(stamp);
    const name = rng.pick(NEWCOMER_NAMES);
    const email = `${name.split(' ')[0]?.toLowerCase() ?? 'guest'}.${rng.between(10, 999)}@${DOMAIN}`;
    const invite: Invite = {
      id: this.id('inv'),
      name,
      state: {
        email,
        role: rng.pick(['member', 'member', 'guest']),
        status: 'pending',
        invite_code: `ic_${rng.hex(20)}`,
      },
    };
    this.invites.add(invite);
    return makeEvent(rng, stamp, 'INVITE_SENT', this.admin(), {
      targets: [target('invite', invite.id, email)],
      operation: 'create',
      ...created(invite),
    });
  }

  private acceptInvite(stamp: Stamp): EventInput {
    const rng = this.rng;
    if (this.users.length >= MAX_USERS) return this.removeMember(stamp);
    const invite = this.invites.pick(rng);
    if (invite === undefined) return this.sendInvite(stamp);
    this.invites.remove(invite);
    const user: User = {
      id: this.id('usr'),
      removable: true,
      state: {
        email: invite.state.email,
        name: invite.name,
        role: invite.state.role,
        status: 'active',
        last_active_at: stamp.occurred_at,
      },
    };
    this.users.push(user);
    this.followUps.push((s) =>
      makeEvent(rng, s, 'MEMBER_JOINED', this.platform, {
        targets: [this.userTarget(user), this.workspaceTarget()],
        operation: 'create',
        ...created(user),
        metadata: { via: 'invite', invite_id: invite.id },
      }),
    );
    return makeEvent(
      rng,
      stamp,
      'INVITE_ACCEPTED',
      guest(rng, user.id, invite.name, invite.state.email),
      {
        targets: [target('invite', invite.id, invite.state.email)],
        operation: 'update',
        ...evolve(invite, { status: 'accepted', invite_code: null }),
      },
    );
  }

  private revokeInvite(stamp: Stamp): EventInput {
    const invite = this.invites.pick(this.rng);
    if (invite === undefined) return this.sendInvite(stamp);
    this.invites.remove(invite);
    return makeEvent(this.rng, stamp, 'INVITE_REVOKED', this.admin(), {
      targets: [target('invite', invite.id, invite.state.email)],
      operation: 'update',
      ...evolve(invite, { status: 'revoked', invite_code: null }),
    });
  }

  private changeRole(stamp: Stamp): EventInput {
    const rng = this.rng;
    const user = rng.pick(this.users.slice(1));
    const promote = user.state.role === 'guest' || user.state.role === 'member';
    const role: Role = promote ? (user.state.role === 'guest' ? 'member' : 'admin') : 'member';
    return makeEvent(
      rng,
      stamp,
      promote ? 'MEMBER_PROMOTED' : 'MEMBER_DEMOTED',
      this.people[0] as CastMember,
      {
        targets: [this.userTarget(user)],
        operation: 'update',
        ...evolve(user, { role }),
      },
    );
  }

  private removeMember(stamp: Stamp): EventInput {
    const index = randomIndex(this.rng, this.users, (user) => user.removable);
    if (index < 0) return this.sendInvite(stamp);
    const [user] = this.users.splice(index, 1) as [User];
    return makeEvent(this.rng, stamp, 'MEMBER_REMOVED', this.admin(), {
      targets: [this.userTarget(user)],
      operation: 'delete',
      ...deleted(user),
    });
  }

  /** The platform resets a member to the workspace's default role (their group went away). */
  private defaultMembership(stamp: Stamp): EventInput {
    const rng = this.rng;
    const user = rng.pick(this.users.slice(1));
    return makeEvent(rng, stamp, 'MEMBERSHIP_DEFAULTED', this.platform, {
      targets: [this.userTarget(user)],
      operation: 'update',
      ...evolve(user, { role: this.workspace.state.default_role }),
      metadata: { reason: 'group_deleted' },
    });
  }

  /** A bulk change of a group's members is queued for the platform to apply. */
  private queueGroupMembership(stamp: Stamp): EventInput {
    const rng = this.rng;
    const user = rng.pick(this.users);
    return makeEvent(
      rng,
      stamp,
      'GROUP_MEMBERSHIP_VOL_QUEUE',
      rng.chance(0.5) ? this.platform : this.admin(),
      {
        targets: [this.userTarget(user), this.workspaceTarget()],
        operation: 'other',
        metadata: {
          group: rng.pick(['oncall', 'reviewers', 'release-managers']),
          queued: rng.between(2, 60),
        },
      },
    );
  }

  private updateSettings(stamp: Stamp): EventInput {
    const rng = this.rng;
    const roll = rng.next();
    const patch =
      roll < 0.4
        ? { sso_enforced: !this.workspace.state.sso_enforced }
        : roll < 0.7
          ? { retention_days: rng.pick([90, 365, 730]) }
          : { plan: rng.pick(['growth', 'scale', 'enterprise']) };
    return makeEvent(rng, stamp, 'WORKSPACE_SETTINGS_UPDATED', this.people[0] as CastMember, {
      targets: [this.workspaceTarget()],
      operation: 'update',
      ...evolve(this.workspace, patch),
    });
  }
}
