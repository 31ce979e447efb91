/**
 * Known-answer vectors for the hash chain, computed once and committed (test/vectors/chain.json).
 * They pin the exact bytes: any change to canonical JSON or to the link formula breaks them,
 * and docs/integrity.md shows how to recompute them with nothing but sha256sum.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/core/canonical.js';
import { hashLink } from '../../src/core/chain.js';
import { indexedColumns } from '../../src/core/columns.js';
import { ZERO_HASH, type StoredEvent } from '../../src/core/event.js';
import { ChainVerifier } from '../../src/core/verify.js';

interface Vector {
  seq: number;
  prev_hash: string;
  hash: string;
  body: string;
  event: Omit<StoredEvent, 'prev_hash' | 'hash'>;
}

const vectors = JSON.parse(readFileSync(new URL('./chain.json', import.meta.url), 'utf8')) as {
  workspace: string;
  events: Vector[];
};

describe('hash chain known-answer vectors', () => {
  it('start from the zero hash and link each event to the one before', () => {
    expect(vectors.events[0]!.prev_hash).toBe(ZERO_HASH);
    vectors.events.forEach((v, i) => {
      expect(v.seq).toBe(i + 1);
      if (i > 0) expect(v.prev_hash).toBe(vectors.events[i - 1]!.hash);
    });
  });

  it.each(vectors.events.map((v) => [v.seq, v] as const))(
    'event %i: canonical body and hash match',
    (_seq, v) => {
      expect(canonicalJson(v.event)).toBe(v.body);
      expect(hashLink(v.prev_hash, v.body)).toBe(v.hash);
    },
  );

  it('pass the verifier as stored rows', () => {
    const verifier = new ChainVerifier(vectors.workspace);
    for (const v of vectors.events) {
      const row = {
        seq: v.seq,
        id: v.event.id,
        prev_hash: v.prev_hash,
        hash: v.hash,
        body: v.body,
        columns: { ...indexedColumns(v.event) },
      };
      expect(verifier.check(row)).toBeUndefined();
    }
    expect(verifier.head.hash).toBe(vectors.events.at(-1)!.hash);
  });
});
