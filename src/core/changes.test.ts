import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  diffObjects,
  fieldRule,
  looksSecret,
  redactChanges,
  type FieldRule,
  type ResourceSchema,
} from './changes.js';
import type { Change } from './event.js';
import type { JsonObject, JsonValue } from './json.js';

describe('looksSecret', () => {
  it.each([
    'password',
    'hashed_password',
    'passwordHash',
    'passwd',
    'token',
    'access_token',
    'refreshToken',
    'secret',
    'client_secret',
    'key',
    'api_key',
    'apiKey',
    'apikey',
    'private_key',
    'PRIVATE_KEY',
    'credentials',
    'otp',
    'totp_seed',
    'mypassword',
  ])('%s is secret', (name) => {
    expect(looksSecret(name)).toBe(true);
  });

  it.each([
    'keyboard',
    'monkey',
    'keynote',
    'tokenizer',
    'email',
    'username',
    'public_key',
    'publicKey',
    'api_key_id',
    'token_expires_at',
    'password_changed_at',
    'secretary',
    'status',
  ])('%s is not secret', (name) => {
    expect(looksSecret(name)).toBe(false);
  });
});

describe('fieldRule', () => {
  const schema: ResourceSchema = {
    fields: {
      email: 'track',
      hashed_password: 'secret',
      updated_at: 'ignore',
      settings: 'track',
      'settings.theme': 'ignore',
      vault: 'secret',
      token_count: 'track',
    },
  };

  it.each([
    ['email', 'track'],
    ['hashed_password', 'secret'],
    ['updated_at', 'ignore'],
    ['updated_at.nested', 'ignore'],
    ['settings.theme', 'ignore'],
    ['settings.language', 'track'],
    ['settings.api_key', 'secret'],
    ['vault.anything', 'secret'],
    ['token_count', 'track'],
    ['token_count.x', 'track'],
    ['unknown', 'track'],
    ['password', 'secret'],
    ['credentials.username', 'secret'],
    ['constructor', 'track'],
  ] as const)('%s is %s', (path, rule) => {
    expect(fieldRule(path, schema)).toBe(rule);
  });

  it('applies the schema default to fields it does not list', () => {
    const onlyListed: ResourceSchema = { default: 'ignore', fields: { name: 'track' } };
    expect(fieldRule('name', onlyListed)).toBe('track');
    expect(fieldRule('avatar_url', onlyListed)).toBe('ignore');
    // An unlisted secret-looking field is not stored at all, which is safer than "changed".
    expect(fieldRule('private_key', onlyListed)).toBe('ignore');
    const hidden: ResourceSchema = { default: 'secret', fields: { name: 'track' } };
    expect(fieldRule('bio', hidden)).toBe('secret');
    expect(fieldRule('name.first', hidden)).toBe('track');
    const tracked: ResourceSchema = { default: 'track', fields: {} };
    expect(fieldRule('api_token', tracked)).toBe('secret');
  });

  it('uses names alone without a schema', () => {
    expect(fieldRule('api_key')).toBe('secret');
    expect(fieldRule('name')).toBe('track');
  });
});

describe('diffObjects', () => {
  // The developer-platform product's user resource, as the design describes it.
  const userSchema: ResourceSchema = {
    fields: {
      email: 'track',
      username: 'track',
      status: 'track',
      rbac_roles: 'track',
      hashed_password: 'secret',
      created_at: 'ignore',
      updated_at: 'ignore',
      last_seen_at: 'ignore',
    },
  };

  it('tracks, ignores and hides fields by the schema', () => {
    const before = {
      email: 'a@x.io',
      username: 'alex',
      status: 'active',
      rbac_roles: ['member'],
      hashed_password: '$2b$10$old',
      updated_at: '2026-01-01',
      last_seen_at: '2026-01-02',
    };
    const after = {
      email: 'a@x.io',
      username: 'alex',
      status: 'suspended',
      rbac_roles: ['member', 'auditor'],
      hashed_password: '$2b$10$new',
      updated_at: '2026-02-01',
      last_seen_at: '2026-02-02',
    };
    expect(diffObjects(before, after, userSchema)).toEqual([
      { field: 'hashed_password', secret: true },
      { field: 'rbac_roles', old: ['member'], new: ['member', 'auditor'] },
      { field: 'status', old: 'active', new: 'suspended' },
    ]);
  });

  it('describes a create and a delete', () => {
    expect(diffObjects(undefined, { name: 'a', password: 'p' })).toEqual([
      { field: 'name', new: 'a' },
      { field: 'password', secret: true },
    ]);
    expect(diffObjects({ name: 'a' }, undefined)).toEqual([{ field: 'name', old: 'a' }]);
  });

  it('recurses into objects with dotted paths and keeps null as a value', () => {
    expect(
      diffObjects(
        { settings: { theme: 'dark', lang: 'en' }, note: null },
        { settings: { theme: 'light', lang: 'en', api_key: 'k' }, note: 'hi' },
      ),
    ).toEqual([
      { field: 'note', old: null, new: 'hi' },
      { field: 'settings.api_key', secret: true },
      { field: 'settings.theme', old: 'dark', new: 'light' },
    ]);
  });

  it('handles a field that turns from a value into an object and back', () => {
    expect(diffObjects({ config: null }, { config: { retries: 3 } })).toEqual([
      { field: 'config', old: null },
      { field: 'config.retries', new: 3 },
    ]);
    expect(diffObjects({ config: { retries: 3 } }, { config: 'off' })).toEqual([
      { field: 'config', new: 'off' },
      { field: 'config.retries', old: 3 },
    ]);
    expect(diffObjects({ config: {} }, { config: 1 })).toEqual([
      { field: 'config', old: {}, new: 1 },
    ]);
  });

  it('hides a whole array value that holds a secret member', () => {
    expect(
      diffObjects(
        { users: [{ name: 'a', password: 'p1' }] },
        { users: [{ name: 'a', password: 'p2' }] },
      ),
    ).toEqual([{ field: 'users', secret: true }]);
  });

  it('drops ignored members inside array values', () => {
    const schema: ResourceSchema = { fields: { 'items.updated_at': 'ignore' } };
    expect(
      diffObjects(
        { items: [{ id: 1, updated_at: 'a' }] },
        { items: [{ id: 1, updated_at: 'b' }] },
        schema,
      ),
    ).toEqual([]);
    expect(
      diffObjects(
        { items: [{ id: 1, updated_at: 'a' }] },
        { items: [{ id: 2, updated_at: 'b' }] },
        schema,
      ),
    ).toEqual([{ field: 'items', old: [{ id: 1 }], new: [{ id: 2 }] }]);
  });
});

describe('redactChanges', () => {
  it('applies the schema and names to changes a sender computed', () => {
    const schema: ResourceSchema = { fields: { updated_at: 'ignore', pin: 'secret' } };
    const changes: Change[] = [
      { field: 'role', old: 'member', new: 'admin' },
      { field: 'updated_at', old: 1, new: 2 },
      { field: 'pin', old: '1234', new: '9999' },
      { field: 'api_key', new: 'sk_live_1' },
      { field: 'nickname', old: 'a', new: 'b', secret: true },
      { field: 'config', new: { token: 't', depth: 2 } },
      { field: 'added', new: 'x' },
    ];
    expect(redactChanges(changes, schema)).toEqual([
      { field: 'role', old: 'member', new: 'admin' },
      { field: 'pin', secret: true },
      { field: 'api_key', secret: true },
      { field: 'nickname', secret: true },
      { field: 'config', secret: true },
      { field: 'added', new: 'x' },
    ]);
  });
});

// ---- Properties ----------------------------------------------------------------------------

const plainKey = fc.constantFrom('name', 'status', 'count', 'settings', 'items', 'a', 'b', 'c');
const SECRET_KEYS = ['password', 'api_key', 'token', 'clientSecret', 'passphrase'];
const secretKey = fc.constantFrom(...SECRET_KEYS);
const ignoredKey = fc.constantFrom('updated_at', 'cache');
const anyKey = fc.oneof(plainKey, plainKey, secretKey, ignoredKey);

let marker = 0;
/** Values of secret fields are unique markers, so a leak is a plain substring search. */
const secretMarker = fc.constant(null).map(() => `SECRET-${++marker}-VALUE`);

const scalar: fc.Arbitrary<JsonValue> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer({ min: -5, max: 5 }),
  fc.constantFrom('x', 'y', ''),
);

/** Objects whose secret-named members always hold markers, at any depth, also in arrays. */
const { tree } = fc.letrec<{ tree: JsonObject; value: JsonValue }>((tie) => ({
  tree: fc
    .array(
      fc.tuple(anyKey, tie('value'), secretMarker).map(([key, value, secret]) => {
        return [key, SECRET_KEYS.includes(key) ? secret : value] as const;
      }),
      { maxLength: 5 },
    )
    .map((entries): JsonObject => Object.fromEntries(entries)),
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    scalar,
    tie('tree'),
    fc.array(fc.oneof(scalar, tie('tree')), { maxLength: 3 }),
  ),
}));

const schema: ResourceSchema = {
  fields: { updated_at: 'ignore', cache: 'ignore', status: 'track' },
};

/** The tracked part of an object under the same rules, for comparing applied changes. */
function tracked(obj: JsonObject, prefix = ''): JsonObject {
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(obj)) {
    const path = prefix === '' ? key : `${prefix}.${key}`;
    const rule: FieldRule = fieldRule(path, schema);
    if (rule !== 'track') continue;
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      out[key] = tracked(value, path);
    } else if (!JSON.stringify(value).includes('SECRET-')) {
      out[key] = value;
    }
  }
  return out;
}

/** Empty objects carry no tracked fields; comparisons ignore them. */
function pruneEmpty(value: JsonValue): JsonValue | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const out: JsonObject = {};
  for (const [key, member] of Object.entries(value)) {
    const pruned = pruneEmpty(member);
    if (pruned !== undefined) out[key] = pruned;
  }
  return Object.keys(out).length === 0 ? undefined : out;
}

/** Removes dotted paths (fields reported only as secret) from a copy. */
function without(obj: JsonObject, paths: readonly string[]): JsonObject {
  const copy = structuredClone(obj);
  for (const path of paths) {
    const parts = path.split('.');
    let node: JsonValue | undefined = copy;
    for (const part of parts.slice(0, -1)) {
      node =
        typeof node === 'object' && node !== null && !Array.isArray(node) ? node[part] : undefined;
    }
    if (typeof node === 'object' && node !== null && !Array.isArray(node))
      delete node[parts.at(-1)!];
  }
  return copy;
}

function apply(state: JsonObject, changes: readonly Change[]): JsonObject {
  const next = structuredClone(state);
  for (const change of changes) {
    if (change.secret) continue;
    const path = change.field.split('.');
    let node: JsonObject = next;
    for (const part of path.slice(0, -1)) {
      const child = node[part];
      if (typeof child !== 'object' || child === null || Array.isArray(child)) {
        if (!('new' in change)) {
          node = {};
          break;
        }
        node[part] = {};
      }
      node = node[part] as JsonObject;
    }
    const last = path[path.length - 1]!;
    if ('new' in change) node[last] = change.new!;
    else delete node[last];
  }
  return next;
}

describe('change tracking properties', () => {
  it('never lets a value of a secret field into the output', () => {
    fc.assert(
      fc.property(
        fc.option(tree, { nil: undefined }),
        fc.option(tree, { nil: undefined }),
        (b, a) => {
          const out = JSON.stringify(diffObjects(b, a, schema));
          expect(out).not.toContain('SECRET-');
          const given: Change[] = Object.entries(a ?? {}).map(([field, value]) => ({
            field,
            new: value,
          }));
          expect(JSON.stringify(redactChanges(given, schema))).not.toContain('SECRET-');
        },
      ),
      { numRuns: 300 },
    );
  });

  it('finds no changes between an object and itself', () => {
    fc.assert(
      fc.property(tree, (x) => {
        expect(diffObjects(x, structuredClone(x), schema)).toEqual([]);
      }),
      { numRuns: 200 },
    );
  });

  it('turns the tracked part of before into the tracked part of after', () => {
    fc.assert(
      fc.property(tree, tree, (b, a) => {
        const changes = diffObjects(b, a, schema);
        const fields = changes.map((c) => c.field);
        expect(fields).toEqual([...fields].sort());
        // A tracked field whose value holds a secret is reported as secret: compare the rest.
        const hidden = changes.filter((c) => c.secret).map((c) => c.field);
        expect(pruneEmpty(without(apply(tracked(b), changes), hidden))).toEqual(
          pruneEmpty(without(tracked(a), hidden)),
        );
      }),
      { numRuns: 300 },
    );
  });
});
