import { describe, expect, it } from 'vitest';
import {
  DEFAULT_CATEGORIES,
  categorize,
  categoryCatalog,
  categoryLabel,
  matchesPattern,
} from './categories.js';

const defaults = categoryCatalog({});

describe('default categories', () => {
  // Every action of the design's four vocabularies, with the primary target it comes with.
  it.each([
    // Job-runner product: labels
    ['Workspace Created', 'workspace', 'workspace'],
    ['Invite Sent', 'invite', 'invites'],
    ['Invite Accepted', 'invite', 'invites'],
    ['Job Created', 'job', 'jobs'],
    ['Job Updated', 'job', 'jobs'],
    ['Job Ready', 'job', 'jobs'],
    ['Worker Claimed Job', 'job', 'runners'],
    ['Worker Completed Attempt', 'attempt', 'runners'],
    ['Worker Updated', 'worker', 'runners'],
    ['Job Deleted', 'job', 'jobs'],
    ['Job Canceled', 'job', 'jobs'],
    ['Job State Changed', 'job', 'jobs'],
    ['job.created', 'job', 'jobs'],
    ['JOB_STATE_CHANGED', undefined, 'jobs'],
    // Developer platform: bare verbs, so the resource type decides (login is auth by itself)
    ['auto_off', 'workspace', 'workspace'],
    ['auto_start', 'workspace', 'workspace'],
    ['connect', 'workspace', 'workspace'],
    ['cordon', 'workspace', 'workspace'],
    ['create', 'template', 'templates'],
    ['create', 'template_version', 'templates'],
    ['delete', 'user', 'members'],
    ['enqueue', 'workspace_build', 'workspace'],
    ['login', 'user', 'auth'],
    ['open', 'workspace', 'workspace'],
    ['ssh', 'workspace', 'workspace'],
    ['stop', 'workspace_build', 'workspace'],
    ['uncordon', 'workspace', 'workspace'],
    ['view', 'template', 'templates'],
    ['write', 'user', 'members'],
    ['write', 'group', 'members'],
    ['create', 'organization', 'workspace'],
    ['write', 'organization_member', 'members'],
    ['create', 'git_ssh_key', 'auth'],
    ['delete', undefined, 'general'],
    // Engineering workspace: upper-case tokens
    ['REPOSITORY_RUN_CLAIM', 'workspace repo', 'repos'],
    ['MEMBERSHIP_DEFAULTED', 'user', 'members'],
    ['AGENT_REASSIGNMENT_QUEUED', 'improvement', 'agent'],
    ['GROUP_MEMBERSHIP_VOL_QUEUE', 'workspace', 'members'],
    ['TOKEN_MINTED', 'API token', 'auth'],
    ['TOKEN_ROTATED', 'API token', 'auth'],
    ['API_TOKEN_MINTED', 'workspace', 'auth'],
    ['INTEGRATION_CONNECTED', 'integration', 'integrations'],
    ['MEMBER_PROMOTED', 'user', 'members'],
    ['ARTIFACT_REPO_CREATED', 'artifact repo', 'artifact_repos'],
    ['PIPELINE_RUN_STARTED', 'pipeline run', 'pipelines'],
    ['WORKSPACE_REPO_ADDED', 'workspace repo', 'repos'],
    ['INVITE_SENT', 'invite', 'invites'],
    ['IMPROVEMENT_PROPOSED', 'improvement', 'improvements'],
    ['CLARIFICATION_REQUESTED', 'improvement', 'clarifications'],
    ['WORKSPACE_RENAMED', 'workspace', 'workspace'],
    ['USER_LOGIN', 'user', 'auth'],
    ['STATE_CHANGED', 'artifact repo', 'artifact_repos'],
    ['STATE_CHANGED', 'workspace repo', 'repos'],
    ['STATE_CHANGED', 'pipeline run', 'pipelines'],
    ['STATE_CHANGED', 'pipeline', 'pipelines'],
    ['STATE_CHANGED', 'API token', 'auth'],
    ['STATE_CHANGED', 'integration', 'integrations'],
    ['STATE_CHANGED', 'invite', 'invites'],
    ['STATE_CHANGED', 'improvement', 'improvements'],
    ['STATE_CHANGED', 'user', 'members'],
    ['STATE_CHANGED', 'workspace', 'workspace'],
    // CRM
    ['customer.created', 'customer', 'customers'],
    ['customer.updated', 'customer', 'customers'],
    ['customer.deleted', 'customer', 'customers'],
  ] as const)('%s on %s -> %s', (action, target, category) => {
    expect(categorize(action, target, defaults)).toBe(category);
  });

  it('matches whole words, never parts of words', () => {
    expect(categorize('keyboard.shortcut_used', undefined, defaults)).toBe('general');
    expect(categorize('monkey.fed', undefined, defaults)).toBe('general');
    expect(categorize('tokenizer.ran', undefined, defaults)).toBe('general');
    expect(categorize('processor.started', undefined, defaults)).toBe('general');
    expect(categorize('api_key.created', undefined, defaults)).toBe('auth');
    expect(categorize('apiKeyCreated', undefined, defaults)).toBe('auth');
  });

  it('prefers what the action says over what the target is', () => {
    expect(categorize('invite.sent', 'workspace', defaults)).toBe('invites');
    expect(categorize('login', 'workspace', defaults)).toBe('auth');
  });

  it('has unique ids and ends with the general fallback', () => {
    const ids = DEFAULT_CATEGORIES.map((c) => c.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.at(-1)).toBe('general');
  });
});

describe('matchesPattern', () => {
  it.each([
    ['job.*', 'JOB_CREATED', true],
    ['job.*', 'Job Created', true],
    ['job.*', 'jobCreated', true],
    ['job.*', 'job', true],
    ['job.*', 'jobs.created', false],
    ['job*', 'jobs.created', true],
    ['*.token.*', 'token', true],
    ['*.token.*', 'tokenizer', false],
    ['*_TOKEN_*', 'api.token.minted', true],
    ['*.deleted', 'customer.deleted', true],
    ['*.deleted', 'deleted', true],
    ['customer.created', 'CUSTOMER_CREATED', true],
    ['*', 'anything.at.all', true],
  ] as const)('%s vs %s -> %s', (pattern, action, expected) => {
    expect(matchesPattern(pattern, action)).toBe(expected);
  });
});

describe('a workspace catalog', () => {
  const catalog = categoryCatalog({
    categories: [
      { id: 'jobs', label: 'Work items', patterns: ['job.*', 'task.*'] },
      { id: 'billing', label: 'Billing', patterns: ['*.invoice.*', 'target:subscription'] },
    ],
  });

  it('puts its own definitions first and overrides defaults with the same id', () => {
    expect(catalog.map((c) => c.id).slice(0, 2)).toEqual(['jobs', 'billing']);
    expect(catalog.filter((c) => c.id === 'jobs')).toHaveLength(1);
    expect(categorize('task.created', undefined, catalog)).toBe('jobs');
    expect(categorize('invoice.paid', undefined, catalog)).toBe('billing');
    expect(categorize('renewed', 'subscription', catalog)).toBe('billing');
    expect(categorize('customer.created', undefined, catalog)).toBe('customers');
  });

  it('labels known ids from the catalog and others by title-casing', () => {
    expect(categoryLabel('jobs', catalog)).toBe('Work items');
    expect(categoryLabel('auth', catalog)).toBe('Auth & tokens');
    expect(categoryLabel('data_exports', catalog)).toBe('Data Exports');
  });
});
