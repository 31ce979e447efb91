/**
 * A workspace's own rules: extra or overriding categories, and resource schemas that say which
 * fields of each target type are tracked, ignored or secret. Stored as JSON on the workspace
 * and parsed (strictly, with paths in every error) whenever they are read or changed.
 *
 * Target types and field paths are keys of the parsed maps, so `__proto__`, `constructor` and
 * `prototype` are refused there (and as category ids) with `forbidden_key`, and the maps have
 * no prototype: a name can only ever be an own member.
 */
import { OWN_CATEGORY, type CategoryDefinition } from './categories.js';
import type { FieldRule, ResourceSchema } from './changes.js';
import { TrailkeepError, type Issue } from './errors.js';
import {
  ACTION_PATTERN,
  CATEGORY_PATTERN,
  hasControlCharacter,
  hasLoneSurrogate,
} from './limits.js';
import { parseFilter } from './query/normalize.js';
import { MAX_RETENTION_DAYS } from './retention.js';
import {
  RESERVED_KEYS_RULE,
  childPath,
  emptyRecord,
  isReservedKey,
  ownValue,
  reservedSegment,
} from './safe-keys.js';
import { isPlainObject } from './validate.js';

export interface WorkspaceSettings {
  /** The workspace's categories, in the order its chips show (before the built-in ones). */
  categories?: CategoryDefinition[];
  /** Keyed by target type (`user`, `job`); used for the primary target of `before`/`after`. */
  resources?: Record<string, ResourceSchema>;
  /** Display names of actions, keyed by the action as sent (`worker.claimed_job`). */
  labels?: Record<string, string>;
  /** When people normally work: what an off-hours action is measured against. */
  working_hours?: WorkingHours;
  /**
   * How long event bodies are kept. Stored as the workspace's retention policy (its own table,
   * with who set it and when), not in the settings JSON: the document only shows and sets it.
   */
  retention?: RetentionSettings;
  /** Questions the workspace names for everyone (a preset's "pre-defined filters"). */
  views?: PredefinedView[];
  /** Who may read the verifiable log's endpoints (checkpoint, tiles, consistency, vkeys). */
  log?: LogSettings;
}

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

export interface WorkingHours {
  /** An IANA time zone (`Europe/Berlin`, `UTC`). */
  time_zone: string;
  days: Weekday[];
  /** `HH:MM`, 24-hour, in `time_zone`; `end` after `start` (a night shift is two ranges' work). */
  start: string;
  end: string;
}

export interface RetentionSettings {
  /** Keep bodies this many days; null keeps them forever. */
  days: number | null;
}

export interface PredefinedView {
  name: string;
  /** In the query language. */
  query: string;
}

export interface LogSettings {
  /**
   * Anyone, without a credential: they hold hashes only, never event content. Inclusion proofs
   * stay behind a read credential, since they name event ids.
   */
  public: boolean;
}

const SETTINGS_FIELDS = [
  'categories',
  'resources',
  'labels',
  'working_hours',
  'retention',
  'views',
  'log',
];

export const SETTINGS_LIMITS = Object.freeze({
  maxCategories: 100,
  maxPatterns: 200,
  maxPatternLength: 200,
  maxLabelLength: 64,
  maxResources: 200,
  maxFields: 1000,
  maxFieldLength: 256,
  maxTypeLength: 128,
  maxLabels: 2000,
  maxActionLength: 128,
  maxViews: 100,
  maxViewNameLength: 64,
  maxQueryLength: 2000,
});

const FIELD_RULES: readonly FieldRule[] = ['track', 'ignore', 'secret'];
/** Action glob: the action charset plus `*` and spaces (which match any separator). */
const ACTION_GLOB = /^[A-Za-z0-9._:* -]+$/;

class Issues {
  readonly list: Issue[] = [];
  /** The first reserved name met: it decides the error's code and leads its detail. */
  reserved: Issue | undefined;
  add(path: string, message: string): void {
    this.list.push({ path, message });
  }
  addReserved(path: string, what: string): void {
    const issue = { path, message: `${what}; ${RESERVED_KEYS_RULE}` };
    this.reserved ??= issue;
    this.list.push(issue);
  }
}

/** Parses stored or submitted settings; throws validation_failed naming every problem. */
export function parseWorkspaceSettings(json: unknown): WorkspaceSettings {
  const issues = new Issues();
  const settings: WorkspaceSettings = {};
  if (json === undefined || json === null) return settings;
  if (!isPlainObject(json)) {
    throw new TrailkeepError('validation_failed', 'workspace settings: $ must be an object', {
      issues: [{ path: '$', message: 'must be an object' }],
    });
  }
  for (const key of Object.keys(json)) {
    if (isReservedKey(key)) issues.addReserved(childPath('$', key), `is named "${key}"`);
    else if (!SETTINGS_FIELDS.includes(key)) {
      issues.add(
        childPath('$', key),
        `is not a known field (allowed: ${SETTINGS_FIELDS.join(', ')})`,
      );
    }
  }
  const categories = ownValue(json, 'categories');
  if (categories !== undefined) {
    const parsed = parseCategories(categories, issues);
    if (parsed) settings.categories = parsed;
  }
  const resources = ownValue(json, 'resources');
  if (resources !== undefined) {
    const parsed = parseResources(resources, issues);
    if (parsed) settings.resources = parsed;
  }
  const labels = ownValue(json, 'labels');
  if (labels !== undefined) {
    const parsed = parseLabels(labels, issues);
    if (parsed) settings.labels = parsed;
  }
  const hours = ownValue(json, 'working_hours');
  if (hours !== undefined) {
    const parsed = parseWorkingHours(hours, issues);
    if (parsed) settings.working_hours = parsed;
  }
  const retention = ownValue(json, 'retention');
  if (retention !== undefined) {
    const parsed = parseRetention(retention, issues);
    if (parsed) settings.retention = parsed;
  }
  const views = ownValue(json, 'views');
  if (views !== undefined) {
    const parsed = parseViews(views, issues);
    if (parsed) settings.views = parsed;
  }
  const log = ownValue(json, 'log');
  if (log !== undefined) {
    const parsed = parseLogSettings(log, issues);
    if (parsed) settings.log = parsed;
  }
  const first = issues.reserved ?? issues.list[0];
  if (first !== undefined) {
    const more = issues.list.length - 1;
    throw new TrailkeepError(
      issues.reserved === undefined ? 'validation_failed' : 'forbidden_key',
      `workspace settings: ${first.path} ${first.message}${more > 0 ? ` (and ${more} more)` : ''}`,
      { issues: issues.list },
    );
  }
  return settings;
}

function parseLogSettings(value: unknown, issues: Issues): LogSettings | undefined {
  if (!isPlainObject(value)) {
    issues.add('$.log', 'must be an object: { "public": true | false }');
    return undefined;
  }
  let ok = true;
  for (const key of Object.keys(value)) {
    if (isReservedKey(key)) issues.addReserved(childPath('$.log', key), `is named "${key}"`);
    else if (key !== 'public')
      issues.add(childPath('$.log', key), 'is not a known field (allowed: public)');
    else continue;
    ok = false;
  }
  const isPublic = ownValue(value, 'public');
  if (typeof isPublic !== 'boolean') {
    issues.add('$.log.public', 'must be true or false');
    return undefined;
  }
  return ok ? { public: isPublic } : undefined;
}

function isCleanText(text: string): boolean {
  return !hasLoneSurrogate(text) && !hasControlCharacter(text);
}

function parseCategories(value: unknown, issues: Issues): CategoryDefinition[] | undefined {
  if (!Array.isArray(value)) {
    issues.add('$.categories', 'must be an array');
    return undefined;
  }
  if (value.length > SETTINGS_LIMITS.maxCategories) {
    issues.add('$.categories', `must hold at most ${SETTINGS_LIMITS.maxCategories} categories`);
    return undefined;
  }
  const seen = new Map<string, number>();
  const result: CategoryDefinition[] = [];
  value.forEach((item: unknown, i) => {
    const path = `$.categories[${i}]`;
    if (!isPlainObject(item)) {
      issues.add(path, 'must be an object with id, label and patterns');
      return;
    }
    for (const key of Object.keys(item)) {
      if (isReservedKey(key)) issues.addReserved(childPath(path, key), `is named "${key}"`);
      else if (!['id', 'label', 'patterns'].includes(key)) {
        issues.add(childPath(path, key), 'is not a known field (allowed: id, label, patterns)');
      }
    }
    let ok = true;
    const id = ownValue(item, 'id');
    const label = ownValue(item, 'label');
    const patterns = ownValue(item, 'patterns');
    if (typeof id === 'string' && isReservedKey(id)) {
      issues.addReserved(`${path}.id`, `is "${id}"`);
      ok = false;
    } else if (typeof id !== 'string' || !CATEGORY_PATTERN.test(id)) {
      issues.add(
        `${path}.id`,
        'must be a lower-case id: a letter or digit, then letters, digits, _ or - (at most 64)',
      );
      ok = false;
    } else if (id === OWN_CATEGORY.id) {
      issues.add(`${path}.id`, `is "${id}", which is reserved for Trailkeep's own events`);
      ok = false;
    } else if (seen.has(id)) {
      issues.add(`${path}.id`, `repeats "${id}" (already at $.categories[${seen.get(id)}])`);
      ok = false;
    } else {
      seen.set(id, i);
    }
    if (
      typeof label !== 'string' ||
      label.trim().length === 0 ||
      label.length > SETTINGS_LIMITS.maxLabelLength ||
      !isCleanText(label)
    ) {
      issues.add(
        `${path}.label`,
        `must be text of 1 to ${SETTINGS_LIMITS.maxLabelLength} characters`,
      );
      ok = false;
    } else if (label.trim().toLowerCase() === OWN_CATEGORY.label.toLowerCase()) {
      issues.add(
        `${path}.label`,
        `is "${label}", the label of Trailkeep's own events; choose another so the chips differ`,
      );
      ok = false;
    }
    if (!Array.isArray(patterns) || patterns.length > SETTINGS_LIMITS.maxPatterns) {
      issues.add(
        `${path}.patterns`,
        `must be an array of at most ${SETTINGS_LIMITS.maxPatterns} patterns`,
      );
      ok = false;
    } else {
      patterns.forEach((pattern: unknown, j) => {
        const problem = patternProblem(pattern);
        if (problem !== undefined) {
          issues.add(`${path}.patterns[${j}]`, problem);
          ok = false;
        }
      });
    }
    if (ok) {
      // The `target:` prefix is accepted in any case but stored as categorize() expects it.
      const normalized = (patterns as string[]).map((p) =>
        p.toLowerCase().startsWith('target:') ? `target:${p.slice('target:'.length)}` : p,
      );
      result.push({ id: id as string, label: label as string, patterns: normalized });
    }
  });
  return result;
}

function patternProblem(pattern: unknown): string | undefined {
  if (typeof pattern !== 'string' || pattern.length === 0) return 'must be a non-empty string';
  if (pattern.length > SETTINGS_LIMITS.maxPatternLength) {
    return `must be at most ${SETTINGS_LIMITS.maxPatternLength} characters`;
  }
  if (pattern.toLowerCase().startsWith('target:')) {
    const kind = pattern.slice('target:'.length);
    return kind.length > 0 && isCleanText(kind)
      ? undefined
      : 'must name a target type glob after "target:"';
  }
  return ACTION_GLOB.test(pattern)
    ? undefined
    : 'must be an action glob: letters, digits, . _ : - and * (or target:TYPE)';
}

function parseResources(
  value: unknown,
  issues: Issues,
): Record<string, ResourceSchema> | undefined {
  if (!isPlainObject(value)) {
    issues.add('$.resources', 'must be an object keyed by target type');
    return undefined;
  }
  const entries = Object.entries(value);
  if (entries.length > SETTINGS_LIMITS.maxResources) {
    issues.add('$.resources', `must describe at most ${SETTINGS_LIMITS.maxResources} target types`);
    return undefined;
  }
  const result = emptyRecord<ResourceSchema>();
  for (const [type, schema] of entries) {
    const path = childPath('$.resources', type);
    if (isReservedKey(type)) {
      issues.addReserved(path, `target type is "${type}"`);
      continue;
    }
    if (type.length === 0 || type.length > SETTINGS_LIMITS.maxTypeLength || !isCleanText(type)) {
      issues.add(path, `target type must be 1 to ${SETTINGS_LIMITS.maxTypeLength} characters`);
      continue;
    }
    if (!isPlainObject(schema)) {
      issues.add(
        path,
        'must be an object: { "fields": { "name": "track" | "ignore" | "secret" } }',
      );
      continue;
    }
    knownFields(schema, path, ['default', 'fields'], issues);
    const fallback = ownValue(schema, 'default');
    if (fallback !== undefined && !isFieldRule(fallback)) {
      issues.add(`${path}.default`, 'must be one of track, ignore, secret');
    }
    const fields = ownValue(schema, 'fields');
    if (!isPlainObject(fields) || Object.keys(fields).length > SETTINGS_LIMITS.maxFields) {
      issues.add(
        `${path}.fields`,
        `must be an object of at most ${SETTINGS_LIMITS.maxFields} fields`,
      );
      continue;
    }
    const rules = emptyRecord<FieldRule>();
    for (const [field, rule] of Object.entries(fields)) {
      const fieldPath = childPath(`${path}.fields`, field);
      const segment = reservedSegment(field);
      if (segment !== undefined) {
        issues.addReserved(fieldPath, `has the path segment "${segment}"`);
      } else if (
        field.length === 0 ||
        field.length > SETTINGS_LIMITS.maxFieldLength ||
        !isCleanText(field)
      ) {
        issues.add(
          fieldPath,
          `field name must be 1 to ${SETTINGS_LIMITS.maxFieldLength} characters`,
        );
      } else if (!isFieldRule(rule)) {
        issues.add(fieldPath, 'must be one of track, ignore, secret');
      } else {
        rules[field] = rule;
      }
    }
    result[type] = isFieldRule(fallback) ? { default: fallback, fields: rules } : { fields: rules };
  }
  return result;
}

function isFieldRule(value: unknown): value is FieldRule {
  return typeof value === 'string' && (FIELD_RULES as readonly string[]).includes(value);
}

/** Names every member of `value` that is not in `allowed`; false when there was one. */
function knownFields(
  value: Record<string, unknown>,
  path: string,
  allowed: readonly string[],
  issues: Issues,
): boolean {
  let ok = true;
  for (const key of Object.keys(value)) {
    if (isReservedKey(key)) issues.addReserved(childPath(path, key), `is named "${key}"`);
    else if (!allowed.includes(key)) {
      issues.add(childPath(path, key), `is not a known field (allowed: ${allowed.join(', ')})`);
    } else continue;
    ok = false;
  }
  return ok;
}

function isLabelText(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    value.trim().length > 0 &&
    value.length <= SETTINGS_LIMITS.maxLabelLength &&
    isCleanText(value)
  );
}

function parseLabels(value: unknown, issues: Issues): Record<string, string> | undefined {
  if (!isPlainObject(value)) {
    issues.add('$.labels', 'must be an object: { "action": "Display name" }');
    return undefined;
  }
  const entries = Object.entries(value);
  if (entries.length > SETTINGS_LIMITS.maxLabels) {
    issues.add('$.labels', `must name at most ${SETTINGS_LIMITS.maxLabels} actions`);
    return undefined;
  }
  const result = emptyRecord<string>();
  let ok = true;
  for (const [action, label] of entries) {
    const path = childPath('$.labels', action);
    if (isReservedKey(action)) {
      issues.addReserved(path, `action is "${action}"`);
      ok = false;
    } else if (action.length > SETTINGS_LIMITS.maxActionLength || !ACTION_PATTERN.test(action)) {
      issues.add(
        path,
        `must name an action: 1 to ${SETTINGS_LIMITS.maxActionLength} letters, digits, . _ : or -`,
      );
      ok = false;
    } else if (!isLabelText(label)) {
      issues.add(path, `must be text of 1 to ${SETTINGS_LIMITS.maxLabelLength} characters`);
      ok = false;
    } else {
      result[action] = label;
    }
  }
  return ok ? result : undefined;
}

const CLOCK = /^([01][0-9]|2[0-3]):[0-5][0-9]$/;

/** Whether the platform knows this IANA zone (Intl throws RangeError for an unknown one). */
export function isTimeZone(zone: string): boolean {
  if (zone.length === 0 || zone.length > 64) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

function parseWorkingHours(value: unknown, issues: Issues): WorkingHours | undefined {
  const path = '$.working_hours';
  if (!isPlainObject(value)) {
    issues.add(path, 'must be an object: { time_zone, days, start, end }');
    return undefined;
  }
  let ok = knownFields(value, path, ['time_zone', 'days', 'start', 'end'], issues);
  const zone = ownValue(value, 'time_zone');
  if (typeof zone !== 'string' || !isTimeZone(zone)) {
    issues.add(`${path}.time_zone`, 'must be an IANA time zone such as "Europe/Berlin" or "UTC"');
    ok = false;
  }
  const days = ownValue(value, 'days');
  const seen = new Set<string>();
  if (!Array.isArray(days)) {
    issues.add(`${path}.days`, `must be an array of days (${WEEKDAYS.join(', ')})`);
    ok = false;
  } else {
    days.forEach((day: unknown, i) => {
      if (typeof day !== 'string' || !(WEEKDAYS as readonly string[]).includes(day)) {
        issues.add(`${path}.days[${i}]`, `must be one of ${WEEKDAYS.join(', ')}`);
        ok = false;
      } else if (seen.has(day)) {
        issues.add(`${path}.days[${i}]`, `repeats "${day}"`);
        ok = false;
      } else seen.add(day);
    });
  }
  const start = ownValue(value, 'start');
  const end = ownValue(value, 'end');
  for (const [name, clock] of [
    ['start', start],
    ['end', end],
  ] as const) {
    if (typeof clock !== 'string' || !CLOCK.test(clock)) {
      issues.add(`${path}.${name}`, 'must be a 24-hour time "HH:MM"');
      ok = false;
    }
  }
  if (
    typeof start === 'string' &&
    typeof end === 'string' &&
    CLOCK.test(start) &&
    CLOCK.test(end)
  ) {
    if (end <= start) {
      issues.add(`${path}.end`, `must be after start (${start})`);
      ok = false;
    }
  }
  if (!ok) return undefined;
  // Days are kept in week order whatever order they were written in, so equal documents compare equal.
  const ordered = WEEKDAYS.filter((d) => seen.has(d));
  return { time_zone: zone as string, days: ordered, start: start as string, end: end as string };
}

function parseRetention(value: unknown, issues: Issues): RetentionSettings | undefined {
  const path = '$.retention';
  if (!isPlainObject(value)) {
    issues.add(path, 'must be an object: { "days": N } (or { "days": null } to keep everything)');
    return undefined;
  }
  let ok = knownFields(value, path, ['days'], issues);
  const days = ownValue(value, 'days');
  if (
    days !== null &&
    (typeof days !== 'number' || !Number.isInteger(days) || days < 1 || days > MAX_RETENTION_DAYS)
  ) {
    issues.add(
      `${path}.days`,
      `must be a whole number of days from 1 to ${MAX_RETENTION_DAYS}, or null to keep everything`,
    );
    ok = false;
  }
  return ok ? { days: days as number | null } : undefined;
}

function parseViews(value: unknown, issues: Issues): PredefinedView[] | undefined {
  if (!Array.isArray(value) || value.length > SETTINGS_LIMITS.maxViews) {
    issues.add('$.views', `must be an array of at most ${SETTINGS_LIMITS.maxViews} views`);
    return undefined;
  }
  const result: PredefinedView[] = [];
  const names = new Map<string, number>();
  let ok = true;
  value.forEach((item: unknown, i) => {
    const path = `$.views[${i}]`;
    if (!isPlainObject(item)) {
      issues.add(path, 'must be an object with name and query');
      ok = false;
      return;
    }
    if (!knownFields(item, path, ['name', 'query'], issues)) ok = false;
    const name = ownValue(item, 'name');
    const query = ownValue(item, 'query');
    if (
      typeof name !== 'string' ||
      name.trim().length === 0 ||
      name.length > SETTINGS_LIMITS.maxViewNameLength ||
      !isCleanText(name)
    ) {
      issues.add(
        `${path}.name`,
        `must be text of 1 to ${SETTINGS_LIMITS.maxViewNameLength} characters`,
      );
      ok = false;
    } else {
      const key = name.trim().toLowerCase();
      const earlier = names.get(key);
      if (earlier !== undefined) {
        issues.add(`${path}.name`, `repeats "${name}" (already at $.views[${earlier}])`);
        ok = false;
      } else names.set(key, i);
    }
    if (
      typeof query !== 'string' ||
      query.length > SETTINGS_LIMITS.maxQueryLength ||
      !isCleanText(query)
    ) {
      issues.add(
        `${path}.query`,
        `must be a query of at most ${SETTINGS_LIMITS.maxQueryLength} characters`,
      );
      ok = false;
    } else {
      const problem = queryProblem(query);
      if (problem !== undefined) {
        issues.add(`${path}.query`, problem);
        ok = false;
      } else if (typeof name === 'string') {
        result.push({ name, query });
      }
    }
  });
  return ok ? result : undefined;
}

/** Why a view's query would be refused when opened, in the words the search box would use. */
function queryProblem(query: string): string | undefined {
  try {
    parseFilter(query);
    return undefined;
  } catch (error) {
    if (error instanceof TrailkeepError) return `is not a valid query: ${error.message}`;
    throw error;
  }
}
