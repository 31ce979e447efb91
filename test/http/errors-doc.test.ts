/** docs/errors.md documents every code of the registry, with its status and title. */
import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { ERRORS } from '../../src/core/errors.js';

const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');

function rowOf(code: string): string[] | undefined {
  const line = doc.split('\n').find((l) => new RegExp(`^\\|\\s*\`${code}\`\\s*\\|`).test(l));
  return line?.split('|').map((cell) => cell.trim());
}

test('every error code has a row with its status and title', () => {
  const problems: string[] = [];
  for (const [code, { status, title }] of Object.entries(ERRORS)) {
    const row = rowOf(code);
    if (!row) problems.push(`${code}: missing`);
    else if (row[2] !== String(status) || row[3] !== title) {
      problems.push(
        `${code}: documented as ${row[2]} "${row[3]}", registry says ${status} "${title}"`,
      );
    }
  }
  expect(problems).toEqual([]);
});

test('the page documents no code that the registry lacks', () => {
  const documented = [...doc.matchAll(/^\|\s*`([a-z_]+)`\s*\|/gm)].map((m) => m[1]);
  expect(documented.filter((code) => !(code! in ERRORS))).toEqual([]);
});
