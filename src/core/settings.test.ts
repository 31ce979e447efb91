import { describe, expect, it } from 'vitest';
import { TrailkeepError } from './errors.js';
import { parseWorkspaceSettings } from './settings.js';

function issues(json: unknown): string[] {
  try {
    parseWorkspaceSettings(json);
  } catch (error) {
    if (error instanceof TrailkeepError) {
      expect(error.code).toBe('validation_failed');
      return error.issues.map((i) => `${i.path} ${i.message}`);
    }
    throw error;
  }
  throw new Error('expected the settings to be rejected');
}

describe('parseWorkspaceSettings', () => {
  it('accepts empty settings', () => {
    expect(parseWorkspaceSettings({})).toEqual({});
    expect(parseWorkspaceSettings(null)).toEqual({});
  });

  it('accepts the log section', () => {
    expect(parseWorkspaceSettings({ log: { public: true } })).toEqual({ log: { public: true } });
    expect(parseWorkspaceSettings({ log: { public: false } })).toEqual({ log: { public: false } });
  });

  it('refuses reserved names in the log section', () => {
    expect(() =>
      parseWorkspaceSettings(JSON.parse('{"log":{"public":true,"__proto__":{}}}')),
    ).toThrow(expect.objectContaining({ code: 'forbidden_key' }));
  });

  it('accepts categories and resource schemas', () => {
    const settings = {
      categories: [{ id: 'billing', label: 'Billing', patterns: ['*.invoice.*', 'target:plan'] }],
      resources: {
        user: { fields: { email: 'track', hashed_password: 'secret', updated_at: 'ignore' } },
      },
    };
    expect(parseWorkspaceSettings(settings)).toEqual(settings);
  });

  it.each([
    [[], '$ must be an object'],
    [{ theme: 'dark' }, '$.theme is not a known field (allowed: categories, resources, log)'],
    [{ categories: {} }, '$.categories must be an array'],
    [{ log: true }, '$.log must be an object: { "public": true | false }'],
    [{ log: {} }, '$.log.public must be true or false'],
    [{ log: { public: 'yes' } }, '$.log.public must be true or false'],
    [
      { log: { public: true, witnesses: [] } },
      '$.log.witnesses is not a known field (allowed: public)',
    ],
    [
      { categories: [{ id: 'Bad Id', label: 'x', patterns: [] }] },
      '$.categories[0].id must be a lower-case id',
    ],
    [{ categories: [{ id: 'a', label: '', patterns: [] }] }, '$.categories[0].label must be text'],
    [
      { categories: [{ id: 'a', label: 'A', patterns: ['job.*', 'bad/'] }] },
      '$.categories[0].patterns[1] must be an action glob',
    ],
    [
      { categories: [{ id: 'a', label: 'A', patterns: ['target:'] }] },
      '$.categories[0].patterns[0] must name a target type',
    ],
    [
      {
        categories: [
          { id: 'a', label: 'A', patterns: [] },
          { id: 'a', label: 'B', patterns: [] },
        ],
      },
      '$.categories[1].id repeats "a" (already at $.categories[0])',
    ],
    [
      { categories: [{ id: 'a', label: 'A', patterns: [], x: 1 }] },
      '$.categories[0].x is not a known field',
    ],
    [{ resources: [] }, '$.resources must be an object keyed by target type'],
    [
      { resources: { user: { email: 'track' } } },
      '$.resources.user.email is not a known field (allowed: fields)',
    ],
    [
      { resources: { user: { fields: { email: 'show' } } } },
      '$.resources.user.fields.email must be one of track, ignore, secret',
    ],
    [
      { resources: { 'API token': { fields: 'x' } } },
      '$.resources["API token"].fields must be an object',
    ],
  ])('rejects %j', (json, expected) => {
    expect(issues(json).join(' | ')).toContain(expected);
  });

  it('stores the target: prefix in lower case, whatever case it was sent in', () => {
    const parsed = parseWorkspaceSettings({
      categories: [{ id: 'plans', label: 'Plans', patterns: ['TARGET:plan', 'Plan_*'] }],
    });
    expect(parsed.categories![0]!.patterns).toEqual(['target:plan', 'Plan_*']);
  });

  it('names every problem at once', () => {
    expect(issues({ extra: 1, categories: [{ id: '-', label: 'A', patterns: [1] }] })).toHaveLength(
      3,
    );
  });
});
