/**
 * `audit --export`: every exported event must hash to its own `hash` and be the log's entry at
 * its seq; a proof it carries must lead to a checkpoint of the same history. Exports are built
 * here as Trailkeep writes them (the sealed body with prev_hash and hash appended).
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { hashLink } from '../../src/core/chain.js';
import { signCheckpoint } from '../../src/core/tlog/checkpoint.js';
import {
  MerkleFrontier,
  eventLeafHash,
  leafHash,
  proveInclusion,
  type HashReader,
} from '../../src/core/tlog/merkle.js';
import { formatTlogProof } from '../../src/core/tlog/proof.js';
import { MonitorError, audit, type RebuiltTree } from '../../src/monitor/audit.js';
import { checkExport } from '../../src/monitor/export-check.js';
import { ORIGIN, logFiles, mapReader, testKey } from '../support/memory-log.js';

const key = testKey('audit.example.com');
const keys = { origin: ORIGIN, logKeys: [key.verifier], witnessKeys: [] };
const SIZE = 40;

interface Sealed {
  seq: number;
  body: string;
  prev: string;
  hash: string;
}

function chain(n: number, tag = 'a'): Sealed[] {
  const out: Sealed[] = [];
  let prev = '0'.repeat(64);
  for (let seq = 1; seq <= n; seq += 1) {
    const body = `{"action":"job.${tag}","id":"evt_${seq}","seq":${seq},"workspace":"acme"}`;
    const hash = hashLink(prev, body);
    out.push({ seq, body, prev, hash });
    prev = hash;
  }
  return out;
}

function line(e: Sealed, extra = ''): string {
  return `${e.body.slice(0, -1)},"prev_hash":"${e.prev}","hash":"${e.hash}"${extra}}`;
}

let events: Sealed[];
let tree: RebuiltTree;

beforeAll(async () => {
  events = chain(SIZE);
  const report = await audit({
    reader: mapReader(
      logFiles(
        events.map((e) => Buffer.from(e.hash, 'hex')),
        { key },
      ),
    ),
    logKeys: [key.verifier],
  });
  tree = report.tree!;
});

/** A tlog-proof for event `seq` in the tree of `entries`, signed by the log key. */
function proofFor(entries: readonly Buffer[], seq: number, size: number): string {
  const leaves = entries.slice(0, size).map((e) => leafHash(e));
  const frontier = MerkleFrontier.empty();
  for (const l of leaves) frontier.append(l);
  const checkpoint = signCheckpoint(
    { origin: ORIGIN, size, root: frontier.root(), extensions: [] },
    [key.signer],
  );
  const read: HashReader = (nodes) =>
    nodes.map(({ level, index }) => {
      const f = MerkleFrontier.empty();
      for (const l of leaves.slice(index * 2 ** level, (index + 1) * 2 ** level)) f.append(l);
      return f.root();
    });
  return formatTlogProof({
    index: seq - 1,
    proof: proveInclusion(seq - 1, size, read),
    checkpoint,
  });
}

describe('an export checked against the rebuilt log', () => {
  it('every event of an NDJSON or JSON export is found', async () => {
    const ndjson = events.map((e) => line(e));
    expect(await checkExport(ndjson, tree, keys)).toEqual({
      events: SIZE,
      proofs: 0,
      problems: [],
    });
    const json = `[\n${ndjson.join(',\n')}\n]\n`.split('\n');
    expect((await checkExport(json, tree, keys)).events).toBe(SIZE);
  });

  it('an event edited in the file, or not the log’s at its seq, or beyond the log', async () => {
    const forked = chain(SIZE, 'b');
    const edited = line(events[4]!).replace('"job.a"', '"job.z"');
    const result = await checkExport(
      [edited, line(forked[6]!), line({ ...chain(SIZE + 1)[SIZE]! })],
      tree,
      keys,
    );
    expect(result.problems).toEqual([
      'export line 1: event seq 5 ("evt_5") does not hash to its "hash": it was changed after it was sealed',
      `export line 2: event seq 7 ("evt_7") is not the log's entry 6: the log holds another event there`,
      `export line 3: event seq ${SIZE + 1} ("evt_${SIZE + 1}") is not in the log, which holds ${SIZE} events`,
    ]);
  });

  it('an inclusion proof is checked, and must lead to this history', async () => {
    const entries = events.map((e) => Buffer.from(e.hash, 'hex'));
    const good = JSON.stringify(proofFor(entries, 3, 20));
    const fork = [...entries];
    fork[10] = Buffer.alloc(32, 9);
    const forked = JSON.stringify(proofFor(fork, 3, 20));
    const result = await checkExport(
      [
        line(events[2]!, `,"proof":${good}`),
        line(events[2]!, `,"proof":${forked}`),
        line(events[3]!, `,"proof":${good}`),
      ],
      tree,
      keys,
    );
    expect(result.proofs).toBe(1);
    expect(result.events).toBe(3);
    expect(result.problems).toEqual([
      `export line 2: event seq 3 ("evt_3"): its proof's checkpoint (size 20) is not a checkpoint of the log's history`,
      'export line 3: event seq 4 ("evt_4"): its proof is for entry 2, not 3',
    ]);
    expect(eventLeafHash(events[2]!.hash)).toEqual(tree.leaves[2]);
  });

  it('a null proof (an event after the export’s checkpoint) is no proof, and no problem', async () => {
    expect(await checkExport([line(events[0]!, ',"proof":null')], tree, keys)).toEqual({
      events: 1,
      proofs: 0,
      problems: [],
    });
  });

  it('many failures end with a count, not a flood', async () => {
    const edited = events.map((e) => line(e).replace('"job.a"', '"job.q"'));
    const { problems } = await checkExport(edited, tree, keys);
    expect(problems).toHaveLength(11);
    expect(problems[10]).toBe(`… and ${SIZE - 10} more altered events`);
  });

  it('a line that is not an exported event is an error naming it', async () => {
    const cases: [string, string][] = [
      ['{"seq":1', 'export line 1 is not an exported event: '],
      ['[1,2]', 'export line 1 is not an exported event: it is not a JSON object'],
      [
        '{"seq":0,"hash":"x"}',
        'export line 1 is not an exported event: its "seq" is not a whole number >= 1',
      ],
      [
        line(events[0]!).replace(/}$/, `,"hash":"${'0'.repeat(64)}"}`),
        'export line 1 is not an exported event: $.hash appears twice in its object',
      ],
    ];
    for (const [text, message] of cases) {
      await expect(checkExport([text], tree, keys)).rejects.toThrow(message);
    }
  });

  it('any line: a result or a MonitorError, never another failure', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string(),
          fc.json(),
          fc
            .constantFrom(...events.map((e) => line(e)))
            .chain((l) => fc.nat(l.length).map((at) => l.slice(0, at) + l.slice(at + 1))),
        ),
        async (text) => {
          try {
            await checkExport([text], tree, keys);
          } catch (error) {
            expect(error).toBeInstanceOf(MonitorError);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
