/**
 * The monitor against logs built in memory with src/core/tlog: a log that only grows passes;
 * one that rewrote, lost or forged anything fails, naming the first size where its history
 * leaves the one accepted before; a log it cannot read is an error, not a verdict.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TILE_WIDTH } from '../../src/core/tlog/tiles.js';
import {
  MonitorError,
  audit,
  type AuditOptions,
  type MonitorState,
} from '../../src/monitor/audit.js';
import {
  ORIGIN,
  logFiles,
  mapReader,
  randomEntries,
  testKey,
  witnessKey,
} from '../support/memory-log.js';

const key = testKey('audit.example.com');

async function accepted(
  entries: Buffer[],
  options: Partial<AuditOptions> = {},
): Promise<{ state: MonitorState; leaves: readonly Buffer[] }> {
  const report = await audit({
    reader: mapReader(logFiles(entries, { key })),
    logKeys: [key.verifier],
    ...options,
  });
  expect(report.problems).toEqual([]);
  return report.next!;
}

function run(
  files: Map<string, Buffer>,
  previous?: { state: MonitorState; leaves: readonly Buffer[] },
  options: Partial<AuditOptions> = {},
): ReturnType<typeof audit> {
  return audit({
    reader: mapReader(files),
    logKeys: [key.verifier],
    ...(previous === undefined
      ? {}
      : { previous: previous.state, previousLeaves: () => Promise.resolve(previous.leaves) }),
    ...options,
  });
}

/** Sizes that cross tile and bundle edges. */
const sizeArb = fc.oneof(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 250, max: 600 }));

describe('a log that only grows', () => {
  it('passes on a first run, fetching every bundle and tile, and says what to keep', async () => {
    const entries = randomEntries(300);
    const files = logFiles(entries, { key });
    const reader = mapReader(files);
    const report = await audit({ reader, logKeys: [key.verifier] });
    expect(report.problems).toEqual([]);
    expect(report.fetched).toEqual({ bundles: 2, tiles: 3 });
    expect(new Set(reader.reads)).toEqual(new Set(files.keys()));
    expect(report.next?.state).toMatchObject({ origin: ORIGIN, size: 300 });
    expect(report.next?.leaves).toHaveLength(300);
  });

  it('passes for every older size it was accepted at', async () => {
    await fc.assert(
      fc.asyncProperty(sizeArb, sizeArb, async (a, b) => {
        const entries = randomEntries(Math.max(a, b));
        const before = await accepted(entries.slice(0, Math.min(a, b)));
        const report = await run(logFiles(entries, { key }), before);
        expect(report.problems).toEqual([]);
        expect(report.next?.state.size).toBe(entries.length);
      }),
      { numRuns: 15 },
    );
  });

  it('the empty log passes', async () => {
    const report = await run(logFiles([], { key }));
    expect(report.problems).toEqual([]);
    expect(report.next?.state.size).toBe(0);
  });

  it('reads a full tile when the log has grown past a partial one meanwhile', async () => {
    const entries = randomEntries(TILE_WIDTH + 10);
    const files = logFiles(entries, { key });
    const older = logFiles(entries.slice(0, 100), { key });
    // The checkpoint is of size 100; the log now serves only the grown, full tiles.
    files.set('checkpoint', older.get('checkpoint')!);
    const report = await run(files);
    expect(report.problems).toEqual([]);
    expect(report.next?.state.size).toBe(100);
  });
});

describe('a log whose history changed', () => {
  it('an entry rewritten and the log re-signed: the first divergent size is named', async () => {
    await fc.assert(
      fc.asyncProperty(sizeArb, fc.nat(), fc.nat(40), async (size, at, grown) => {
        const entries = randomEntries(size);
        const before = await accepted(entries);
        const index = at % size;
        const rewritten = [...entries, ...randomEntries(grown)];
        rewritten[index] = Buffer.alloc(32, 7);
        const report = await run(logFiles(rewritten, { key }), before);
        expect(report.divergence).toBe(index + 1);
        expect(report.problems).toContain(
          `the histories diverge first at size ${index + 1}: entry ${index} (the event with seq ${index + 1}) is not the one seen before`,
        );
        expect(report.next).toBeUndefined();
      }),
      { numRuns: 20 },
    );
  });

  it('a truncated tail: the log shrank, and diverges right after what is left', async () => {
    await fc.assert(
      fc.asyncProperty(sizeArb, fc.nat(), async (size, cut) => {
        const entries = randomEntries(size + 1);
        const before = await accepted(entries);
        const kept = cut % (size + 1);
        const report = await run(logFiles(entries.slice(0, kept), { key }), before);
        expect(report.problems[0]).toBe(
          `the log shrank: its checkpoint holds ${kept} entries, the one accepted before held ${size + 1}`,
        );
        expect(report.divergence).toBe(kept + 1);
      }),
      { numRuns: 15 },
    );
  });

  it('without the cached leaves, the rewrite is still caught, bounded by the old size', async () => {
    const entries = randomEntries(50);
    const before = await accepted(entries);
    entries[9] = Buffer.alloc(32, 1);
    const report = await run(logFiles(entries, { key }), { state: before.state, leaves: [] });
    expect(report.problems).toHaveLength(2);
    expect(report.problems[0]).toMatch(
      /^the first 50 entries now have root .* the history was rewritten$/,
    );
    expect(report.problems[1]).toContain('the histories diverge at a size of at most 50');
    expect(report.notes).toEqual(['the cached leaves do not match the state; ignored']);
    expect(report.divergence).toBeUndefined();
  });
});

describe('a log that serves something other than its checkpoint', () => {
  it('any byte of any tile changed: that tile is named', async () => {
    const entries = randomEntries(TILE_WIDTH * 2 + 3);
    const pristine = logFiles(entries, { key });
    const tiles = [...pristine.keys()].filter((p) => /^tile\/\d/.test(p));
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...tiles), fc.nat(), async (path, at) => {
        const files = new Map(pristine);
        const data = Buffer.from(files.get(path)!);
        data[at % data.length]! ^= 1;
        files.set(path, data);
        const report = await run(files);
        expect(report.problems[0]).toMatch(
          new RegExp(`^${path.replaceAll('.', '\\.')} differs at hash`),
        );
        expect(report.next).toBeUndefined();
      }),
      { numRuns: 20 },
    );
  });

  it('an entry bundle changed with every tile recomputed: the root is not the checkpoint’s', async () => {
    const entries = randomEntries(20);
    const files = logFiles(entries, { key });
    const forged = logFiles([...entries.slice(0, 19), Buffer.alloc(32)], { key });
    for (const [path, data] of forged) if (path !== 'checkpoint') files.set(path, data);
    const report = await run(files);
    expect(report.problems).toHaveLength(1);
    expect(report.problems[0]).toMatch(
      /^the root of the 20 entries the log serves is .*, not the checkpoint's/,
    );
  });

  it('a malformed entry bundle and a tile of the wrong length are named', async () => {
    const files = logFiles(randomEntries(5), { key });
    files.set('tile/entries/000.p/5', Buffer.from([0, 32, 1]));
    expect((await run(files)).problems).toEqual([
      'tile/entries/000.p/5 is malformed: entry 0 of the bundle is cut: 32 bytes announced',
    ]);
    const other = logFiles(randomEntries(5), { key });
    other.set('tile/0/000.p/5', Buffer.alloc(33));
    expect((await run(other)).problems[0]).toMatch(
      /^tile\/0\/000\.p\/5 has 33 bytes where 160 were expected/,
    );
  });
});

describe('signatures', () => {
  it('a checkpoint not signed by the given key is refused (exit 1)', async () => {
    const other = testKey('audit.example.com');
    const report = await run(logFiles(randomEntries(3), { key: other }));
    expect(report.problems).toEqual(['the checkpoint is refused: no known key signed the note']);
  });

  it('a retired key still verifies during a rotation', async () => {
    const retired = testKey('audit.example.com');
    const report = await run(logFiles(randomEntries(3), { key: retired }), undefined, {
      logKeys: [key.verifier, retired.verifier],
    });
    expect(report.problems).toEqual([]);
  });

  it('a signature by the log key that does not verify is refused', async () => {
    const files = logFiles(randomEntries(3), { key });
    const note = files.get('checkpoint')!.toString().replace('\n3\n', '\n4\n');
    files.set('checkpoint', Buffer.from(note));
    expect((await run(files)).problems[0]).toMatch(
      /^the checkpoint is refused: the signature by "audit\.example\.com" \([0-9a-f]{8}\) does not verify$/,
    );
  });

  it('every witness must have cosigned', async () => {
    const w1 = witnessKey('witness.one');
    const w2 = witnessKey('witness.two');
    const files = logFiles(randomEntries(3), { key, witnesses: [w1] });
    const ok = await run(files, undefined, { witnessKeys: [w1.verifier] });
    expect(ok.problems).toEqual([]);
    expect(ok.cosigners).toEqual(['witness.one']);
    const missing = await run(files, undefined, { witnessKeys: [w1.verifier, w2.verifier] });
    const id = w2.verifier.keyId.toString(16).padStart(8, '0');
    expect(missing.problems).toEqual([
      `witness "witness.two" (${id}) did not cosign this checkpoint`,
    ]);
    expect(missing.next).toBeUndefined();
  });

  it('the origin is pinned: given, or from the state', async () => {
    const files = logFiles(randomEntries(3), { key, origin: 'evil.example/acme' });
    const given = await run(files, undefined, { origin: ORIGIN });
    expect(given.problems[0]).toBe(
      'the checkpoint is refused: the checkpoint is for origin "evil.example/acme", not "audit.example.com/acme"',
    );
    const before = await accepted(randomEntries(3));
    expect((await run(files, before)).problems[0]).toContain('is for origin "evil.example/acme"');
    await expect(run(files, before, { origin: 'evil.example/acme' })).rejects.toThrow(
      'the state is for origin "audit.example.com/acme", not "evil.example/acme"',
    );
  });
});

describe('a log that cannot be read is an error, not a verdict', () => {
  it('a missing checkpoint, tile or bundle', async () => {
    const files = logFiles(randomEntries(3), { key });
    for (const path of ['checkpoint', 'tile/0/000.p/3', 'tile/entries/000.p/3']) {
      const gone = new Map(files);
      gone.delete(path);
      await expect(run(gone)).rejects.toThrow(new MonitorError(`the log has no ${path} (404)`));
    }
  });

  it('a checkpoint that is not a signed note', async () => {
    const files = logFiles(randomEntries(3), { key });
    files.set('checkpoint', Buffer.from('<html>hello</html>'));
    await expect(run(files)).rejects.toThrow(/^the log's checkpoint is not a signed checkpoint: /);
  });

  it('whatever bytes a log serves, the monitor answers a verdict or a MonitorError', async () => {
    const entries = randomEntries(TILE_WIDTH + 1);
    const pristine = logFiles(entries, { key });
    const paths = [...pristine.keys()];
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...paths),
        fc.uint8Array({ maxLength: 600 }),
        async (path, bytes) => {
          const files = new Map(pristine);
          files.set(path, Buffer.from(bytes));
          try {
            const report = await run(files);
            expect(report.problems.length).toBeGreaterThan(0);
          } catch (error) {
            expect(error).toBeInstanceOf(MonitorError);
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});
