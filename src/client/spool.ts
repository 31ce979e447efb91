/**
 * The on-disk spool: recorded events survive the sending process. Events are appended as NDJSON
 * lines to numbered segment files (`000000000001.ndjson`, ...) and fsynced before `record`
 * resolves; a segment is deleted once every event in it was acknowledged by the server (or given
 * up on and reported). A new client on the same directory reads the remaining segments in order
 * and delivers them first; ids make any re-send of an already stored event harmless.
 *
 * One process at a time owns a spool directory (a `lock` file holding its pid); a lock left by a
 * killed process is taken over.
 */
import { mkdir, open, readdir, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { TrailkeepClientError } from './errors.js';

/** A segment is closed (no more appends) after this many events or bytes. */
const SEGMENT_MAX_EVENTS = 1000;
const SEGMENT_MAX_BYTES = 4 * 1024 * 1024;
const SEGMENT_NAME = /^(\d{12})\.ndjson$/;

export interface RecoveredLine {
  line: string;
  segment: number;
}

interface SegmentState {
  written: number;
  settled: number;
  closed: boolean;
}

function segmentFile(dir: string, segment: number): string {
  return join(dir, `${String(segment).padStart(12, '0')}.ndjson`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Spool directories held by clients of this process (the pid in the lock cannot tell them apart). */
const heldHere = new Set<string>();

function lockedError(dir: string, owner: number): TrailkeepClientError {
  return new TrailkeepClientError(
    'spool_locked',
    `spool directory ${dir} is in use by process ${owner}; give each client its own spoolDir`,
  );
}

async function takeLock(dir: string): Promise<void> {
  if (heldHere.has(dir)) throw lockedError(dir, process.pid);
  heldHere.add(dir);
  try {
    await writeLock(dir);
  } catch (error) {
    heldHere.delete(dir);
    throw error;
  }
}

async function writeLock(dir: string): Promise<void> {
  const lock = join(dir, 'lock');
  try {
    await writeFile(lock, String(process.pid), { flag: 'wx' });
    return;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const owner = Number((await readFile(lock, 'utf8')).trim());
  if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && isAlive(owner)) {
    throw lockedError(dir, owner);
  }
  await writeFile(lock, String(process.pid));
}

export class Spool {
  private readonly segments = new Map<number, SegmentState>();
  private current: { segment: number; handle: FileHandle; bytes: number } | undefined;
  private nextSegment: number;

  private constructor(
    private readonly dir: string,
    nextSegment: number,
  ) {
    this.nextSegment = nextSegment;
  }

  /** Takes the directory and returns the events a previous process left, oldest first. */
  static async open(directory: string): Promise<{ spool: Spool; recovered: RecoveredLine[] }> {
    const dir = resolve(directory);
    await mkdir(dir, { recursive: true });
    await takeLock(dir);
    const numbers = (await readdir(dir))
      .map((name) => SEGMENT_NAME.exec(name)?.[1])
      .filter((n): n is string => n !== undefined)
      .map(Number)
      .sort((a, b) => a - b);
    const spool = new Spool(dir, (numbers.at(-1) ?? 0) + 1);
    const recovered: RecoveredLine[] = [];
    for (const segment of numbers) {
      const text = await readFile(segmentFile(dir, segment), 'utf8');
      let count = 0;
      for (const line of text.split('\n')) {
        if (line === '') continue;
        // A process killed in the middle of an append leaves a torn last line; its `record`
        // never resolved, so the event was never promised to anyone.
        if (!isCompleteJson(line)) continue;
        recovered.push({ line, segment });
        count += 1;
      }
      if (count === 0) await unlink(segmentFile(dir, segment));
      else spool.segments.set(segment, { written: count, settled: 0, closed: true });
    }
    return { spool, recovered };
  }

  /**
   * Appends lines (each one JSON event without a newline) and fsyncs them as one group.
   * Returns the segment they went to.
   */
  async append(lines: readonly string[]): Promise<number> {
    const text = lines.map((line) => `${line}\n`).join('');
    const bytes = Buffer.byteLength(text);
    let current = this.current;
    const state = current === undefined ? undefined : this.segments.get(current.segment);
    if (
      current === undefined ||
      state === undefined ||
      state.written >= SEGMENT_MAX_EVENTS ||
      current.bytes >= SEGMENT_MAX_BYTES
    ) {
      await this.rotate();
      current = this.current;
    }
    if (current === undefined) throw new Error('spool: no open segment after rotate');
    await current.handle.appendFile(text);
    await current.handle.sync();
    current.bytes += bytes;
    const segment = this.segments.get(current.segment);
    if (segment !== undefined) segment.written += lines.length;
    return current.segment;
  }

  /** One event of `segment` is delivered or given up on. */
  async settle(segment: number): Promise<void> {
    const state = this.segments.get(segment);
    if (state === undefined) return;
    state.settled += 1;
    if (state.closed && state.settled >= state.written) {
      this.segments.delete(segment);
      await rm(segmentFile(this.dir, segment), { force: true });
    }
  }

  /** Closes the open segment (deleting it when all its events were settled) and the lock. */
  async close(): Promise<void> {
    await this.closeCurrent();
    await rm(join(this.dir, 'lock'), { force: true });
    heldHere.delete(this.dir);
  }

  private async rotate(): Promise<void> {
    await this.closeCurrent();
    const segment = this.nextSegment;
    this.nextSegment += 1;
    const handle = await open(segmentFile(this.dir, segment), 'a');
    this.current = { segment, handle, bytes: 0 };
    this.segments.set(segment, { written: 0, settled: 0, closed: false });
  }

  private async closeCurrent(): Promise<void> {
    const current = this.current;
    if (current === undefined) return;
    this.current = undefined;
    await current.handle.close();
    const state = this.segments.get(current.segment);
    if (state === undefined) return;
    state.closed = true;
    if (state.settled >= state.written) {
      this.segments.delete(current.segment);
      await rm(segmentFile(this.dir, current.segment), { force: true });
    }
  }
}

function isCompleteJson(line: string): boolean {
  try {
    JSON.parse(line);
    return true;
  } catch {
    return false;
  }
}
