/**
 * Acceptance for examples/jobs-app: pointed at a running `trailkeep serve`, each user action
 * appears in the log with the right actor, target, changes (secrets hidden) and context, and
 * nothing is lost while Trailkeep is down and restarted.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createJobsApp } from '../../examples/jobs-app/app.js';
import { TrailkeepClient, type StoredEvent } from '../../src/client/index.js';
import { freePort, initDatabase, startServe, type ServeProcess } from './support/trailkeep.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('examples/jobs-app', () => {
  it('records every user action with actor, target, redacted changes and context', async () => {
    const { dir, db, keys } = await initDatabase();
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const port = await freePort();
    let trailkeep: ServeProcess = await startServe(db, port);
    cleanups.push(() => trailkeep.stop('SIGKILL'));
    const spoolDir = await mkdtemp(join(tmpdir(), 'tk-jobs-app-'));
    cleanups.push(() => rm(spoolDir, { recursive: true, force: true }));

    const client = new TrailkeepClient({
      url: trailkeep.url,
      workspace: 'acme',
      apiKey: keys.ingest,
      spoolDir,
      flushIntervalMs: 20,
      retry: { baseMs: 20, maxMs: 200 },
    });
    const server: Server = await new Promise((resolve) => {
      const listening = createJobsApp(client, { trustProxy: ['loopback'] }).listen(
        0,
        '127.0.0.1',
        () => resolve(listening),
      );
    });
    cleanups.push(() => new Promise((resolve) => server.close(resolve)));
    const appUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    const as = (email: string, requestId: string) => ({
      'x-user-email': email,
      'x-request-id': requestId,
      'x-forwarded-for': '203.0.113.7',
      'user-agent': 'jobs-app-test/1.0',
      'content-type': 'application/json',
    });
    const call = async (
      method: string,
      path: string,
      headers: Record<string, string>,
      body?: unknown,
    ) => {
      const response = await fetch(`${appUrl}${path}`, {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return {
        status: response.status,
        body:
          response.status === 204 ? undefined : ((await response.json()) as Record<string, string>),
      };
    };

    const alex = 'alex@example.com';
    const sam = 'sam@example.com';
    expect((await call('POST', '/session', as(alex, 'req-1'))).status).toBe(200);
    const created = await call('POST', '/jobs', as(alex, 'req-2'), {
      name: 'nightly-build',
      schedule: '0 2 * * *',
      webhook_secret: 'whsec_first',
    });
    expect(created.status).toBe(201);
    const jobId = created.body!['id']!;

    // Trailkeep goes down; the app keeps answering and its events wait in the spool.
    await trailkeep.stop('SIGKILL');
    expect(
      (
        await call('PATCH', `/jobs/${jobId}`, as(alex, 'req-3'), {
          schedule: '0 3 * * *',
          webhook_secret: 'whsec_rotated',
        })
      ).status,
    ).toBe(200);
    expect(
      (await call('PATCH', '/users/u_kai/role', as(sam, 'req-4'), { role: 'admin' })).status,
    ).toBe(403);
    expect(
      (await call('PATCH', '/users/u_sam/role', as(alex, 'req-5'), { role: 'admin' })).status,
    ).toBe(200);
    trailkeep = await startServe(db, port);
    expect((await call('DELETE', `/jobs/${jobId}`, as(sam, 'req-6'))).status).toBe(204);
    await client.close();

    const reader = new TrailkeepClient({
      url: trailkeep.url,
      workspace: 'acme',
      apiKey: keys.read,
    });
    const log: StoredEvent[] = [];
    for await (const event of reader.events()) log.push(event);
    log.sort((a, b) => a.seq - b.seq);
    const summary = log.map((e) => ({
      action: e.action,
      actor: e.actor.email,
      target: `${e.targets[0]?.type}:${e.targets[0]?.id}`,
      outcome: e.outcome,
      changes: e.changes,
      request: e.context.request_id,
    }));
    expect(summary).toEqual([
      {
        action: 'user.login',
        actor: alex,
        target: 'user:u_alex',
        outcome: 'success',
        changes: [],
        request: 'req-1',
      },
      {
        action: 'job.created',
        actor: alex,
        target: `job:${jobId}`,
        outcome: 'success',
        changes: [
          { field: 'name', new: 'nightly-build' },
          { field: 'schedule', new: '0 2 * * *' },
          { field: 'state', new: 'ready' },
          { field: 'webhook_secret', secret: true },
        ],
        request: 'req-2',
      },
      {
        action: 'job.updated',
        actor: alex,
        target: `job:${jobId}`,
        outcome: 'success',
        changes: [
          { field: 'schedule', old: '0 2 * * *', new: '0 3 * * *' },
          { field: 'webhook_secret', secret: true },
        ],
        request: 'req-3',
      },
      {
        action: 'member.role_changed',
        actor: sam,
        target: 'user:u_kai',
        outcome: 'failure',
        changes: [],
        request: 'req-4',
      },
      {
        action: 'member.role_changed',
        actor: alex,
        target: 'user:u_sam',
        outcome: 'success',
        changes: [{ field: 'role', old: 'member', new: 'admin' }],
        request: 'req-5',
      },
      {
        action: 'job.deleted',
        actor: sam,
        target: `job:${jobId}`,
        outcome: 'success',
        changes: [
          { field: 'name', old: 'nightly-build' },
          { field: 'schedule', old: '0 3 * * *' },
          { field: 'state', old: 'ready' },
          { field: 'webhook_secret', secret: true },
        ],
        request: 'req-6',
      },
    ]);
    for (const event of log) {
      expect(event.context).toMatchObject({ ip: '203.0.113.7', user_agent: 'jobs-app-test/1.0' });
      expect(event.operation).toBe(
        {
          'user.login': 'other',
          'job.created': 'create',
          'job.updated': 'update',
          'job.deleted': 'delete',
          'member.role_changed': 'update',
        }[event.action],
      );
    }
    expect(JSON.stringify(log)).not.toMatch(/whsec_|scrypt\$/);
  });
});
