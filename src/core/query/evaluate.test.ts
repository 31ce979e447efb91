import { describe, expect, it } from 'vitest';
import type { StoredEvent } from '../event.js';
import { globMatches, matchesFilter } from './evaluate.js';
import { parseFilter } from './normalize.js';

const base: StoredEvent = {
  id: 'evt_1',
  workspace: 'acme',
  seq: 7,
  action: 'Member.Role_Changed',
  occurred_at: '2026-05-12T09:30:00.000Z',
  received_at: '2026-05-12T09:30:01.000Z',
  actor: { type: 'user', id: 'u_123', name: 'Alex Kim', email: 'Alex@Example.com' },
  targets: [
    { type: 'User', id: 'u_456', name: 'Sam@Example.com' },
    { type: 'workspace', id: 'WS_9', name: 'Acme Prod' },
  ],
  category: 'Members',
  outcome: 'success',
  operation: 'update',
  changes: [],
  context: { ip: '203.0.113.7' },
  metadata: {
    build_reason: 'autostart',
    count: 3,
    flag: true,
    nested: { a: 1 },
    none: null,
    list: [],
  },
  prev_hash: '0'.repeat(64),
  hash: '1'.repeat(64),
};

const event = (overrides: Partial<StoredEvent>): StoredEvent => ({ ...base, ...overrides });

interface EvalCase {
  query: string;
  matches: boolean;
  event?: StoredEvent;
}

const CASES: Record<string, EvalCase[]> = {
  action: [
    { query: 'action:member.role_changed', matches: true },
    { query: 'action:MEMBER.ROLE_CHANGED', matches: true },
    { query: 'action:member.*', matches: true },
    { query: 'action:*role*', matches: true },
    { query: 'action:*', matches: true },
    { query: 'action:member', matches: false },
    { query: 'action:*.role', matches: false },
    { query: 'action:job.* action:member.*', matches: true },
    { query: '-action:member.*', matches: false },
    { query: '-action:job.*', matches: true },
    {
      query: 'action:repository_run_claim',
      matches: true,
      event: event({ action: 'REPOSITORY_RUN_CLAIM' }),
    },
  ],
  category: [
    { query: 'category:members', matches: true },
    { query: 'category:MEMBERS', matches: true },
    { query: 'category:member', matches: false },
  ],
  actor: [
    { query: 'actor:alex@', matches: true },
    { query: 'actor:KIM', matches: true },
    { query: 'actor:u_12', matches: true },
    { query: 'actor:sam', matches: false },
    {
      query: 'actor:ci-bot',
      matches: true,
      event: event({ actor: { type: 'automation', id: 'ci-bot-7' } }),
    },
  ],
  actor_type: [
    { query: 'actor_type:user', matches: true },
    { query: 'actor_type:agent actor_type:user', matches: true },
    { query: '-actor_type:user', matches: false },
  ],
  username: [
    { query: 'username:"alex kim"', matches: true },
    { query: 'username:alex', matches: false },
    {
      query: 'username:alex',
      matches: false,
      event: event({ actor: { type: 'user', id: 'alex' } }),
    },
  ],
  email: [
    { query: 'email:alex@example.com', matches: true },
    { query: 'email:alex@example', matches: false },
    {
      query: '-email:alex@example.com',
      matches: true,
      event: event({ actor: { type: 'system', id: 's' } }),
    },
  ],
  target_type: [
    { query: 'target_type:user', matches: true },
    { query: 'resource_type:Workspace', matches: true },
    { query: 'target_type:job', matches: false },
    { query: 'target_type:user', matches: false, event: event({ targets: [] }) },
  ],
  target_id: [
    { query: 'target_id:WS_9', matches: true },
    { query: 'target_id:ws_9', matches: false },
    { query: 'target_id:u_456', matches: true },
  ],
  target: [
    { query: 'target:sam@example.com', matches: true },
    { query: 'target:"ACME PROD"', matches: true },
    { query: 'target:sam', matches: false },
  ],
  ip: [
    { query: 'ip:203.0.113.7', matches: true },
    { query: 'ip:203.0.113.0/24', matches: true },
    { query: 'ip:203.0.114.0/24', matches: false },
    { query: 'ip:0.0.0.0/0', matches: true },
    { query: 'ip:"::ffff:203.0.113.7"', matches: true },
    { query: 'ip:"2001:db8::/32"', matches: false },
    {
      query: 'ip:"2001:db8::/32"',
      matches: true,
      event: event({ context: { ip: '2001:DB8::42' } }),
    },
    { query: 'ip:10.0.0.0/8', matches: false, event: event({ context: {} }) },
    { query: '-ip:10.0.0.0/8', matches: true, event: event({ context: {} }) },
  ],
  outcome: [
    { query: 'outcome:success', matches: true },
    { query: 'outcome:failure', matches: false },
  ],
  operation: [
    { query: 'operation:update', matches: true },
    { query: 'crud:delete crud:create', matches: false },
  ],
  system: [
    { query: 'is:system', matches: false },
    { query: '-is:system', matches: true },
    { query: 'is:system', matches: true, event: event({ actor: { type: 'system', id: 's' } }) },
    { query: 'is:system', matches: true, event: event({ actor: { type: 'automation', id: 'r' } }) },
    {
      query: '-is:system',
      matches: false,
      event: event({ actor: { type: 'automation', id: 'r' } }),
    },
  ],
  meta: [
    { query: 'build_reason:autostart', matches: true },
    { query: 'meta.build_reason:AUTOSTART', matches: false },
    { query: 'meta.count:3', matches: true },
    { query: 'meta.count:3.0', matches: false },
    { query: 'meta.flag:true', matches: true },
    { query: 'meta.nested:"{\\"a\\":1}"', matches: false },
    { query: 'meta.none:null', matches: false },
    { query: 'meta.list:"[]"', matches: false },
    { query: 'meta.missing:""', matches: false },
    { query: '-meta.missing:x', matches: true },
  ],
  text: [
    { query: 'role_changed', matches: true },
    { query: 'ALEX', matches: true },
    { query: 'u_123', matches: true },
    { query: '"acme prod"', matches: true },
    { query: 'ws_9', matches: false },
    { query: 'nobody somebody', matches: false },
    { query: 'nobody sam@', matches: true },
    { query: '-sam@', matches: false },
  ],
  time: [
    { query: 'since:2026-05-12', matches: true },
    { query: 'since:2026-05-12T09:30:00Z', matches: true },
    { query: 'since:2026-05-12T09:30:00.001Z', matches: false },
    { query: 'until:2026-05-12', matches: true },
    { query: 'until:2026-05-11', matches: false },
    { query: 'until:2026-05-12T09:30:00Z', matches: true },
    { query: 'until:2026-05-12T09:29:59.999Z', matches: false },
    { query: 'since:2026-05-12T11:30:00+02:00 until:2026-05-12T11:30:00+02:00', matches: true },
  ],
  combined: [
    { query: 'action:member.* actor_type:user -is:system', matches: true },
    { query: 'action:member.* actor_type:agent', matches: false },
    { query: '', matches: true },
  ],
};

describe('matchesFilter', () => {
  for (const [key, cases] of Object.entries(CASES)) {
    it.each(cases)(`${key}: $query -> $matches`, ({ query, matches, event: target }) => {
      expect(matchesFilter(parseFilter(query), target ?? base)).toBe(matches);
    });
  }
});

describe('a meta clause on a reserved name', () => {
  // The parser refuses `meta.constructor:x`; the evaluator still reads own members only, so a
  // clause built some other way can never find Object's constructor in an event's metadata.
  it.each(['constructor', '__proto__', 'toString'])('meta.%s matches no event', (metaKey) => {
    const clause = { key: 'meta', metaKey, negated: false, values: ['x'] } as const;
    expect(matchesFilter({ clauses: [clause] }, base)).toBe(false);
  });
});

describe('globMatches', () => {
  it.each([
    ['job.*', 'job.created', true],
    ['job.*', 'job.', true],
    ['job.*', 'jobs.created', false],
    ['*', '', true],
    ['a*b*c', 'aXXbYYc', true],
    ['a*b*c', 'aXXbYY', false],
    ['*created', 'job.created', true],
    ['job', 'job.created', false],
  ])('%s against %s is %s', (pattern, text, expected) => {
    expect(globMatches(pattern, text)).toBe(expected);
  });
});
