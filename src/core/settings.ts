/**
 * A workspace's own rules: extra or overriding categories, and resource schemas that say which
 * fields of each target type are tracked, ignored or secret. Stored as JSON on the workspace
 * and parsed (strictly, with paths in every error) whenever they are read or changed.
 *
 * Target types and field paths are keys of the parsed maps, so `__proto__`, `constructor` and
 * `prototype` are refused there (and as category ids) with `forbidden_key`, and the maps have
 * no prototype: a name can only ever be an own member.
 */
import type { CategoryDefinition } from './categories.js';
import type { FieldRule, ResourceSchema } from './changes.js';
import { TrailkeepError, type Issue } from './errors.js';
import { CATEGORY_PATTERN, hasControlCharacter, hasLoneSurrogate } from './limits.js';
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
  categories?: CategoryDefinition[];
  /** Keyed by target type (`user`, `job`); used for the primary target of `before`/`after`. */
  resources?: Record<string, ResourceSchema>;
  /** Who may read the verifiable log's endpoints (checkpoint, tiles, consistency, vkeys). */
  log?: LogSettings;
}

export interface LogSettings {
  /**
   * Anyone, without a credential: they hold hashes only, never event content. Inclusion proofs
   * stay behind a read credential, since they name event ids.
   */
  public: boolean;
}

const SETTINGS_FIELDS = ['categories', 'resources', 'log'];

export const SETTINGS_LIMITS = Object.freeze({
  maxCategories: 100,
  maxPatterns: 200,
  maxPatternLength: 200,
  maxLabelLength: 64,
  maxResources: 200,
  maxFields: 1000,
  maxFieldLength: 256,
  maxTypeLength: 128,
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
    for (const key of Object.keys(schema)) {
      if (isReservedKey(key)) issues.addReserved(childPath(path, key), `is named "${key}"`);
      else if (key !== 'fields')
        issues.add(childPath(path, key), 'is not a known field (allowed: fields)');
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
      } else if (typeof rule !== 'string' || !(FIELD_RULES as readonly string[]).includes(rule)) {
        issues.add(fieldPath, 'must be one of track, ignore, secret');
      } else {
        rules[field] = rule as FieldRule;
      }
    }
    result[type] = { fields: rules };
  }
  return result;
}
