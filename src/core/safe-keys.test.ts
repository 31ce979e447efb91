/**
 * The prototype-pollution class (src/core/safe-keys.ts), unit by unit: validation refuses the
 * reserved names with their paths; the entity-state builder, settings and the SDK's diff keep
 * them as own members of prototype-less objects; and the sealing path (validate -> draft ->
 * canonical text) reads own members only, so a prototype polluted by anything else still
 * cannot lend an event a field it was sent without.
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { canonicalJson } from './canonical.js';
import { diffObjects } from './changes.js';
import { indexedColumns } from './columns.js';
import { toDraft } from './draft.js';
import { applyChanges, applyEvent } from './entity-state.js';
import { TrailkeepError } from './errors.js';
import type { Change, StoredEvent } from './event.js';
import type { JsonObject } from './json.js';
import { findReservedKeys, isReservedKey } from './safe-keys.js';
import { parseWorkspaceSettings } from './settings.js';
import { eventsFromBody, validateEvents } from './validate.js';

const now = new Date('2026-05-12T10:00:00.000Z');
const RESERVED = ['__proto__', 'constructor', 'prototype'];

/** Own names of Object.prototype as the process started; restored after every test. */
const builtins = new Set(Object.getOwnPropertyNames(Object.prototype));
afterEach(() => {
  for (const name of Object.getOwnPropertyNames(Object.prototype)) {
    if (!builtins.has(name)) Reflect.deleteProperty(Object.prototype, name);
  }
});

function addedToObjectPrototype(): string[] {
  return Object.getOwnPropertyNames(Object.prototype).filter((name) => !builtins.has(name));
}

function refusal(run: () => unknown): TrailkeepError {
  try {
    run();
  } catch (error) {
    if (error instanceof TrailkeepError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('validation', () => {
  const event = (extra: string): unknown =>
    JSON.parse(`{"action":"job.updated","actor":{"type":"user","id":"x"}${extra}}`);

  it.each([
    [',"changes":[{"field":"__proto__.email","new":"m@e.x"}]', '$.changes[0].field'],
    [',"changes":[{"field":"a.constructor.prototype","new":1}]', '$.changes[0].field'],
    [',"changes":[{"field":"ok","new":{"a":{"prototype":1}}}]', '$.changes[0].new.a.prototype'],
    [',"metadata":{"__proto__":{"x":1}}', '$.metadata.__proto__'],
    [',"metadata":{"a":[{"constructor":1}]}', '$.metadata.a[0].constructor'],
    [',"before":{"constructor":{}},"after":{}', '$.before.constructor'],
    [',"context":{"ip":"10.0.0.1","__proto__":{"ip":"10.6.6.6"}}', '$.context.__proto__'],
    [',"category":"PROTOTYPE"', '$.category'],
    [',"__proto__":{"outcome":"failure"}', '$.__proto__'],
  ])('refuses %s with forbidden_key at %s', (extra, path) => {
    const error = refusal(() => validateEvents([event(''), event(extra)], { now }));
    expect(error.code).toBe('forbidden_key');
    expect(error.status).toBe(400);
    expect(error.issues).toContainEqual(expect.objectContaining({ index: 1, path }));
    expect(error.message).toMatch(new RegExp(`^event 1: ${path.replace(/[$.[\]]/g, '\\$&')} `));
  });

  it('refuses a reserved member beside a batch’s events', () => {
    const error = refusal(() =>
      eventsFromBody(JSON.parse('{"events":[],"__proto__":{"outcome":"failure"}}')),
    );
    expect(error.code).toBe('forbidden_key');
    expect(error.issues).toEqual([expect.objectContaining({ path: '$.__proto__' })]);
  });

  it('leads with the reserved name even when other issues come first', () => {
    const error = refusal(() =>
      validateEvents([{ action: '' }, event(',"metadata":{"constructor":1}')], { now }),
    );
    expect(error.code).toBe('forbidden_key');
    expect(error.message).toMatch(/^event 1: \$\.metadata\.constructor is named "constructor"/);
    expect(error.issues.length).toBeGreaterThan(1);
  });

  it('refuses the names exactly: as values and inside longer names they are accepted', () => {
    const [input] = validateEvents(
      [
        event(
          ',"targets":[{"type":"prototype","id":"constructor"}],"changes":[{"field":"my_prototype.constructors","new":"__proto__"}],"metadata":{"__proto__x":"constructor"}',
        ),
      ],
      { now },
    );
    expect(input?.changes).toEqual([{ field: 'my_prototype.constructors', new: '__proto__' }]);
    const error = refusal(() =>
      validateEvents([event(',"changes":[{"field":"my_prototype.constructor","new":1}]')], {
        now,
      }),
    );
    expect(error.code).toBe('forbidden_key');
  });
});

describe('findReservedKeys', () => {
  /** JSON text whose object keys come from a pool holding the reserved names. */
  const key = fc.constantFrom('a', 'b', 'email', ...RESERVED);
  const text: fc.Arbitrary<string> = fc.letrec<{ value: string }>((tie) => ({
    value: fc.oneof(
      { depthSize: 'small' },
      fc.constantFrom('1', '"x"', 'null'),
      fc.array(tie('value'), { maxLength: 3 }).map((items) => `[${items.join(',')}]`),
      fc
        .uniqueArray(fc.tuple(key, tie('value')), { maxLength: 3, selector: ([k]) => k })
        .map((members) => `{${members.map(([k, v]) => `"${k}":${v}`).join(',')}}`),
    ),
  })).value;

  /** The oracle: a plain recursive walk over own keys, with the same JSONPath spelling. */
  function oracle(value: unknown, path: string, out: string[]): string[] {
    if (Array.isArray(value)) value.forEach((item, i) => oracle(item, `${path}[${i}]`, out));
    else if (typeof value === 'object' && value !== null) {
      for (const [k, member] of Object.entries(value)) {
        if (RESERVED.includes(k)) out.push(`${path}.${k}`);
        else oracle(member, `${path}.${k}`, out);
      }
    }
    return out;
  }

  it('finds exactly the reserved keys of any JSON value, at any depth', () => {
    fc.assert(
      fc.property(text, (json) => {
        const value: unknown = JSON.parse(json);
        expect(findReservedKeys(value)).toEqual(oracle(value, '$', []));
        expect(addedToObjectPrototype()).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });

  it('agrees with isReservedKey on exactly three names', () => {
    expect(RESERVED.every(isReservedKey)).toBe(true);
    expect(['__proto', 'Constructor', 'toString', 'hasOwnProperty', ''].some(isReservedKey)).toBe(
      false,
    );
  });
});

describe('the entity-state builder, replaying changes stored before the refusal', () => {
  const poison: Change[] = [
    { field: '__proto__.email', new: 'mallory@evil.example' },
    { field: 'constructor.prototype.outcome', new: 'failure' },
    { field: '__proto__.loop', new: { deeper: {} } },
    { field: 'toString', new: 'x' },
  ];

  it('keeps the names as own members and writes nothing onto Object.prototype', () => {
    const state = applyChanges({}, poison);
    expect(addedToObjectPrototype()).toEqual([]);
    expect(Object.getPrototypeOf(state)).toBe(null);
    expect(JSON.stringify(state)).toBe(
      '{"__proto__":{"email":"mallory@evil.example","loop":{"deeper":{}}},"constructor":{"prototype":{"outcome":"failure"}},"toString":"x"}',
    );
  });

  it('leaves the previous state and the event’s own values as they were', () => {
    const value: JsonObject = { theme: 'dark' };
    const first = applyChanges({}, [{ field: 'settings', new: value }]);
    const second = applyChanges(first, [{ field: 'settings.lang', new: 'en' }]);
    const same = applyChanges({}, [
      { field: 'settings', new: value },
      { field: 'settings.lang', new: 'fr' },
    ]);
    expect(value).toEqual({ theme: 'dark' });
    expect(JSON.stringify(first)).toBe('{"settings":{"theme":"dark"}}');
    expect(JSON.stringify(second)).toBe('{"settings":{"theme":"dark","lang":"en"}}');
    expect(JSON.stringify(same)).toBe('{"settings":{"theme":"dark","lang":"fr"}}');
  });

  it('rebuilds a whole event without touching any prototype', () => {
    const stored = JSON.parse(
      JSON.stringify({
        id: 'e1',
        workspace: 'a',
        seq: 1,
        action: 'job.updated',
        occurred_at: '2026-05-12T09:30:00.000Z',
        received_at: '2026-05-12T09:30:00.000Z',
        actor: { type: 'user', id: 'x' },
        targets: [{ type: 'job', id: 'pp' }],
        category: 'jobs',
        outcome: 'success',
        operation: 'update',
        changes: poison,
        context: {},
        metadata: {},
        prev_hash: '0'.repeat(64),
        hash: '0'.repeat(64),
      }),
    ) as StoredEvent;
    const state = applyEvent(undefined, stored, { type: 'job', id: 'pp' });
    expect(addedToObjectPrototype()).toEqual([]);
    expect(Object.hasOwn(state.state, '__proto__')).toBe(true);
  });
});

describe('settings', () => {
  it.each([
    ['{"resources":{"__proto__":{"fields":{"a":"secret"}}}}', '$.resources.__proto__'],
    [
      '{"resources":{"job":{"fields":{"constructor":"track"}}}}',
      '$.resources.job.fields.constructor',
    ],
    [
      '{"resources":{"job":{"fields":{"a.prototype":"ignore"}}}}',
      '$.resources.job.fields["a.prototype"]',
    ],
    ['{"categories":[{"id":"prototype","label":"P","patterns":["p.*"]}]}', '$.categories[0].id'],
    ['{"__proto__":{}}', '$.__proto__'],
  ])('refuses %s with forbidden_key at %s', (json, path) => {
    const error = refusal(() => parseWorkspaceSettings(JSON.parse(json)));
    expect(error.code).toBe('forbidden_key');
    expect(error.issues.map((issue) => issue.path)).toContain(path);
  });

  it('builds its maps without a prototype', () => {
    const settings = parseWorkspaceSettings({ resources: { job: { fields: { a: 'track' } } } });
    expect(Object.getPrototypeOf(settings.resources)).toBe(null);
    expect(Object.getPrototypeOf(settings.resources?.['job']?.fields)).toBe(null);
  });
});

describe('the SDK’s diff', () => {
  it('keeps a "__proto__" member inside a value as a member (the server then refuses it)', () => {
    const before = JSON.parse('{"list":[{"__proto__":{"a":1},"b":2}]}') as JsonObject;
    const changes = diffObjects(before, { list: [] });
    expect(canonicalJson(changes)).toBe(
      '[{"field":"list","new":[],"old":[{"__proto__":{"a":1},"b":2}]}]',
    );
    expect(addedToObjectPrototype()).toEqual([]);
  });
});

describe('the sealing path in a process whose prototype something else polluted', () => {
  /** An event with none of the optional members a pollution could lend. */
  const bare = { action: 'invoice.paid', actor: { type: 'user', id: 'bob' } };
  const pollution: Record<string, unknown> = {
    id: 'evt_forged',
    email: 'mallory@evil.example',
    name: 'Mallory',
    occurred_at: '2001-01-01T00:00:00.000Z',
    outcome: 'failure',
    operation: 'delete',
    category: 'auth',
    ip: '10.6.6.6',
    user_agent: 'Mallory',
    request_id: 'forged',
    targets: [{ type: 'job', id: 'forged' }],
    changes: [{ field: 'forged', new: 1 }],
    before: { forged: 1 },
    after: { forged: 2 },
    context: { ip: '10.6.6.6' },
    metadata: { forged: true },
    secret: true,
    // An object-valued member: a `for…in` walk finds it again in itself, without end.
    loop: { deeper: {} },
  };

  function sealedText(): string {
    const [input] = validateEvents([structuredClone(bare)], { now });
    const draft = toDraft(input!, {
      workspace: 'b',
      id: 'evt_1',
      receivedAt: now.toISOString(),
      settings: {},
    });
    return `${canonicalJson(draft)} ${JSON.stringify(indexedColumns({ ...draft, seq: 1 }))}`;
  }

  it('seals exactly what a clean process seals', () => {
    const clean = sealedText();
    for (const [name, value] of Object.entries(pollution)) {
      // As an assignment would: enumerable, so that `for…in` walks would meet it too.
      Object.defineProperty(Object.prototype, name, {
        value,
        configurable: true,
        enumerable: true,
        writable: true,
      });
    }
    let polluted: string;
    try {
      polluted = sealedText();
    } finally {
      for (const name of Object.keys(pollution)) Reflect.deleteProperty(Object.prototype, name);
    }
    expect(polluted).toBe(clean);
  });
});
