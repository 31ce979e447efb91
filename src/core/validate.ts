/**
 * Validation of what a product sends. A batch is atomic, so one bad event rejects it: the error
 * therefore names every problem it can find at once (up to LIMITS.maxIssues), each with the
 * event's index in the batch and a JSONPath to the offending value, e.g.
 * `event 3: $.actor.type must be one of user, agent, api_token, automation, system`.
 *
 * The result is a clean copy: optional members sent as null are dropped, the category is
 * lower-cased, and nothing the sender added beyond the documented fields survives (unknown
 * fields are rejected, never silently ignored).
 *
 * No name in an event may be `__proto__`, `constructor` or `prototype` (src/core/safe-keys.ts):
 * not a key at any depth, not a segment of a change's dotted field, not a category. Such an
 * event is refused with `forbidden_key` whatever the transport, because the rebuilt entity
 * state, the SDK's diff and every consumer of the export would otherwise turn the name into a
 * walk up the prototype chain. And the checker reads what it is sent through own members only,
 * so that even a prototype polluted by some other code cannot lend an event a field it lacks.
 */
import { canonicalJson } from './canonical.js';
import { OWN_ACTION_PREFIX, OWN_CATEGORY, isOwnAction } from './categories.js';
import { TrailkeepError, type Issue } from './errors.js';
import {
  ACTOR_TYPES,
  OPERATIONS,
  OUTCOMES,
  type Actor,
  type Change,
  type EventContext,
  type EventInput,
  type Target,
} from './event.js';
import { isValidIp } from './ip.js';
import type { JsonObject, JsonValue } from './json.js';
import {
  ACTION_PATTERN,
  CATEGORY_PATTERN,
  ID_PATTERN,
  LIMITS,
  hasControlCharacter,
  hasLoneSurrogate,
} from './limits.js';
import {
  RESERVED_KEYS_RULE,
  bareCopy,
  childPath,
  isReservedKey,
  reservedSegment,
} from './safe-keys.js';
import { parseTimestamp } from './timestamp.js';

const EVENT_FIELDS = [
  'id',
  'action',
  'occurred_at',
  'actor',
  'targets',
  'category',
  'outcome',
  'operation',
  'changes',
  'before',
  'after',
  'context',
  'metadata',
] as const;
const ACTOR_FIELDS = ['type', 'id', 'name', 'email'] as const;
const TARGET_FIELDS = ['type', 'id', 'name'] as const;
const CHANGE_FIELDS = ['field', 'old', 'new', 'secret'] as const;
const CONTEXT_FIELDS = ['ip', 'user_agent', 'request_id'] as const;
/** Earliest accepted occurred_at: before it, ISO text would no longer sort as time. */
const EARLIEST_TIME = Date.UTC(1970, 0, 1);

/**
 * How deeply a JSON value nests: a scalar is 0, `{}` and `[]` are 1, `{"a":[1]}` is 2. Walks
 * without recursion, and stops as soon as the depth passes `bound` (returning bound + 1), so a
 * hostile, deeply nested body costs no more than the bound allows.
 */
export function jsonDepth(value: unknown, bound: number = LIMITS.maxDepth): number {
  let deepest = 0;
  const stack: Array<{ value: object; depth: number }> = [];
  if (typeof value === 'object' && value !== null) stack.push({ value, depth: 1 });
  while (stack.length > 0) {
    const { value: node, depth } = stack.pop()!;
    if (depth > deepest) {
      deepest = depth;
      if (deepest > bound) return bound + 1;
    }
    const children: unknown[] = Array.isArray(node) ? node : Object.values(node);
    for (const child of children) {
      if (typeof child === 'object' && child !== null)
        stack.push({ value: child, depth: depth + 1 });
    }
  }
  return deepest;
}

/**
 * The events of a request body: one event object, or `{ "events": [ ... ] }` with 1 to
 * LIMITS.maxBatchEvents of them. Only the envelope is checked here; validateEvents checks each.
 */
export function eventsFromBody(body: unknown): unknown[] {
  const shape = 'the body must be one event object or { "events": [ ... ] }';
  if (!isPlainObject(body)) {
    throw new TrailkeepError('validation_failed', `${shape}, not ${describe(body)}`, {
      issues: [{ path: '$', message: `must be an object, not ${describe(body)}` }],
    });
  }
  if (!Object.hasOwn(body, 'events')) return [body];
  const extra = Object.keys(body).filter((key) => key !== 'events');
  if (extra.length > 0) {
    const names = extra.map((k) => JSON.stringify(k)).join(', ');
    throw new TrailkeepError(
      extra.some(isReservedKey) ? 'forbidden_key' : 'validation_failed',
      `${shape}; a batch has no other members, but this one also has ${names}`,
      {
        issues: extra.map((k) => ({
          path: childPath('$', k),
          message: 'is not allowed beside "events"',
        })),
      },
    );
  }
  const events = body.events;
  if (!Array.isArray(events)) {
    throw new TrailkeepError(
      'validation_failed',
      `$.events must be an array, not ${describe(events)}`,
      {
        issues: [{ path: '$.events', message: `must be an array, not ${describe(events)}` }],
      },
    );
  }
  if (events.length === 0) {
    throw new TrailkeepError('validation_failed', '$.events is empty; send at least one event', {
      issues: [{ path: '$.events', message: 'must hold at least one event' }],
    });
  }
  if (events.length > LIMITS.maxBatchEvents) {
    throw new TrailkeepError(
      'batch_too_large',
      `the batch holds ${events.length} events; at most ${LIMITS.maxBatchEvents} are accepted per request`,
      {
        issues: [
          { path: '$.events', message: `must hold at most ${LIMITS.maxBatchEvents} events` },
        ],
      },
    );
  }
  return events as unknown[];
}

/**
 * Validates a batch and returns clean EventInputs in the same order. Throws one
 * `validation_failed` error listing every issue (capped at LIMITS.maxIssues); its detail quotes
 * the first issue and says how many more there are. Event indexes count from 0.
 */
const RESERVED_FOR_TRAILKEEP =
  "which is reserved for Trailkeep's own events (sign-ins, log views, exports, admin actions)";

export interface ValidateOptions {
  now: Date;
  /**
   * Trailkeep recording its own events: only then may an action start with `trailkeep.` or the
   * category be `trailkeep` (see OWN_CATEGORY).
   */
  own?: boolean;
}

export function validateEvents(items: readonly unknown[], options: ValidateOptions): EventInput[] {
  const sink = new IssueSink();
  const results: EventInput[] = [];
  // Content is compared only when an id repeats: canonicalising every event would double the
  // cost of validation for a case that is rare.
  const seenIds = new Map<string, { index: number; item: unknown; content?: string }>();
  let totalBytes = 2;
  items.forEach((item, index) => {
    const checker = new EventChecker(sink, index, options.now, options.own === true);
    const before = sink.total;
    const event = checker.event(item);
    totalBytes += checker.bytes + 1;
    if (event === undefined || sink.total > before) return;
    results.push(event);
    if (event.id !== undefined) {
      const seen = seenIds.get(event.id);
      if (seen === undefined) seenIds.set(event.id, { index, item });
      else {
        seen.content ??= canonicalJson(seen.item);
        if (seen.content !== canonicalJson(item)) {
          sink.add(index, '$.id', `repeats the id of event ${seen.index} with different content`);
        }
      }
    }
  });
  if (sink.total > 0) throw sink.error();
  if (totalBytes > LIMITS.maxBatchBytes) {
    throw new TrailkeepError(
      'payload_too_large',
      `the batch is ${totalBytes} bytes as JSON; at most ${LIMITS.maxBatchBytes} (4 MiB) are accepted`,
    );
  }
  return results;
}

class IssueSink {
  readonly issues: Issue[] = [];
  total = 0;
  /** The first reserved name met: it decides the error's code and leads its detail. */
  private reserved: Issue | undefined;

  add(index: number, path: string, message: string, reserved = false): void {
    this.total += 1;
    const issue = { index, path, message };
    if (reserved) this.reserved ??= issue;
    if (this.issues.length < LIMITS.maxIssues) this.issues.push(issue);
  }

  error(): TrailkeepError {
    const first = this.reserved ?? this.issues[0]!;
    const more = this.total - 1;
    const tail = more === 0 ? '' : ` (and ${more} more issue${more === 1 ? '' : 's'})`;
    return new TrailkeepError(
      this.reserved === undefined ? 'validation_failed' : 'forbidden_key',
      `event ${first.index ?? 0}: ${first.path} ${first.message}${tail}`,
      { issues: this.issues },
    );
  }
}

interface StringRule {
  max: number;
  min?: number;
  /** A pattern the text must match, and how to say so. */
  pattern?: RegExp;
  patternMessage?: string;
  /** Names, user agents: free text, but never control characters. */
  noControl?: boolean;
}

/** Checks one event; every problem goes to the sink, and the clean copy comes back when none. */
class EventChecker {
  bytes = 0;
  private failed = false;

  constructor(
    private readonly sink: IssueSink,
    private readonly index: number,
    private readonly now: Date,
    private readonly own: boolean,
  ) {}

  private fail(path: string, message: string): void {
    this.failed = true;
    this.sink.add(this.index, path, message);
  }

  private reserved(path: string, what: string): void {
    this.failed = true;
    this.sink.add(this.index, path, `${what}; ${RESERVED_KEYS_RULE}`, true);
  }

  event(sent: unknown): EventInput | undefined {
    if (!isPlainObject(sent)) {
      this.fail('$', `must be an event object, not ${describe(sent)}`);
      return undefined;
    }
    const item = bareCopy(sent);
    if (jsonDepth(item) > LIMITS.maxDepth) {
      this.fail('$', `nests deeper than ${LIMITS.maxDepth} levels`);
      return undefined;
    }
    if (!this.jsonValues(item)) return undefined;
    this.bytes = Buffer.byteLength(JSON.stringify(item), 'utf8');
    if (this.bytes > LIMITS.maxEventBytes) {
      this.fail(
        '$',
        `is ${this.bytes} bytes as JSON; at most ${LIMITS.maxEventBytes} (64 KiB) are accepted`,
      );
      return undefined;
    }
    this.knownKeys(item, '$', EVENT_FIELDS);

    const action = this.string(item.action, '$.action', {
      max: LIMITS.maxActionLength,
      pattern: ACTION_PATTERN,
      patternMessage: 'may only contain ASCII letters, digits and . _ : -',
    });
    if (action === undefined && absent(item.action)) this.fail('$.action', 'is required');
    if (action !== undefined && !this.own && isOwnAction(action)) {
      this.fail('$.action', `starts with "${OWN_ACTION_PREFIX}", ${RESERVED_FOR_TRAILKEEP}`);
    }
    const actor = this.actor(item.actor);
    const id = this.id(item.id, '$.id', LIMITS.maxIdLength);
    const occurredAt = this.occurredAt(item.occurred_at);
    const targets = this.targets(item.targets);
    const category = this.category(item.category);
    const outcome = this.oneOf(item.outcome, '$.outcome', OUTCOMES);
    const operation = this.oneOf(item.operation, '$.operation', OPERATIONS);
    const changes = this.changes(item.changes);
    const before = this.object(item.before, '$.before');
    const after = this.object(item.after, '$.after');
    if (!absent(item.changes) && (!absent(item.before) || !absent(item.after))) {
      this.fail('$.changes', 'cannot be sent together with before/after; send one or the other');
    }
    const context = this.context(item.context);
    const metadata = this.metadata(item.metadata);
    if (this.failed || action === undefined || actor === undefined) return undefined;

    const event: EventInput = { action, actor };
    if (id !== undefined) event.id = id;
    if (occurredAt !== undefined) event.occurred_at = occurredAt;
    if (targets !== undefined) event.targets = targets;
    if (category !== undefined) event.category = category;
    if (outcome !== undefined) event.outcome = outcome;
    if (operation !== undefined) event.operation = operation;
    if (changes !== undefined) event.changes = changes;
    if (before !== undefined) event.before = before;
    if (after !== undefined) event.after = after;
    if (context !== undefined) event.context = context;
    if (metadata !== undefined) event.metadata = metadata;
    return event;
  }

  /**
   * Every value must survive JSON unchanged and be storable: finite numbers, plain objects,
   * strings without lone surrogates (no UTF-8 form) or NUL (PostgreSQL cannot store it).
   */
  private jsonValues(root: Record<string, unknown>): boolean {
    const issuesBefore = this.sink.total;
    // Paths are spelled out only for a value that fails: most events have none.
    const stack: JsonNode[] = [{ value: root, parent: undefined, key: '$' }];
    while (stack.length > 0) {
      const node = stack.pop()!;
      const { value } = node;
      if (typeof value === 'string') {
        const problem = textProblem(value, 'value');
        if (problem !== undefined) this.fail(pathOf(node), problem);
      } else if (typeof value === 'number') {
        if (!Number.isFinite(value)) this.fail(pathOf(node), 'must be a finite number');
      } else if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i += 1) {
          stack.push({ value: value[i] as unknown, parent: node, key: i });
        }
      } else if (isPlainObject(value)) {
        for (const key of Object.keys(value)) {
          const member: JsonNode = { value: value[key], parent: node, key };
          if (isReservedKey(key)) {
            // Not walked further: nothing under a reserved name is looked at, or kept.
            this.reserved(pathOf(member), `is named "${key}"`);
            continue;
          }
          const problem = textProblem(key, 'name');
          if (problem !== undefined) this.fail(pathOf(member), problem);
          // An undefined member is what an in-process caller means by "absent".
          if (member.value !== undefined) stack.push(member);
        }
      } else if (value !== null && typeof value !== 'boolean') {
        this.fail(pathOf(node), `is ${describe(value)}, which has no JSON form`);
      }
    }
    return this.sink.total === issuesBefore;
  }

  private text(value: string, path: string, what: 'value' | 'name'): void {
    const problem = textProblem(value, what);
    if (problem !== undefined) this.fail(path, problem);
  }

  private knownKeys(obj: Record<string, unknown>, path: string, allowed: readonly string[]): void {
    for (const key of Object.keys(obj)) {
      if (!allowed.includes(key)) {
        this.fail(childPath(path, key), `is not a known field (allowed: ${allowed.join(', ')})`);
      }
    }
  }

  private string(value: unknown, path: string, rule: StringRule): string | undefined {
    if (absent(value)) return undefined;
    if (typeof value !== 'string') {
      this.fail(path, `must be a string, not ${describe(value)}`);
      return undefined;
    }
    const min = rule.min ?? 1;
    if (value.length < min) {
      this.fail(path, 'must not be empty');
      return undefined;
    }
    if (value.length > rule.max) {
      this.fail(path, `is ${value.length} characters long; at most ${rule.max} are allowed`);
      return undefined;
    }
    if (rule.noControl && hasControlCharacter(value)) {
      this.fail(path, 'must not contain control characters');
      return undefined;
    }
    if (rule.pattern && !rule.pattern.test(value)) {
      this.fail(path, rule.patternMessage ?? `does not match ${String(rule.pattern)}`);
      return undefined;
    }
    return value;
  }

  private id(value: unknown, path: string, max: number): string | undefined {
    return this.string(value, path, {
      max,
      pattern: ID_PATTERN,
      patternMessage: 'must not contain whitespace or control characters',
    });
  }

  private name(
    value: unknown,
    path: string,
    max: number = LIMITS.maxNameLength,
  ): string | undefined {
    return this.string(value, path, { max, min: 0, noControl: true });
  }

  private required<T>(parsed: T | undefined, raw: unknown, path: string): T | undefined {
    if (absent(raw)) this.fail(path, 'is required');
    return parsed;
  }

  private object(value: unknown, path: string): JsonObject | undefined {
    if (absent(value)) return undefined;
    if (!isPlainObject(value)) {
      this.fail(path, `must be an object, not ${describe(value)}`);
      return undefined;
    }
    return withoutUndefined(value);
  }

  /** An object whose fields are read here: its own members only, in a prototype-less copy. */
  private fields(value: unknown, path: string): Record<string, unknown> | undefined {
    const obj = this.object(value, path);
    return obj === undefined ? undefined : bareCopy<unknown>(obj);
  }

  private oneOf<T extends string>(
    value: unknown,
    path: string,
    allowed: readonly T[],
  ): T | undefined {
    if (absent(value)) return undefined;
    if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
      this.fail(path, `must be one of ${allowed.join(', ')}`);
      return undefined;
    }
    return value as T;
  }

  private actor(value: unknown): Actor | undefined {
    if (absent(value)) {
      this.fail('$.actor', 'is required');
      return undefined;
    }
    const obj = this.fields(value, '$.actor');
    if (obj === undefined) return undefined;
    this.knownKeys(obj, '$.actor', ACTOR_FIELDS);
    const type = this.required(
      this.oneOf(obj.type, '$.actor.type', ACTOR_TYPES),
      obj.type,
      '$.actor.type',
    );
    const id = this.required(
      this.id(obj.id, '$.actor.id', LIMITS.maxIdLength),
      obj.id,
      '$.actor.id',
    );
    const name = this.name(obj.name, '$.actor.name');
    const email = this.string(obj.email, '$.actor.email', {
      max: LIMITS.maxNameLength,
      pattern: /^[^\s\p{Cc}@]+@[^\s\p{Cc}@]+$/u,
      patternMessage: 'must be an email address (name@domain)',
    });
    if (type === undefined || id === undefined) return undefined;
    const actor: Actor = { type, id };
    if (name !== undefined) actor.name = name;
    if (email !== undefined) actor.email = email;
    return actor;
  }

  private occurredAt(value: unknown): string | undefined {
    const text = this.string(value, '$.occurred_at', { max: 64 });
    if (text === undefined) return undefined;
    const time = parseTimestamp(text);
    if (time === undefined) {
      this.fail(
        '$.occurred_at',
        'must be an ISO 8601 time with a zone, e.g. 2026-05-12T09:30:00.000Z or 2026-05-12T11:30:00+02:00',
      );
      return undefined;
    }
    const latest = this.now.getTime() + LIMITS.maxFutureSkewMs;
    if (time.getTime() > latest) {
      this.fail(
        '$.occurred_at',
        `is ${time.toISOString()}, more than ${LIMITS.maxFutureSkewMs / 60_000} minutes after the server's time ${this.now.toISOString()}`,
      );
      return undefined;
    }
    if (time.getTime() < EARLIEST_TIME) {
      this.fail('$.occurred_at', 'must not be before 1970-01-01T00:00:00Z');
      return undefined;
    }
    return text;
  }

  private targets(value: unknown): Target[] | undefined {
    if (absent(value)) return undefined;
    if (!Array.isArray(value)) {
      this.fail('$.targets', `must be an array, not ${describe(value)}`);
      return undefined;
    }
    if (value.length > LIMITS.maxTargets) {
      this.fail(
        '$.targets',
        `holds ${value.length} targets; at most ${LIMITS.maxTargets} are allowed`,
      );
      return undefined;
    }
    const targets: Target[] = [];
    value.forEach((item: unknown, i) => {
      const path = `$.targets[${i}]`;
      const obj = this.fields(item, path);
      if (obj === undefined) {
        if (absent(item)) this.fail(path, 'must be an object, not null');
        return;
      }
      this.knownKeys(obj, path, TARGET_FIELDS);
      const type = this.required(
        this.string(obj.type, `${path}.type`, { max: LIMITS.maxTypeLength, noControl: true }),
        obj.type,
        `${path}.type`,
      );
      const id = this.required(
        this.id(obj.id, `${path}.id`, LIMITS.maxIdLength),
        obj.id,
        `${path}.id`,
      );
      const name = this.name(obj.name, `${path}.name`);
      if (type === undefined || id === undefined) return;
      const target: Target = { type, id };
      if (name !== undefined) target.name = name;
      targets.push(target);
    });
    return targets;
  }

  private category(value: unknown): string | undefined {
    const text = this.string(value, '$.category', { max: LIMITS.maxCategoryLength });
    if (text === undefined) return undefined;
    const lower = text.toLowerCase();
    if (isReservedKey(lower)) {
      this.reserved('$.category', `is "${lower}"`);
      return undefined;
    }
    if (!CATEGORY_PATTERN.test(lower)) {
      this.fail(
        '$.category',
        'must start with a letter or digit and contain only letters, digits, _ and - (at most 64)',
      );
      return undefined;
    }
    if (lower === OWN_CATEGORY.id && !this.own) {
      this.fail('$.category', `is "${lower}", ${RESERVED_FOR_TRAILKEEP}`);
      return undefined;
    }
    return lower;
  }

  private changes(value: unknown): Change[] | undefined {
    if (absent(value)) return undefined;
    if (!Array.isArray(value)) {
      this.fail('$.changes', `must be an array, not ${describe(value)}`);
      return undefined;
    }
    if (value.length > LIMITS.maxChanges) {
      this.fail(
        '$.changes',
        `holds ${value.length} changes; at most ${LIMITS.maxChanges} are allowed`,
      );
      return undefined;
    }
    const changes: Change[] = [];
    const fields = new Map<string, number>();
    value.forEach((item: unknown, i) => {
      const path = `$.changes[${i}]`;
      const obj = this.fields(item, path);
      if (obj === undefined) {
        if (absent(item)) this.fail(path, 'must be an object, not null');
        return;
      }
      this.knownKeys(obj, path, CHANGE_FIELDS);
      const field = this.required(
        this.string(obj.field, `${path}.field`, { max: LIMITS.maxFieldLength, noControl: true }),
        obj.field,
        `${path}.field`,
      );
      let secret = false;
      if (!absent(obj.secret)) {
        if (typeof obj.secret !== 'boolean') this.fail(`${path}.secret`, 'must be true or false');
        else secret = obj.secret;
      }
      if (field === undefined) return;
      const segment = reservedSegment(field);
      if (segment !== undefined) {
        this.reserved(`${path}.field`, `"${field}" has the path segment "${segment}"`);
        return;
      }
      const earlier = fields.get(field);
      if (earlier !== undefined) {
        this.fail(`${path}.field`, `repeats "${field}" (already at $.changes[${earlier}])`);
        return;
      }
      fields.set(field, i);
      // In a change, null is a real value (a field that was null), so only absence counts.
      const change: Change = { field };
      if (Object.hasOwn(obj, 'old')) change.old = obj.old as JsonValue;
      if (Object.hasOwn(obj, 'new')) change.new = obj.new as JsonValue;
      if (secret) change.secret = true;
      changes.push(change);
    });
    return changes;
  }

  private context(value: unknown): EventContext | undefined {
    const obj = this.fields(value, '$.context');
    if (obj === undefined) return undefined;
    this.knownKeys(obj, '$.context', CONTEXT_FIELDS);
    const context: EventContext = {};
    const ip = this.string(obj.ip, '$.context.ip', { max: 64 });
    if (ip !== undefined) {
      if (isValidIp(ip)) context.ip = ip;
      else this.fail('$.context.ip', `"${ip}" is not an IPv4 or IPv6 address`);
    }
    const userAgent = this.name(obj.user_agent, '$.context.user_agent', LIMITS.maxUserAgentLength);
    if (userAgent !== undefined) context.user_agent = userAgent;
    const requestId = this.id(obj.request_id, '$.context.request_id', LIMITS.maxRequestIdLength);
    if (requestId !== undefined) context.request_id = requestId;
    return context;
  }

  private metadata(value: unknown): JsonObject | undefined {
    const obj = this.object(value, '$.metadata');
    if (obj === undefined) return undefined;
    for (const key of Object.keys(obj)) {
      if (key.length === 0) this.fail(childPath('$.metadata', key), 'keys must not be empty');
      else if (key.length > LIMITS.maxMetadataKeyLength) {
        this.fail(
          childPath('$.metadata', key),
          `key is ${key.length} characters long; at most ${LIMITS.maxMetadataKeyLength} are allowed`,
        );
      }
    }
    return obj;
  }
}

/** Absent, null and undefined all mean "not given" for optional members. */
function absent(value: unknown): value is null | undefined {
  return value === undefined || value === null;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * The value without undefined members at any depth (checked JSON values otherwise). Parsed JSON
 * never holds undefined, so the common case costs one walk and no copy.
 */
function withoutUndefined(value: Record<string, unknown>): JsonObject {
  return holdsUndefined(value)
    ? (JSON.parse(JSON.stringify(value)) as JsonObject)
    : (value as JsonObject);
}

function holdsUndefined(value: unknown): boolean {
  if (value === undefined) return true;
  if (typeof value !== 'object' || value === null) return false;
  if (Array.isArray(value)) return value.some(holdsUndefined);
  // Own members only: `for…in` would also walk whatever a polluted prototype lends every
  // object, and an object-valued pollution then recurses without end.
  return Object.values(value).some(holdsUndefined);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  switch (typeof value) {
    case 'string':
      return 'a string';
    case 'number':
      return Number.isFinite(value) ? 'a number' : String(value);
    case 'boolean':
      return 'a boolean';
    case 'undefined':
      return 'undefined';
    case 'object':
      return isPlainObject(value) ? 'an object' : 'an object that is not plain JSON';
    default:
      return `a ${typeof value}`;
  }
}

/** A value met while walking an event, with the way back to the root for its path. */
interface JsonNode {
  value: unknown;
  parent: JsonNode | undefined;
  key: string | number;
}

function pathOf(node: JsonNode): string {
  if (node.parent === undefined) return '$';
  const parent = pathOf(node.parent);
  return typeof node.key === 'number' ? `${parent}[${node.key}]` : childPath(parent, node.key);
}

/** What is wrong with a string that validation lets into no event, if anything. */
function textProblem(value: string, what: 'value' | 'name'): string | undefined {
  if (hasLoneSurrogate(value)) {
    return `has a ${what} with a lone UTF-16 surrogate, which is not valid Unicode`;
  }
  if (value.includes('\u0000')) {
    return `has a ${what} with a NUL character (\\u0000), which cannot be stored`;
  }
  return undefined;
}
