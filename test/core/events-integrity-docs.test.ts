/**
 * Keeps docs/events.md and docs/integrity.md in step with the code they describe: the default
 * category table and the operation table are the declarations themselves, row for row.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CATEGORIES } from '../../src/core/categories.js';
import { OPERATION_VERBS } from '../../src/core/operation.js';
import { PROBLEM_MEANINGS } from '../../src/core/verify.js';

const read = (name: string): string =>
  readFileSync(new URL(`../../docs/${name}`, import.meta.url), 'utf8');

/** Cells of every markdown table row, trimmed, keyed by the first cell. */
function tableRows(markdown: string): Map<string, string[]> {
  const rows = new Map<string, string[]>();
  for (const line of markdown.split('\n')) {
    if (!line.startsWith('|')) continue;
    const cells = line
      .slice(1, -1)
      .split('|')
      .map((cell) => cell.trim());
    rows.set(cells[0]!, cells.slice(1));
  }
  return rows;
}

describe('docs/events.md', () => {
  const rows = tableRows(read('events.md'));

  it('lists every default category with its label and patterns', () => {
    for (const category of DEFAULT_CATEGORIES) {
      const row = rows.get(`\`${category.id}\``);
      expect(row, category.id).toBeDefined();
      expect(row![0]).toBe(category.label);
      const patterns = category.patterns.map((p) => `\`${p}\``).join(' ');
      expect(row![1]).toBe(patterns || '(fallback: anything no pattern matches)');
    }
  });

  it('lists every verb of the operation table', () => {
    for (const [operation, words] of Object.entries(OPERATION_VERBS)) {
      expect(rows.get(`\`${operation}\``)).toEqual([words.join(', ')]);
    }
  });
});

describe('docs/integrity.md', () => {
  it('explains every problem kind verify can report', () => {
    const rows = tableRows(read('integrity.md'));
    for (const [kind, meaning] of Object.entries(PROBLEM_MEANINGS)) {
      expect(rows.get(`\`${kind}\``)?.[0], kind).toBe(meaning);
    }
  });
});
