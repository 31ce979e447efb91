import { describe, expect, it } from 'vitest';
import { sealBatch } from '../../core/chain.js';
import { EMPTY_HEAD } from '../../core/event.js';
import { generateDrafts } from '../../../test/store/contract.js';
import { BODY_FRAGMENTS, PACK_CODES, packBody, unpackBody } from './body-codec.js';

describe('packed event bodies', () => {
  it('come back exactly, smaller', () => {
    const sealed = sealBatch(EMPTY_HEAD, generateDrafts('acme', 300, 3));
    let text = 0;
    let stored = 0;
    for (const { body } of sealed) {
      const packed = packBody(body);
      expect(unpackBody(packed)).toBe(body);
      text += body.length;
      stored += packed.length;
    }
    expect(stored).toBeLessThan(0.8 * text);
  });

  it('round-trips overlapping, repeated and escaped fragments', () => {
    const samples = [
      '{}',
      '{"action":"a"}',
      ...BODY_FRAGMENTS.map((f) => `${f}${f}x${f.slice(1)}${f.slice(0, -1)}`),
      BODY_FRAGMENTS.join(''),
      '{"a":"\\u0001\\n\\t,\\"type\\":\\"x","b":",\\"id\\":\\"é😀"}',
      ',"outcome":"success","received_at":"',
      ',"outcome":"success","receiv',
    ];
    for (const text of samples) expect(unpackBody(packBody(text))).toBe(text);
  });

  it('refuses text with raw control characters, which JSON never holds', () => {
    expect(() => packBody('{"a":"\u0001"}')).toThrow(/control character/);
    expect(() => packBody('{"a":"\n"}')).toThrow(/control character/);
  });

  it('keeps the stored format: codes and fragments never change', () => {
    expect(PACK_CODES.slice(0, BODY_FRAGMENTS.length)).toEqual([
      1, 2, 3, 4, 5, 6, 7, 8, 11, 12, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28,
      29, 30, 31,
    ]);
    expect(BODY_FRAGMENTS).toHaveLength(28);
    expect(BODY_FRAGMENTS[0]).toBe(',"outcome":"success","received_at":"');
    expect(BODY_FRAGMENTS[27]).toBe(',"id":"');
  });
});
