import { describe, expect, it } from 'vitest';
import { eventHash, hashLink, sealBatch } from './chain.js';
import { EMPTY_HEAD, ZERO_HASH, type EventDraft } from './event.js';

const draft = (id: string): EventDraft => ({
  id,
  workspace: 'acme',
  action: 'job.created',
  occurred_at: '2026-05-12T09:30:00.000Z',
  received_at: '2026-05-12T09:30:01.000Z',
  actor: { type: 'user', id: 'u_1', email: 'alex@example.com' },
  targets: [{ type: 'job', id: 'job_1' }],
  category: 'jobs',
  outcome: 'success',
  operation: 'create',
  changes: [],
  context: {},
  metadata: {},
});

describe('hash chain', () => {
  it('links each event to the previous hash, starting from 64 zeros', () => {
    const [a, b] = sealBatch(EMPTY_HEAD, [draft('e1'), draft('e2')]);
    expect(a!.event.prev_hash).toBe(ZERO_HASH);
    expect(a!.event.seq).toBe(1);
    expect(b!.event.prev_hash).toBe(a!.event.hash);
    expect(b!.event.seq).toBe(2);
    expect(a!.event.hash).toBe(hashLink(ZERO_HASH, a!.body));
    expect(eventHash(b!.event)).toBe(b!.event.hash);
  });

  it('matches the known-answer vector in the docs', () => {
    // sha256("0"*64 + "\n" + '{"a":1}'), computed independently with coreutils.
    expect(hashLink(ZERO_HASH, '{"a":1}')).toBe(
      'f21735afd2cd6af4fc5804b0045cebfd545aef8396d29d030c39cb8880b45b7f',
    );
  });
});
