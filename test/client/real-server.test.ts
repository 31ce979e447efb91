/**
 * Acceptance against the real Trailkeep service on 127.0.0.1 (buildApp over a real SQLite file):
 * the client honours the server's 429 and 503 push-back, validation errors come back typed with
 * the failing event, local change tracking keeps secrets in the process, and the page iterator
 * returns every matching event once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  TrailkeepClient,
  TrailkeepClientError,
  ValidationError,
  defineResource,
  type FetchLike,
  type TrailkeepClientOptions,
} from '../../src/client/index.js';
import { startInProcess, type InProcessServer } from './support/trailkeep.js';

interface Exchange {
  status: number;
  retryAfter: string | null;
  sentAt: number;
}

/** A fetch that notes what the server answered and when each request left. */
function observedFetch(log: Exchange[]): FetchLike {
  return async (input, init) => {
    const sentAt = Date.now();
    const response = await fetch(input, init);
    log.push({ status: response.status, retryAfter: response.headers.get('retry-after'), sentAt });
    return response;
  };
}

/** Each request after a push-back left no earlier than its Retry-After allowed. */
function expectRetryAfterHonoured(log: readonly Exchange[], status: number): void {
  const pushBacks = log
    .map((entry, i) => ({ entry, next: log[i + 1] }))
    .filter(({ entry }) => entry.status === status);
  expect(pushBacks.length).toBeGreaterThan(0);
  for (const { entry, next } of pushBacks) {
    expect(entry.retryAfter).toMatch(/^\d+$/);
    expect(next).toBeDefined();
    // The response arrives a little after sentAt, so this lower bound is conservative.
    expect(next!.sentAt - entry.sentAt).toBeGreaterThanOrEqual(Number(entry.retryAfter) * 1000);
  }
}

function clientFor(
  server: InProcessServer,
  options: Partial<TrailkeepClientOptions> = {},
): TrailkeepClient {
  return new TrailkeepClient({
    url: server.url,
    workspace: server.workspace,
    apiKey: server.keys.ingest,
    flushIntervalMs: 10,
    retry: { baseMs: 5, maxMs: 50 },
    onError: () => undefined,
    ...options,
  });
}

function jobEvent(id: string, action = 'job.created') {
  return {
    action,
    actor: { type: 'user' as const, id: 'u_alex', name: 'Alex Kim' },
    targets: [{ type: 'job', id }],
  };
}

describe('push-back from the real server', () => {
  it('waits out 429 rate_limited as Retry-After says and stores each event once', async () => {
    const server = await startInProcess({ rateLimit: { burst: 2, ratePerSecond: 2 } });
    try {
      const log: Exchange[] = [];
      const client = clientFor(server, { batchSize: 1, fetch: observedFetch(log) });
      for (let n = 0; n < 5; n++) await client.record(jobEvent(`job_${n}`));
      await client.close();
      expectRetryAfterHonoured(log, 429);
      const reader = clientFor(server, {
        apiKey: server.keys.read,
        retry: { baseMs: 5, maxMs: 50, maxAttempts: 20 },
      });
      const stored = [];
      for await (const event of reader.events('action:job.created'))
        stored.push(event.targets[0]?.id);
      expect(stored.reverse()).toEqual(['job_0', 'job_1', 'job_2', 'job_3', 'job_4']);
    } finally {
      await server.close();
    }
  });

  it('waits out 503 overloaded as Retry-After says', async () => {
    const server = await startInProcess();
    const gate = server.app.trailkeep.appendGate;
    let held = 0;
    while (gate.tryAcquire()) held += 1;
    try {
      const log: Exchange[] = [];
      const client = clientFor(server, { fetch: observedFetch(log) });
      await client.record(jobEvent('job_overloaded'));
      const flushed = client.flush();
      while (!log.some((entry) => entry.status === 503))
        await new Promise((resolve) => setTimeout(resolve, 10));
      for (; held > 0; held--) gate.release();
      await flushed;
      await client.close();
      expectRetryAfterHonoured(log, 503);
      expect(log.at(-1)?.status).toBe(201);
    } finally {
      for (; held > 0; held--) gate.release();
      await server.close();
    }
  });
});

describe('the real server, one workspace', () => {
  let server: InProcessServer;
  beforeAll(async () => {
    server = await startInProcess({ rateLimit: false });
  });
  afterAll(async () => {
    await server.close();
  });

  it('returns a typed ValidationError naming the failing event, and stores the others', async () => {
    const errors: TrailkeepClientError[] = [];
    const client = clientFor(server, { onError: (error) => errors.push(error) });
    await client.record({ ...jobEvent('job_ok_1'), id: 'evt_valid_1' });
    await client.record({
      ...jobEvent('job_bad'),
      id: 'evt_invalid',
      actor: { type: 'robot' as 'user', id: 'r2' },
    });
    await client.record({ ...jobEvent('job_ok_2'), id: 'evt_valid_2' });
    const error = await client.flush().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ValidationError);
    const validation = error as ValidationError;
    expect(validation.code).toBe('validation_failed');
    expect(validation.status).toBe(400);
    expect(validation.rejected.map((r) => r.event.id)).toEqual(['evt_invalid']);
    expect(validation.issues).toHaveLength(1);
    expect(validation.issues[0]).toMatchObject({ index: 1, path: '$.actor.type' });
    expect(errors).toEqual([validation]);
    await client.close();

    const reader = clientFor(server, { apiKey: server.keys.read });
    expect((await reader.getEvent('evt_valid_1')).targets[0]?.id).toBe('job_ok_1');
    expect((await reader.getEvent('evt_valid_2')).targets[0]?.id).toBe('job_ok_2');
    await expect(reader.getEvent('evt_invalid')).rejects.toMatchObject({
      code: 'event_not_found',
      status: 404,
    });
  });

  it('refuses only the event with a reserved key (forbidden_key), and stores the others', async () => {
    const client = clientFor(server);
    await client.record({ ...jobEvent('job_ok_3'), id: 'evt_clean_1' });
    await client.record({
      ...jobEvent('job_poison'),
      id: 'evt_poison',
      metadata: JSON.parse('{"nested":{"constructor":{"prototype":{"x":1}}}}') as Record<
        string,
        never
      >,
    });
    await client.record({ ...jobEvent('job_ok_4'), id: 'evt_clean_2' });
    const error = await client.flush().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ValidationError);
    const refusal = error as ValidationError;
    expect(refusal.code).toBe('forbidden_key');
    expect(refusal.rejected.map((r) => r.event.id)).toEqual(['evt_poison']);
    expect(refusal.issues[0]).toMatchObject({ index: 1, path: '$.metadata.nested.constructor' });
    await client.close();

    const reader = clientFor(server, { apiKey: server.keys.read });
    expect((await reader.getEvent('evt_clean_1')).targets[0]?.id).toBe('job_ok_3');
    expect((await reader.getEvent('evt_clean_2')).targets[0]?.id).toBe('job_ok_4');
  });

  describe("the README's example recorded twice by its id", () => {
    const example = (id: string) => ({
      id,
      action: 'job.created',
      actor: { type: 'user' as const, id: 'u' },
    });

    /** Until the clock has passed `time`, so the client's next stamp differs (no timing check). */
    async function after(time: string): Promise<void> {
      while (new Date().toISOString() <= time) await new Promise((r) => setTimeout(r, 1));
    }

    it('is stored once and keeps its first time, with no error', async () => {
      const log: Exchange[] = [];
      const errors: TrailkeepClientError[] = [];
      const client = clientFor(server, {
        fetch: observedFetch(log),
        onError: (error) => errors.push(error),
      });
      const reader = clientFor(server, { apiKey: server.keys.read });
      await client.record(example('readme-sdk-1'));
      await client.flush();
      const first = await reader.getEvent('readme-sdk-1');
      await after(first.occurred_at);
      await client.record(example('readme-sdk-1'));
      await client.flush();
      await client.close();
      expect(errors).toEqual([]);
      // The second stamp conflicts; sent again without it, the server answers with the stored event.
      expect(log.map((entry) => entry.status)).toEqual([201, 409, 200]);
      expect(await reader.getEvent('readme-sdk-1')).toEqual(first);
    });

    it('is stored once when both copies wait for the same batch', async () => {
      const log: Exchange[] = [];
      const sent: string[] = [];
      const observed = observedFetch(log);
      const errors: TrailkeepClientError[] = [];
      const client = clientFor(server, {
        fetch: (input, init) => {
          sent.push(init?.body as string);
          return observed(input, init);
        },
        onError: (error) => errors.push(error),
        flushIntervalMs: 60_000,
      });
      await client.record(example('readme-sdk-2'));
      await after(new Date().toISOString());
      await client.record(example('readme-sdk-2'));
      await client.close();
      expect(errors).toEqual([]);
      // Two requests, as the server refuses two different copies of an id in one batch.
      expect(log.map((entry) => entry.status)).toEqual([201, 409, 200]);
      const [firstTime, secondTime] = sent.map(
        (body) => (JSON.parse(body) as { events: Array<{ occurred_at?: string }> }).events[0]!,
      );
      expect(firstTime!.occurred_at).not.toBe(secondTime!.occurred_at);
      const reader = clientFor(server, { apiKey: server.keys.read });
      expect((await reader.getEvent('readme-sdk-2')).occurred_at).toBe(firstTime!.occurred_at);
    });

    it('still reports a conflict on a field the caller set', async () => {
      const errors: TrailkeepClientError[] = [];
      const client = clientFor(server, { onError: (error) => errors.push(error) });
      await client.record(example('readme-sdk-3'));
      await client.flush();
      await client.record({ ...example('readme-sdk-3'), outcome: 'failure' });
      await client.flush().catch(() => undefined);
      await client.close();
      expect(errors).toHaveLength(1);
      expect(errors[0]).toBeInstanceOf(ValidationError);
      expect(errors[0]!.code).toBe('event_id_conflict');
      expect((errors[0] as ValidationError).issues.map((issue) => issue.path)).toContain(
        '$.outcome',
      );
    });
  });

  it('refuses a read with an ingest key as an AuthError', async () => {
    const client = clientFor(server);
    await expect(client.getEvent('evt_valid_1')).rejects.toMatchObject({
      name: 'AuthError',
      status: 403,
    });
  });

  it('diffs locally with the resource schema, so the secret never reaches the server', async () => {
    const client = clientFor(server);
    const user = defineResource('user', {
      email: 'track',
      role: 'track',
      hashed_password: 'secret',
      last_seen_at: 'ignore',
    });
    await client.record({
      id: 'evt_role_changed',
      action: 'member.role_changed',
      actor: { type: 'user', id: 'u_alex' },
      targets: [{ type: 'user', id: 'u_sam' }],
      resource: user,
      before: {
        email: 'sam@example.com',
        role: 'member',
        hashed_password: 'scrypt$old',
        last_seen_at: '1',
      },
      after: {
        email: 'sam@example.com',
        role: 'admin',
        hashed_password: 'scrypt$new',
        last_seen_at: '2',
      },
    });
    await client.close();
    const reader = clientFor(server, { apiKey: server.keys.read });
    const stored = await reader.getEvent('evt_role_changed');
    expect(stored.changes).toEqual([
      { field: 'hashed_password', secret: true },
      { field: 'role', old: 'member', new: 'admin' },
    ]);
    expect(JSON.stringify(stored)).not.toContain('scrypt$');
  });

  it('iterates every matching event exactly once, even while new ones arrive', async () => {
    const writer = clientFor(server, { batchSize: 50 });
    for (let n = 0; n < 45; n++)
      await writer.record(jobEvent(`iter_${n}`, n % 3 === 0 ? 'job.deleted' : 'job.updated'));
    for (let n = 0; n < 10; n++) await writer.record(jobEvent(`other_${n}`, 'runner.claimed'));
    await writer.flush();

    const reader = clientFor(server, { apiKey: server.keys.read });
    const seen: string[] = [];
    for await (const event of reader.events({
      q: 'action:job.updated action:job.deleted',
      limit: 7,
    })) {
      seen.push(event.targets[0]?.id ?? '');
      // Newer events stored mid-iteration are not part of the pages still to come.
      if (seen.length === 8) {
        await writer.record(jobEvent('iter_late', 'job.updated'));
        await writer.flush();
      }
    }
    await writer.close();
    const expected = Array.from({ length: 45 }, (_, n) => `iter_${n}`);
    expect(seen).toHaveLength(45);
    expect([...seen].sort()).toEqual([...expected].sort());
  });
});
