import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { valueDepth } from '../http/body.js';
import { TrailkeepError } from './errors.js';
import { invalidUtf8Offset, scanJsonText, strictJsonText } from './json-text.js';
import { childPath } from './safe-keys.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Any JSON value whose numbers JSON.stringify writes as safe integers or with a fraction. */
const jsonValues = fc.jsonValue({ maxDepth: 6 }).map(function safe(value): Json {
  if (typeof value === 'number')
    return Number.isSafeInteger(value) || !Number.isInteger(value) ? value : 0.5;
  if (Array.isArray(value)) return value.map(safe);
  if (value !== null && typeof value === 'object') {
    const copy: { [key: string]: Json } = {};
    for (const key of Object.keys(value))
      copy[key] = safe((value as { [key: string]: Json })[key] as Json);
    return copy;
  }
  return value;
});

function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

function failure(run: () => unknown): TrailkeepError {
  try {
    run();
  } catch (error) {
    if (error instanceof TrailkeepError) return error;
    throw error;
  }
  throw new Error('expected a TrailkeepError');
}

describe('scanJsonText: the grammar of JSON.parse', () => {
  it('accepts any JSON text, pretty or compact, with the depth of the parsed value', () => {
    fc.assert(
      fc.property(jsonValues, fc.constantFrom(undefined, 2, '\t'), (value, indent) => {
        const text = JSON.stringify(value, null, indent);
        expect(scanJsonText(text)).toEqual({ depth: valueDepth(JSON.parse(text)) });
      }),
      { numRuns: 500 },
    );
  });

  /** JSON text with a few random edits: mostly broken, sometimes still JSON. */
  const mutated = fc
    .tuple(
      jsonValues,
      fc.array(
        fc.tuple(
          fc.nat(),
          fc.constantFrom('delete', 'insert', 'replace'),
          fc.constantFrom(
            ...'{}[]",:.-+eE0123456789 \t\n\\u/abtfnrlsx\u0000\u001f\u2028'.split(''),
          ),
        ),
        { minLength: 1, maxLength: 3 },
      ),
    )
    .map(([value, edits]) => {
      let text = JSON.stringify(value);
      for (const [at, edit, char] of edits) {
        const i = text.length === 0 ? 0 : at % (text.length + 1);
        if (edit === 'delete') text = text.slice(0, i) + text.slice(i + 1);
        else if (edit === 'insert') text = text.slice(0, i) + char + text.slice(i);
        else text = text.slice(0, i) + char + text.slice(i + 1);
      }
      return text;
    });

  it('accepts exactly what JSON.parse accepts, on edited JSON text', () => {
    fc.assert(
      fc.property(mutated, (text) => {
        const { depth, problem } = scanJsonText(text);
        if (problem === undefined) {
          expect(parses(text)).toBe(true);
          expect(depth).toBe(valueDepth(JSON.parse(text)));
        } else if (problem.kind === 'syntax') {
          expect(parses(text)).toBe(false);
        }
        // A repeated key or a large integer stops the scan before any later grammar error.
        if (!parses(text)) expect(problem).toBeDefined();
      }),
      { numRuns: 3000 },
    );
  });

  it('accepts exactly what JSON.parse accepts, on short strings of JSON characters', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...'{}[]",:.-e01 \\tn'.split('')), { maxLength: 12 }),
        (chars) => {
          const text = chars.join('');
          const { problem } = scanJsonText(text);
          if (problem === undefined || problem.kind === 'syntax') {
            expect(problem === undefined).toBe(parses(text));
          }
        },
      ),
      { numRuns: 5000 },
    );
  });

  it('names where the grammar broke', () => {
    expect(scanJsonText('{"a":[1,2,}').problem).toEqual({
      kind: 'syntax',
      offset: 10,
      path: '$.a[2]',
      message: 'a value is expected, not "}"',
    });
    expect(scanJsonText('"tab\there"').problem?.message).toBe(
      'a string holds the control character U+0009 unescaped',
    );
    expect(scanJsonText('[1] [2]').problem?.message).toBe('"[" follows the end of the value');
    expect(scanJsonText('').problem?.message).toBe('a value is expected, not the end of the text');
  });

  it('stops at the depth limit', () => {
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    expect(scanJsonText(deep, 18)).toEqual({
      depth: 19,
      problem: {
        kind: 'too_deep',
        offset: 18,
        path: `$${'[0]'.repeat(18)}`,
        message: 'nests deeper than 18 levels',
      },
    });
  });
});

/** A path to an object inside `value`, as the keys and indexes that lead there. */
function objectPaths(value: Json, at: Array<string | number> = []): Array<Array<string | number>> {
  if (Array.isArray(value)) return value.flatMap((item, i) => objectPaths(item, [...at, i]));
  if (value === null || typeof value !== 'object') return [];
  return [
    at,
    ...Object.keys(value).flatMap((key) => objectPaths(value[key] as Json, [...at, key])),
  ];
}

/** JSON text of `value` whose object at `target` ends with its member `key` written again. */
function withRepeatedKey(value: Json, target: string, key: string, at = ''): string {
  if (Array.isArray(value)) {
    return `[${value.map((item, i) => withRepeatedKey(item, target, key, `${at}/${i}`)).join(',')}]`;
  }
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  const members = Object.keys(value).map(
    (k) =>
      `${JSON.stringify(k)}:${withRepeatedKey(value[k] as Json, target, key, `${at}/${JSON.stringify(k)}`)}`,
  );
  if (at === target) members.push(`${JSON.stringify(key)}:"again"`);
  return `{${members.join(',')}}`;
}

describe('scanJsonText: a key twice in one object', () => {
  it('is found at any depth, with the path of the repeated member', () => {
    const cases = jsonValues
      .filter((value) => objectPaths(value).some((path) => Object.keys(at(value, path)).length > 0))
      .chain((value) => {
        const candidates = objectPaths(value).filter(
          (path) => Object.keys(at(value, path)).length > 0,
        );
        return fc.tuple(
          fc.constant(value),
          fc
            .constantFrom(...candidates)
            .chain((path) =>
              fc.tuple(fc.constant(path), fc.constantFrom(...Object.keys(at(value, path)))),
            ),
        );
      });
    fc.assert(
      fc.property(cases, ([value, [path, key]]) => {
        const pointer = path
          .map((step) => (typeof step === 'number' ? `/${step}` : `/${JSON.stringify(step)}`))
          .join('');
        const text = withRepeatedKey(value, pointer, key);
        const expected = childPath(
          path.reduce<string>(
            (p, step) => (typeof step === 'number' ? `${p}[${step}]` : childPath(p, step)),
            '$',
          ),
          key,
        );
        const { problem } = scanJsonText(text);
        expect(problem?.kind).toBe('duplicate_key');
        expect(problem?.path).toBe(expected);
      }),
      { numRuns: 500 },
    );
  });

  it('compares keys decoded, as JSON.parse does', () => {
    expect(scanJsonText('{"a":1,"\\u0061":2}').problem?.path).toBe('$.a');
    expect(scanJsonText('{"é":1,"\\u00e9":2}').problem?.path).toBe('$["é"]');
    expect(scanJsonText('{"a":{"b":1},"c":{"b":1}}').problem).toBeUndefined();
    expect(scanJsonText('[{"a":1},{"a":1}]').problem).toBeUndefined();
  });
});

function at(value: Json, path: ReadonlyArray<string | number>): { [key: string]: Json } {
  let node: Json = value;
  for (const step of path) node = (node as Record<string | number, Json>)[step] as Json;
  return node as { [key: string]: Json };
}

describe('scanJsonText: integers beyond ±(2^53 - 1)', () => {
  it('are caught wherever they are, and safe ones are not', () => {
    const limit = BigInt(Number.MAX_SAFE_INTEGER);
    fc.assert(
      fc.property(
        fc.oneof(
          fc.bigInt({ min: -(2n ** 80n), max: 2n ** 80n }),
          fc.bigInt({ min: -limit - 3n, max: -limit + 3n }),
          fc.bigInt({ min: limit - 3n, max: limit + 3n }),
        ),
        fc.constantFrom('{"n":#}', '[#]', '#', '{"a":[1,{"b":#}]}'),
        (n, shape) => {
          const text = shape.replace('#', n.toString());
          const { problem } = scanJsonText(text);
          const unsafe = n > limit || n < -limit;
          expect(problem?.kind).toBe(unsafe ? 'unsafe_integer' : undefined);
          if (unsafe) {
            expect(problem?.path).toBe(
              { '{"n":#}': '$.n', '[#]': '$[0]', '#': '$', '{"a":[1,{"b":#}]}': '$.a[1].b' }[shape],
            );
          }
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('leaves numbers with a fraction or an exponent to be doubles', () => {
    for (const text of ['9007199254740993.0', '1e300', '-9.007199254740993e15', '0.1']) {
      expect(scanJsonText(text).problem, text).toBeUndefined();
    }
  });
});

describe('invalidUtf8Offset', () => {
  const fatal = new TextDecoder('utf-8', { fatal: true });
  const decodes = (bytes: Uint8Array): boolean => {
    try {
      fatal.decode(bytes);
      return true;
    } catch {
      return false;
    }
  };

  /** Text encoded as UTF-8 with a few bytes replaced: the replacements are often invalid. */
  const bytes = fc.oneof(
    fc.uint8Array({ maxLength: 24 }),
    fc
      .tuple(
        fc.string({ unit: 'grapheme', maxLength: 12 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 2 }),
      )
      .map(([text, edits]) => {
        const encoded = new TextEncoder().encode(text);
        for (const [i, b] of edits) if (encoded.length > 0) encoded[i % encoded.length] = b;
        return encoded;
      }),
  );

  it('is -1 exactly for well-formed UTF-8, else the first byte of the first bad sequence', () => {
    fc.assert(
      fc.property(bytes, (input) => {
        const offset = invalidUtf8Offset(input);
        expect(offset === -1).toBe(decodes(input));
        if (offset >= 0) {
          expect(decodes(input.subarray(0, offset))).toBe(true);
          expect(decodes(input.subarray(0, Math.min(input.length, offset + 4)))).toBe(false);
        }
      }),
      { numRuns: 5000 },
    );
  });

  it('refuses overlong forms, surrogates and code points past U+10FFFF', () => {
    for (const bad of [
      [0xc0, 0xaf],
      [0xe0, 0x80, 0xaf],
      [0xed, 0xa0, 0x80],
      [0xf4, 0x90, 0x80, 0x80],
      [0xff],
    ]) {
      expect(invalidUtf8Offset(Uint8Array.from([0x61, ...bad])), bad.join(' ')).toBe(1);
    }
  });
});

describe('strictJsonText', () => {
  const strict = (text: string | Uint8Array): string =>
    strictJsonText(typeof text === 'string' ? Buffer.from(text) : text, {
      subject: 'The line',
      maxDepth: 4,
    });

  it('returns the text, without a byte order mark', () => {
    expect(strict('\ufeff{"a":[1]}')).toBe('{"a":[1]}');
  });

  it('names the byte offset of invalid UTF-8', () => {
    const error = failure(() =>
      strict(Uint8Array.from([...Buffer.from('{"a":"é'), 0xc3, 0x28, 0x22, 0x7d])),
    );
    expect(error.code).toBe('invalid_utf8');
    expect(error.message).toBe('The line is not valid UTF-8 at byte offset 8 (bytes C3 28 22 7D)');
    expect(error.issues).toEqual([
      { path: '$', message: 'not valid UTF-8 at byte offset 8 (bytes C3 28 22 7D)' },
    ]);
  });

  it('names the path of a repeated key, an unsafe integer, or too deep a value', () => {
    const duplicate = failure(() => strict('{"a":{"b":1,"b":2}}'));
    expect(duplicate.code).toBe('json_duplicate_key');
    expect(duplicate.issues).toEqual([
      {
        path: '$.a.b',
        message: 'appears twice in its object (JSON.parse would keep only the last)',
      },
    ]);
    const big = failure(() => strict('{"id":9007199254740993}'));
    expect(big.code).toBe('json_unsafe_integer');
    expect(big.message).toBe(
      'The line is refused: $.id is the integer 9007199254740993, beyond ±9007199254740991, which would not be kept exactly (send it as a string)',
    );
    const deep = failure(() => strict('{"a":[[[[1]]]]}'));
    expect(deep.code).toBe('json_too_deep');
    expect(deep.message).toBe('The line nests deeper than 4 levels at $.a[0][0][0]');
  });

  it('names the byte offset and the path of a grammar error', () => {
    const error = failure(() => strict('{"é":[1,}'));
    expect(error.code).toBe('bad_request');
    expect(error.message).toBe(
      'The line is not valid JSON: a value is expected, not "}" at byte offset 9 ($["é"][1])',
    );
  });
});
