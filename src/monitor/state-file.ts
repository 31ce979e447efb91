/**
 * The monitor's memory between runs: the state file (the last checkpoint it accepted, as JSON)
 * and beside it `<state>.leaves`, the leaf hashes of that tree (32 bytes each), which locate
 * where a later history departs from it. Both are replaced atomically (a temporary file, fsync,
 * rename, fsync of the directory), so a crash leaves the old state or the new one, never half.
 */
import { randomBytes } from 'node:crypto';
import { open, readFile, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { isTrailkeepError } from '../core/errors.js';
import { parseCheckpoint } from '../core/tlog/checkpoint.js';
import { HASH_SIZE } from '../core/tlog/merkle.js';
import { parseNote } from '../core/tlog/note.js';
import { decodeBase64 } from '../core/tlog/text.js';
import { MonitorError, errorText, type MonitorState } from './audit.js';

export const STATE_FORMAT = 'trailkeep-audit-state/v1';

export function leavesFile(stateFile: string): string {
  return `${stateFile}.leaves`;
}

export function formatState(state: MonitorState, acceptedAt: Date): string {
  const value = {
    format: STATE_FORMAT,
    origin: state.origin,
    size: state.size,
    root: state.root.toString('base64'),
    accepted_at: acceptedAt.toISOString(),
    checkpoint: state.checkpoint,
  };
  return `${JSON.stringify(value, null, 2)}\n`;
}

/**
 * Reads a state back. The signed note it keeps is the evidence; the origin, size and root
 * beside it are for people, and must say what the note says.
 */
export function parseState(text: string, where: string): MonitorState {
  const bad = (why: string): MonitorError =>
    new MonitorError(`the state file ${where} is not a trailkeep audit state: ${why}`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw bad(errorText(error));
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw bad('not an object');
  const field = (name: string): unknown =>
    Object.hasOwn(value, name) ? (value as Record<string, unknown>)[name] : undefined;
  if (field('format') !== STATE_FORMAT) throw bad(`its "format" is not "${STATE_FORMAT}"`);
  const checkpoint = field('checkpoint');
  if (typeof checkpoint !== 'string') throw bad('it has no "checkpoint" note');
  let head;
  try {
    head = parseCheckpoint(parseNote(checkpoint).text);
  } catch (error) {
    if (!isTrailkeepError(error)) throw error;
    throw bad(error.message);
  }
  const root =
    typeof field('root') === 'string' ? decodeBase64(field('root') as string) : undefined;
  if (
    field('origin') !== head.origin ||
    field('size') !== head.size ||
    root === undefined ||
    !root.equals(head.root)
  ) {
    throw bad('its origin, size and root are not those of its checkpoint');
  }
  return { origin: head.origin, size: head.size, root: head.root, checkpoint };
}

/** The state, or undefined on a first run (no file yet). */
export async function readState(file: string): Promise<MonitorState | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new MonitorError(`cannot read the state file ${file}: ${errorText(error)}`);
  }
  return parseState(text, file);
}

/** The cached leaves, or undefined when there are none to use (the caller checks the root). */
export async function readCachedLeaves(file: string): Promise<Buffer[] | undefined> {
  let data: Buffer;
  try {
    data = await readFile(file);
  } catch {
    return undefined;
  }
  if (data.length % HASH_SIZE !== 0) return undefined;
  const leaves: Buffer[] = [];
  for (let at = 0; at < data.length; at += HASH_SIZE)
    leaves.push(data.subarray(at, at + HASH_SIZE));
  return leaves;
}

export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  const temporary = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    const handle = await open(temporary, 'wx', 0o644);
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, file);
    // The rename itself is only durable once the directory that records it is.
    const directory = await open(dirname(file), 'r');
    try {
      await directory.sync();
    } finally {
      await directory.close();
    }
  } catch (error) {
    await rm(temporary, { force: true }).catch(() => undefined);
    throw new MonitorError(`cannot write ${file}: ${errorText(error)}`);
  }
}

/** Keeps a new state: its leaves first, so a crash between leaves a state they do not match. */
export async function writeState(
  file: string,
  state: MonitorState,
  leaves: readonly Buffer[],
  acceptedAt: Date,
): Promise<void> {
  await writeFileAtomic(leavesFile(file), Buffer.concat(leaves));
  await writeFileAtomic(file, formatState(state, acceptedAt));
}
