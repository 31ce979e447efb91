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

  it('accepts the whole document: labels, working hours, retention, views and field defaults', () => {
    const settings = {
      categories: [{ id: 'jobs', label: 'Jobs', patterns: ['job.*'] }],
      resources: {
        workspace_build: { default: 'ignore', fields: { template_version_id: 'track' } },
      },
      labels: { 'worker.claimed_job': 'Worker Claimed Job' },
      working_hours: {
        time_zone: 'Europe/Berlin',
        days: ['mon', 'fri'],
        start: '09:00',
        end: '18:00',
      },
      retention: { days: 365 },
      views: [{ name: 'Failed builds', query: 'action:start outcome:failure' }],
      log: { public: false },
    };
    expect(parseWorkspaceSettings(settings)).toEqual(settings);
    expect(parseWorkspaceSettings({ retention: { days: null } })).toEqual({
      retention: { days: null },
    });
  });

  it('keeps working days in week order', () => {
    const hours = { time_zone: 'UTC', days: ['fri', 'mon'], start: '08:00', end: '17:30' };
    expect(parseWorkspaceSettings({ working_hours: hours }).working_hours?.days).toEqual([
      'mon',
      'fri',
    ]);
  });

  it('names every problem of a bad document by path at once', () => {
    expect(
      issues({
        resources: { user: { default: 'hide', fields: { email: 'track' } } },
        labels: { 'job created': 'Job Created', 'job.created': '' },
        working_hours: {
          time_zone: 'Mars/Olympus',
          days: ['mon', 'mon', 'funday'],
          start: '9:00',
          end: '08:00',
        },
        retention: { days: 0 },
        views: [
          { name: 'A', query: 'nokey:1' },
          { name: 'a', query: 'action:x' },
        ],
      }),
    ).toEqual([
      '$.resources.user.default must be one of track, ignore, secret',
      '$.labels["job created"] must name an action: 1 to 128 letters, digits, . _ : or -',
      '$.labels["job.created"] must be text of 1 to 64 characters',
      '$.working_hours.time_zone must be an IANA time zone such as "Europe/Berlin" or "UTC"',
      '$.working_hours.days[1] repeats "mon"',
      '$.working_hours.days[2] must be one of mon, tue, wed, thu, fri, sat, sun',
      '$.working_hours.start must be a 24-hour time "HH:MM"',
      '$.retention.days must be a whole number of days from 1 to 36500, or null to keep everything',
      expect.stringMatching(/^\$\.views\[0\]\.query is not a valid query: .*nokey/),
      '$.views[1].name repeats "a" (already at $.views[0])',
    ]);
  });

  it('refuses an end of working hours before its start', () => {
    expect(
      issues({ working_hours: { time_zone: 'UTC', days: [], start: '18:00', end: '09:00' } }),
    ).toEqual(['$.working_hours.end must be after start (18:00)']);
  });

  it('refuses reserved names as actions of labels', () => {
    expect(() => parseWorkspaceSettings(JSON.parse('{"labels":{"__proto__":"x"}}'))).toThrow(
      expect.objectContaining({ code: 'forbidden_key' }),
    );
  });

  it.each([
    [[], '$ must be an object'],
    [
      { theme: 'dark' },
      '$.theme is not a known field (allowed: categories, resources, labels, working_hours, retention, views, log)',
    ],
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
      '$.resources.user.email is not a known field (allowed: default, fields)',
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

  it("refuses Trailkeep's own category id and label, so no product chip can pass for it", () => {
    expect(
      issues({
        categories: [
          { id: 'trailkeep', label: 'Ours', patterns: ['x.*'] },
          { id: 'auth2', label: ' TRAILKEEP ', patterns: ['y.*'] },
        ],
      }),
    ).toEqual([
      `$.categories[0].id is "trailkeep", which is reserved for Trailkeep's own events`,
      `$.categories[1].label is " TRAILKEEP ", the label of Trailkeep's own events; choose another so the chips differ`,
    ]);
  });
});
