/**
 * Text -> raw terms. Terms are separated by whitespace; a term is an optional `-`, then either
 * `key:value` or a word; a value or word may be double-quoted, with `\"` and `\\` as the only
 * escapes. Anything else that looks like a slip (a quote in the middle of a value, text glued to
 * a closing quote, a lone `-`) is an error: a question must never be half-understood. So is a
 * control character or a lone surrogate anywhere in a term (see `unsearchableCharacter`).
 */
import { atPosition, queryError } from './query-error.js';
import { unsearchableCharacter } from './values.js';

export interface RawTerm {
  /** Offset of the term's first character (its `-` when negated). */
  readonly position: number;
  /** The term exactly as typed, for error messages. */
  readonly text: string;
  readonly negated: boolean;
  /** The key as typed, or null for a word. */
  readonly keyText: string | null;
  /** The value; null only when nothing follows `key:`. */
  readonly value: string | null;
  /** Offset just after the term. */
  readonly end: number;
}

const WHITESPACE = /\s/;

export function isQuerySpace(ch: string): boolean {
  return WHITESPACE.test(ch);
}

export function lex(text: string): RawTerm[] {
  const terms: RawTerm[] = [];
  let i = 0;
  while (i < text.length) {
    if (isQuerySpace(text.charAt(i))) {
      i++;
      continue;
    }
    const term = lexTerm(text, i);
    terms.push(term);
    i = term.end;
  }
  return terms;
}

/** The term starting at `start` (which must not be whitespace). */
export function lexTerm(text: string, start: number): RawTerm {
  let i = start;
  const negated = text.charAt(i) === '-';
  if (negated) i++;
  if (i >= text.length || isQuerySpace(text.charAt(i))) {
    throw queryError(
      'A lone "-"',
      atPosition(start, '-'),
      'a "-" negates the term glued to it; to search for "-" itself, quote it: "-"',
    );
  }
  const make = (keyText: string | null, value: string | null, end: number): RawTerm => {
    const typed = text.slice(start, end);
    // Checked on the term as typed, so a control character inside quotes is caught as well.
    const bad = unsearchableCharacter(typed);
    if (bad !== undefined) {
      const { problem, hint } = bad.rejection;
      throw queryError(problem, atPosition(start + bad.index, typed), hint);
    }
    return { position: start, text: typed, negated, keyText, value, end };
  };

  if (text.charAt(i) === '"') {
    const quoted = readQuoted(text, i, start);
    return make(null, quoted.value, quoted.end);
  }
  const keyStart = i;
  while (i < text.length && !isQuerySpace(text.charAt(i)) && !':"'.includes(text.charAt(i))) i++;
  if (i >= text.length || isQuerySpace(text.charAt(i))) {
    return make(null, text.slice(keyStart, i), i);
  }
  if (text.charAt(i) === '"') throw unexpectedQuote(text, start, i);

  const keyText = text.slice(keyStart, i);
  i++; // the colon
  if (text.charAt(i) === '"') {
    const quoted = readQuoted(text, i, start);
    return make(keyText, quoted.value, quoted.end);
  }
  const valueStart = i;
  while (i < text.length && !isQuerySpace(text.charAt(i))) {
    if (text.charAt(i) === '"') throw unexpectedQuote(text, start, i);
    i++;
  }
  return make(keyText, i === valueStart ? null : text.slice(valueStart, i), i);
}

/** The whitespace-delimited chunk at `start`: the best guess of a broken term, for messages. */
function chunkAt(text: string, start: number): string {
  let end = start;
  while (end < text.length && !isQuerySpace(text.charAt(end))) end++;
  return text.slice(start, end);
}

function unexpectedQuote(text: string, termStart: number, at: number) {
  return queryError(
    'Unexpected quote',
    atPosition(at, chunkAt(text, termStart)),
    'quote a whole value or word, as in actor:"Alex Kim"',
  );
}

/** Offset just after the quote that closes the one at `open` (or the end of the text). */
function quotedEnd(text: string, open: number): number {
  for (let i = open + 1; i < text.length; i++) {
    if (text.charAt(i) === '\\') i++;
    else if (text.charAt(i) === '"') return i + 1;
  }
  return text.length;
}

/** Reads `"..."` starting at the opening quote; the closing quote must end the term. */
function readQuoted(text: string, open: number, termStart: number): { value: string; end: number } {
  let value = '';
  let i = open + 1;
  while (i < text.length) {
    const ch = text.charAt(i);
    if (ch === '"') {
      const end = i + 1;
      if (end < text.length && !isQuerySpace(text.charAt(end))) {
        throw queryError(
          `Unexpected ${JSON.stringify(text.charAt(end))} after the closing quote`,
          atPosition(end, chunkAt(text, termStart)),
          'separate terms with a space, and write a quote inside a quoted value as \\"',
        );
      }
      return { value, end };
    }
    if (ch === '\\') {
      const next = text.charAt(i + 1);
      if (next === '"' || next === '\\') {
        value += next;
        i += 2;
        continue;
      }
      if (i + 1 < text.length) {
        throw queryError(
          `Unknown escape ${JSON.stringify(`\\${next}`)}`,
          atPosition(i, text.slice(termStart, quotedEnd(text, open))),
          'inside quotes only \\" and \\\\ are escapes',
        );
      }
    }
    value += ch;
    i++;
  }
  throw queryError(
    'Unterminated quote',
    atPosition(open, text.slice(termStart)),
    'close it with "',
  );
}
