/**
 * Acceptance: the Express middleware and the Fastify plugin fill `context` from real HTTP
 * requests to apps on 127.0.0.1, and `req.audit` records with the request's actor into the real
 * Trailkeep server.
 */
import express from 'express';
import Fastify from 'fastify';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  TrailkeepClient,
  trailkeepExpress,
  trailkeepFastify,
  type Actor,
  type AuditInput,
  type TrailkeepClientError,
  type TrustProxy,
} from '../../src/client/index.js';
import { startInProcess, type InProcessServer } from './support/trailkeep.js';

let trailkeep: InProcessServer;
let client: TrailkeepClient;
let reader: TrailkeepClient;

beforeAll(async () => {
  trailkeep = await startInProcess({ rateLimit: false });
  client = new TrailkeepClient({
    url: trailkeep.url,
    workspace: trailkeep.workspace,
    apiKey: trailkeep.keys.ingest,
    flushIntervalMs: 10,
  });
  reader = new TrailkeepClient({
    url: trailkeep.url,
    workspace: trailkeep.workspace,
    apiKey: trailkeep.keys.read,
  });
});
afterAll(async () => {
  await client.close();
  await trailkeep.close();
});

/** The product's own authentication: a signed-in user named by a header. */
function actorOf(headers: Record<string, string | string[] | undefined>): Actor | undefined {
  const user = headers['x-user'];
  return typeof user === 'string' ? { type: 'user', id: `u_${user}`, name: user } : undefined;
}

function jobCreated(
  headers: Record<string, string | string[] | undefined>,
  id: string,
): AuditInput {
  return {
    id: String(headers['x-event-id']),
    action: 'job.created',
    targets: [{ type: 'job', id }],
  };
}

interface App {
  url: string;
  close(): Promise<void>;
}

async function expressApp(trustProxy: TrustProxy): Promise<App> {
  const app = express();
  app.use(trailkeepExpress(client, { actor: (req) => actorOf(req.headers), trustProxy }));
  app.post('/jobs/:id', async (req, res) => {
    try {
      await req.audit(jobCreated(req.headers, req.params['id'] ?? ''));
      res.status(201).json({ context: req.auditContext });
    } catch (error) {
      res.status(422).json({ code: (error as TrailkeepClientError).code });
    }
  });
  const server: Server = await new Promise((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

async function fastifyApp(trustProxy: TrustProxy): Promise<App> {
  const app = Fastify();
  await app.register(
    trailkeepFastify(client, { actor: (request) => actorOf(request.headers), trustProxy }),
  );
  app.post<{ Params: { id: string } }>('/jobs/:id', async (request, reply) => {
    try {
      await request.audit(jobCreated(request.headers, request.params.id));
      return await reply.code(201).send({ context: request.auditContext });
    } catch (error) {
      return reply.code(422).send({ code: (error as TrailkeepClientError).code });
    }
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`,
    close: () => app.close(),
  };
}

const frameworks = [
  ['Express', expressApp],
  ['Fastify', fastifyApp],
] as const;

describe.each(frameworks)('%s', (name, start) => {
  let trusting: App;
  let direct: App;
  beforeAll(async () => {
    trusting = await start(['loopback']);
    direct = await start(false);
  });
  afterAll(async () => {
    await trusting.close();
    await direct.close();
  });

  it('records the actor, the client IP behind a trusted proxy, the user agent and the request id', async () => {
    const eventId = `evt_${name}_proxied`;
    const response = await fetch(`${trusting.url}/jobs/job_42`, {
      method: 'POST',
      headers: {
        'x-user': 'alex',
        'x-event-id': eventId,
        'x-forwarded-for': '198.51.100.1, 203.0.113.7',
        'user-agent': 'Mozilla/5.0 (test)',
        'x-request-id': 'req-from-proxy-1',
      },
    });
    expect(response.status).toBe(201);
    expect(response.headers.get('x-request-id')).toBe('req-from-proxy-1');
    await client.flush();
    const stored = await reader.getEvent(eventId);
    expect(stored.actor).toEqual({ type: 'user', id: 'u_alex', name: 'alex' });
    expect(stored.targets).toEqual([{ type: 'job', id: 'job_42' }]);
    // The loopback proxy is trusted, 203.0.113.7 is not: it is the client.
    expect(stored.context).toEqual({
      ip: '203.0.113.7',
      user_agent: 'Mozilla/5.0 (test)',
      request_id: 'req-from-proxy-1',
    });
  });

  it('ignores X-Forwarded-For from an untrusted peer and makes up a request id', async () => {
    const eventId = `evt_${name}_direct`;
    const response = await fetch(`${direct.url}/jobs/job_43`, {
      method: 'POST',
      headers: {
        'x-user': 'sam',
        'x-event-id': eventId,
        'x-forwarded-for': '6.6.6.6',
        'user-agent': 'curl/8.5',
      },
    });
    expect(response.status).toBe(201);
    const requestId = response.headers.get('x-request-id');
    expect(requestId).toMatch(/^req_[0-9a-z]{16}$/);
    await client.flush();
    const stored = await reader.getEvent(eventId);
    expect(stored.actor.id).toBe('u_sam');
    expect(stored.context).toEqual({
      ip: '127.0.0.1',
      user_agent: 'curl/8.5',
      request_id: requestId,
    });
  });

  it('refuses to audit a request without an actor', async () => {
    const response = await fetch(`${direct.url}/jobs/job_44`, {
      method: 'POST',
      headers: { 'x-event-id': 'evt_none' },
    });
    expect(response.status).toBe(422);
    expect(await response.json()).toEqual({ code: 'missing_actor' });
  });
});
