/**
 * The log's side of c2sp.org/tlog-witness. A workspace's owners name witnesses (URL and the
 * witness's cosignature verifier key); after new events, in the background, each witness is sent
 * the workspace's new signed checkpoint with a consistency proof from the size it last cosigned
 * (`old 0` the first time). A 409 teaches the witness's size: one retry with a proof from there.
 * A cosignature is stored only after it verifies against the witness's key; a refusal is stored
 * as the witness's `last_error`, which the API and the viewer show, so a rewritten history is
 * loud. Ingest never waits for any of this: pushes are debounced per workspace, bounded in
 * concurrency, and a failing witness is retried with exponential backoff.
 */
import { TrailkeepError } from '../core/errors.js';
import { parseCheckpoint } from '../core/tlog/checkpoint.js';
import {
  SIGNATURE_COSIGNATURE_V1,
  parseNote,
  parseVerifierKey,
  type NoteVerifier,
} from '../core/tlog/note.js';
import { quote } from '../core/tlog/text.js';
import {
  formatAddCheckpoint,
  parseCosignatureResponse,
  parseWitnessSize,
} from '../core/tlog/witness.js';
import type { WitnessOutcome, WitnessRecord } from '../store/witnesses.js';
import { verifiedCosignature } from './cosignatures.js';
import type { LogService } from './log-service.js';

export interface WitnessServiceOptions {
  clock?: () => Date;
  /** Quiet time after the last append before witnesses are sent a checkpoint (default 1 s). */
  debounceMs?: number;
  /** Witness requests in flight at once, over all workspaces (default 4). */
  concurrency?: number;
  /** One request's limit (default 10 s). */
  timeoutMs?: number;
  /** First retry delay after a failure, doubled per failure up to maxBackoffMs (default 2 s). */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** false: no pushes after appends or on add, only syncNow (the CLI, which exits at once). */
  background?: boolean;
}

/** What the API shows of a witness. */
export interface WitnessView {
  name: string;
  url: string;
  vkey: string;
  created_at: string;
  /** The latest size it cosigned, or null before its first cosignature. */
  cosigned_size: number | null;
  cosigned_at: string | null;
  /** `ok`: the last attempt succeeded (or none yet); `failing`: see `last_error`. */
  status: 'ok' | 'pending' | 'failing';
  last_error: string | null;
  last_error_at: string | null;
  last_attempt_at: string | null;
}

export interface CheckpointNote {
  origin: string;
  size: number;
  root: Buffer;
  note: string;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const MAX_URL = 2048;
/** A witness answers a few signature lines or a size; more is not a witness. */
const MAX_ANSWER_BYTES = 64 * 1024;
const MAX_DETAIL = 200;

export function witnessView(record: WitnessRecord): WitnessView {
  return {
    name: record.name,
    url: record.url,
    vkey: record.vkey,
    created_at: record.created_at,
    cosigned_size: record.cosigned_size === null ? null : Number(record.cosigned_size),
    cosigned_at: record.cosigned_at,
    status:
      record.last_error !== null ? 'failing' : record.cosigned_size === null ? 'pending' : 'ok',
    last_error: record.last_error,
    last_error_at: record.last_error_at,
    last_attempt_at: record.last_attempt_at,
  };
}

/** A witness's submission prefix: http(s), no credentials, query or fragment; no trailing slash. */
export function checkWitnessUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new TrailkeepError('bad_request', `the witness URL ${quote(text)} is not a URL`);
  }
  if (text.length > MAX_URL || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new TrailkeepError(
      'bad_request',
      'the witness URL is an http(s) URL of at most 2048 characters',
    );
  }
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') {
    throw new TrailkeepError(
      'bad_request',
      'the witness URL carries no user, password, query or fragment',
    );
  }
  return url.href.replace(/\/+$/, '');
}

/** A witness's verifier key: a cosignature v1 (type 0x04) note key. */
export function checkWitnessKey(vkey: string): NoteVerifier {
  let verifier: NoteVerifier;
  try {
    verifier = parseVerifierKey(vkey);
  } catch (error) {
    throw new TrailkeepError(
      'bad_request',
      `the witness key is not a verifier key: ${(error as Error).message}`,
    );
  }
  if (verifier.type !== SIGNATURE_COSIGNATURE_V1) {
    throw new TrailkeepError(
      'bad_request',
      'the witness key is not a cosignature v1 key (type 0x04): `trailkeep witness serve` prints it',
    );
  }
  return verifier;
}

class Semaphore {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly limit: number) {}

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active += 1;
    try {
      return await work();
    } finally {
      this.active -= 1;
      this.waiting.shift()?.();
    }
  }
}

/** A refusal or failure, as stored and shown. */
class PushFailure extends Error {}

export class WitnessService {
  private readonly clock: () => Date;
  private readonly debounceMs: number;
  private readonly timeoutMs: number;
  private readonly backoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly gate: Semaphore;
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly running = new Map<string, Promise<void>>();
  /** Workspaces asked for again while a round ran, with the shortest delay asked for. */
  private readonly again = new Map<string, number>();
  /** "<workspace>\n<name>" -> failures in a row and when to try again. */
  private readonly backoff = new Map<string, { failures: number; until: number }>();
  private readonly unsubscribe: () => void;
  private closed = false;

  constructor(
    private readonly log: LogService,
    options: WitnessServiceOptions = {},
  ) {
    this.clock = options.clock ?? (() => new Date());
    this.debounceMs = options.debounceMs ?? 1000;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.backoffMs = options.backoffMs ?? 2000;
    this.maxBackoffMs = options.maxBackoffMs ?? 5 * 60_000;
    this.gate = new Semaphore(options.concurrency ?? 4);
    this.closed = options.background === false;
    this.unsubscribe = this.closed
      ? () => undefined
      : log.onAppended((workspace) => this.schedule(workspace, this.debounceMs));
  }

  private get store() {
    return this.log.store;
  }

  async list(workspace: string): Promise<WitnessView[]> {
    await this.log.workspace(workspace);
    return (await this.store.listWitnesses(workspace)).map(witnessView);
  }

  async add(
    workspace: string,
    input: { name: string; url: string; vkey: string },
  ): Promise<WitnessRecord> {
    await this.log.workspace(workspace);
    if (!NAME.test(input.name)) {
      throw new TrailkeepError(
        'bad_request',
        'a witness name is 1 to 64 letters, digits, ".", "_" or "-", starting with a letter or digit',
      );
    }
    const url = checkWitnessUrl(input.url);
    checkWitnessKey(input.vkey);
    const record = {
      workspace,
      name: input.name,
      url,
      vkey: input.vkey,
      created_at: this.clock().toISOString(),
    };
    if (!(await this.store.addWitness(record))) {
      throw new TrailkeepError('already_exists', `a witness named ${quote(input.name)} exists`);
    }
    this.schedule(workspace, 0);
    const added = (await this.store.listWitnesses(workspace)).find((w) => w.name === input.name);
    if (added === undefined) throw new TrailkeepError('internal', 'the witness was not stored');
    return added;
  }

  async remove(workspace: string, name: string): Promise<WitnessRecord> {
    await this.log.workspace(workspace);
    const removed = await this.store.removeWitness(workspace, name);
    if (removed === undefined) {
      throw new TrailkeepError('not_found', `no witness named ${quote(name)} in this workspace`);
    }
    this.backoff.delete(`${workspace}\n${name}`);
    return removed;
  }

  /** The workspace's checkpoint signed by the log alone, with what it states. */
  async checkpointNote(workspace: string): Promise<CheckpointNote> {
    const note = await this.log.logSignedNote(workspace);
    const { origin, size, root } = parseCheckpoint(parseNote(note).text);
    return { origin, size, root, note };
  }

  /** Sends every workspace with witnesses its checkpoint (on start: catch up after downtime). */
  async start(): Promise<void> {
    for (const ws of await this.store.listWorkspaces()) {
      if ((await this.store.listWitnesses(ws.id)).length > 0) this.schedule(ws.id, 0);
    }
  }

  /** Sends the workspace's checkpoint to its witnesses now; resolves when all have answered. */
  async syncNow(workspace: string): Promise<void> {
    const running = this.running.get(workspace);
    if (running !== undefined) await running;
    await this.runOnce(workspace, true);
  }

  /** Stops scheduling; waits for requests in flight. */
  async close(): Promise<void> {
    this.closed = true;
    this.unsubscribe();
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    await Promise.allSettled([...this.running.values()]);
  }

  private schedule(workspace: string, delayMs: number): void {
    if (this.closed) return;
    if (this.running.has(workspace)) {
      // Keep the delay asked for: a retry after backoff must not become a retry after debounce.
      this.again.set(workspace, Math.min(this.again.get(workspace) ?? Infinity, delayMs));
      return;
    }
    const existing = this.timers.get(workspace);
    if (existing !== undefined) clearTimeout(existing);
    const timer = setTimeout(() => {
      this.timers.delete(workspace);
      // One round per workspace at a time: two rounds pushing to one witness at once would see
      // each other's sizes as refusals (409) and record a failure after a success.
      if (this.running.has(workspace)) {
        this.again.set(workspace, Math.min(this.again.get(workspace) ?? Infinity, 0));
        return;
      }
      void this.runOnce(workspace, false);
    }, delayMs);
    timer.unref();
    this.timers.set(workspace, timer);
  }

  private async runOnce(workspace: string, force: boolean): Promise<void> {
    const work = this.pushAll(workspace, force).catch(() => {
      // A store failure while reading the tree: the next append or retry tries again.
      this.schedule(workspace, this.backoffMs);
    });
    this.running.set(workspace, work);
    try {
      await work;
    } finally {
      this.running.delete(workspace);
      const next = this.again.get(workspace);
      if (next !== undefined) {
        this.again.delete(workspace);
        this.schedule(workspace, next);
      }
    }
  }

  private async pushAll(workspace: string, force: boolean): Promise<void> {
    const witnesses = await this.store.listWitnesses(workspace);
    if (witnesses.length === 0) return;
    const checkpoint = await this.checkpointNote(workspace);
    const root = checkpoint.root.toString('base64');
    let retryAt = Infinity;
    await Promise.all(
      witnesses.map(async (w) => {
        const key = `${workspace}\n${w.name}`;
        const wait = this.backoff.get(key);
        if (!force && wait !== undefined && wait.until > Date.now()) {
          retryAt = Math.min(retryAt, wait.until);
          return;
        }
        const upToDate =
          w.last_error === null &&
          Number(w.cosigned_size) === checkpoint.size &&
          w.cosigned_root === root;
        if (upToDate) return;
        const outcome = await this.gate.run(() => this.push(workspace, w, checkpoint));
        await this.store.recordWitnessOutcome(workspace, w, outcome);
        if ('error' in outcome) {
          const failures = (wait?.failures ?? 0) + 1;
          const delay = Math.min(this.maxBackoffMs, this.backoffMs * 2 ** (failures - 1));
          this.backoff.set(key, { failures, until: Date.now() + delay });
          retryAt = Math.min(retryAt, Date.now() + delay);
        } else {
          this.backoff.delete(key);
        }
      }),
    );
    if (retryAt !== Infinity) this.schedule(workspace, Math.max(0, retryAt - Date.now()));
  }

  /** One witness: the checkpoint from its last cosigned size; on 409, once more from its size. */
  private async push(
    workspace: string,
    witness: WitnessRecord,
    checkpoint: CheckpointNote,
  ): Promise<WitnessOutcome> {
    try {
      // A log that shrank below what the witness cosigned still asks (claiming its own size,
      // which needs no proof): the witness's refusal, not this process, is the evidence.
      const stored = Math.min(Number(witness.cosigned_size ?? 0), checkpoint.size);
      let answer = await this.send(workspace, witness, checkpoint, stored);
      if (answer.status === 409) {
        const theirs = answer.size;
        if (theirs > checkpoint.size) {
          throw new PushFailure(
            `the witness answered 409: it cosigned size ${theirs}, but this log now has only ${checkpoint.size} events (events were removed, or the history was replaced)`,
          );
        }
        answer = await this.send(workspace, witness, checkpoint, theirs);
        if (answer.status === 409) {
          throw new PushFailure(
            `the witness answered 409 twice (size ${theirs}, then ${answer.size}): another log instance is feeding it`,
          );
        }
      }
      const verifier = checkWitnessKey(witness.vkey);
      const line = verifiedCosignature(
        checkpoint.note,
        answer.lines,
        verifier,
        this.log.noteSigner.verifier,
      );
      if (line === undefined) {
        throw new PushFailure(
          "the witness answered 200 without a cosignature that verifies with the witness's key",
        );
      }
      return {
        at: this.clock().toISOString(),
        cosigned: {
          size: checkpoint.size,
          root: checkpoint.root.toString('base64'),
          cosignature: line,
        },
      };
    } catch (error) {
      const message =
        error instanceof PushFailure || error instanceof TrailkeepError
          ? error.message
          : `the witness could not be reached: ${(error as Error).message}`;
      return { at: this.clock().toISOString(), error: message };
    }
  }

  private async send(
    workspace: string,
    witness: WitnessRecord,
    checkpoint: CheckpointNote,
    oldSize: number,
  ): Promise<{ status: 200; lines: string[] } | { status: 409; size: number }> {
    const proof =
      oldSize === 0 ? [] : await this.store.consistencyProof(workspace, oldSize, checkpoint.size);
    const body = formatAddCheckpoint({ oldSize, proof, checkpoint: checkpoint.note });
    const response = await fetch(`${witness.url}/add-checkpoint`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'text/plain; charset=utf-8' },
      // A witness URL is an owner's input: never follow it elsewhere.
      redirect: 'manual',
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    const text = await readCapped(response);
    if (response.status === 200) {
      return { status: 200, lines: parseCosignatureResponse(text).map((s) => s.line) };
    }
    if (response.status === 409) return { status: 409, size: parseWitnessSize(text) };
    throw new PushFailure(
      `the witness refused the checkpoint of size ${checkpoint.size} from old size ${oldSize}: ${describeRefusal(response, text)}`,
    );
  }
}

/** The answer's text, refusing more than a witness ever sends. */
async function readCapped(response: Response): Promise<string> {
  const declared = Number(response.headers.get('content-length') ?? '0');
  if (declared > MAX_ANSWER_BYTES) {
    await response.body?.cancel();
    throw new PushFailure(`the witness answered ${declared} bytes, more than a witness sends`);
  }
  const bytes = new Uint8Array(await response.arrayBuffer());
  if (bytes.length > MAX_ANSWER_BYTES) {
    throw new PushFailure('the witness answered more than a witness sends');
  }
  return new TextDecoder().decode(bytes);
}

/**
 * The status and, from a problem document only, its code and a short detail: a witness URL is
 * an owner's input, so arbitrary answers of whatever it points at are not copied into the API.
 */
function describeRefusal(response: Response, text: string): string {
  const meaning = new Map<number, string>([
    [400, 'malformed request'],
    [403, "the log's signature is not trusted"],
    [404, 'the witness does not follow this log'],
    [422, 'the checkpoint does not extend what the witness cosigned before (the history changed)'],
  ]);
  let detail = '';
  if ((response.headers.get('content-type') ?? '').startsWith('application/problem+json')) {
    try {
      const problem = JSON.parse(text) as { code?: unknown; detail?: unknown };
      const code = typeof problem.code === 'string' ? problem.code.slice(0, 64) : undefined;
      const said =
        typeof problem.detail === 'string' ? problem.detail.slice(0, MAX_DETAIL) : undefined;
      detail = [code, said].filter((x) => x !== undefined).join(': ');
    } catch {
      detail = '';
    }
  }
  const known = meaning.get(response.status);
  return [`HTTP ${response.status}`, known, detail === '' ? undefined : `(${detail})`]
    .filter((x) => x !== undefined)
    .join(' ');
}
