/**
 * A job-runner product: dotted lower-case actions shown with labels ("Job Created" is
 * `job.created`), people and AI agents who define jobs, runners (automation) that claim and run
 * them, and a scheduler (system) that moves jobs between states. Jobs and attempts carry full
 * before/after states so entity history and the Jobs / Attempts entity export are meaningful.
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

const DOMAIN = 'example.com';
const workspaceTarget = (): Target => target('workspace', 'ws_relay', 'Relay Jobs');

/** The product's labels for its actions, as its own UI shows them. */
export const JOB_ACTION_LABELS: Readonly<Record<string, string>> = {
  'Workspace Created': 'workspace.created',
  'Workspace Updated': 'workspace.updated',
  'Invite Sent': 'invite.sent',
  'Invite Accepted': 'invite.accepted',
  'Member Added': 'member.added',
  'Member Role Changed': 'member.role_changed',
  'Member Removed': 'member.removed',
  'Job Created': 'job.created',
  'Job Updated': 'job.updated',
  'Job Ready': 'job.ready',
  'Worker Claimed Job': 'worker.claimed_job',
  'Worker Completed Attempt': 'worker.completed_attempt',
  'Worker Updated': 'worker.updated',
  'Job Deleted': 'job.deleted',
  'Job Canceled': 'job.canceled',
  'Job State Changed': 'job.state_changed',
};

type JobState = {
  name: string;
  queue: string;
  status: 'draft' | 'ready' | 'running' | 'succeeded' | 'failed' | 'canceled';
  priority: number;
  max_attempts: number;
  attempts: number;
  runner: string | null;
  webhook_secret: string;
  updated_at: string;
};

type AttemptState = {
  job_id: string;
  number: number;
  runner: string;
  status: 'succeeded' | 'failed' | 'timed_out';
  exit_code: number;
  duration_ms: number;
  log_token: string;
};

type RunnerState = {
  status: 'online' | 'busy' | 'draining' | 'offline';
  version: string;
  capacity: number;
  labels: string[];
  registration_token: string;
  last_heartbeat_at: string;
};

type InviteState = {
  email: string;
  role: string;
  status: 'pending' | 'accepted';
  invite_token: string | null;
};

interface Job extends Entity<JobState> {
  /** The claimed attempt, until its result is reported. */
  attempt: { id: string; number: number; runner: CastMember } | undefined;
  /** The last attempt's result, until the scheduler acts on it. */
  result: AttemptState['status'] | undefined;
}

interface Invite extends Entity<InviteState> {
  /** The invitee's name, known once they accept. */
  name: string;
}

interface Runner extends Entity<RunnerState> {
  member: CastMember;
  registered: boolean;
}

interface Member {
  id: string;
  email: string;
  role: 'owner' | 'admin' | 'member' | 'viewer';
  removable: boolean;
}

const JOB_NAMES = [
  'nightly-backup',
  'reindex-search',
  'invoice-run',
  'sync-crm',
  'rotate-logs',
  'train-ranker',
  'export-ledger',
  'warm-cache',
  'purge-sessions',
  'build-reports',
];
const QUEUES = ['default', 'critical', 'batch', 'gpu'];
/** Bounds the state a long run keeps: newcomers leave once the team is this big. */
const MAX_MEMBERS = 60;
/** The scheduler reports status moves as explicit changes, without the ignored timestamp. */
const UNSENT = ['updated_at'];

export const jobsVocabulary: Vocabulary = {
  id: 'jobs',
  name: 'Relay Jobs (demo)',
  share: 0.4,
  utcOffsetHours: -5,
  settings: {
    categories: [
      { id: 'workspace', label: 'Workspace', patterns: ['workspace.*'] },
      { id: 'members', label: 'Members', patterns: ['member.*'] },
      { id: 'invites', label: 'Invites', patterns: ['invite.*'] },
      { id: 'jobs', label: 'Jobs', patterns: ['job.*'] },
      { id: 'runners', label: 'Runners', patterns: ['worker.*'] },
    ],
    resources: {
      job: {
        fields: {
          name: 'track',
          queue: 'track',
          status: 'track',
          priority: 'track',
          max_attempts: 'track',
          attempts: 'track',
          runner: 'track',
          webhook_secret: 'secret',
          updated_at: 'ignore',
        },
      },
      attempt: {
        fields: {
          job_id: 'track',
          number: 'track',
          runner: 'track',
          status: 'track',
          exit_code: 'track',
          duration_ms: 'track',
          log_token: 'secret',
        },
      },
      runner: {
        fields: {
          status: 'track',
          version: 'track',
          capacity: 'track',
          labels: 'track',
          registration_token: 'secret',
          last_heartbeat_at: 'ignore',
        },
      },
      invite: {
        fields: { email: 'track', role: 'track', status: 'track', invite_token: 'secret' },
      },
      workspace: {
        fields: { name: 'track', plan: 'track', region: 'track', retention_days: 'track' },
      },
    },
  },
  actions: Object.values(JOB_ACTION_LABELS),
  script: (rng) => new JobsScript(rng),
};

class JobsScript implements Script {
  private readonly people: CastMember[];
  private readonly agents: CastMember[];
  private readonly runners: Runner[];
  private readonly scheduler: CastMember;
  private readonly jobs = new Pool<Job>(400);
  private readonly invites = new Pool<Invite>(40);
  private readonly members: Member[];
  private readonly followUps = new FollowUps();
  private readonly choices: Weighted<(stamp: Stamp) => EventInput>;
  private workspace: Entity<{ name: string; plan: string; region: string; retention_days: number }>;
  private started = false;
  private serial = 0;

  constructor(private readonly rng: Random) {
    this.people = people(rng, DOMAIN, 8);
    this.agents = [
      machine(rng, 'agent', 'agt_triage', 'Triage Agent', 'relay-agent-sdk/0.9.2', 'public'),
      machine(rng, 'agent', 'agt_release', 'Release Agent', 'relay-agent-sdk/0.9.2', 'public'),
    ];
    this.runners = ['us-east-1a', 'us-east-1b', 'eu-west-1a', 'gpu-1'].map((zone) => ({
      id: `rnr_${zone.replace(/-/g, '')}`,
      member: machine(
        rng,
        'automation',
        `rnr_${zone.replace(/-/g, '')}`,
        `runner-${zone}`,
        'relay-runner/3.4.1 (linux; amd64)',
        'internal',
      ),
      registered: false,
      state: {
        status: 'online',
        version: '3.4.0',
        capacity: zone === 'gpu-1' ? 2 : 8,
        labels: zone === 'gpu-1' ? ['gpu', 'cuda12'] : ['linux', zone.slice(0, 7)],
        registration_token: `rrt_${rng.hex(24)}`,
        last_heartbeat_at: '',
      },
    }));
    this.scheduler = machine(
      rng,
      'system',
      'sys_scheduler',
      'Scheduler',
      'relay-scheduler/3.4.1',
      'none',
    );
    this.members = this.people.map((person, i) => ({
      id: person.actor.id,
      email: person.actor.email ?? '',
      role: i === 0 ? 'owner' : i < 3 ? 'admin' : 'member',
      removable: false,
    }));
    this.workspace = {
      id: 'ws_relay',
      state: { name: 'Relay Jobs', plan: 'team', region: 'us-east-1', retention_days: 365 },
    };
    this.choices = new Weighted<(stamp: Stamp) => EventInput>([
      [62, (s) => this.advanceJob(s)],
      [14, (s) => this.createJob(s)],
      [12, (s) => this.updateRunner(s)],
      [3, (s) => this.sendInvite(s)],
      [2.5, (s) => this.acceptInvite(s)],
      [1.5, (s) => this.changeRole(s)],
      [0.8, (s) => this.removeMember(s)],
      [0.4, (s) => this.updateWorkspace(s)],
    ]);
  }

  next(stamp: Stamp): EventInput {
    if (!this.started) {
      this.started = true;
      const owner = this.people[0] as CastMember;
      return makeEvent(this.rng, stamp, 'workspace.created', owner, {
        targets: [workspaceTarget()],
        ...created(this.workspace),
      });
    }
    return this.followUps.take(stamp) ?? this.choices.pick(this.rng)(stamp);
  }

  /** Who defines and manages jobs: mostly people, sometimes an AI agent. */
  private author(): CastMember {
    return this.rng.chance(0.28) ? this.rng.pick(this.agents) : this.rng.pick(this.people);
  }

  private admin(): CastMember {
    return this.rng.pick(this.people.slice(0, 3));
  }

  private id(prefix: string): string {
    return `${prefix}_${this.rng.hex(4)}${(++this.serial).toString(36).padStart(5, '0')}`;
  }

  private jobTargets(job: Job): Target[] {
    return [target('job', job.id, job.state.name)];
  }

  private createJob(stamp: Stamp): EventInput {
    if (this.jobs.full) return this.advanceJob(stamp);
    const rng = this.rng;
    const job: Job = {
      id: this.id('job'),
      attempt: undefined,
      result: undefined,
      state: {
        name: `${rng.pick(JOB_NAMES)}-${rng.between(1, 999)}`,
        queue: rng.pick(QUEUES),
        status: 'draft',
        priority: rng.between(1, 5),
        max_attempts: rng.pick([1, 3, 3, 5]),
        attempts: 0,
        runner: null,
        webhook_secret: `whsec_${rng.hex(24)}`,
        updated_at: stamp.occurred_at,
      },
    };
    this.jobs.add(job);
    return makeEvent(rng, stamp, 'job.created', this.author(), {
      targets: this.jobTargets(job),
      ...created(job),
      metadata: { source: rng.pick(['web', 'api', 'cli']) },
    });
  }

  private advanceJob(stamp: Stamp): EventInput {
    const job = this.jobs.pick(this.rng);
    if (job === undefined) return this.createJob(stamp);
    const roll = this.rng.next();
    switch (job.state.status) {
      case 'draft':
        if (roll < 0.35) return this.updateJob(stamp, job);
        if (roll < 0.9) return this.markReady(stamp, job);
        if (roll < 0.95) return this.cancelJob(stamp, job);
        return this.deleteJob(stamp, job);
      case 'ready':
        if (roll < 0.9) return this.claimJob(stamp, job);
        if (roll < 0.95) return this.updateJob(stamp, job);
        return this.cancelJob(stamp, job);
      case 'running':
        if (job.attempt !== undefined) {
          return roll < 0.97 ? this.completeAttempt(stamp, job) : this.cancelJob(stamp, job);
        }
        return this.settleJob(stamp, job);
      default:
        // Finished jobs are sometimes deleted, otherwise they just leave the story.
        if (roll < 0.3) return this.deleteJob(stamp, job);
        this.jobs.remove(job);
        return this.advanceJob(stamp);
    }
  }

  private updateJob(stamp: Stamp, job: Job): EventInput {
    const rng = this.rng;
    const actor = this.author();
    if (actor.actor.type === 'agent' && rng.chance(0.08)) {
      // Agents are limited to some queues; the product logs the refusal.
      return makeEvent(rng, stamp, 'job.updated', actor, {
        targets: this.jobTargets(job),
        outcome: 'failure',
        metadata: { error: 'forbidden', reason: `agent may not edit queue ${job.state.queue}` },
      });
    }
    const what = rng.int(4);
    const patch: Partial<JobState> = { updated_at: stamp.occurred_at };
    if (what === 0) patch.priority = 1 + ((job.state.priority + rng.between(0, 3)) % 5);
    else if (what === 1) patch.max_attempts = job.state.max_attempts === 1 ? 3 : 1;
    else if (what === 2) patch.queue = rng.pick(QUEUES.filter((q) => q !== job.state.queue));
    else patch.webhook_secret = `whsec_${rng.hex(24)}`;
    // The web editor sends whole jobs; the CLI sends the edited fields. Secrets only go whole.
    return makeEvent(rng, stamp, 'job.updated', actor, {
      targets: this.jobTargets(job),
      ...(what === 3 || rng.chance(0.4) ? evolve(job, patch) : changed(job, patch, UNSENT)),
    });
  }

  private markReady(stamp: Stamp, job: Job): EventInput {
    return makeEvent(this.rng, stamp, 'job.ready', this.author(), {
      targets: this.jobTargets(job),
      operation: 'update',
      ...changed(job, { status: 'ready', updated_at: stamp.occurred_at }, UNSENT),
    });
  }

  private claimJob(stamp: Stamp, job: Job): EventInput {
    const rng = this.rng;
    const runner = rng.pick(this.runners);
    if (rng.chance(0.04)) {
      return makeEvent(rng, stamp, 'worker.claimed_job', runner.member, {
        targets: [...this.jobTargets(job), target('runner', runner.id, runner.member.actor.name)],
        operation: 'update',
        outcome: 'failure',
        metadata: { error: 'lease_conflict', queue: job.state.queue },
      });
    }
    const number = job.state.attempts + 1;
    job.attempt = { id: this.id('att'), number, runner: runner.member };
    return makeEvent(rng, stamp, 'worker.claimed_job', runner.member, {
      targets: [
        ...this.jobTargets(job),
        target('attempt', job.attempt.id, `${job.state.name} #${number}`),
      ],
      operation: 'update',
      ...changed(
        job,
        {
          status: 'running',
          attempts: number,
          runner: runner.member.actor.name ?? runner.id,
          updated_at: stamp.occurred_at,
        },
        UNSENT,
      ),
      metadata: { queue: job.state.queue, lease_seconds: 300 },
    });
  }

  private completeAttempt(stamp: Stamp, job: Job): EventInput {
    const rng = this.rng;
    const attempt = job.attempt as NonNullable<Job['attempt']>;
    job.attempt = undefined;
    const roll = rng.next();
    const status: AttemptState['status'] =
      roll < 0.8 ? 'succeeded' : roll < 0.95 ? 'failed' : 'timed_out';
    job.result = status;
    const entity: Entity<AttemptState> = {
      id: attempt.id,
      state: {
        job_id: job.id,
        number: attempt.number,
        runner: attempt.runner.actor.name ?? attempt.runner.actor.id,
        status,
        exit_code: status === 'succeeded' ? 0 : status === 'failed' ? rng.pick([1, 2, 137]) : 124,
        duration_ms: rng.between(800, 900_000),
        log_token: `lt_${rng.hex(16)}`,
      },
    };
    return makeEvent(rng, stamp, 'worker.completed_attempt', attempt.runner, {
      targets: [
        target('attempt', attempt.id, `${job.state.name} #${attempt.number}`),
        ...this.jobTargets(job),
      ],
      operation: 'update',
      ...created(entity),
      metadata: { queue: job.state.queue },
    });
  }

  /** The scheduler acts on the attempt's result: done, failed for good, or back in the queue. */
  private settleJob(stamp: Stamp, job: Job): EventInput {
    const succeeded = job.result === 'succeeded';
    const retry = !succeeded && job.state.attempts < job.state.max_attempts;
    job.result = undefined;
    return makeEvent(this.rng, stamp, 'job.state_changed', this.scheduler, {
      targets: this.jobTargets(job),
      ...changed(
        job,
        {
          status: succeeded ? 'succeeded' : retry ? 'ready' : 'failed',
          runner: null,
          updated_at: stamp.occurred_at,
        },
        UNSENT,
      ),
      metadata: {
        reason: succeeded ? 'attempt_succeeded' : retry ? 'retry_scheduled' : 'attempts_exhausted',
      },
    });
  }

  private cancelJob(stamp: Stamp, job: Job): EventInput {
    job.attempt = undefined;
    job.result = undefined;
    return makeEvent(this.rng, stamp, 'job.canceled', this.author(), {
      targets: this.jobTargets(job),
      operation: 'update',
      ...changed(job, { status: 'canceled', runner: null, updated_at: stamp.occurred_at }, UNSENT),
    });
  }

  private deleteJob(stamp: Stamp, job: Job): EventInput {
    this.jobs.remove(job);
    return makeEvent(this.rng, stamp, 'job.deleted', this.author(), {
      targets: this.jobTargets(job),
      ...deleted(job),
    });
  }

  /** Runners report their own state; the first report registers them. */
  private updateRunner(stamp: Stamp): EventInput {
    const rng = this.rng;
    const runner = rng.pick(this.runners);
    const targets = [target('runner', runner.id, runner.member.actor.name)];
    if (!runner.registered) {
      runner.registered = true;
      runner.state = { ...runner.state, last_heartbeat_at: stamp.occurred_at };
      return makeEvent(rng, stamp, 'worker.updated', runner.member, {
        targets,
        ...created(runner),
        metadata: { reason: 'registered' },
      });
    }
    const roll = rng.next();
    const patch: Partial<RunnerState> = { last_heartbeat_at: stamp.occurred_at };
    let reason = 'status';
    if (roll < 0.7) {
      patch.status = rng.pick(['online', 'busy', 'busy', 'draining', 'offline'] as const);
    } else if (roll < 0.8) {
      patch.version = `3.${rng.between(4, 6)}.${rng.between(0, 3)}`;
      reason = 'upgraded';
    } else if (roll < 0.9) {
      patch.capacity = rng.pick([2, 4, 8, 16]);
      reason = 'resized';
    } else {
      patch.registration_token = `rrt_${rng.hex(24)}`;
      reason = 'token_rotated';
    }
    // Heartbeats report what moved; a token rotation sends the whole runner so it is redacted.
    return makeEvent(rng, stamp, 'worker.updated', runner.member, {
      targets,
      ...(reason === 'token_rotated'
        ? evolve(runner, patch)
        : changed(runner, patch, ['last_heartbeat_at'])),
      metadata: { reason },
    });
  }

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
        role: rng.pick(['member', 'member', 'viewer', 'admin']),
        status: 'pending',
        invite_token: `it_${rng.hex(20)}`,
      },
    };
    this.invites.add(invite);
    return makeEvent(rng, stamp, 'invite.sent', this.admin(), {
      targets: [target('invite', invite.id, email)],
      ...created(invite),
    });
  }

  /** The invitee accepts (acting for the first time), and the product adds them as a member. */
  private acceptInvite(stamp: Stamp): EventInput {
    const rng = this.rng;
    if (this.members.length >= MAX_MEMBERS) return this.removeMember(stamp);
    const invite = this.invites.pick(rng);
    if (invite === undefined) return this.sendInvite(stamp);
    this.invites.remove(invite);
    const { email, role } = invite.state;
    const userId = `usr_${rng.hex(8)}`;
    const invitee = guest(rng, userId, invite.name, email);
    const member: Member = { id: userId, email, role: role as Member['role'], removable: true };
    this.members.push(member);
    this.followUps.push((next) =>
      makeEvent(rng, next, 'member.added', this.scheduler, {
        targets: [target('member', userId, email), workspaceTarget()],
        operation: 'create',
        changes: [{ field: 'role', new: member.role }],
        metadata: { via: 'invite', invite_id: invite.id },
      }),
    );
    return makeEvent(rng, stamp, 'invite.accepted', invitee, {
      targets: [target('invite', invite.id, email)],
      operation: 'update',
      ...evolve(invite, { status: 'accepted', invite_token: null }),
    });
  }

  private changeRole(stamp: Stamp): EventInput {
    const rng = this.rng;
    const member = rng.pick(this.members);
    if (member.role === 'owner') return this.updateWorkspace(stamp);
    const old = member.role;
    const roles = (['admin', 'member', 'viewer'] as const).filter((role) => role !== old);
    member.role = rng.pick(roles);
    return makeEvent(rng, stamp, 'member.role_changed', rng.pick(this.people.slice(0, 2)), {
      targets: [target('member', member.id, member.email)],
      changes: [{ field: 'role', old, new: member.role }],
    });
  }

  private removeMember(stamp: Stamp): EventInput {
    const rng = this.rng;
    const index = randomIndex(rng, this.members, (member) => member.removable);
    if (index < 0) return this.sendInvite(stamp);
    const [member] = this.members.splice(index, 1) as [Member];
    return makeEvent(rng, stamp, 'member.removed', this.admin(), {
      targets: [target('member', member.id, member.email)],
      changes: [{ field: 'role', old: member.role }],
    });
  }

  private updateWorkspace(stamp: Stamp): EventInput {
    const rng = this.rng;
    const { plan, retention_days } = this.workspace.state;
    const patch = rng.chance(0.5)
      ? { plan: rng.pick(['team', 'business', 'enterprise'].filter((p) => p !== plan)) }
      : { retention_days: rng.pick([90, 365, 730].filter((d) => d !== retention_days)) };
    return makeEvent(rng, stamp, 'workspace.updated', this.people[0] as CastMember, {
      targets: [workspaceTarget()],
      ...evolve(this.workspace, patch),
    });
  }
}
