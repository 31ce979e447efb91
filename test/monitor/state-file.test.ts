/**
 * The monitor's state file: it round-trips, anything else is refused with one line (never a
 * crash, whatever the file holds), and it is replaced atomically with its leaves beside it.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCheckpoint } from '../../src/core/tlog/checkpoint.js';
import { parseNote } from '../../src/core/tlog/note.js';
import { MonitorError, audit, type MonitorState } from '../../src/monitor/audit.js';
import {
  formatState,
  leavesFile,
  parseState,
  readCachedLeaves,
  readState,
  writeState,
} from '../../src/monitor/state-file.js';
import { logFiles, mapReader, randomEntries, testKey } from '../support/memory-log.js';

const key = testKey('audit.example.com');
let dir: string;
let state: MonitorState;
let leaves: readonly Buffer[];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tk-state-'));
  const report = await audit({
    reader: mapReader(logFiles(randomEntries(20), { key })),
    logKeys: [key.verifier],
  });
  ({ state, leaves } = report.next!);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the state file', () => {
  it('round-trips, with the leaves beside it and no temporary file left', async () => {
    const file = join(dir, 'state.json');
    expect(await readState(file)).toBeUndefined();
    await writeState(file, state, leaves, new Date('2026-12-03T00:00:00Z'));
    expect(await readState(file)).toEqual(state);
    expect(await readCachedLeaves(leavesFile(file))).toEqual(leaves);
    expect(readdirSync(dir).sort()).toEqual(['state.json', 'state.json.leaves']);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({
      accepted_at: '2026-12-03T00:00:00.000Z',
      size: 20,
    });
  });

  it('a state whose fields are not its checkpoint’s is refused', () => {
    const text = formatState(state, new Date());
    const forged = text.replace('"size": 20', '"size": 21');
    expect(() => parseState(forged, 'f')).toThrow(
      new MonitorError(
        'the state file f is not a trailkeep audit state: its origin, size and root are not those of its checkpoint',
      ),
    );
  });

  it('whatever the file holds: a state that is its checkpoint, or a MonitorError', () => {
    const text = formatState(state, new Date());
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.json(),
          fc.nat(text.length).map((at) => text.slice(0, at) + text.slice(at + 1)),
          fc.constant('{"__proto__":{"format":"trailkeep-audit-state/v1"}}'),
        ),
        (candidate) => {
          try {
            const parsed = parseState(candidate, 'f');
            const head = parseCheckpoint(parseNote(parsed.checkpoint).text);
            expect(parsed).toEqual({
              ...head,
              checkpoint: parsed.checkpoint,
              extensions: undefined,
            });
          } catch (error) {
            expect(error).toBeInstanceOf(MonitorError);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('a write that cannot happen is a MonitorError, and leaves nothing behind', async () => {
    const file = join(dir, 'no-such-dir', 'state.json');
    await expect(writeState(file, state, leaves, new Date())).rejects.toThrow(MonitorError);
    writeFileSync(join(dir, 'plain'), 'x');
    await expect(
      writeState(join(dir, 'plain', 's.json'), state, leaves, new Date()),
    ).rejects.toThrow(/^cannot write /);
  });
});
