import { describe, expect, it } from 'vitest';
import {
  actionLabel,
  actorKindLabel,
  countLabel,
  fullTime,
  kindLabel,
  pluralKindLabel,
  relativeTime,
  shortTime,
  valueText,
} from '../../web/src/format.js';

describe('actionLabel', () => {
  it.each([
    ['job.created', 'Job Created'],
    ['JOB_CREATED', 'Job Created'],
    ['REPOSITORY_RUN_CLAIM', 'Repository Run Claim'],
    ['auto_start', 'Auto Start'],
    ['member.role_changed', 'Member Role Changed'],
    ['customer:updated', 'Customer Updated'],
    ['jobCreated', 'Job Created'],
    ['delete', 'Delete'],
    ['...', '...'],
    ['ssh_key.created', 'SSH Key Created'],
    ['API_TOKEN_MINTED', 'API Token Minted'],
    ['user.sso.login', 'User SSO Login'],
    ['dev_url.opened', 'Dev URL Opened'],
    ['oauth.github.linked', 'OAuth GitHub Linked'],
    ['ip_allowlist.updated', 'IP Allowlist Updated'],
  ])('%s reads %s', (action, label) => {
    expect(actionLabel(action)).toBe(label);
  });
});

describe('labels', () => {
  it('names every actor kind', () => {
    expect(['user', 'agent', 'api_token', 'automation', 'system'].map(actorKindLabel)).toEqual([
      'Person',
      'AI agent',
      'API token',
      'Automation',
      'System',
    ]);
  });

  it('shows an unknown kind as sent, even one named like an object member', () => {
    expect(actorKindLabel('robot')).toBe('Robot');
    expect(actorKindLabel('constructor')).toBe('Constructor');
    expect(actorKindLabel('toString')).toBe('ToString');
  });

  it('words target kinds and their plurals', () => {
    expect(kindLabel('pipeline_run')).toBe('Pipeline run');
    expect(kindLabel('API token')).toBe('API token');
    expect(pluralKindLabel('job')).toBe('Jobs');
    expect(pluralKindLabel('attempt')).toBe('Attempts');
    expect(pluralKindLabel('policy')).toBe('Policies');
    expect(pluralKindLabel('git_ssh_key')).toBe('Git SSH keys');
    expect(kindLabel('api_key')).toBe('API key');
    expect(kindLabel('dev_url')).toBe('Dev URL');
    expect(kindLabel('user_ids')).toBe('User IDs');
    expect(kindLabel('ssh')).toBe('SSH');
  });

  it('counts exactly up to the cap and with a plus beyond', () => {
    expect(countLabel({ value: 1, capped: false }, 'event')).toBe('1 event');
    expect(countLabel({ value: 1234, capped: false }, 'event')).toBe('1,234 events');
    expect(countLabel({ value: 10000, capped: true }, 'event')).toBe('10,000+ events');
    expect(countLabel({ value: 0, capped: false }, 'record')).toBe('0 records');
  });

  it('shows changed values as text', () => {
    expect(valueText('admin')).toBe('admin');
    expect(valueText(['a', 1])).toBe('["a",1]');
    expect(valueText(null)).toBe('null');
    expect(valueText(undefined)).toBe('—');
  });
});

describe('times', () => {
  const iso = '2026-03-21T18:57:03.120Z';
  it('shows a short local time', () => {
    expect(shortTime(iso, 'Europe/Berlin')).toBe('Mar 21, 07:57 PM');
    expect(shortTime(iso, 'UTC')).toBe('Mar 21, 06:57 PM');
  });

  it('gives the full instant with offset, zone and UTC', () => {
    expect(fullTime(iso, 'Europe/Berlin')).toBe(
      '2026-03-21T19:57:03.120+01:00 (Europe/Berlin) · 2026-03-21T18:57:03.120Z',
    );
    expect(fullTime(iso, 'UTC')).toBe(
      '2026-03-21T18:57:03.120+00:00 (UTC) · 2026-03-21T18:57:03.120Z',
    );
  });
});

describe('times', () => {
  const now = new Date('2026-12-03T18:00:00.000Z');
  it('shows the year only when it is not the current one', () => {
    expect(shortTime('2026-12-02T11:49:00.000Z', 'UTC', now)).toBe('Dec 2, 11:49 AM');
    expect(shortTime('2025-12-02T11:49:00.000Z', 'UTC', now)).toBe('Dec 2, 2025, 11:49 AM');
    // The year is the zone's: an hour before midnight in Tokyo, midnight there is next year's.
    const newYear = new Date('2026-12-31T14:00:00.000Z');
    expect(shortTime('2026-12-31T15:00:00.000Z', 'Asia/Tokyo', newYear)).toBe(
      'Jan 1, 2027, 12:00 AM',
    );
  });

  it('says how long ago', () => {
    expect(relativeTime('2026-12-03T17:59:30.000Z', now)).toBe('just now');
    expect(relativeTime('2026-12-03T17:55:00.000Z', now)).toBe('5 min ago');
    expect(relativeTime('2026-12-03T15:00:00.000Z', now)).toBe('3 h ago');
    expect(relativeTime('2026-12-01T18:00:00.000Z', now)).toBe('2 d ago');
    expect(relativeTime('2026-08-01T18:00:00.000Z', now)).toBe('4 mo ago');
    expect(relativeTime('2024-12-01T18:00:00.000Z', now)).toBe('2 y ago');
    expect(relativeTime('2026-12-03T18:05:00.000Z', now)).toBe('in 5 min');
  });
});
