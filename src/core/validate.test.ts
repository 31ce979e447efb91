import { describe, expect, it } from 'vitest';
import { TrailkeepError } from './errors.js';
import { LIMITS } from './limits.js';
import { eventsFromBody, jsonDepth, validateEvents } from './validate.js';

const now = new Date('2026-05-12T10:00:00.000Z');

const good = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  action: 'member.role_changed',
  actor: { type: 'user', id: 'u_123', name: 'Alex Kim', email: 'alex@example.com' },
  ...extra,
});

function failure(items: unknown[]): TrailkeepError {
  try {
    validateEvents(items, { now });
  } catch (error) {
    if (error instanceof TrailkeepError) return error;
    throw error;
  }
  throw new Error('expected validation to fail');
}

/** The single issue of a one-event batch, as "path message". */
function issueOf(event: unknown): string {
  const error = failure([event]);
  expect(error.code).toBe('validation_failed');
  return error.issues.map((i) => `${i.path} ${i.message}`).join(' | ');
}

describe('jsonDepth', () => {
  it('counts nesting levels of objects and arrays', () => {
    expect(jsonDepth(1)).toBe(0);
    expect(jsonDepth({})).toBe(1);
    expect(jsonDepth({ a: [1, { b: 2 }] })).toBe(3);
  });

  it('stops one past the bound on very deep values', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(jsonDepth(deep)).toBe(LIMITS.maxDepth + 1);
    expect(jsonDepth(deep, 5)).toBe(6);
  });
});

describe('eventsFromBody', () => {
  it('accepts one event or a batch', () => {
    const event = good();
    expect(eventsFromBody(event)).toEqual([event]);
    expect(eventsFromBody({ events: [event, event] })).toHaveLength(2);
  });

  it.each([
    [[good()], 'one event object or { "events": [ ... ] }, not an array'],
    ['text', 'not a string'],
    [null, 'not null'],
    [{ events: {} }, '$.events must be an array, not an object'],
    [{ events: [] }, '$.events is empty'],
    [{ events: [good()], action: 'x' }, 'but this one also has "action"'],
  ])('rejects %j', (body, message) => {
    expect(() => eventsFromBody(body)).toThrow(message);
  });

  it('rejects more than the batch limit with batch_too_large', () => {
    const events = Array.from({ length: LIMITS.maxBatchEvents + 1 }, () => good());
    expect(() => eventsFromBody({ events })).toThrow(
      expect.objectContaining({ code: 'batch_too_large' }),
    );
  });
});

describe('validateEvents', () => {
  it('returns a clean copy of a valid event', () => {
    const [event] = validateEvents(
      [
        good({
          id: 'evt_1',
          occurred_at: '2026-05-12T11:30:00.123456789+02:00',
          targets: [{ type: 'API token', id: 'tok_1', name: 'CI' }],
          category: 'Members',
          outcome: 'failure',
          operation: 'update',
          changes: [
            { field: 'role', old: 'member', new: 'admin' },
            { field: 'note', new: null },
          ],
          context: { ip: '2001:db8::1', user_agent: 'curl/8', request_id: 'req_8f2c' },
          metadata: { build_reason: 'autostart', nested: { n: 1 } },
        }),
      ],
      { now },
    );
    expect(event).toEqual({
      id: 'evt_1',
      action: 'member.role_changed',
      occurred_at: '2026-05-12T11:30:00.123456789+02:00',
      actor: { type: 'user', id: 'u_123', name: 'Alex Kim', email: 'alex@example.com' },
      targets: [{ type: 'API token', id: 'tok_1', name: 'CI' }],
      category: 'members',
      outcome: 'failure',
      operation: 'update',
      changes: [
        { field: 'role', old: 'member', new: 'admin' },
        { field: 'note', new: null },
      ],
      context: { ip: '2001:db8::1', user_agent: 'curl/8', request_id: 'req_8f2c' },
      metadata: { build_reason: 'autostart', nested: { n: 1 } },
    });
  });

  it('treats null optional members as absent', () => {
    const [event] = validateEvents(
      [good({ id: null, category: null, actor: { type: 'system', id: 's', name: null } })],
      { now },
    );
    expect(event).toEqual({ action: 'member.role_changed', actor: { type: 'system', id: 's' } });
  });

  it('accepts before/after objects, either alone', () => {
    const [created, deleted] = validateEvents(
      [good({ after: { name: 'a' } }), good({ before: { name: 'a' } })],
      { now },
    );
    expect(created!.after).toEqual({ name: 'a' });
    expect(deleted!.before).toEqual({ name: 'a' });
  });

  // Failures block: each input with the exact issue it must produce.
  it.each([
    [{ actor: { type: 'user', id: 'u' } }, '$.action is required'],
    [
      good({ action: 'Invite Sent' }),
      '$.action may only contain ASCII letters, digits and . _ : -',
    ],
    [good({ action: 'a'.repeat(129) }), '$.action is 129 characters long; at most 128 are allowed'],
    [good({ action: 7 }), '$.action must be a string, not a number'],
    [{ action: 'x' }, '$.actor is required'],
    [
      good({ actor: { type: 'robot', id: 'u' } }),
      '$.actor.type must be one of user, agent, api_token, automation, system',
    ],
    [good({ actor: { type: 'user' } }), '$.actor.id is required'],
    [good({ actor: { type: 'user', id: 'u 1' } }), '$.actor.id must not contain whitespace'],
    [good({ actor: { type: 'user', id: 'u', email: 'nope' } }), '$.actor.email must be an email'],
    [
      good({ actor: { type: 'user', id: 'u', role: 'x' } }),
      '$.actor.role is not a known field (allowed: type, id, name, email)',
    ],
    [good({ colour: 'red' }), '$.colour is not a known field'],
    [good({ 'odd key': 1 }), '$["odd key"] is not a known field'],
    [good({ targets: {} }), '$.targets must be an array, not an object'],
    [good({ targets: [{ type: 'job' }] }), '$.targets[0].id is required'],
    [good({ targets: [{ id: 'j', type: 'job', kind: 'x' }] }), '$.targets[0].kind is not a known'],
    [good({ targets: [null] }), '$.targets[0] must be an object, not null'],
    [good({ outcome: 'ok' }), '$.outcome must be one of success, failure'],
    [
      good({ operation: 'upsert' }),
      '$.operation must be one of create, read, update, delete, other',
    ],
    [good({ category: 'Auth & tokens' }), '$.category must start with a letter or digit'],
    [good({ changes: [{ old: 1 }] }), '$.changes[0].field is required'],
    [
      good({ changes: [{ field: 'a', secret: 'yes' }] }),
      '$.changes[0].secret must be true or false',
    ],
    [
      good({ changes: [{ field: 'a' }, { field: 'a' }] }),
      '$.changes[1].field repeats "a" (already at $.changes[0])',
    ],
    [good({ changes: [], after: {} }), '$.changes cannot be sent together with before/after'],
    [good({ before: [1] }), '$.before must be an object, not an array'],
    [good({ context: { ip: '999.1.1.1' } }), '$.context.ip "999.1.1.1" is not an IPv4 or IPv6'],
    [good({ context: { host: 'x' } }), '$.context.host is not a known field'],
    [good({ metadata: 'x' }), '$.metadata must be an object, not a string'],
    [good({ metadata: { ['k'.repeat(129)]: 1 } }), 'key is 129 characters long; at most 128'],
    [good({ id: 'evt\u0000' }), '$.id has a value with a NUL character'],
    [good({ metadata: { note: 'x\uD800y' } }), '$.metadata.note has a value with a lone UTF-16'],
    [good({ metadata: { ['\uDC00']: 1 } }), 'has a name with a lone UTF-16 surrogate'],
    [good({ metadata: { n: Number.NaN } }), '$.metadata.n must be a finite number'],
    [good({ metadata: { d: new Date(0) } }), '$.metadata.d is an object that is not plain JSON'],
    [
      good({ occurred_at: '2026-05-12T09:30:00' }),
      '$.occurred_at must be an ISO 8601 time with a zone',
    ],
    [good({ occurred_at: '2026-02-30T09:30:00Z' }), '$.occurred_at must be an ISO 8601 time'],
    [good({ occurred_at: '2026-05-12T09:30:00.1234567890Z' }), 'must be an ISO 8601 time'],
    [
      good({ occurred_at: '2026-05-12T10:05:00.001Z' }),
      '$.occurred_at is 2026-05-12T10:05:00.001Z, more than 5 minutes after',
    ],
    [good({ occurred_at: '1969-12-31T23:59:59Z' }), 'must not be before 1970-01-01'],
  ])('failure case %#', (event, expected) => {
    expect(issueOf(event)).toContain(expected);
  });

  it('accepts occurred_at up to five minutes ahead, with any zone', () => {
    const times = [
      '2026-05-12T10:05:00Z',
      '2026-05-12T12:05:00.000+02:00',
      '2026-05-12T04:00-06:00',
    ];
    const accepted = times.filter((t) => {
      try {
        validateEvents([good({ occurred_at: t })], { now });
        return true;
      } catch {
        return false;
      }
    });
    // The last one has no seconds, which ISO 8601 allows but we do not: one exact form.
    expect(accepted).toEqual(times.slice(0, 2));
  });

  it('rejects an event larger than 64 KiB and one nested deeper than 16', () => {
    expect(issueOf(good({ metadata: { blob: 'x'.repeat(LIMITS.maxEventBytes) } }))).toMatch(
      /^\$ is \d+ bytes as JSON; at most 65536 \(64 KiB\)/,
    );
    let deep: unknown = 1;
    for (let i = 0; i < 20; i++) deep = { d: deep };
    expect(issueOf(good({ metadata: deep }))).toBe('$ nests deeper than 16 levels');
  });

  it('names every bad event of a batch by index in one error', () => {
    const error = failure([
      good(),
      good({ actor: { type: 'robot', id: 'u' } }),
      good(),
      { action: 'x y', actor: { type: 'user' } },
    ]);
    expect(error.message).toBe(
      'event 1: $.actor.type must be one of user, agent, api_token, automation, system (and 2 more issues)',
    );
    expect(error.issues.map((i) => [i.index, i.path])).toEqual([
      [1, '$.actor.type'],
      [3, '$.action'],
      [3, '$.actor.id'],
    ]);
  });

  it('caps the listed issues but counts them all', () => {
    const error = failure(
      Array.from({ length: 150 }, () => ({ actor: { type: 'user', id: 'u' } })),
    );
    expect(error.issues).toHaveLength(LIMITS.maxIssues);
    expect(error.message).toContain('(and 149 more issues)');
  });

  it('rejects one id sent twice with different content, but not an exact repeat', () => {
    expect(validateEvents([good({ id: 'e1' }), good({ id: 'e1' })], { now })).toHaveLength(2);
    const error = failure([good({ id: 'e1' }), good({ id: 'e1', outcome: 'failure' })]);
    expect(error.issues).toEqual([
      { index: 1, path: '$.id', message: 'repeats the id of event 0 with different content' },
    ]);
  });

  it('rejects a batch larger than 4 MiB as a whole', () => {
    const big = good({ metadata: { blob: 'x'.repeat(60_000) } });
    const items = Array.from({ length: 72 }, () => big);
    expect(() => validateEvents(items, { now })).toThrow(
      expect.objectContaining({ code: 'payload_too_large' }),
    );
  });
});
