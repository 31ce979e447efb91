/**
 * Reading the log must not flood it: a person's repeated question within the view window is one
 * `trailkeep.log.viewed`, and a session's sign-in is recorded once per workspace it reaches,
 * also after a restart (a new SelfAudit over the same store). Real SQLite file.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LogService } from '../../src/service/log-service.js';
import { SelfAudit, sessionReference } from '../../src/service/self-audit.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import type { SessionRecord, Store } from '../../src/store/store.js';

let dir: string;
let store: Store;
let log: LogService;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tk-self-audit-'));
  store = await openSqliteStore(join(dir, 'log.db'));
  log = await LogService.open(store);
  for (const id of ['one', 'two']) await store.createWorkspace({ id, name: id, settings: {} });
});

afterAll(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const alex = { type: 'user' as const, id: 'u_alex', email: 'alex@example.test' };
const sam = { type: 'user' as const, id: 'u_sam', email: 'sam@example.test' };

async function count(workspace: string, q: string): Promise<number> {
  return (await log.query(workspace, { q, limit: 100, withCount: false })).events.length;
}

describe('log views', () => {
  it('records a question once per person within the window, and again after it', async () => {
    let now = Date.parse('2026-12-01T10:00:00Z');
    const audit = new SelfAudit(log, { clock: () => new Date(now), viewWindowMs: 15 * 60_000 });
    const views = () => count('one', 'action:trailkeep.log.viewed');
    for (let i = 0; i < 10; i++) await audit.logViewed('one', { actor: alex }, 'action:job.*');
    expect(await views()).toBe(1);
    // Another question, another person, another workspace: each is a view of its own.
    await audit.logViewed('one', { actor: alex }, 'action:member.*');
    await audit.logViewed('one', { actor: sam }, 'action:job.*');
    await audit.logViewed('two', { actor: alex }, 'action:job.*');
    expect(await views()).toBe(3);
    now += 14 * 60_000;
    await audit.logViewed('one', { actor: alex }, 'action:job.*');
    expect(await views()).toBe(3);
    now += 2 * 60_000;
    await audit.logViewed('one', { actor: alex }, 'action:job.*');
    expect(await views()).toBe(4);
    const [newest] = (await log.query('one', { q: 'action:trailkeep.log.viewed', limit: 1 }))
      .events;
    expect(newest).toMatchObject({ category: 'trailkeep', metadata: { query: 'action:job.*' } });
  });
});

describe('sign-ins', () => {
  const session: SessionRecord = {
    id_hash: 'a'.repeat(64),
    user_id: alex.id,
    csrf_token: 'csrf',
    created_at: '2026-12-01T09:00:00.000Z',
    expires_at: '2026-12-01T21:00:00.000Z',
  };
  const signIns = (ws: string) => count(ws, 'action:trailkeep.login.succeeded');

  it('is recorded where the session goes, once, dated when it began, even across restarts', async () => {
    const audit = new SelfAudit(log);
    await Promise.all(
      Array.from({ length: 5 }, () => audit.sessionReached('one', { actor: alex }, alex, session)),
    );
    expect(await signIns('one')).toBe(1);
    expect(await signIns('two')).toBe(0);
    const [event] = (await log.query('one', { q: 'action:trailkeep.login.succeeded', limit: 1 }))
      .events;
    expect(event).toMatchObject({
      occurred_at: session.created_at,
      category: 'trailkeep',
      outcome: 'success',
      metadata: { session: sessionReference(session) },
    });
    // The reference names the session without revealing its token's hash.
    expect(JSON.stringify(event)).not.toContain(session.id_hash);

    const restarted = new SelfAudit(log);
    await restarted.sessionReached('one', { actor: alex }, alex, session);
    expect(await signIns('one')).toBe(1);
    await restarted.sessionReached('two', { actor: alex }, alex, session);
    expect(await signIns('two')).toBe(1);

    const later = { ...session, id_hash: 'b'.repeat(64), created_at: '2026-12-01T12:00:00.000Z' };
    await restarted.sessionReached('one', { actor: alex }, alex, later);
    expect(await signIns('one')).toBe(2);
  });
});

describe("Trailkeep's own names are reserved", () => {
  it('refuses a product event with a trailkeep. action or the trailkeep category, storing nothing', async () => {
    const before = await store.treeSize('one');
    for (const event of [
      { action: 'trailkeep.login.succeeded', actor: alex },
      { action: 'Trailkeep.Log.Viewed', actor: alex },
      { action: 'user.login', actor: alex, category: 'trailkeep' },
    ]) {
      await expect(
        log.ingest('one', { events: [{ action: 'ok.one', actor: alex }, event] }),
      ).rejects.toMatchObject({
        code: 'validation_failed',
        message: expect.stringContaining("reserved for Trailkeep's own events"),
      });
    }
    expect(await store.treeSize('one')).toBe(before);
    // A product's own word that merely contains the name is its own.
    await expect(
      log.ingest('one', { action: 'trailkeeper.hired', actor: alex }),
    ).resolves.toMatchObject({ created: 1 });
  });
});
