import { fieldTerm, queryAst, wordTerm, type QueryAst, type QueryTerm } from './ast.js';
import { resolveKey } from './keys.js';
import { lex, type RawTerm } from './lexer.js';
import { atPosition, queryError } from './query-error.js';

/**
 * Text -> AST. Only syntax and keys are checked here; values are checked by `normalizeQuery`.
 * Throws `query_invalid` naming the position and the term for anything it cannot read.
 */
export function parseQuery(text: string): QueryAst {
  return queryAst(lex(text).map(toTerm));
}

function toTerm(raw: RawTerm): QueryTerm {
  const options = { negated: raw.negated, position: raw.position };
  if (raw.keyText === null) return wordTerm(raw.value ?? '', options);
  const where = atPosition(raw.position, raw.text);
  const resolved = resolveKey(raw.keyText);
  if (!resolved.ok) throw queryError(resolved.problem, where, resolved.hint);
  if (raw.value === null) {
    throw queryError(
      `Empty value for ${JSON.stringify(raw.keyText)}`,
      where,
      resolved.key === 'meta' ? `to match an empty text write ${raw.keyText}:""` : undefined,
    );
  }
  return fieldTerm(
    resolved.key,
    raw.value,
    resolved.metaKey === undefined ? options : { ...options, metaKey: resolved.metaKey },
  );
}
