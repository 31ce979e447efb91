/**
 * Entity states rebuilt from the log equal a model that applied the same changes directly, for
 * generated histories of creates, updates and deletes; secrets stay hidden; `as_of` between two
 * changes gives the state in between.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HIDDEN } from '../../src/core/entity-state.js';
import type { JsonObject } from '../../src/core/json.js';
import { MATCH_ALL } from '../../src/core/query/filter.js';
import { entityHistory, rebuildEntities } from '../../src/service/export.js';
import { LogService } from '../../src/service/log-service.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import type { Store } from '../../src/store/store.js';

let dir: string;
let store: Store;
let log: LogService;
let workspaceNo = 0;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tk-entities-'));
  store = await openSqliteStore(join(dir, 'log.db'));
  log = await LogService.open(store);
});

afterAll(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const SETTINGS = {
  resources: {
    job: { fields: { status: 'track', priority: 'track', api_token: 'secret', cache: 'ignore' } },
  },
} as const;

type Op =
  | { kind: 'create'; job: number; fields: JsonObject }
  | { kind: 'update'; job: number; fields: JsonObject }
  | { kind: 'delete'; job: number };

const fieldsArb: fc.Arbitrary<JsonObject> = fc.record(
  {
    status: fc.constantFrom('queued', 'ready', 'running', 'done'),
    priority: fc.integer({ min: 0, max: 5 }),
    api_token: fc.string({ minLength: 1, maxLength: 8 }),
    cache: fc.string({ maxLength: 4 }),
    owner: fc.constantFrom('alex', 'sam'),
  },
  { requiredKeys: [] },
);

const opsArb: fc.Arbitrary<Op[]> = fc.array(
  fc.oneof(
    fc.record({ kind: fc.constant('create' as const), job: fc.nat(3), fields: fieldsArb }),
    fc.record({ kind: fc.constant('update' as const), job: fc.nat(3), fields: fieldsArb }),
    fc.record({ kind: fc.constant('delete' as const), job: fc.nat(3) }),
  ),
  { minLength: 1, maxLength: 25 },
);

/** What a reader should see: tracked fields as they are, secrets as HIDDEN, ignored gone. */
function visible(state: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(state)) {
    if (k === 'cache') continue;
    out[k] = k === 'api_token' ? HIDDEN : v;
  }
  return out;
}

async function freshWorkspace(): Promise<string> {
  workspaceNo += 1;
  const id = `ent${workspaceNo}`;
  await store.createWorkspace({ id, name: id, settings: SETTINGS });
  return id;
}

describe('entity states', () => {
  it('equal a model that applied the same changes directly', async () => {
    await fc.assert(
      fc.asyncProperty(opsArb, async (ops) => {
        const ws = await freshWorkspace();
        const model = new Map<string, { state: JsonObject; deleted: boolean }>();
        const events = ops.map((op, i) => {
          const id = `job_${op.job}`;
          const before = model.get(id)?.state ?? {};
          const after = op.kind === 'delete' ? before : { ...before, ...op.fields };
          model.set(id, { state: after, deleted: op.kind === 'delete' });
          return {
            id: `e${i}`,
            action: `job.${op.kind}d`,
            occurred_at: new Date(Date.UTC(2026, 4, 1, 0, i)).toISOString(),
            actor: { type: 'user', id: 'u1', email: 'alex@example.com' },
            targets: [{ type: 'job', id }],
            before,
            after,
          };
        });
        await log.ingest(ws, { events });
        const rebuilt = await rebuildEntities(log, ws, 'job', MATCH_ALL);
        expect(rebuilt.map((s) => s.id).sort()).toEqual([...model.keys()].sort());
        for (const entity of rebuilt) {
          const expected = model.get(entity.id)!;
          expect(entity.state).toEqual(visible(expected.state));
          expect(entity.deleted).toBe(expected.deleted);
        }
      }),
      { numRuns: 30 },
    );
  });

  it('never shows a secret value, in history or in state', async () => {
    const ws = await freshWorkspace();
    await log.ingest(ws, {
      events: [
        {
          action: 'job.created',
          occurred_at: '2026-05-01T10:00:00Z',
          actor: { type: 'user', id: 'u1' },
          targets: [{ type: 'job', id: 'j1' }],
          after: { status: 'queued', api_token: 'tok_SUPERSECRET' },
        },
      ],
    });
    const history = await entityHistory(log, ws, 'job', 'j1');
    expect(JSON.stringify(history)).not.toContain('SUPERSECRET');
    expect(history.state).toEqual({ status: 'queued', api_token: HIDDEN });
  });

  it('as_of between two changes gives the state in between', async () => {
    const ws = await freshWorkspace();
    const base = { actor: { type: 'user', id: 'u1' }, targets: [{ type: 'job', id: 'j1' }] };
    await log.ingest(ws, {
      events: [
        {
          ...base,
          action: 'job.created',
          occurred_at: '2026-05-10T09:00:00Z',
          after: { status: 'queued' },
        },
        {
          ...base,
          action: 'job.updated',
          occurred_at: '2026-05-12T09:00:00Z',
          before: { status: 'queued' },
          after: { status: 'running', priority: 2 },
        },
        { ...base, action: 'job.deleted', occurred_at: '2026-05-14T09:00:00Z' },
      ],
    });
    const between = await entityHistory(log, ws, 'job', 'j1', '2026-05-11T00:00:00Z');
    expect(between.events).toHaveLength(1);
    expect(between.state).toEqual({ status: 'queued' });
    expect(between.deleted).toBe(false);
    const later = await entityHistory(log, ws, 'job', 'j1', '2026-05-13T00:00:00Z');
    expect(later.state).toEqual({ status: 'running', priority: 2 });
    const now = await entityHistory(log, ws, 'job', 'j1');
    expect(now.deleted).toBe(true);
    expect(now.events.map((e) => e.event.action)).toEqual([
      'job.created',
      'job.updated',
      'job.deleted',
    ]);
    await expect(entityHistory(log, ws, 'job', 'j1', 'yesterday')).rejects.toThrow(/as_of must be/);
    await expect(entityHistory(log, ws, 'job', 'nope')).rejects.toThrow(/No event/);
  });
});
