/**
 * Keys that come from users (metadata keys, dotted change fields, target types in settings,
 * query names) must never reach an object's prototype. Three names do: assigning to
 * `obj["__proto__"]` replaces the object's prototype (and, one level down, writes onto
 * `Object.prototype` itself, which every object of the process then inherits); `constructor`
 * and `prototype` lead from any plain object to `Object` and on to `Object.prototype`; and a
 * read of any of them on a plain object answers with machinery, not with data.
 *
 * So the class is closed in three ways, each enough on its own for the cases it covers:
 *   - the names are refused wherever a user names something (see isReservedKey's callers);
 *   - maps built from user data have no prototype (emptyRecord) or are Maps;
 *   - user data is read through own members only (ownValue, Object.keys), never `for…in`.
 */

/** The names that are refused as keys and as path segments everywhere in Trailkeep. */
export const RESERVED_KEYS = Object.freeze(['__proto__', 'constructor', 'prototype'] as const);

export const RESERVED_KEYS_RULE =
  '"__proto__", "constructor" and "prototype" are reserved and cannot be used as names';

export function isReservedKey(key: string): boolean {
  return key === '__proto__' || key === 'constructor' || key === 'prototype';
}

/** The first segment of a dotted path (`settings.__proto__.x`) that is a reserved name. */
export function reservedSegment(path: string): string | undefined {
  return path.split('.').find(isReservedKey);
}

/**
 * An empty object without a prototype: writing any key, `__proto__` included, creates an own
 * member, and reading a key it does not hold answers undefined.
 */
export function emptyRecord<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

/** A shallow copy of `source`'s own members into an object without a prototype. */
export function bareCopy<T>(source: Readonly<Record<string, T>>): Record<string, T> {
  const copy = emptyRecord<T>();
  for (const key of Object.keys(source)) copy[key] = source[key]!;
  return copy;
}

/** `value[key]` when it is an own member: inherited members are never data. */
export function ownValue<T extends object, K extends keyof T & string>(
  value: T,
  key: K,
): T[K] | undefined {
  return Object.hasOwn(value, key) ? value[key] : undefined;
}

/** `$.a` for plain names, `$["odd key"]` otherwise, as JSONPath writes them. */
export function childPath(path: string, key: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(key)
    ? `${path}.${key}`
    : `${path}[${JSON.stringify(key)}]`;
}

/**
 * The JSONPath of every member of `value` whose key is reserved, at any depth (up to `limit`
 * of them). Own keys only and no recursion, so neither a hostile shape nor an already polluted
 * prototype can lead it astray.
 */
export function findReservedKeys(value: unknown, root = '$', limit = 100): string[] {
  const found: string[] = [];
  // Children go on in reverse, so paths come out in document order.
  const stack: Array<{ value: unknown; path: string; reserved?: true }> = [{ value, path: root }];
  while (stack.length > 0 && found.length < limit) {
    const node = stack.pop()!;
    if (node.reserved) {
      found.push(node.path);
      continue;
    }
    if (typeof node.value !== 'object' || node.value === null) continue;
    if (Array.isArray(node.value)) {
      const items = node.value as unknown[];
      for (let i = items.length - 1; i >= 0; i -= 1) {
        stack.push({ value: items[i], path: `${node.path}[${i}]` });
      }
      continue;
    }
    const record = node.value as Record<string, unknown>;
    const keys = Object.keys(record);
    for (let i = keys.length - 1; i >= 0; i -= 1) {
      const key = keys[i]!;
      const path = childPath(node.path, key);
      // Nothing under a reserved name is looked at.
      stack.push(
        isReservedKey(key)
          ? { value: undefined, path, reserved: true }
          : { value: record[key], path },
      );
    }
  }
  return found;
}
