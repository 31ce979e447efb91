/**
 * The Trailkeep client: `record` events, and a background sender delivers them in batches, in
 * the order they were recorded, exactly once (each event gets its id before it is buffered, so
 * a retry or a re-send after a restart is stored once).
 *
 * Life of an event: record() -> intake (in call order) -> [spool: appended and fsynced] ->
 * pending (bounded by maxBuffer) -> sent in batches, one request at a time -> settled when the
 * server acknowledged it, or when it was refused as invalid / given up on (and reported).
 */
import type { EventInput, StoredEvent } from '../core/event.js';
import type { Issue } from '../core/errors.js';
import { LIMITS } from '../core/limits.js';
import { backoffDelay, DEFAULT_RETRY, type RetryOptions } from './backoff.js';
import {
  AuthError,
  BufferFullError,
  TrailkeepClientError,
  ValidationError,
  type Problem,
} from './errors.js';
import { newEventId } from './ids.js';
import { getEvent, iterateEvents, type EventsQuery, type Reader } from './query.js';
import { defaultChanges, type Resource } from './resource.js';
import { sleep } from './sleep.js';
import { Spool } from './spool.js';
import {
  exchange,
  normalizeBaseUrl,
  type Endpoint,
  type Exchange,
  type FetchLike,
} from './transport.js';

export interface TrailkeepClientOptions {
  /** Base URL of the Trailkeep server, e.g. `http://127.0.0.1:8080`. */
  url: string;
  /** Workspace id (slug) the events belong to. */
  workspace: string;
  /** An API key of that workspace: `ingest` to record, `read` to query. */
  apiKey: string;
  /** Events per request, 1 to 1,000 (default 100). */
  batchSize?: number;
  /** Longest time an event waits for a batch to fill (default 1,000 ms). */
  flushIntervalMs?: number;
  /** Undelivered events held at most (default 10,000); see `whenFull`. */
  maxBuffer?: number;
  /** When the buffer is full: `wait` (default) until room frees, or `reject` with BufferFullError. */
  whenFull?: 'wait' | 'reject';
  /** Directory of the on-disk spool; absent: events live only in memory until delivered. */
  spoolDir?: string;
  retry?: Partial<RetryOptions>;
  /** Time limit of one HTTP request (default 30,000 ms). */
  requestTimeoutMs?: number;
  /** Replaces the global fetch (proxies, custom agents). */
  fetch?: FetchLike;
  /**
   * Receives every error that needs attention: refused events (ValidationError), a refused key
   * (AuthError), a batch given up on (`delivery_failed`), spool trouble. Transient failures
   * (network, 5xx, 429) are retried silently. Default: a process warning.
   */
  onError?: (error: TrailkeepClientError) => void;
}

/** What `record` accepts: an event, plus how to track its changes locally. */
export interface RecordInput extends EventInput {
  /** Schema for the local diff and redaction (see defineResource). */
  resource?: Resource;
  /**
   * Compute `changes` from `before`/`after` in this process, so that only redacted changes are
   * spooled and sent. Default: true when `resource` is given, false otherwise (the server then
   * diffs with the workspace's schema).
   */
  diffLocally?: boolean;
}

interface Entry {
  /** Local order: recorded events count up from 1; events recovered from the spool are <= 0. */
  seq: number;
  event: EventInput;
  line: string;
  bytes: number;
  segment: number | undefined;
  /** occurred_at is the client's stamp (the time of record()), not a time the caller gave. */
  stamped: boolean;
}

interface IntakeItem {
  entry: Entry;
  resolve: () => void;
  reject: (error: unknown) => void;
}

interface FlushWaiter {
  mark: number;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/** Below the server's request limit, with room for the envelope and separators. */
const MAX_BATCH_BYTES = LIMITS.maxBatchBytes - 64 * 1024;
/** Events fsynced together at most, when many records arrive at once. */
const MAX_SPOOL_GROUP = 1000;

function positiveInteger(name: string, value: number, max = Number.MAX_SAFE_INTEGER): number {
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new TrailkeepClientError(
      'invalid_options',
      `${name} must be an integer from 1 to ${max}, got ${value}`,
    );
  }
  return value;
}

export class TrailkeepClient {
  private readonly endpoint: Endpoint;
  private readonly workspace: string;
  private readonly batchSize: number;
  private readonly flushIntervalMs: number;
  private readonly maxBuffer: number;
  private readonly whenFull: 'wait' | 'reject';
  private readonly retry: RetryOptions;
  private readonly onError: (error: TrailkeepClientError) => void;
  private readonly spoolDir: string | undefined;

  private nextSeq = 1;
  private readonly intake: IntakeItem[] = [];
  private pending: Entry[] = [];
  private readonly flushWaiters: FlushWaiter[] = [];
  /** Errors not yet returned by a flush(); the next flush to settle rejects with the first. */
  private unreported: TrailkeepClientError[] = [];
  private roomWaiters: Array<() => void> = [];
  /** Set and cleared synchronously, so that no record() can slip past a pump that is ending. */
  private pumpActive = false;
  private pumping: Promise<void> | undefined;
  private draining: Promise<void> | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private spool: Spool | undefined;
  private readonly ready: Promise<void>;
  private state: 'open' | 'closing' | 'closed' = 'open';
  private closing: Promise<void> | undefined;
  private readonly stop = new AbortController();

  constructor(options: TrailkeepClientOptions) {
    for (const name of ['url', 'workspace', 'apiKey'] as const) {
      if (typeof options[name] !== 'string' || options[name] === '') {
        throw new TrailkeepClientError('invalid_options', `${name} is required`);
      }
    }
    const fetchImpl: FetchLike = options.fetch ?? ((input, init) => fetch(input, init));
    this.endpoint = {
      baseUrl: normalizeBaseUrl(options.url),
      apiKey: options.apiKey,
      fetch: fetchImpl,
      requestTimeoutMs: positiveInteger('requestTimeoutMs', options.requestTimeoutMs ?? 30_000),
    };
    this.workspace = options.workspace;
    this.batchSize = positiveInteger('batchSize', options.batchSize ?? 100, LIMITS.maxBatchEvents);
    this.flushIntervalMs = Math.max(0, options.flushIntervalMs ?? 1000);
    this.maxBuffer = positiveInteger('maxBuffer', options.maxBuffer ?? 10_000);
    this.whenFull = options.whenFull ?? 'wait';
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    if (this.retry.maxAttempts !== undefined)
      positiveInteger('retry.maxAttempts', this.retry.maxAttempts);
    this.onError = options.onError ?? ((error) => process.emitWarning(error));
    this.spoolDir = options.spoolDir;
    // Opening the spool starts delivering what a previous process left, even before the first
    // record(); its failure is reported and returned by every later record() and flush().
    this.ready = this.spoolDir === undefined ? Promise.resolve() : this.openSpool(this.spoolDir);
    this.ready.catch((error: unknown) => this.report(asClientError(error)));
  }

  /**
   * Buffers one event (assigning `id` and `occurred_at` when absent) and resolves once it is
   * held: in memory, or with `spoolDir` appended to the spool and fsynced. Delivery happens in
   * the background; its failures reach `onError` and the next `flush()`.
   */
  record(input: RecordInput): Promise<void> {
    if (this.state !== 'open') {
      return Promise.reject(new TrailkeepClientError('client_closed', 'record() after close()'));
    }
    let entry: Entry;
    try {
      entry = this.prepare(input);
    } catch (error) {
      return Promise.reject(toError(error));
    }
    if (this.whenFull === 'reject' && this.pending.length + this.intake.length >= this.maxBuffer) {
      return Promise.reject(new BufferFullError(this.maxBuffer, entry.event));
    }
    return new Promise<void>((resolve, reject) => {
      this.intake.push({ entry, resolve, reject });
      if (!this.pumpActive) {
        this.pumpActive = true;
        this.pumping = this.pump();
      }
    });
  }

  /**
   * Resolves when every event recorded before this call has been acknowledged by the server.
   * Rejects with the first error reported since the previous flush (e.g. a ValidationError for
   * refused events), and at once with an AuthError when the server refuses the key. It waits
   * through network errors and restarts of the server (unless `retry.maxAttempts` is set).
   */
  flush(): Promise<void> {
    const mark = this.nextSeq - 1;
    return this.ready.then(
      () =>
        new Promise<void>((resolve, reject) => {
          this.flushWaiters.push({ mark, resolve, reject });
          this.settleFlushes();
          this.schedule();
        }),
    );
  }

  /**
   * Flushes, then stops the sender and releases the spool. With `timeoutMs`, stops after that
   * long even if events are undelivered: they stay in the spool (with `spoolDir`) for the next
   * client, and the returned promise rejects with `delivery_failed` naming them.
   */
  close(options: { timeoutMs?: number } = {}): Promise<void> {
    this.closing ??= this.shutdown(options.timeoutMs);
    return this.closing;
  }

  /** One stored event by id (needs a key with `read` scope). */
  getEvent(id: string): Promise<StoredEvent> {
    return getEvent(this.reader(), id);
  }

  /**
   * Every event matching a query, newest first, following the cursor page by page:
   * `for await (const event of client.events('action:job.*')) ...`
   */
  events(query: string | EventsQuery = {}): AsyncIterable<StoredEvent> {
    return iterateEvents(this.reader(), query);
  }

  private reader(): Reader {
    return { endpoint: this.endpoint, workspace: this.workspace, retry: this.retry };
  }

  private prepare(input: RecordInput): Entry {
    const { resource, diffLocally, ...rest } = input;
    const event: EventInput = {
      ...rest,
      id: rest.id ?? newEventId(),
      // Set now, not by the server: the time of the action, and identical on every re-send.
      occurred_at: rest.occurred_at ?? new Date().toISOString(),
    };
    if (diffLocally ?? resource !== undefined) {
      if (event.before !== undefined || event.after !== undefined) {
        event.changes =
          resource === undefined
            ? defaultChanges(event.before, event.after)
            : resource.changes(event.before, event.after);
        delete event.before;
        delete event.after;
      } else if (event.changes !== undefined && resource !== undefined) {
        event.changes = resource.redact(event.changes);
      }
    }
    const line = JSON.stringify(event);
    return {
      seq: this.nextSeq++,
      event,
      line,
      bytes: Buffer.byteLength(line),
      segment: undefined,
      stamped: rest.occurred_at === undefined,
    };
  }

  private async openSpool(dir: string): Promise<void> {
    const { spool, recovered } = await Spool.open(dir);
    this.spool = spool;
    if (recovered.length === 0) return;
    // Before anything recorded by this process: order per sender survives the restart.
    const entries = recovered.map(({ line, segment }, i): Entry => ({
      seq: i - recovered.length + 1,
      event: JSON.parse(line) as EventInput,
      line,
      bytes: Buffer.byteLength(line),
      segment,
      // The spool keeps the line only: whether its time was a stamp is not known any more.
      stamped: false,
    }));
    this.pending = [...entries, ...this.pending];
    this.schedule();
  }

  /**
   * Moves intake into pending in call order, spooling each group first. `pumpActive` is cleared
   * in the same synchronous step as the last emptiness check, so a record() that arrives later
   * always starts a new pump.
   */
  private async pump(): Promise<void> {
    try {
      await this.ready;
    } catch (error) {
      for (const item of this.intake.splice(0)) item.reject(error);
      this.settleFlushes();
      this.pumpActive = false;
      return;
    }
    while (this.intake.length > 0) {
      const room = this.maxBuffer - this.pending.length;
      if (room <= 0) {
        if (this.stop.signal.aborted) {
          // close() stopped the sender while these waited for room: they were never buffered.
          const error = new TrailkeepClientError(
            'client_closed',
            'the client was closed before room freed',
          );
          for (const item of this.intake.splice(0)) item.reject(error);
          break;
        }
        await new Promise<void>((resolve) => this.roomWaiters.push(resolve));
        continue;
      }
      const group = this.intake.slice(0, Math.min(room, MAX_SPOOL_GROUP));
      const segment = await this.spoolGroup(group);
      this.intake.splice(0, group.length);
      if (segment === null) {
        this.settleFlushes();
        continue;
      }
      for (const item of group) {
        item.entry.segment = segment;
        this.pending.push(item.entry);
        item.resolve();
      }
      this.schedule();
    }
    this.pumpActive = false;
  }

  /** Appends a group to the spool: its segment, undefined without a spool, null on failure. */
  private async spoolGroup(group: readonly IntakeItem[]): Promise<number | undefined | null> {
    if (this.spool === undefined) return undefined;
    try {
      return await this.spool.append(group.map((item) => item.entry.line));
    } catch (cause) {
      const error = new TrailkeepClientError(
        'spool_failed',
        `cannot write the spool: ${String(cause)}`,
        {
          cause,
          events: group.map((item) => item.entry.event),
        },
      );
      // These records reject, so they were never recorded: onError hears of it, flush() not.
      for (const item of group) item.reject(error);
      this.notify(error);
      return null;
    }
  }

  /** Starts a send now (batch full, flush or close waiting) or after flushIntervalMs. */
  private schedule(): void {
    if (this.draining !== undefined || this.pending.length === 0 || this.stop.signal.aborted)
      return;
    const urgent =
      this.pending.length >= this.batchSize ||
      this.flushWaiters.length > 0 ||
      this.state !== 'open';
    if (!urgent) {
      this.timer ??= setTimeout(() => {
        this.timer = undefined;
        this.startDrain();
      }, this.flushIntervalMs);
      return;
    }
    this.startDrain();
  }

  private startDrain(): void {
    if (this.draining !== undefined) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.draining = this.drain()
      .catch((error: unknown) => this.report(asClientError(error)))
      .finally(() => {
        this.draining = undefined;
        this.schedule();
      });
  }

  /** Sends batches from the head of pending, one request at a time, until it is empty. */
  private async drain(): Promise<void> {
    while (this.pending.length > 0 && !this.stop.signal.aborted) {
      await this.deliver(this.takeBatch());
    }
  }

  private takeBatch(): Entry[] {
    const batch: Entry[] = [];
    // An id recorded twice goes out in two requests: the server refuses two copies that differ
    // (two stamps) in one batch, but answers a later request's copy with the stored event.
    const ids = new Set<string | undefined>();
    let bytes = 0;
    for (const entry of this.pending) {
      if (batch.length >= this.batchSize || ids.has(entry.event.id)) break;
      if (batch.length > 0 && bytes + entry.bytes > MAX_BATCH_BYTES) break;
      ids.add(entry.event.id);
      batch.push(entry);
      bytes += entry.bytes + 1;
    }
    return batch;
  }

  /** Delivers one batch, retrying until it is acknowledged, refused or given up on. */
  private async deliver(initial: Entry[]): Promise<void> {
    const path = `/workspaces/${encodeURIComponent(this.workspace)}/events`;
    let batch = initial;
    let attempt = 0;
    let blockedReported = false;
    while (batch.length > 0 && !this.stop.signal.aborted) {
      const body = `{"events":[${batch.map((entry) => entry.line).join(',')}]}`;
      const result = await exchange(this.endpoint, 'POST', path, body, this.stop.signal);
      if (this.stop.signal.aborted) return;
      if (result.kind === 'ok') {
        await this.settle(batch);
        return;
      }
      if (result.kind === 'refused' && isTooLarge(result) && batch.length > 1) {
        // The batch as a whole is over a server limit: send it in halves.
        const half = Math.ceil(batch.length / 2);
        await this.deliver(batch.slice(0, half));
        batch = batch.slice(half);
        attempt = 0;
        continue;
      }
      if (result.kind === 'refused' && isInvalidInput(result)) {
        const split = splitRejected(batch, result.problem, result.message);
        const restamped = restampConflicts(split.rejected, result.problem);
        const rejected = split.rejected.filter(({ entry }) => !restamped.has(entry));
        if (rejected.length > 0) {
          this.report(
            new ValidationError(
              `${rejected.length} event(s) refused: ${result.message}`,
              result.status,
              result.problem ?? { status: result.status, detail: result.message },
              rejected.map(({ entry, issues }) => ({ event: entry.event, issues })),
            ),
          );
          await this.settle(rejected.map((r) => r.entry));
        }
        batch = batch.filter((entry) => split.rest.includes(entry) || restamped.has(entry));
        attempt = 0;
        continue;
      }
      attempt += 1;
      if (result.kind !== 'retry' && !blockedReported) {
        // A refused key or an unknown workspace needs a person; flush() must not hang on it.
        blockedReported = true;
        this.report(blockedError(result, batch), { failFlushes: true });
      }
      if (this.retry.maxAttempts !== undefined && attempt >= this.retry.maxAttempts) {
        const message = result.kind === 'auth' ? `HTTP ${result.status}` : result.message;
        this.report(
          new TrailkeepClientError(
            'delivery_failed',
            `gave up on ${batch.length} event(s) after ${attempt} attempts: ${message}`,
            {
              events: batch.map((entry) => entry.event),
              ...(result.status === undefined ? {} : { status: result.status }),
            },
          ),
        );
        await this.settle(batch);
        return;
      }
      const retryAfter = result.kind === 'retry' ? result.retryAfterMs : undefined;
      await sleep(retryAfter ?? backoffDelay(attempt - 1, this.retry), this.stop.signal);
    }
  }

  /** These entries are done with (acknowledged, refused or given up on). */
  private async settle(entries: readonly Entry[]): Promise<void> {
    if (this.spool !== undefined) {
      for (const entry of entries) {
        if (entry.segment === undefined) continue;
        try {
          await this.spool.settle(entry.segment);
        } catch (cause) {
          // The event was delivered; a segment left behind only means a harmless re-send.
          this.report(
            new TrailkeepClientError('spool_failed', `cannot clean the spool: ${String(cause)}`, {
              cause,
            }),
          );
        }
      }
    }
    const done = new Set(entries);
    this.pending = this.pending.filter((entry) => !done.has(entry));
    for (const wake of this.roomWaiters.splice(0)) wake();
    this.settleFlushes();
  }

  private settleFlushes(): void {
    const lowest = this.pending[0]?.seq ?? this.intake[0]?.entry.seq ?? Number.POSITIVE_INFINITY;
    for (let i = 0; i < this.flushWaiters.length;) {
      const waiter = this.flushWaiters[i];
      if (waiter === undefined || waiter.mark >= lowest) {
        i += 1;
        continue;
      }
      this.flushWaiters.splice(i, 1);
      const error = this.unreported.shift();
      this.unreported = [];
      if (error === undefined) waiter.resolve();
      else waiter.reject(error);
    }
  }

  private report(error: TrailkeepClientError, options: { failFlushes?: boolean } = {}): void {
    if (options.failFlushes === true && this.flushWaiters.length > 0) {
      for (const waiter of this.flushWaiters.splice(0)) waiter.reject(error);
    } else {
      this.unreported.push(error);
    }
    this.notify(error);
  }

  private notify(error: TrailkeepClientError): void {
    try {
      this.onError(error);
    } catch {
      // A failing error handler must not stop delivery.
    }
  }

  private async shutdown(timeoutMs: number | undefined): Promise<void> {
    this.state = 'closing';
    let failure: Error | undefined;
    let delivered = true;
    try {
      delivered = await settledWithin(this.flush(), timeoutMs);
    } catch (error) {
      failure = toError(error);
    }
    this.stop.abort();
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const wake of this.roomWaiters.splice(0)) wake();
    await Promise.allSettled([this.pumping, this.draining]);
    if (!delivered) {
      const events = this.pending.map((entry) => entry.event);
      const fate = this.spool === undefined ? 'they are lost' : 'they remain in the spool';
      failure = new TrailkeepClientError(
        'delivery_failed',
        `close: ${events.length} event(s) not delivered within ${timeoutMs} ms; ${fate}`,
        { events },
      );
    }
    try {
      await this.spool?.close();
    } catch (error) {
      failure ??= toError(error);
    }
    this.state = 'closed';
    if (failure !== undefined) throw failure;
  }
}

/** Whether `promise` settled within `timeoutMs` (always, without a limit); rethrows its error. */
async function settledWithin(
  promise: Promise<void>,
  timeoutMs: number | undefined,
): Promise<boolean> {
  if (timeoutMs === undefined) {
    await promise;
    return true;
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expiry = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  try {
    return await Promise.race([promise.then(() => true), expiry]);
  } finally {
    clearTimeout(timer);
  }
}

function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

function asClientError(error: unknown): TrailkeepClientError {
  if (error instanceof TrailkeepClientError) return error;
  return new TrailkeepClientError('spool_failed', `spool: ${String(error)}`, { cause: error });
}

type Refused = Extract<Exchange, { kind: 'refused' }>;

function isTooLarge(result: Refused): boolean {
  return result.status === 413 || result.problem?.code === 'batch_too_large';
}

/** 4xx answers that are about the events themselves: retrying the same bytes cannot help. */
function isInvalidInput(result: Refused): boolean {
  return (
    result.status === 400 || result.status === 409 || result.status === 413 || result.status === 422
  );
}

function blockedError(
  result: Exclude<Exchange, { kind: 'ok' }>,
  batch: readonly Entry[],
): TrailkeepClientError {
  const events = batch.map((entry) => entry.event);
  if (result.kind === 'auth') return new AuthError(result.status, result.problem, events);
  const problem: Problem | undefined = result.problem;
  return new TrailkeepClientError(
    problem?.code ?? 'unexpected_response',
    `${result.message} (events kept and retried)`,
    {
      ...(result.status === undefined ? {} : { status: result.status }),
      ...(problem === undefined ? {} : { problem }),
      events,
    },
  );
}

/**
 * The refused events whose only conflict with the event already stored under their id (or sent
 * earlier in the batch) is the occurred_at this client stamped: the caller recorded the same id
 * twice and left the time to the client. They lose the stamp and go again, and the server,
 * comparing only the fields a sender set, answers with the stored event, whose first time
 * stands.
 */
function restampConflicts(
  rejected: ReadonlyArray<{ entry: Entry; issues: readonly Issue[] }>,
  problem: Problem | undefined,
): Set<Entry> {
  const again = new Set<Entry>();
  if (problem?.code !== 'event_id_conflict') return again;
  for (const { entry, issues } of rejected) {
    if (!entry.stamped || !issues.every((issue) => issue.path === '$.occurred_at')) continue;
    const { occurred_at: _stamp, ...event } = entry.event;
    entry.event = event;
    entry.line = JSON.stringify(event);
    entry.bytes = Buffer.byteLength(entry.line);
    entry.stamped = false;
    again.add(entry);
  }
  return again;
}

/**
 * Which events of a refused batch the problem names (by `issues[].index`). When no issue names
 * an event, the whole batch is refused, each event carrying the problem's issues.
 */
function splitRejected(
  batch: readonly Entry[],
  problem: Problem | undefined,
  message: string,
): { rejected: Array<{ entry: Entry; issues: Issue[] }>; rest: Entry[] } {
  const issues: Issue[] = Array.isArray(problem?.issues) ? problem.issues : [];
  const byIndex = new Map<number, Issue[]>();
  for (const issue of issues) {
    const index = issue.index;
    if (index === undefined || !Number.isInteger(index) || index < 0 || index >= batch.length)
      continue;
    byIndex.set(index, [...(byIndex.get(index) ?? []), issue]);
  }
  if (byIndex.size === 0) {
    const general = issues.length > 0 ? issues : [{ path: '$', message }];
    return { rejected: batch.map((entry) => ({ entry, issues: general })), rest: [] };
  }
  const rejected: Array<{ entry: Entry; issues: Issue[] }> = [];
  const rest: Entry[] = [];
  batch.forEach((entry, index) => {
    const found = byIndex.get(index);
    if (found === undefined) rest.push(entry);
    else rejected.push({ entry, issues: found });
  });
  return { rejected, rest };
}
