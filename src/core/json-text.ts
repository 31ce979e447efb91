/**
 * Strict JSON text, checked before anything builds objects from it. JSON.parse silently alters
 * three kinds of input, and the log would then hash and keep something the sender never sent:
 * invalid UTF-8 becomes U+FFFD (when the bytes are decoded), an integer beyond ±(2^53 - 1) is
 * rounded (9007199254740993 becomes 9007199254740992), and of a key repeated in one object only
 * the last value survives. Each is refused here, naming where (the rules of I-JSON, RFC 7493).
 *
 * `scanJsonText` is one linear pass over the text that also checks the grammar exactly as
 * JSON.parse does and measures the nesting depth, stopping at the first problem: a hostile body
 * costs one scan and nothing more. It allocates one Set per object with more than one key and a
 * string per key; paths are built only for the problem it reports. HTTP bodies
 * (src/http/body.ts) and `trailkeep ingest` lines go through `strictJsonText`.
 */
import { isUtf8 } from 'node:buffer';
import { TrailkeepError, type ErrorCode } from './errors.js';
import { childPath } from './safe-keys.js';

export type JsonTextProblemKind = 'syntax' | 'too_deep' | 'duplicate_key' | 'unsafe_integer';

export interface JsonTextProblem {
  kind: JsonTextProblemKind;
  /** Where in the text, in UTF-16 code units (see `byteOffset`). */
  offset: number;
  /** JSONPath of the value concerned: the repeated key's member, the integer, or where the grammar broke. */
  path: string;
  /** Says what is wrong, to follow the path: `appears twice in its object`. */
  message: string;
}

export interface JsonTextScan {
  /** The deepest nesting seen (`{}` is 1), up to where the scan stopped. */
  depth: number;
  problem?: JsonTextProblem;
}

/** The largest integer a double holds exactly along with all smaller ones (Number.MAX_SAFE_INTEGER). */
const MAX_SAFE_DIGITS = '9007199254740991';

const OBJECT = 0;
const ARRAY = 1;

const SPACE = 0x20;
const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;

function isDigit(c: number): boolean {
  return c >= ZERO && c <= NINE;
}

function isHex(c: number): boolean {
  return isDigit(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

/** How a problem's text shows the character at `offset`. */
function found(text: string, offset: number): string {
  if (offset >= text.length) return 'the end of the text';
  const c = text.charCodeAt(offset);
  return c < SPACE || c === 0x7f
    ? `U+${c.toString(16).toUpperCase().padStart(4, '0')}`
    : JSON.stringify(text[offset]);
}

/** Thrown inside the scan to stop it at the first problem; never leaves `scanJsonText`. */
class Failure extends Error {
  constructor(
    readonly kind: JsonTextProblemKind,
    readonly offset: number,
    message: string,
    /** The key of a member not yet on the path (a repeated key). */
    readonly key?: string,
  ) {
    super(message);
  }
}

/**
 * Checks JSON text in one pass: grammar exactly as JSON.parse, keys unique per object, integers
 * within ±(2^53 - 1), nesting up to `maxDepth`. Numbers written with a fraction or an exponent
 * are doubles by definition and pass; only integers, which senders expect to be kept exactly, are
 * refused beyond the safe range.
 */
export function scanJsonText(text: string, maxDepth = Infinity): JsonTextScan {
  const length = text.length;
  // Per open container, by depth: its kind, the key or index of the member being read, and the
  // keys seen so far (the first, and a Set from the second on).
  const kinds: number[] = [];
  const keys: Array<string | undefined> = [];
  const firstKeys: Array<string | undefined> = [];
  const indexes: number[] = [];
  const seen: Array<Set<string> | undefined> = [];
  let depth = 0;
  let deepest = 0;
  let i = 0;

  const skipSpace = (): void => {
    while (i < length) {
      const c = text.charCodeAt(i);
      if (c !== SPACE && c !== LF && c !== CR && c !== TAB) return;
      i++;
    }
  };

  /** Reads the string starting at `i` (a quote); returns whether it held an escape. */
  const readString = (): boolean => {
    let escaped = false;
    i++;
    for (;;) {
      // Plain characters in a local: the shared `i` lives in the closure's context.
      let j = i;
      let c = text.charCodeAt(j);
      while (c !== QUOTE && c !== BACKSLASH && c >= SPACE) c = text.charCodeAt(++j);
      i = j;
      if (i >= length) throw new Failure('syntax', i, 'a string never ends');
      if (c === QUOTE) {
        i++;
        return escaped;
      }
      if (c === BACKSLASH) {
        escaped = true;
        const next = text.charCodeAt(i + 1);
        if (next === 0x75 /* u */) {
          for (let k = 2; k < 6; k++) {
            if (!isHex(text.charCodeAt(i + k))) {
              throw new Failure('syntax', i, 'a \\u escape lacks four hex digits');
            }
          }
          i += 6;
        } else if (
          next === QUOTE ||
          next === BACKSLASH ||
          next === 0x2f /* / */ ||
          next === 0x62 /* b */ ||
          next === 0x66 /* f */ ||
          next === 0x6e /* n */ ||
          next === 0x72 /* r */ ||
          next === 0x74 /* t */
        ) {
          i += 2;
        } else {
          throw new Failure('syntax', i, `a string has an unknown escape \\${found(text, i + 1)}`);
        }
      } else if (c < SPACE) {
        throw new Failure(
          'syntax',
          i,
          `a string holds the control character ${found(text, i)} unescaped`,
        );
      } else {
        i++;
      }
    }
  };

  const readDigits = (what: string): number => {
    const start = i;
    while (i < length && isDigit(text.charCodeAt(i))) i++;
    if (i === start) {
      throw new Failure('syntax', i, `a digit is expected ${what}, not ${found(text, i)}`);
    }
    return i - start;
  };

  const readNumber = (): void => {
    const start = i;
    if (text.charCodeAt(i) === MINUS) i++;
    const first = i;
    if (text.charCodeAt(i) === ZERO) i++;
    else readDigits('in a number');
    const digits = i - first;
    let integer = true;
    if (text.charCodeAt(i) === DOT) {
      i++;
      readDigits('after the decimal point');
      integer = false;
    }
    const e = text.charCodeAt(i);
    if (e === 0x65 || e === 0x45) {
      i++;
      const sign = text.charCodeAt(i);
      if (sign === PLUS || sign === MINUS) i++;
      readDigits('in the exponent');
      integer = false;
    }
    if (
      integer &&
      digits >= MAX_SAFE_DIGITS.length &&
      (digits > MAX_SAFE_DIGITS.length || text.slice(first, i) > MAX_SAFE_DIGITS)
    ) {
      throw new Failure(
        'unsafe_integer',
        start,
        `is the integer ${text.slice(start, i)}, beyond ±${MAX_SAFE_DIGITS}, which would not be kept exactly (send it as a string)`,
      );
    }
  };

  const readWord = (word: string): void => {
    if (!text.startsWith(word, i)) {
      throw new Failure('syntax', i, `a value is expected, not ${found(text, i)}`);
    }
    i += word.length;
  };

  const open = (kind: number): void => {
    depth++;
    if (depth > deepest) {
      deepest = depth;
      if (deepest > maxDepth)
        throw new Failure('too_deep', i, `nests deeper than ${maxDepth} levels`);
    }
    kinds[depth] = kind;
    keys[depth] = undefined;
    firstKeys[depth] = undefined;
    indexes[depth] = 0;
    seen[depth] = undefined;
    i++;
  };

  const readKey = (): void => {
    const start = i;
    if (text.charCodeAt(i) !== QUOTE) {
      throw new Failure('syntax', i, `a key in quotes is expected, not ${found(text, i)}`);
    }
    const escaped = readString();
    // A key with escapes is compared decoded: "a" and "\u0061" are the same key to JSON.parse.
    const key = escaped
      ? (JSON.parse(text.slice(start, i)) as string)
      : text.slice(start + 1, i - 1);
    const first = firstKeys[depth];
    if (first === undefined) firstKeys[depth] = key;
    else {
      let set = seen[depth];
      if (set === undefined) {
        set = new Set([first]);
        seen[depth] = set;
      }
      if (set.has(key)) {
        throw new Failure(
          'duplicate_key',
          start,
          'appears twice in its object (JSON.parse would keep only the last)',
          key,
        );
      }
      set.add(key);
    }
    keys[depth] = key;
    skipSpace();
    if (text.charCodeAt(i) !== COLON) {
      throw new Failure('syntax', i, `":" is expected after a key, not ${found(text, i)}`);
    }
    i++;
  };

  try {
    // Reading a value, then what may follow it, until the top-level value has ended.
    let expectValue = true;
    for (;;) {
      skipSpace();
      if (expectValue) {
        const c = text.charCodeAt(i);
        if (c === OPEN_OBJECT) {
          open(OBJECT);
          skipSpace();
          if (text.charCodeAt(i) === CLOSE_OBJECT) {
            i++;
            depth--;
            expectValue = false;
          } else {
            readKey();
          }
          continue;
        }
        if (c === OPEN_ARRAY) {
          open(ARRAY);
          skipSpace();
          if (text.charCodeAt(i) === CLOSE_ARRAY) {
            i++;
            depth--;
            expectValue = false;
          }
          continue;
        }
        if (c === QUOTE) readString();
        else if (c === MINUS || isDigit(c)) readNumber();
        else if (c === 0x74 /* t */) readWord('true');
        else if (c === 0x66 /* f */) readWord('false');
        else if (c === 0x6e /* n */) readWord('null');
        else throw new Failure('syntax', i, `a value is expected, not ${found(text, i)}`);
        expectValue = false;
        continue;
      }
      if (depth === 0) {
        if (i < length) {
          throw new Failure('syntax', i, `${found(text, i)} follows the end of the value`);
        }
        return { depth: deepest };
      }
      const c = text.charCodeAt(i);
      const kind = kinds[depth];
      if (c === COMMA) {
        i++;
        skipSpace();
        if (kind === OBJECT) {
          keys[depth] = undefined;
          readKey();
        } else indexes[depth] = indexes[depth]! + 1;
        expectValue = true;
      } else if ((c === CLOSE_OBJECT && kind === OBJECT) || (c === CLOSE_ARRAY && kind === ARRAY)) {
        i++;
        depth--;
      } else {
        const closer = kind === OBJECT ? '"}"' : '"]"';
        throw new Failure('syntax', i, `"," or ${closer} is expected, not ${found(text, i)}`);
      }
    }
  } catch (error) {
    if (!(error instanceof Failure)) throw error;
    // The path of the member being read at each level; a repeated key is not on it yet.
    let path = '$';
    for (let d = 1; d <= depth; d++) {
      const key = keys[d];
      if (kinds[d] === ARRAY) path += `[${indexes[d]!}]`;
      else if (key !== undefined) path = childPath(path, key);
    }
    if (error.key !== undefined) path = childPath(path, error.key);
    return {
      depth: deepest,
      problem: { kind: error.kind, offset: error.offset, path, message: error.message },
    };
  }
}

const PROBLEM_CODES: Record<JsonTextProblemKind, ErrorCode> = {
  syntax: 'bad_request',
  too_deep: 'json_too_deep',
  duplicate_key: 'json_duplicate_key',
  unsafe_integer: 'json_unsafe_integer',
};

/**
 * The offset of the first byte that does not begin a well-formed UTF-8 sequence (Unicode Table
 * 3-7: no overlong forms, no surrogates, nothing past U+10FFFF), or -1 when all are well formed.
 */
export function invalidUtf8Offset(bytes: Uint8Array): number {
  if (isUtf8(bytes)) return -1;
  const n = bytes.length;
  let i = 0;
  const inRange = (at: number, low: number, high: number): boolean =>
    at < n && bytes[at]! >= low && bytes[at]! <= high;
  while (i < n) {
    const b = bytes[i]!;
    let size = 0;
    if (b <= 0x7f) size = 1;
    else if (b >= 0xc2 && b <= 0xdf) size = inRange(i + 1, 0x80, 0xbf) ? 2 : 0;
    else if (b >= 0xe0 && b <= 0xef) {
      const low = b === 0xe0 ? 0xa0 : 0x80;
      const high = b === 0xed ? 0x9f : 0xbf;
      size = inRange(i + 1, low, high) && inRange(i + 2, 0x80, 0xbf) ? 3 : 0;
    } else if (b >= 0xf0 && b <= 0xf4) {
      const low = b === 0xf0 ? 0x90 : 0x80;
      const high = b === 0xf4 ? 0x8f : 0xbf;
      size =
        inRange(i + 1, low, high) && inRange(i + 2, 0x80, 0xbf) && inRange(i + 3, 0x80, 0xbf)
          ? 4
          : 0;
    }
    if (size === 0) return i;
    i += size;
  }
  return -1;
}

export interface StrictJsonOptions {
  /** What the text is, to start messages: `The body`, `The line`. */
  subject: string;
  maxDepth?: number;
  /** Added to the too-deep message: `an event may nest 16`. */
  depthNote?: string;
}

/**
 * Decodes JSON bytes strictly and checks the text (`scanJsonText`), returning the text (without
 * a leading byte order mark) for JSON.parse. Throws a TrailkeepError naming the byte offset of
 * invalid UTF-8 (`invalid_utf8`), or the path of a repeated key (`json_duplicate_key`), of an
 * unsafe integer (`json_unsafe_integer`), of nesting past `maxDepth` (`json_too_deep`) or of a
 * grammar error (`bad_request`), each as one issue.
 */
export function strictJsonText(bytes: Uint8Array, options: StrictJsonOptions): string {
  const { subject } = options;
  const bad = invalidUtf8Offset(bytes);
  if (bad >= 0) {
    const shown = Array.from(bytes.subarray(bad, bad + 4), (b) => b.toString(16).padStart(2, '0'))
      .join(' ')
      .toUpperCase();
    const message = `not valid UTF-8 at byte offset ${bad} (bytes ${shown})`;
    throw new TrailkeepError('invalid_utf8', `${subject} is ${message}`, {
      issues: [{ path: '$', message }],
    });
  }
  const decoded = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  // A byte order mark is not JSON, but common at the start of a file; it is skipped as Fastify's parser does.
  const bom = decoded.charCodeAt(0) === 0xfeff ? 1 : 0;
  const text = bom === 1 ? decoded.slice(1) : decoded;
  const { problem } = scanJsonText(text, options.maxDepth);
  if (problem === undefined) return text;
  const { kind, path, message } = problem;
  let detail: string;
  let issue = message;
  if (kind === 'syntax') {
    issue = `${message} at byte offset ${Buffer.byteLength(decoded.slice(0, bom + problem.offset))}`;
    detail = `${subject} is not valid JSON: ${issue} (${path})`;
  } else if (kind === 'too_deep') {
    const note = options.depthNote === undefined ? '' : ` (${options.depthNote})`;
    detail = `${subject} ${message} at ${path}${note}`;
  } else {
    detail = `${subject} is refused: ${path} ${message}`;
  }
  throw new TrailkeepError(PROBLEM_CODES[kind], detail, { issues: [{ path, message: issue }] });
}
