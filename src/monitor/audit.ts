/**
 * The offline monitor behind `trailkeep audit` (docs/integrity.md, "Running a monitor"). It
 * trusts nothing the log serves but the keys it is given: it opens the signed checkpoint, then
 * rebuilds the whole tree like an fsck (every leaf hash from the entry bundles, every tile from
 * those leaves, the root from the tiles) and holds the result against the checkpoint it accepted
 * last time. The reader is injected and the state comes in and goes out as values, so everything
 * here runs against tiles a test builds in memory as well as against a server.
 */
import { isTrailkeepError } from '../core/errors.js';
import { parseCheckpoint, openCheckpoint, type TreeHead } from '../core/tlog/checkpoint.js';
import {
  EMPTY_ROOT,
  HASH_SIZE,
  MerkleFrontier,
  leafHash,
  treeRoot,
  type HashReader,
} from '../core/tlog/merkle.js';
import { parseNote, type NoteVerifier } from '../core/tlog/note.js';
import {
  TILE_WIDTH,
  decodeEntryBundle,
  entryBundlePath,
  tileHashReader,
  tilePath,
  tilesFromLeafHashes,
  type TileData,
  type TileRef,
} from '../core/tlog/tiles.js';

/** The check could not be run (network, flags, files): exit 2, never a verdict on the log. */
export class MonitorError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MonitorError';
  }
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** What the monitor reads from a log: paths relative to the log's URL (checkpoint, tile/…). */
export interface LogReader {
  /** The bytes at `path`, or undefined when the log answers that it has none (404). */
  read(path: string): Promise<Uint8Array | undefined>;
}

/** The last checkpoint the monitor accepted. */
export interface MonitorState {
  readonly origin: string;
  readonly size: number;
  readonly root: Buffer;
  /** The signed note, verbatim: the evidence the state rests on. */
  readonly checkpoint: string;
}

export interface AuditOptions {
  readonly reader: LogReader;
  /** The log's verifier keys (several during a rotation); one of them must sign. */
  readonly logKeys: readonly NoteVerifier[];
  /** Each of these witnesses must have cosigned the checkpoint. */
  readonly witnessKeys?: readonly NoteVerifier[];
  /** The checkpoint origin to expect; by default the state's, or on a first run the log's own. */
  readonly origin?: string | undefined;
  readonly previous?: MonitorState | undefined;
  /**
   * The leaf hashes of `previous`'s tree kept from the last run, read only when the histories
   * differ: they locate where.
   */
  readonly previousLeaves?: (() => Promise<readonly Buffer[] | undefined>) | undefined;
  /** Requests in flight at once. */
  readonly concurrency?: number;
}

/** The rebuilt tree of the checkpoint, for checks that come after (an export). */
export interface RebuiltTree {
  readonly size: number;
  /** Leaf hashes, leaf i at index i. */
  readonly leaves: readonly Buffer[];
  /** The root of the first `size` leaves, for any size up to the tree's. */
  rootAt(size: number): Buffer;
}

export interface AuditReport {
  /** One line per problem; empty when the log is consistent. */
  readonly problems: readonly string[];
  /** Lines worth telling that are no problem of the log (a cache that could not be used). */
  readonly notes: readonly string[];
  /** The first tree size at which the log's history and the one seen before differ. */
  readonly divergence?: number;
  readonly checkpoint?: TreeHead;
  /** The witnesses whose cosignature verified. */
  readonly cosigners: readonly string[];
  readonly fetched: { readonly tiles: number; readonly bundles: number };
  /** Present when the tree was rebuilt and matches the checkpoint. */
  readonly tree?: RebuiltTree;
  /** What to keep for the next run: only when there is no problem. */
  readonly next?: { readonly state: MonitorState; readonly leaves: readonly Buffer[] };
}

/** More than this many lines of one kind end with a count: a rewritten log is not a flood. */
export const MAX_LINES_PER_KIND = 10;

const DEFAULT_CONCURRENCY = 4;

/** Runs `work` over `items` with at most `limit` calls pending; results in input order. */
export async function mapPool<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next;
      next += 1;
      results[i] = await work(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** Appends capped lines: the first MAX_LINES_PER_KIND, then how many more there were. */
export function cappedLines(lines: readonly string[], what: string): string[] {
  if (lines.length <= MAX_LINES_PER_KIND) return [...lines];
  const more = lines.length - MAX_LINES_PER_KIND;
  return [...lines.slice(0, MAX_LINES_PER_KIND), `… and ${more} more ${what}`];
}

function base64(hash: Uint8Array): string {
  return Buffer.from(hash).toString('base64');
}

/** The root of a list of leaf hashes, for checking a cache against the state it belongs to. */
export function rootOfLeaves(leaves: readonly Uint8Array[]): Buffer {
  const frontier = MerkleFrontier.empty();
  for (const leaf of leaves) frontier.append(leaf);
  return frontier.root();
}

async function readRequired(reader: LogReader, path: string): Promise<Uint8Array> {
  const data = await reader.read(path);
  if (data === undefined) throw new MonitorError(`the log has no ${path} (404)`);
  return data;
}

/** The first index at which two hash lists differ, or -1 when one is a prefix of the other. */
function firstDifference(a: readonly Uint8Array[], b: readonly Uint8Array[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i += 1) {
    if (!Buffer.from(a[i]!).equals(b[i]!)) return i;
  }
  return -1;
}

/**
 * A tile or entry bundle as of the checkpoint's size. A log that grew meanwhile may have replaced
 * a partial one by a wider one (tlog-tiles lets it): the full one starts with the same content.
 */
async function readAsOf(
  reader: LogReader,
  path: string,
  fullPath: string | undefined,
): Promise<{ data: Uint8Array; full: boolean }> {
  const exact = await reader.read(path);
  if (exact !== undefined) return { data: exact, full: false };
  const full = fullPath === undefined ? undefined : await reader.read(fullPath);
  if (full === undefined) throw new MonitorError(`the log has no ${path} (404)`);
  return { data: full, full: true };
}

async function readTile(reader: LogReader, tile: TileRef): Promise<Buffer> {
  const wider = tile.width < TILE_WIDTH ? tilePath({ ...tile, width: TILE_WIDTH }) : undefined;
  const { data, full } = await readAsOf(reader, tilePath(tile), wider);
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return full ? bytes.subarray(0, tile.width * HASH_SIZE) : bytes;
}

/** The leaf hashes of one entry bundle, or the line saying why it cannot give them. */
async function readLeaves(
  reader: LogReader,
  index: number,
  width: number,
): Promise<Buffer[] | string> {
  const path = entryBundlePath(index, width);
  const wider = width < TILE_WIDTH ? entryBundlePath(index, TILE_WIDTH) : undefined;
  const { data, full } = await readAsOf(reader, path, wider);
  try {
    const entries = decodeEntryBundle(data, full ? undefined : width);
    if (full && entries.length < width) {
      return `${path}: the log serves a bundle of ${entries.length} entries where ${width} were expected`;
    }
    return entries.slice(0, width).map(leafHash);
  } catch (error) {
    if (!isTrailkeepError(error)) throw error;
    return `${path} is malformed: ${error.message}`;
  }
}

function splitHashes(data: Uint8Array): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at + HASH_SIZE <= data.length; at += HASH_SIZE) {
    out.push(Buffer.from(data.subarray(at, at + HASH_SIZE)));
  }
  return out;
}

interface Rebuild {
  readonly problems: string[];
  readonly tree?: RebuiltTree;
  readonly tiles: number;
  readonly bundles: number;
}

function treeOf(size: number, leaves: Buffer[], tiles: readonly TileData[]): RebuiltTree {
  const byTile = new Map<string, Buffer>();
  for (const { tile, data } of tiles) byTile.set(`${tile.level}/${tile.index}`, data);
  return {
    size,
    leaves,
    rootAt(at) {
      if (at === 0) return Buffer.from(EMPTY_ROOT);
      // A tile of a smaller tree is a prefix of the same tile of this one: complete subtrees
      // never change as a tree grows.
      const read: HashReader = tileHashReader(at, (refs) =>
        refs.map((t) => byTile.get(`${t.level}/${t.index}`)!.subarray(0, t.width * HASH_SIZE)),
      );
      return treeRoot(at, read);
    },
  };
}

/**
 * Every entry bundle gives its leaf hashes; the tiles of those leaves are computed (each level
 * from the one below) and every tile the log serves must be exactly that; the root of the
 * computed tiles must be the checkpoint's. Tiles and bundles are all read, every run: a rewrite
 * anywhere in the history shows, not only in what is new since the last run.
 */
async function rebuild(reader: LogReader, head: TreeHead, concurrency: number): Promise<Rebuild> {
  const { size } = head;
  const bundleRefs = Array.from({ length: Math.ceil(size / TILE_WIDTH) }, (_, index) => ({
    index,
    width: Math.min(TILE_WIDTH, size - index * TILE_WIDTH),
  }));
  const bundles = await mapPool(bundleRefs, concurrency, ({ index, width }) =>
    readLeaves(reader, index, width),
  );
  const broken = bundles.filter((b): b is string => typeof b === 'string');
  if (broken.length > 0) {
    return {
      problems: cappedLines(broken, 'malformed entry bundles'),
      tiles: 0,
      bundles: bundleRefs.length,
    };
  }
  const leaves = (bundles as Buffer[][]).flat();
  const expected = tilesFromLeafHashes(leaves);
  const served = await mapPool(expected, concurrency, ({ tile }) => readTile(reader, tile));
  const mismatches: string[] = [];
  expected.forEach(({ tile, data }, i) => {
    const got = served[i]!;
    if (got.equals(data)) return;
    const what =
      got.length !== data.length
        ? `has ${got.length} bytes where ${data.length} were expected`
        : `differs at hash ${firstDifference(splitHashes(got), splitHashes(data))}`;
    mismatches.push(`${tilePath(tile)} ${what}: it is not the tile of the log's own entry bundles`);
  });
  const problems = cappedLines(mismatches, 'tiles that differ');
  const tree = treeOf(size, leaves, expected);
  const root = tree.rootAt(size);
  if (!root.equals(head.root)) {
    problems.push(
      `the root of the ${size} entries the log serves is ${base64(root)}, not the checkpoint's ${base64(head.root)}`,
    );
  }
  return {
    problems,
    tiles: expected.length,
    bundles: bundleRefs.length,
    ...(problems.length === 0 ? { tree } : {}),
  };
}

function checkpointHead(note: Uint8Array): { head: TreeHead; text: string } {
  try {
    const { text } = parseNote(note);
    return { head: parseCheckpoint(text), text: Buffer.from(note).toString('utf8') };
  } catch (error) {
    if (!isTrailkeepError(error)) throw error;
    throw new MonitorError(`the log's checkpoint is not a signed checkpoint: ${error.message}`);
  }
}

/** Where the log's history leaves the one seen before, from the leaves kept last time. */
function locateDivergence(
  previous: MonitorState,
  cached: readonly Buffer[] | undefined,
  tree: RebuiltTree,
  notes: string[],
): { line: string; size?: number } {
  const usable =
    cached !== undefined &&
    cached.length === previous.size &&
    rootOfLeaves(cached).equals(previous.root);
  if (!usable) {
    if (cached !== undefined) notes.push('the cached leaves do not match the state; ignored');
    return {
      line: `no leaves cached from the last run to locate it: the histories diverge at a size of at most ${Math.min(previous.size, tree.size + 1)}`,
    };
  }
  const i = firstDifference(cached, tree.leaves);
  if (i >= 0) {
    return {
      line: `the histories diverge first at size ${i + 1}: entry ${i} (the event with seq ${i + 1}) is not the one seen before`,
      size: i + 1,
    };
  }
  // Every leaf the log still has is the one seen before: only the tail is gone.
  const first = tree.size;
  return {
    line: `the histories diverge first at size ${first + 1}: entries ${first} to ${previous.size - 1} (seq ${first + 1} to ${previous.size}) are gone`,
    size: first + 1,
  };
}

/**
 * Checks the log's current checkpoint: signed by one of the log's keys, cosigned by every given
 * witness, the tree rebuilt from the entries equal to what it signs, and the history seen before
 * (`previous`) a prefix of it. Throws MonitorError when the check cannot be run.
 */
export async function audit(options: AuditOptions): Promise<AuditReport> {
  const { reader, logKeys, previous } = options;
  const witnessKeys = options.witnessKeys ?? [];
  if (
    options.origin !== undefined &&
    previous !== undefined &&
    options.origin !== previous.origin
  ) {
    throw new MonitorError(
      `the state is for origin ${JSON.stringify(previous.origin)}, not ${JSON.stringify(options.origin)}`,
    );
  }
  const note = await readRequired(reader, 'checkpoint');
  const { head, text } = checkpointHead(note);
  // Trust on first use: a first run without --origin accepts the log's own name and pins it.
  const origin = options.origin ?? previous?.origin ?? head.origin;
  const notes: string[] = [];
  const refused = (problems: string[]): AuditReport => ({
    problems,
    notes,
    checkpoint: head,
    cosigners: [],
    fetched: { tiles: 0, bundles: 0 },
  });
  const opened = openCheckpoint(note, { origin, logKeys, witnessKeys });
  if (!opened.ok) return refused([`the checkpoint is refused: ${opened.reason}`]);

  const problems: string[] = [];
  const cosigners: string[] = [];
  for (const witness of witnessKeys) {
    const id = witness.keyId.toString(16).padStart(8, '0');
    if (
      opened.value.cosignatures.some((s) => s.name === witness.name && s.keyId === witness.keyId)
    ) {
      cosigners.push(witness.name);
    } else {
      problems.push(
        `witness ${JSON.stringify(witness.name)} (${id}) did not cosign this checkpoint`,
      );
    }
  }

  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
  const rebuilt = await rebuild(reader, head, concurrency);
  problems.push(...rebuilt.problems);
  const fetched = { tiles: rebuilt.tiles, bundles: rebuilt.bundles };
  const { tree } = rebuilt;
  let divergence: number | undefined;
  if (tree !== undefined && previous !== undefined) {
    const shrank = head.size < previous.size;
    const oldRoot = shrank ? undefined : tree.rootAt(previous.size);
    if (shrank || !oldRoot!.equals(previous.root)) {
      problems.push(
        shrank
          ? `the log shrank: its checkpoint holds ${head.size} entries, the one accepted before held ${previous.size}`
          : `the first ${previous.size} entries now have root ${base64(oldRoot!)}, not the root ${base64(previous.root)} accepted before: the history was rewritten`,
      );
      const cached = await options.previousLeaves?.();
      const located = locateDivergence(previous, cached, tree, notes);
      problems.push(located.line);
      divergence = located.size;
    }
  }
  const report = {
    problems,
    notes,
    checkpoint: head,
    cosigners,
    fetched,
    ...(divergence === undefined ? {} : { divergence }),
    ...(tree === undefined ? {} : { tree }),
  };
  if (problems.length > 0 || tree === undefined) return report;
  const state: MonitorState = {
    origin: head.origin,
    size: head.size,
    root: head.root,
    checkpoint: text,
  };
  return { ...report, next: { state, leaves: tree.leaves } };
}
