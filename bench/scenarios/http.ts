/**
 * HTTP ingest: the real Fastify app on 127.0.0.1 with an ingest key, several clients posting
 * batches concurrently over keep-alive connections. Request bodies are serialized before the
 * clock starts, so the figure is the server's, not the client's JSON.stringify.
 */
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { DemoWorkspace } from '../../src/demo/generate.js';
import { buildApp } from '../../src/http/app.js';
import { AccountService } from '../../src/service/accounts.js';
import { LogService } from '../../src/service/log-service.js';
import type { Store } from '../../src/store/store.js';
import type { Batch } from '../dataset.js';

function post(
  agent: Agent,
  port: number,
  path: string,
  key: string,
  body: Buffer,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        agent,
        host: '127.0.0.1',
        port,
        path,
        method: 'POST',
        headers: {
          authorization: `Bearer ${key}`,
          'content-type': 'application/json',
          'content-length': body.length,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          if (res.statusCode !== 200 && res.statusCode !== 201) {
            reject(new Error(`HTTP ${res.statusCode}: ${Buffer.concat(chunks).toString()}`));
          } else resolve(res.statusCode);
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

export interface HttpRun {
  events: number;
  /** Wall time from the first request to the last response. */
  ms: number;
  requests: number;
}

/** `store` must be empty; the workspace is created here with an owner and an ingest key. */
export async function httpIngest(
  store: Store,
  workspace: DemoWorkspace,
  batches: readonly Batch[],
  clients: number,
): Promise<HttpRun> {
  const log = await LogService.open(store);
  const accounts = new AccountService(store);
  const init = await accounts.initWorkspace({
    workspace: workspace.id,
    ownerEmail: 'bench@example.com',
    keyScopes: ['ingest'],
  });
  await store.updateWorkspaceSettings(workspace.id, { ...workspace.settings });
  const key = init.keys.ingest;
  if (key === undefined) throw new Error('initWorkspace returned no ingest key');
  // Rate limiting is per credential and would measure the limiter; it is turned off here.
  const app = await buildApp({ log, accounts, rateLimit: false });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  const agent = new Agent({ keepAlive: true, maxSockets: clients });
  const path = `/api/v1/workspaces/${workspace.id}/events`;
  const bodies = batches.map((b) => Buffer.from(JSON.stringify({ events: b.events })));
  let next = 0;
  const client = async (): Promise<void> => {
    while (next < bodies.length) {
      const body = bodies[next++]!;
      await post(agent, port, path, key, body);
    }
  };
  try {
    const start = performance.now();
    await Promise.all(Array.from({ length: clients }, client));
    const ms = performance.now() - start;
    const events = batches.reduce((n, b) => n + b.events.length, 0);
    return { events, ms, requests: bodies.length };
  } finally {
    agent.destroy();
    await app.close();
  }
}
