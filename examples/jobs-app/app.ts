/**
 * A small job-runner product that records its users' actions in Trailkeep with the SDK. People
 * sign in with a header (`X-User-Email`, standing in for real authentication); they create,
 * update and delete jobs, and admins change members' roles. Every action is recorded with the
 * signed-in actor, the job or user it touched, its changes (secrets hidden before they leave the
 * process) and the request's context.
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import { randomUUID } from 'node:crypto';
import {
  defineResource,
  trailkeepExpress,
  type Actor,
  type JsonObject,
  type TrailkeepClient,
  type TrustProxy,
} from '../../src/client/index.js';

/** Which fields of a job are kept in the audit log, and how. */
export const jobResource = defineResource('job', {
  // The id is the event's target already.
  id: 'ignore',
  name: 'track',
  schedule: 'track',
  state: 'track',
  webhook_secret: 'secret',
  created_at: 'ignore',
  updated_at: 'ignore',
});

export const userResource = defineResource('user', {
  id: 'ignore',
  email: 'track',
  name: 'track',
  role: 'track',
  hashed_password: 'secret',
  last_seen_at: 'ignore',
});

type Role = 'owner' | 'admin' | 'member';

interface User {
  id: string;
  email: string;
  name: string;
  role: Role;
  hashed_password: string;
  last_seen_at: string | null;
  [field: string]: string | null;
}

interface Job {
  id: string;
  name: string;
  schedule: string;
  state: 'ready' | 'paused';
  webhook_secret: string;
  created_at: string;
  updated_at: string;
  [field: string]: string;
}

export interface JobsAppOptions {
  trustProxy?: TrustProxy;
}

const ROLES: readonly Role[] = ['owner', 'admin', 'member'];

function seedUsers(): Map<string, User> {
  const users: User[] = [
    {
      id: 'u_alex',
      email: 'alex@example.com',
      name: 'Alex Kim',
      role: 'owner',
      hashed_password: 'scrypt$alex',
      last_seen_at: null,
    },
    {
      id: 'u_sam',
      email: 'sam@example.com',
      name: 'Sam Lee',
      role: 'member',
      hashed_password: 'scrypt$sam',
      last_seen_at: null,
    },
    {
      id: 'u_kai',
      email: 'kai@example.com',
      name: 'Kai Ito',
      role: 'member',
      hashed_password: 'scrypt$kai',
      last_seen_at: null,
    },
  ];
  return new Map(users.map((user) => [user.id, user]));
}

/** A JSON copy of a record, as the audit log sees it. */
function snapshot(record: User | Job): JsonObject {
  return { ...record };
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

export function createJobsApp(
  client: TrailkeepClient,
  options: JobsAppOptions = {},
): express.Express {
  const users = seedUsers();
  const jobs = new Map<string, Job>();
  const signedIn = new WeakMap<Request, User>();

  const app = express();
  app.use(express.json());

  // Our own authentication: the header names the person.
  app.use((req: Request, res: Response, next: NextFunction) => {
    const email = req.header('x-user-email');
    const user = [...users.values()].find((u) => u.email === email);
    if (user === undefined) {
      res.status(401).json({ error: 'sign in with the X-User-Email header' });
      return;
    }
    signedIn.set(req, user);
    next();
  });

  // Trailkeep: context from the request, the actor from our authentication.
  app.use(
    trailkeepExpress(client, {
      actor: (req): Actor | undefined => {
        const user = signedIn.get(req);
        return user && { type: 'user', id: user.id, name: user.name, email: user.email };
      },
      ...(options.trustProxy === undefined ? {} : { trustProxy: options.trustProxy }),
    }),
  );

  const userOf = (req: Request): User => {
    const user = signedIn.get(req);
    if (user === undefined) throw new Error('authentication middleware did not run');
    return user;
  };

  app.post('/session', async (req, res) => {
    const user = userOf(req);
    const before = snapshot(user);
    user.last_seen_at = new Date().toISOString();
    await req.audit({
      action: 'user.login',
      targets: [{ type: 'user', id: user.id, name: user.email }],
      resource: userResource,
      before,
      after: snapshot(user),
    });
    res.json({ user: { id: user.id, email: user.email, role: user.role } });
  });

  app.get('/jobs', (_req, res) => {
    res.json({ jobs: [...jobs.values()].map(({ webhook_secret: _secret, ...job }) => job) });
  });

  app.post('/jobs', async (req, res) => {
    const body = req.body as Record<string, unknown>;
    const name = text(body['name']);
    if (name === undefined) {
      res.status(400).json({ error: 'name is required' });
      return;
    }
    const now = new Date().toISOString();
    const job: Job = {
      id: `job_${randomUUID().slice(0, 8)}`,
      name,
      schedule: text(body['schedule']) ?? '@daily',
      state: 'ready',
      webhook_secret: text(body['webhook_secret']) ?? randomUUID(),
      created_at: now,
      updated_at: now,
    };
    jobs.set(job.id, job);
    await req.audit({
      action: 'job.created',
      targets: [{ type: 'job', id: job.id, name: job.name }],
      resource: jobResource,
      after: snapshot(job),
    });
    res.status(201).json({ id: job.id });
  });

  app.patch('/jobs/:id', async (req, res) => {
    const job = jobs.get(req.params['id'] ?? '');
    if (job === undefined) {
      res.status(404).json({ error: 'no such job' });
      return;
    }
    const body = req.body as Record<string, unknown>;
    const before = snapshot(job);
    for (const field of ['name', 'schedule', 'webhook_secret'] as const) {
      const value = text(body[field]);
      if (value !== undefined) job[field] = value;
    }
    if (body['state'] === 'ready' || body['state'] === 'paused') job.state = body['state'];
    job.updated_at = new Date().toISOString();
    await req.audit({
      action: 'job.updated',
      targets: [{ type: 'job', id: job.id, name: job.name }],
      resource: jobResource,
      before,
      after: snapshot(job),
    });
    res.json({ id: job.id });
  });

  app.delete('/jobs/:id', async (req, res) => {
    const job = jobs.get(req.params['id'] ?? '');
    if (job === undefined) {
      res.status(404).json({ error: 'no such job' });
      return;
    }
    jobs.delete(job.id);
    await req.audit({
      action: 'job.deleted',
      targets: [{ type: 'job', id: job.id, name: job.name }],
      resource: jobResource,
      before: snapshot(job),
    });
    res.status(204).end();
  });

  app.patch('/users/:id/role', async (req, res) => {
    const actor = userOf(req);
    const member = users.get(req.params['id'] ?? '');
    const role = (req.body as Record<string, unknown>)['role'];
    if (member === undefined || !ROLES.includes(role as Role)) {
      res.status(400).json({ error: 'unknown user or role' });
      return;
    }
    const target = { type: 'user', id: member.id, name: member.email };
    if (actor.role === 'member') {
      // Refused attempts belong in the audit log too.
      await req.audit({
        action: 'member.role_changed',
        outcome: 'failure',
        targets: [target],
        metadata: { requested_role: String(role) },
      });
      res.status(403).json({ error: 'only owners and admins change roles' });
      return;
    }
    const before = snapshot(member);
    member.role = role as Role;
    await req.audit({
      action: 'member.role_changed',
      targets: [target],
      resource: userResource,
      before,
      after: snapshot(member),
    });
    res.json({ id: member.id, role: member.role });
  });

  return app;
}
