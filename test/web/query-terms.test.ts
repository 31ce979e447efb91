import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_QUERY,
  OWN_EVENTS_TERM,
  canonicalKey,
  isDefaultQuery,
  parseTerms,
  readMeta,
  withMeta,
  printTerms,
  readControls,
  withControl,
  type Term,
} from '../../web/src/query/terms.js';
import { auditPath, parseRoute } from '../../web/src/routes.js';

describe('parseTerms', () => {
  const cases: Array<[string, Term[]]> = [
    ['', []],
    ['   ', []],
    ['action:job.created', [{ key: 'action', value: 'job.created', negated: false }]],
    ['-is:system', [{ key: 'is', value: 'system', negated: true }]],
    ['actor:"Alex Kim"', [{ key: 'actor', value: 'Alex Kim', negated: false }]],
    [
      'deploy -"ci bot" since:"2026-05-12T09:30:00Z"',
      [
        { key: null, value: 'deploy', negated: false },
        { key: null, value: 'ci bot', negated: true },
        { key: 'since', value: '2026-05-12T09:30:00Z', negated: false },
      ],
    ],
    [
      'meta.build_reason:autostart',
      [{ key: 'meta.build_reason', value: 'autostart', negated: false }],
    ],
    ['actor:"unterminated', [{ key: 'actor', value: 'unterminated', negated: false }]],
    ['actor:', [{ key: 'actor', value: '', negated: false }]],
    [
      'a - b',
      [
        { key: null, value: 'a', negated: false },
        { key: null, value: '-', negated: false },
        { key: null, value: 'b', negated: false },
      ],
    ],
  ];
  it.each(cases)('reads %j', (text, terms) => {
    expect(parseTerms(text)).toEqual(terms);
  });

  it('round-trips any terms through printing', () => {
    const key = fc.constantFrom(null, 'action', 'actor', 'Category', 'meta.build_reason', 'is');
    const value = fc.string({ maxLength: 12 });
    const term = fc.record({ key, value, negated: fc.boolean() });
    fc.assert(
      fc.property(fc.array(term, { maxLength: 6 }), (terms) => {
        expect(parseTerms(printTerms(terms))).toEqual(terms);
      }),
    );
  });
});

describe('readControls', () => {
  it('shows one plain term per control, including aliases and any key case', () => {
    const controls = readControls(
      'Category:integrations actor:alex@ resource_type:integration date_from:2026-05-01 -is:system',
    );
    expect(controls.values).toEqual({
      category: 'integrations',
      actor: 'alex@',
      action: null,
      target_type: 'integration',
      target_id: null,
      target: null,
      operation: null,
      since: '2026-05-01',
      until: null,
    });
    expect(controls.hideSystem).toBe(true);
    expect(controls.mixed.size).toBe(0);
  });

  it('marks OR-ed or negated terms as mixed instead of showing one of them', () => {
    const controls = readControls(
      'action:job.created action:job.deleted -category:runners is:system',
    );
    expect(controls.values.action).toBeNull();
    expect(controls.values.category).toBeNull();
    expect([...controls.mixed].sort()).toEqual(['action', 'category']);
    expect(controls.hideSystem).toBe(false);
  });
});

describe('withControl', () => {
  it('adds a term at the end when the control was empty', () => {
    expect(withControl('deploy', 'category', 'members')).toBe('deploy category:members');
  });

  it('replaces every term of that key in place and keeps the others', () => {
    expect(withControl('action:a since:2026-01-01 action:b ip:10.0.0.0/8', 'action', 'job.*')).toBe(
      'action:job.* since:2026-01-01 ip:10.0.0.0/8',
    );
    expect(withControl('resource_type:job x', 'target_type', 'attempt')).toBe(
      'target_type:attempt x',
    );
  });

  it('removes the term when the control is cleared', () => {
    expect(withControl('actor:alex@ category:members', 'actor', '')).toBe('category:members');
    expect(withControl('actor:alex@', 'actor', null)).toBe('');
  });

  it('toggles -is:system without touching other terms', () => {
    expect(withControl('category:jobs', 'hide_system', true)).toBe('category:jobs -is:system');
    expect(withControl('-is:system category:jobs', 'hide_system', false)).toBe('category:jobs');
    expect(withControl('is:system', 'hide_system', true)).toBe('-is:system');
  });

  it('quotes values that hold spaces or colons', () => {
    expect(withControl('', 'actor', 'Alex Kim')).toBe('actor:"Alex Kim"');
    expect(withControl('', 'since', '2026-05-12T09:30:00Z')).toBe('since:"2026-05-12T09:30:00Z"');
  });

  it('agrees with readControls: what is set is what is read', () => {
    const keys = [
      'category',
      'actor',
      'action',
      'target_type',
      'target_id',
      'since',
      'until',
    ] as const;
    fc.assert(
      fc.property(
        fc.string({ maxLength: 30 }),
        fc.constantFrom(...keys),
        fc.string({ minLength: 1, maxLength: 12 }).filter((v) => v.trim() !== ''),
        (text, key, value) => {
          expect(readControls(withControl(text, key, value)).values[key]).toBe(value.trim());
        },
      ),
    );
  });
});

describe("hiding Trailkeep's own events", () => {
  it('is the default question, and a term the action control leaves alone', () => {
    expect(printTerms([OWN_EVENTS_TERM])).toBe(DEFAULT_QUERY);
    expect(readControls(DEFAULT_QUERY)).toMatchObject({ hideOwn: true, mixed: new Set() });
    expect(readControls(DEFAULT_QUERY).values.action).toBeNull();
    const withAction = withControl(DEFAULT_QUERY, 'action', 'job.*');
    expect(withAction).toBe('action:job.* -action:trailkeep.*');
    expect(readControls(withAction).values.action).toBe('job.*');
    expect(withControl(withAction, 'action', null)).toBe(DEFAULT_QUERY);
    expect(withControl(withAction, 'hide_own', false)).toBe('action:job.*');
    expect(withControl('action:job.*', 'hide_own', true)).toBe('action:job.* -action:trailkeep.*');
  });

  it('knows the default question, and nothing else, as "no filters"', () => {
    expect(isDefaultQuery('')).toBe(true);
    expect(isDefaultQuery(' -ACTION:Trailkeep.* ')).toBe(true);
    expect(isDefaultQuery('action:trailkeep.*')).toBe(false);
    expect(isDefaultQuery('-action:trailkeep.* -is:system')).toBe(false);
  });
});

describe('the address of the default question', () => {
  it('is the bare workspace path; an empty q asks for everything', () => {
    expect(auditPath('acme')).toBe('/w/acme');
    expect(parseRoute('/w/acme', '')).toMatchObject({ page: 'audit', q: DEFAULT_QUERY });
    expect(auditPath('acme', '')).toBe('/w/acme?q=');
    expect(parseRoute('/w/acme', '?q=')).toMatchObject({ page: 'audit', q: '' });
    const q = withControl(DEFAULT_QUERY, 'category', 'members');
    expect(parseRoute('/w/acme', new URL(auditPath('acme', q), 'http://x').search)).toMatchObject({
      q,
    });
  });
});

describe('canonicalKey', () => {
  it.each(['constructor', '__proto__'])(
    'reads %s as the key typed, never as a member of an object',
    (key) => {
      expect(canonicalKey({ key, value: 'x', negated: false })).toBe(key);
    },
  );
});

describe('the query help in the filter bar', () => {
  it('lists every key and alias the server knows', async () => {
    const { readFileSync } = await import('node:fs');
    const { KEY_ALIASES, QUERY_KEYS } = await import('../../src/core/query/keys.js');
    const help = readFileSync(
      new URL('../../web/src/views/FilterBar.tsx', import.meta.url),
      'utf8',
    );
    const named = new Set([...help.matchAll(/<code>([a-z_.A-Z:]+)<\/code>/g)].map((m) => m[1]));
    const missing = [
      ...QUERY_KEYS.map((key) => (key === 'meta' ? 'meta.KEY' : key === 'is' ? 'is:system' : key)),
      ...Object.keys(KEY_ALIASES),
    ].filter((key) => !named.has(key));
    expect(missing).toEqual([]);
  });
});

describe("an event's permalink and the events around it", () => {
  it('has an address of its own', async () => {
    const { eventPath } = await import('../../web/src/routes.js');
    expect(eventPath('acme', 'evt 1/2')).toBe('/w/acme/events/evt%201%2F2');
    expect(parseRoute('/w/acme/events/evt%201%2F2', '')).toEqual({
      page: 'event',
      workspace: 'acme',
      id: 'evt 1/2',
    });
    expect(parseRoute('/w/acme/events/a/b', '')).toEqual({ page: 'not_found' });
  });

  it('asks for a window around the event, by its actor or in the whole workspace', async () => {
    const { aroundQuery } = await import('../../web/src/pages/EventPage.js');
    const event = {
      action: 'job.created',
      occurred_at: '2026-05-12T09:30:00.000Z',
      actor: { type: 'user', id: 'u_alex', name: 'Alex Kim' },
    } as Parameters<typeof aroundQuery>[0];
    expect(aroundQuery(event, 3_600_000, true)).toBe(
      'actor_type:user actor:u_alex since:"2026-05-12T08:30:00.000Z" until:"2026-05-12T10:30:00.000Z" -action:trailkeep.*',
    );
    expect(aroundQuery(event, 60_000, false)).toBe(
      'since:"2026-05-12T09:29:00.000Z" until:"2026-05-12T09:31:00.000Z" -action:trailkeep.*',
    );
    // Around one of Trailkeep's own events, its neighbours of the same kind stay visible.
    expect(aroundQuery({ ...event, action: 'trailkeep.login.succeeded' }, 60_000, false)).toBe(
      'since:"2026-05-12T09:29:00.000Z" until:"2026-05-12T09:31:00.000Z"',
    );
  });
});

describe('the metadata filter', () => {
  it('reads and writes one meta.KEY:value term, aliases included', () => {
    expect(readMeta(DEFAULT_QUERY)).toBeNull();
    const q = withMeta(DEFAULT_QUERY, { key: 'build_reason', value: 'autostart' });
    expect(q).toBe('meta.build_reason:autostart -action:trailkeep.*');
    expect(readMeta(q)).toEqual({ key: 'build_reason', value: 'autostart' });
    expect(readMeta('build_reason:initiator')).toEqual({ key: 'build_reason', value: 'initiator' });
    expect(withMeta('build_reason:initiator action:x', { key: 'n', value: 'two words' })).toBe(
      'meta.n:"two words" action:x',
    );
    expect(withMeta(q, null)).toBe(DEFAULT_QUERY);
    expect(readMeta('meta.a:1 meta.b:2')).toBe('mixed');
    expect(readMeta('-meta.a:1')).toBe('mixed');
  });

  it('leaves operation and target name to their own controls', () => {
    const q = withControl(withControl(DEFAULT_QUERY, 'operation', 'delete'), 'target', 'build 1');
    expect(q).toBe('operation:delete target:"build 1" -action:trailkeep.*');
    expect(readControls(q).values).toMatchObject({ operation: 'delete', target: 'build 1' });
    expect(readControls('crud:update').values.operation).toBe('update');
    expect(readControls('resource_target:x').values.target).toBe('x');
  });
});
