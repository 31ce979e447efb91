import { describe, expect, it } from 'vitest';
import { canonicalJson } from './canonical.js';
import { toDraft, type DraftContext } from './draft.js';
import type { EventInput } from './event.js';
import { validateEvents } from './validate.js';

const ctx: DraftContext = {
  workspace: 'acme',
  id: 'evt_server_1',
  receivedAt: '2026-05-12T09:30:01.000Z',
  settings: {
    resources: {
      user: {
        fields: {
          email: 'track',
          status: 'track',
          hashed_password: 'secret',
          updated_at: 'ignore',
        },
      },
    },
  },
};

const input = (extra: Partial<EventInput> = {}): EventInput => ({
  action: 'member.role_changed',
  actor: { type: 'user', id: 'u_1' },
  ...extra,
});

describe('toDraft', () => {
  it('fills in the server defaults', () => {
    expect(toDraft(input(), ctx)).toEqual({
      id: 'evt_server_1',
      workspace: 'acme',
      action: 'member.role_changed',
      occurred_at: '2026-05-12T09:30:01.000Z',
      received_at: '2026-05-12T09:30:01.000Z',
      actor: { type: 'user', id: 'u_1' },
      targets: [],
      category: 'members',
      outcome: 'success',
      operation: 'update',
      changes: [],
      context: {},
      metadata: {},
      sent: { fields: [] },
    });
  });

  it('records which optional fields the sender set, and the schema its changes were redacted with', () => {
    const draft = toDraft(
      input({
        occurred_at: '2026-05-12T09:30:00Z',
        targets: [{ type: 'user', id: 'u_2' }],
        outcome: 'failure',
        before: { status: 'a' },
        metadata: { k: 1 },
      }),
      ctx,
    );
    expect(draft.sent).toEqual({
      fields: ['occurred_at', 'targets', 'outcome', 'changes', 'metadata'],
      schema: ctx.settings.resources!['user'],
    });
  });

  it('keeps what the sender gave: id, time (normalized), category, outcome, operation', () => {
    const draft = toDraft(
      input({
        id: 'evt_client',
        occurred_at: '2026-05-12T11:29:59.9876+02:00',
        category: 'Security',
        outcome: 'failure',
        operation: 'other',
        action: 'JOB_CREATED',
      }),
      ctx,
    );
    expect(draft).toMatchObject({
      id: 'evt_client',
      occurred_at: '2026-05-12T09:29:59.987Z',
      category: 'security',
      outcome: 'failure',
      operation: 'other',
      action: 'JOB_CREATED',
    });
  });

  it("computes changes from before/after with the primary target's schema", () => {
    const draft = toDraft(
      input({
        action: 'write',
        targets: [
          { type: 'user', id: 'u_2', name: 'sam@example.com' },
          { type: 'organization', id: 'o_1' },
        ],
        before: { email: 'a@x.io', status: 'active', hashed_password: 'h1', updated_at: 1 },
        after: { email: 'b@x.io', status: 'active', hashed_password: 'h2', updated_at: 2 },
      }),
      ctx,
    );
    expect(draft.changes).toEqual([
      { field: 'email', old: 'a@x.io', new: 'b@x.io' },
      { field: 'hashed_password', secret: true },
    ]);
    expect(draft.category).toBe('members');
    expect(draft.operation).toBe('update');
  });

  it('redacts changes the sender computed', () => {
    const draft = toDraft(
      input({
        targets: [{ type: 'user', id: 'u_2' }],
        changes: [
          { field: 'hashed_password', old: 'h1', new: 'h2' },
          { field: 'updated_at', old: 1, new: 2 },
          { field: 'role', old: 'member', new: 'admin' },
        ],
      }),
      ctx,
    );
    expect(draft.changes).toEqual([
      { field: 'hashed_password', secret: true },
      { field: 'role', old: 'member', new: 'admin' },
    ]);
  });

  it('holds no undefined anywhere, so its canonical JSON is its JSON', () => {
    const [validated] = validateEvents(
      [
        {
          action: 'customer.updated',
          actor: { type: 'api_token', id: 'tok_1', name: null },
          targets: [{ type: 'customer', id: 'c_1' }],
          before: { name: 'A', tier: { level: 1 } },
          after: { name: 'B', tier: { level: 2, since: '2026' } },
          context: { ip: '203.0.113.7', user_agent: undefined },
          metadata: { source: 'crm', nested: { n: [1, 2] } },
        },
      ],
      { now: new Date(ctx.receivedAt) },
    );
    const draft = toDraft(validated!, ctx);
    expect(JSON.parse(JSON.stringify(draft))).toStrictEqual(draft);
    expect(JSON.parse(canonicalJson(draft))).toStrictEqual(draft);
    expect(draft.category).toBe('customers');
  });
});
