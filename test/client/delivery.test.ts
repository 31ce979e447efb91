/**
 * The sender's behaviour under scripted answers (batching, back-off, Retry-After, refusals,
 * a full buffer, the spool), against a throwaway HTTP server on 127.0.0.1. What Trailkeep itself
 * answers is covered by the acceptance tests against the real server.
 */
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  AuthError,
  BufferFullError,
  TrailkeepClient,
  TrailkeepClientError,
  ValidationError,
  defineResource,
  type TrailkeepClientOptions,
} from '../../src/client/index.js';
import {
  acknowledge,
  startScriptedServer,
  type Script,
  type ScriptedServer,
} from './support/scripted-server.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(
  script: Script,
  options: Partial<TrailkeepClientOptions> = {},
): Promise<{ server: ScriptedServer; client: TrailkeepClient; errors: TrailkeepClientError[] }> {
  const server = await startScriptedServer(script);
  const errors: TrailkeepClientError[] = [];
  const client = new TrailkeepClient({
    url: server.url,
    workspace: 'acme',
    apiKey: 'tk_ingest_test',
    flushIntervalMs: 60_000,
    retry: { baseMs: 5, maxMs: 20 },
    onError: (error) => errors.push(error),
    ...options,
  });
  cleanups.push(() => server.close());
  cleanups.push(() => client.close({ timeoutMs: 200 }).catch(() => undefined));
  return { server, client, errors };
}

function event(n: number) {
  return {
    action: 'job.created',
    actor: { type: 'user' as const, id: 'u_1' },
    targets: [{ type: 'job', id: `job_${n}` }],
  };
}

function delivered(server: ScriptedServer): string[] {
  return server.requests
    .filter((r) => r.method === 'POST')
    .flatMap((r) => r.events.map((e) => String((e.targets as Array<{ id: string }>)[0]?.id)));
}

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 10));
}

describe('batching', () => {
  it('sends full batches as soon as they fill, in record order, with each id once', async () => {
    const { server, client } = await setup(acknowledge, { batchSize: 10 });
    for (let n = 0; n < 25; n++) await client.record(event(n));
    await client.flush();
    expect(delivered(server)).toEqual(Array.from({ length: 25 }, (_, n) => `job_${n}`));
    expect(Math.max(...server.requests.map((r) => r.events.length))).toBeLessThanOrEqual(10);
    const ids = server.requests.flatMap((r) => r.events.map((e) => e.id));
    expect(new Set(ids).size).toBe(25);
    for (const id of ids) expect(id).toMatch(/^evt_[0-9a-z]{26}$/);
    const [first] = server.requests;
    expect(first?.url).toBe('/api/v1/workspaces/acme/events');
    expect(first?.headers.authorization).toBe('Bearer tk_ingest_test');
  });

  it('sends a partial batch after flushIntervalMs without a flush()', async () => {
    const { server, client } = await setup(acknowledge, { batchSize: 100, flushIntervalMs: 30 });
    for (let n = 0; n < 3; n++) await client.record(event(n));
    await until(() => server.requests.length > 0);
    expect(server.requests).toHaveLength(1);
    expect(delivered(server)).toEqual(['job_0', 'job_1', 'job_2']);
  });

  it('fills occurred_at when absent and keeps ids and times given by the caller', async () => {
    const { server, client } = await setup(acknowledge);
    await client.record({ ...event(0), id: 'evt_mine', occurred_at: '2026-05-12T09:30:00.000Z' });
    await client.record(event(1));
    await client.flush();
    const [given, filled] = server.requests[0]!.events;
    expect(given).toMatchObject({ id: 'evt_mine', occurred_at: '2026-05-12T09:30:00.000Z' });
    expect(Date.parse(String(filled?.occurred_at))).not.toBeNaN();
  });
});

describe('retries', () => {
  it('honours Retry-After in seconds on 503, re-sending the same ids', async () => {
    const script: Script = (request, i) =>
      i === 0
        ? { status: 503, headers: { 'retry-after': '1' }, body: { code: 'overloaded' } }
        : acknowledge(request);
    const { server, client } = await setup(script, { retry: { baseMs: 1, maxMs: 5 } });
    await client.record(event(0));
    await client.record(event(1));
    await client.flush();
    const [refused, accepted] = server.requests;
    expect(accepted!.at - refused!.at).toBeGreaterThanOrEqual(950);
    expect(accepted!.body).toBe(refused!.body);
  });

  it('honours Retry-After as an HTTP date on 429', async () => {
    const script: Script = (request, i) =>
      i === 0
        ? { status: 429, headers: { 'retry-after': new Date(Date.now() + 2000).toUTCString() } }
        : acknowledge(request);
    const { server, client } = await setup(script, { retry: { baseMs: 1, maxMs: 5 } });
    await client.record(event(0));
    await client.flush();
    expect(server.requests).toHaveLength(2);
    // The date has one-second precision, so the wait is at least one second.
    expect(server.requests[1]!.at - server.requests[0]!.at).toBeGreaterThanOrEqual(950);
  });

  it('backs off on 5xx and connection failures until acknowledged', async () => {
    let failures = 0;
    const script: Script = (request) => {
      if (failures < 3) {
        failures += 1;
        return { status: failures === 2 ? 502 : 500 };
      }
      return acknowledge(request);
    };
    const { server, client } = await setup(script);
    await client.record(event(0));
    await client.flush();
    expect(server.requests).toHaveLength(4);
    expect(new Set(server.requests.map((r) => r.body)).size).toBe(1);
  });

  it('waits through an unreachable server', async () => {
    const server = await startScriptedServer(acknowledge);
    const url = server.url;
    await server.close();
    const client = new TrailkeepClient({
      url,
      workspace: 'acme',
      apiKey: 'k',
      retry: { baseMs: 5, maxMs: 20, maxAttempts: 3 },
      onError: () => undefined,
    });
    await client.record(event(0));
    const error = await client.flush().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(TrailkeepClientError);
    expect((error as TrailkeepClientError).code).toBe('delivery_failed');
    expect((error as TrailkeepClientError).message).toMatch(
      /gave up on 1 event\(s\) after 3 attempts: cannot reach/,
    );
    expect((error as TrailkeepClientError).events).toHaveLength(1);
    await client.close();
  });
});

describe('refusals', () => {
  it('reports a ValidationError naming the refused event and delivers the others', async () => {
    const script: Script = (request, i) =>
      i === 0
        ? {
            status: 400,
            body: {
              code: 'validation_failed',
              detail: 'event 1: $.actor.type must be one of user, agent, ...',
              issues: [
                { index: 1, path: '$.actor.type', message: 'must be one of user, agent, ...' },
              ],
            },
          }
        : acknowledge(request);
    const { server, client, errors } = await setup(script);
    await client.record(event(0));
    await client.record({ ...event(1), actor: { type: 'robot' as 'user', id: 'r' } });
    await client.record(event(2));
    const error = await client.flush().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ValidationError);
    const validation = error as ValidationError;
    expect(validation.status).toBe(400);
    expect(validation.rejected).toHaveLength(1);
    expect(validation.rejected[0]!.event.targets?.[0]?.id).toBe('job_1');
    expect(validation.issues).toEqual([
      { index: 1, path: '$.actor.type', message: 'must be one of user, agent, ...' },
    ]);
    expect(errors).toEqual([validation]);
    expect(
      server.requests[1]!.events.map((e) => (e.targets as Array<{ id: string }>)[0]?.id),
    ).toEqual(['job_0', 'job_2']);
    // The error was returned once; the next flush has nothing to report.
    await client.flush();
  });

  it('halves a batch the server finds too large', async () => {
    const script: Script = (request) =>
      request.events.length > 2
        ? { status: 413, body: { code: 'payload_too_large' } }
        : acknowledge(request);
    const { server, client } = await setup(script);
    for (let n = 0; n < 5; n++) await client.record(event(n));
    await client.flush();
    expect(delivered(server).slice(-5)).toEqual(['job_0', 'job_1', 'job_2', 'job_3', 'job_4']);
  });

  it('rejects flush() with an AuthError at once on 401 and keeps the events', async () => {
    let keyValid = false;
    const script: Script = (request) =>
      keyValid
        ? acknowledge(request)
        : { status: 401, body: { code: 'unauthenticated', detail: 'unknown API key' } };
    const { server, client, errors } = await setup(script, { retry: { baseMs: 20, maxMs: 50 } });
    await client.record(event(0));
    const error = await client.flush().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(AuthError);
    expect((error as AuthError).message).toBe('unknown API key');
    expect((error as AuthError).status).toBe(401);
    expect(errors).toHaveLength(1);
    keyValid = true;
    await client.flush();
    expect(delivered(server).at(-1)).toBe('job_0');
  });
});

describe('a full buffer', () => {
  it("rejects with BufferFullError under whenFull 'reject'", async () => {
    const { client } = await setup(() => ({ status: 503 }), { maxBuffer: 3, whenFull: 'reject' });
    for (let n = 0; n < 3; n++) await client.record(event(n));
    await expect(client.record(event(3))).rejects.toBeInstanceOf(BufferFullError);
    const closing = await client.close({ timeoutMs: 50 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((closing as TrailkeepClientError).code).toBe('delivery_failed');
    expect((closing as TrailkeepClientError).message).toBe(
      'close: 3 event(s) not delivered within 50 ms; they are lost',
    );
    expect((closing as TrailkeepClientError).events).toHaveLength(3);
  });

  it("waits for room under whenFull 'wait' and keeps the order", async () => {
    const { server, client } = await setup(acknowledge, {
      maxBuffer: 4,
      batchSize: 2,
      whenFull: 'wait',
    });
    await Promise.all(Array.from({ length: 20 }, (_, n) => client.record(event(n))));
    await client.flush();
    expect(delivered(server)).toEqual(Array.from({ length: 20 }, (_, n) => `job_${n}`));
  });
});

describe('local change tracking', () => {
  it('sends only redacted changes when a resource schema is given', async () => {
    const { server, client } = await setup(acknowledge);
    const job = defineResource('job', {
      name: 'track',
      webhook_secret: 'secret',
      updated_at: 'ignore',
    });
    await client.record({
      ...event(0),
      action: 'job.updated',
      resource: job,
      before: { name: 'nightly', webhook_secret: 's3cr3t-old', updated_at: '1' },
      after: { name: 'hourly', webhook_secret: 's3cr3t-new', updated_at: '2' },
    });
    await client.flush();
    const body = server.requests[0]!.body;
    expect(body).not.toContain('s3cr3t');
    const sent = server.requests[0]!.events[0]!;
    expect(sent.before).toBeUndefined();
    expect(sent.after).toBeUndefined();
    expect(sent.resource).toBeUndefined();
    expect(sent.changes).toEqual([
      { field: 'name', old: 'nightly', new: 'hourly' },
      { field: 'webhook_secret', secret: true },
    ]);
  });
});

describe('a resource schema naming a reserved field', () => {
  it.each(['__proto__', 'constructor', 'settings.prototype'])(
    'is refused where it is declared: %s',
    (field) => {
      expect(() => defineResource('job', JSON.parse(`{"${field}":"secret"}`))).toThrow(
        expect.objectContaining({ code: 'invalid_options' }),
      );
    },
  );
});

describe('local change tracking without a schema', () => {
  it('applies the default rules: names that look secret are hidden', async () => {
    const { server, client } = await setup(acknowledge);
    await client.record({
      ...event(0),
      action: 'token.rotated',
      diffLocally: true,
      before: { label: 'ci', api_key: 'tk_old_value' },
      after: { label: 'ci-bot', api_key: 'tk_new_value' },
    });
    await client.flush();
    expect(server.requests[0]!.body).not.toContain('_value');
    expect(server.requests[0]!.events[0]!.changes).toEqual([
      { field: 'api_key', secret: true },
      { field: 'label', old: 'ci', new: 'ci-bot' },
    ]);
  });

  it('sends before and after unchanged when not asked to diff', async () => {
    const { server, client } = await setup(acknowledge);
    await client.record({ ...event(0), before: { label: 'a' }, after: { label: 'b' } });
    await client.flush();
    expect(server.requests[0]!.events[0]).toMatchObject({
      before: { label: 'a' },
      after: { label: 'b' },
    });
  });
});

describe('the spool', () => {
  it('keeps undelivered events on disk and a new client delivers them first, in order', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tk-spool-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const down = await setup(() => ({ status: 503 }), { spoolDir: dir });
    for (let n = 0; n < 5; n++) await down.client.record(event(n));
    await expect(down.client.close({ timeoutMs: 50 })).rejects.toThrow(/they remain in the spool/);
    expect((await readdir(dir)).filter((f) => f.endsWith('.ndjson'))).toHaveLength(1);

    const up = await setup(acknowledge, { spoolDir: dir });
    await up.client.record(event(5));
    await up.client.flush();
    expect(delivered(up.server)).toEqual(['job_0', 'job_1', 'job_2', 'job_3', 'job_4', 'job_5']);
    const firstIds = down.server.requests[0]!.events.map((e) => e.id);
    expect(up.server.requests.flatMap((r) => r.events.map((e) => e.id)).slice(0, 5)).toEqual(
      firstIds,
    );
    await up.client.close();
    expect(await readdir(dir)).toEqual([]);
  });

  it('refuses a spool directory that a live client owns', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tk-spool-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const first = await setup(acknowledge, { spoolDir: dir });
    await first.client.record(event(0));
    const second = await setup(acknowledge, { spoolDir: dir });
    await expect(second.client.record(event(1))).rejects.toMatchObject({ code: 'spool_locked' });
    await first.client.close();
    // Another live process (here: this test's parent) holding the lock is refused as well.
    await writeFile(join(dir, 'lock'), String(process.ppid));
    const third = await setup(acknowledge, { spoolDir: dir });
    await expect(third.client.flush()).rejects.toThrow(`is in use by process ${process.ppid}`);
  });
});
