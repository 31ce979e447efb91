import { describe, expect, it } from 'vitest';
import { parse } from 'csv-parse/sync';
import fc from 'fast-check';
import { csvRecord, exportFileName, neutralizeCell } from './export-format.js';

describe('neutralizeCell (CSV formula injection)', () => {
  it.each([
    ['=SUM(A1:A9)', "'=SUM(A1:A9)"],
    ['+1+1', "'+1+1"],
    ['-2+3', "'-2+3"],
    ['@SUM(1)', "'@SUM(1)"],
    ['\tTAB', "'\tTAB"],
    ['\rCR', "'\rCR"],
    ['\0NUL', "'\0NUL"],
    ['plain text', 'plain text'],
    ['a=b', 'a=b'],
    ['', ''],
    ["'already quoted", "'already quoted"],
  ])('%j becomes %j', (input, output) => {
    expect(neutralizeCell(input)).toBe(output);
  });
});

describe('exportFileName', () => {
  it('names the workspace and the inclusive day range', () => {
    expect(
      exportFileName(
        'acme',
        { since: '2026-05-01T00:00:00.000Z', until: '2026-06-01T00:00:00.000Z' },
        'csv',
      ),
    ).toBe('trailkeep-acme-2026-05-01_2026-05-31.csv');
    expect(exportFileName('acme', {}, 'ndjson')).toBe('trailkeep-acme-all.ndjson');
    expect(exportFileName('acme', { since: '2026-05-01T00:00:00.000Z' }, 'json', 'job')).toBe(
      'trailkeep-acme-job-2026-05-01_now.json',
    );
  });
});

describe('csvRecord (RFC 4180)', () => {
  it.each([
    [['a', 'b'], 'a,b\r\n'],
    [['with, comma', 'x'], '"with, comma",x\r\n'],
    [['say "hi"'], '"say ""hi"""\r\n'],
    [['line\nbreak', 'cr\rhere'], '"line\nbreak","cr\rhere"\r\n'],
    [['', ''], ',\r\n'],
    [['ünïcødé ✓'], 'ünïcødé ✓\r\n'],
  ])('%j is written as %j', (cells, text) => {
    expect(csvRecord(cells)).toBe(text);
  });

  it('round-trips through an independent parser for any cells', () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ unit: 'grapheme' }), { minLength: 1, maxLength: 8 }),
        (cells) => {
          const parsed: string[][] = parse(csvRecord(cells), { relax_quotes: false });
          expect(parsed).toEqual([cells]);
        },
      ),
    );
  });
});
