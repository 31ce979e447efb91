import { describe, expect, it } from 'vitest';
import { OPERATION_VERBS, actionWords, deriveOperation } from './operation.js';

describe('actionWords', () => {
  it.each([
    ['member.role_changed', ['member', 'role', 'changed']],
    ['REPOSITORY_RUN_CLAIM', ['repository', 'run', 'claim']],
    ['Invite Sent', ['invite', 'sent']],
    ['deleteJob', ['delete', 'job']],
    ['HTTPRequestSent', ['http', 'request', 'sent']],
    ['billing:invoice-paid', ['billing', 'invoice', 'paid']],
    ['v2Created', ['v2', 'created']],
  ])('splits %s', (action, words) => {
    expect(actionWords(action)).toEqual(words);
  });
});

describe('deriveOperation', () => {
  // Every action of the design's four vocabularies, in the style each product uses.
  it.each([
    // Job-runner product (labels)
    ['Workspace Created', 'create'],
    ['Invite Sent', 'other'],
    ['Invite Accepted', 'other'],
    ['Job Created', 'create'],
    ['Job Updated', 'update'],
    ['Job Ready', 'other'],
    ['Worker Claimed Job', 'other'],
    ['Worker Completed Attempt', 'other'],
    ['Worker Updated', 'update'],
    ['Job Deleted', 'delete'],
    ['Job Canceled', 'other'],
    ['Job State Changed', 'update'],
    ['job.created', 'create'],
    ['job_state_changed', 'update'],
    // Developer platform (bare verbs)
    ['auto_off', 'other'],
    ['auto_start', 'other'],
    ['connect', 'other'],
    ['cordon', 'other'],
    ['create', 'create'],
    ['delete', 'delete'],
    ['enqueue', 'other'],
    ['login', 'other'],
    ['open', 'read'],
    ['ssh', 'other'],
    ['stop', 'other'],
    ['uncordon', 'other'],
    ['view', 'read'],
    ['write', 'update'],
    // Engineering workspace (upper-case tokens)
    ['REPOSITORY_RUN_CLAIM', 'other'],
    ['MEMBERSHIP_DEFAULTED', 'other'],
    ['AGENT_REASSIGNMENT_QUEUED', 'other'],
    ['GROUP_MEMBERSHIP_VOL_QUEUE', 'other'],
    ['TOKEN_MINTED', 'create'],
    ['TOKEN_ROTATED', 'update'],
    ['INTEGRATION_CONNECTED', 'other'],
    ['MEMBER_PROMOTED', 'update'],
    ['JOB_CREATED', 'create'],
    // CRM
    ['customer.created', 'create'],
    ['customer.updated', 'update'],
    ['customer.deleted', 'delete'],
    // Other common shapes
    ['member.role_changed', 'update'],
    ['deleteJob', 'delete'],
    ['create_job', 'create'],
    ['api_key.revoked', 'delete'],
    ['report.exported', 'read'],
    ['user.removed_from_group', 'delete'],
  ] as const)('%s -> %s', (action, operation) => {
    expect(deriveOperation(action)).toBe(operation);
  });

  it('matches whole words only, never parts of words', () => {
    expect(deriveOperation('asset.moved')).toBe('other');
    expect(deriveOperation('newsletter.sent')).toBe('other');
    expect(deriveOperation('readme.published')).toBe('other');
  });

  it('lets the last verb decide when an action holds several', () => {
    expect(deriveOperation('deleted_item.restored')).toBe('delete');
    expect(deriveOperation('created_by.changed')).toBe('update');
  });

  it('knows every listed verb in any case', () => {
    for (const [operation, words] of Object.entries(OPERATION_VERBS)) {
      for (const word of words) {
        expect(deriveOperation(word)).toBe(operation);
        expect(deriveOperation(`THING_${word.toUpperCase()}`)).toBe(operation);
      }
    }
  });
});
