import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseFilter } from '../../src/core/query/index.js';

// The error examples in the reference must be what the parser really says.
const doc = readFileSync(new URL('../../docs/query-language.md', import.meta.url), 'utf8');
const examples = [...doc.matchAll(/^\| `(.+?)` +\| `(.+ at position \d+ .+)` +\|$/gm)].map(
  ([, query, message]) => ({ query: query!, message: message! }),
);

describe('docs/query-language.md', () => {
  it('has error examples', () => {
    expect(examples.length).toBeGreaterThanOrEqual(10);
  });

  it.each(examples)('$query', ({ query, message }) => {
    expect(() => parseFilter(query)).toThrow(message);
  });
});
