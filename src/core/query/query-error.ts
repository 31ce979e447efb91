import { TrailkeepError } from '../errors.js';

/**
 * Where a problem sits: in query text (a position and the term as typed) or in an HTTP
 * parameter. `where` is the phrase that goes into the message after the problem.
 */
export interface ProblemLocation {
  readonly where: string;
  readonly extra: Readonly<Record<string, unknown>>;
}

/**
 * Text quoted for a message. JSON leaves DEL and the C1 controls as they are, and they would
 * print as nothing; they are spelled out like the C0 ones.
 */
function quote(text: string): string {
  return JSON.stringify(text).replace(
    /[\u007f-\u009f]/g,
    (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

export function atPosition(position: number, term: string): ProblemLocation {
  return {
    where: `at position ${position} (term ${quote(term)})`,
    extra: { position, term },
  };
}

export function inParameter(parameter: string, value: string): ProblemLocation {
  return {
    where: `in parameter ${quote(parameter)} (value ${quote(value)})`,
    extra: { parameter, value },
  };
}

/** `<problem> <where>[; <hint>]`, e.g. `Unknown key "foo" at position 7 (term "foo:bar"); ...`. */
export function queryError(
  problem: string,
  location: ProblemLocation,
  hint?: string,
): TrailkeepError {
  const message = `${problem} ${location.where}${hint === undefined ? '' : `; ${hint}`}`;
  return new TrailkeepError('query_invalid', message, { extra: { ...location.extra } });
}

/** Why a value was refused, before it is placed (`queryError` adds where). */
export interface Rejection {
  readonly problem: string;
  readonly hint?: string;
}

export function isRejection(result: string | Rejection): result is Rejection {
  return typeof result !== 'string';
}
