/**
 * The viewer's side of the query language: a lenient tokenizer and printer, and the mapping
 * between the query text and the filter controls. It never rejects text (the server's parser is
 * the judge and reports errors with their position); it only needs to know which terms a control
 * can show, and to rewrite one control's terms while keeping every other term as the person
 * typed it.
 */

/** One term of the query text: `key:value`, `-key:value`, a bare word or `-word`. */
export interface Term {
  /** The key as typed (case kept), or null for a bare word. */
  readonly key: string | null;
  readonly value: string;
  readonly negated: boolean;
}

/** The filters that have their own control in the viewer. */
export type ControlKey =
  | 'category'
  | 'actor'
  | 'action'
  | 'target_type'
  | 'target_id'
  | 'target'
  | 'operation'
  | 'since'
  | 'until'
  | 'hide_system'
  | 'hide_own';

export type TextControlKey = Exclude<ControlKey, 'hide_system' | 'hide_own'>;

/**
 * Hides Trailkeep's own events (sign-ins, log views, exports, admin actions): products cannot
 * send actions under `trailkeep.`, so this hides exactly those. It is in the query text, not a
 * hidden flag, so counts, exports and shared links mean what the box says.
 */
export const OWN_EVENTS_TERM: Term = Object.freeze({
  key: 'action',
  value: 'trailkeep.*',
  negated: true,
});

/** The question a workspace's page asks when its address names none. */
export const DEFAULT_QUERY = '-action:trailkeep.*';

/** True for the default question (and for no question): "everything the product sent". */
export function isDefaultQuery(text: string): boolean {
  const terms = parseTerms(text);
  return terms.length === 0 || (terms.length === 1 && isHideOwn(terms[0]!));
}

export const TEXT_CONTROL_KEYS: readonly TextControlKey[] = [
  'category',
  'actor',
  'action',
  'target_type',
  'target_id',
  'target',
  'operation',
  'since',
  'until',
];

/** What the controls show for one query text. */
export interface Controls {
  /** Each text control's value: set when the query holds exactly one plain term for its key. */
  readonly values: Readonly<Record<TextControlKey, string | null>>;
  /** Keys whose terms are too rich for their control (OR-ed values, negation): shown as "mixed". */
  readonly mixed: ReadonlySet<TextControlKey>;
  /** `-is:system` is present. */
  readonly hideSystem: boolean;
  /** `-action:trailkeep.*` is present. */
  readonly hideOwn: boolean;
}

/**
 * Aliases from the design's query-key table, mapped to the key a control uses. A Map, because
 * the key looked up is typed by the person: `constructor:x` must stay the key "constructor".
 */
const ALIASES: ReadonlyMap<string, string> = new Map([
  ['resource_type', 'target_type'],
  ['resource_id', 'target_id'],
  ['resource_target', 'target'],
  ['crud', 'operation'],
  ['date_from', 'since'],
  ['date_to', 'until'],
  ['build_reason', 'meta.build_reason'],
]);

/** The key a term means, whatever case or alias was typed; null for bare words. */
export function canonicalKey(term: Term): string | null {
  if (term.key === null) return null;
  const lower = term.key.toLowerCase();
  return ALIASES.get(lower) ?? lower;
}

function isHideSystem(term: Term): boolean {
  return canonicalKey(term) === 'is' && term.value.toLowerCase() === 'system';
}

function isHideOwn(term: Term): boolean {
  return (
    canonicalKey(term) === 'action' &&
    term.negated &&
    term.value.toLowerCase() === OWN_EVENTS_TERM.value
  );
}

/** The terms a control shows and rewrites; the own-events toggle's term is not the action's. */
function belongsTo(key: ControlKey): (term: Term) => boolean {
  if (key === 'hide_system') return isHideSystem;
  if (key === 'hide_own') return isHideOwn;
  return (term) => canonicalKey(term) === key && !isHideOwn(term);
}

/** Splits query text into terms. Unbalanced quotes run to the end; nothing is an error here. */
export function parseTerms(text: string): Term[] {
  const terms: Term[] = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    while (i < n && /\s/.test(text.charAt(i))) i++;
    if (i >= n) break;
    let negated = false;
    if (text.charAt(i) === '-' && i + 1 < n && !/\s/.test(text.charAt(i + 1))) {
      negated = true;
      i++;
    }
    let key: string | null = null;
    if (text.charAt(i) !== '"') {
      const rest = text.slice(i);
      const match = /^([A-Za-z_][A-Za-z0-9_.]*):/.exec(rest);
      if (match?.[1] !== undefined) {
        key = match[1];
        i += match[0].length;
      }
    }
    let value = '';
    if (text.charAt(i) === '"') {
      i++;
      while (i < n && text.charAt(i) !== '"') {
        if (text.charAt(i) === '\\' && i + 1 < n) i++;
        value += text.charAt(i);
        i++;
      }
      i++; // the closing quote, when there is one
    } else {
      while (i < n && !/\s/.test(text.charAt(i))) {
        value += text.charAt(i);
        i++;
      }
    }
    terms.push({ key, value, negated });
  }
  return terms;
}

function quoteIfNeeded(value: string, bare: boolean): string {
  // A bare word starting with "-" would read as a negation, hence quoted.
  const needsQuotes = value === '' || /[\s":\\]/.test(value) || (bare && value.startsWith('-'));
  if (!needsQuotes) return value;
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** Prints terms back to query text; `parseTerms(printTerms(t))` gives `t` again. */
export function printTerms(terms: readonly Term[]): string {
  return terms
    .map((term) => {
      const sign = term.negated ? '-' : '';
      if (term.key === null) return sign + quoteIfNeeded(term.value, true);
      return `${sign}${term.key}:${quoteIfNeeded(term.value, false)}`;
    })
    .join(' ');
}

/** What each control shows for this query text. */
export function readControls(text: string): Controls {
  const terms = parseTerms(text);
  const values = {} as Record<TextControlKey, string | null>;
  const mixed = new Set<TextControlKey>();
  for (const key of TEXT_CONTROL_KEYS) {
    const own = terms.filter(belongsTo(key));
    const only = own[0];
    if (own.length === 1 && only !== undefined && !only.negated) {
      values[key] = only.value;
    } else {
      values[key] = null;
      if (own.length > 0) mixed.add(key);
    }
  }
  const hideSystem = terms.some((term) => isHideSystem(term) && term.negated);
  const hideOwn = terms.some(isHideOwn);
  return { values, mixed, hideSystem, hideOwn };
}

/**
 * The query text after one control changed: every term of that control's key is replaced by
 * the new one (at the place of the first, so the person's order survives), or removed when the
 * control was cleared. Other terms are kept; they are re-printed, which only normalizes spacing
 * and quoting.
 */
export function withControl(text: string, key: ControlKey, value: string | boolean | null): string {
  const terms = parseTerms(text);
  const belongs = belongsTo(key);
  let replacement: Term | null = null;
  if (key === 'hide_system') {
    if (value === true) replacement = { key: 'is', value: 'system', negated: true };
  } else if (key === 'hide_own') {
    if (value === true) replacement = OWN_EVENTS_TERM;
  } else if (typeof value === 'string' && value.trim() !== '') {
    replacement = { key, value: value.trim(), negated: false };
  }
  const first = terms.findIndex(belongs);
  const kept = terms.filter((term) => !belongs(term));
  if (replacement !== null) {
    // A new filter goes before the own-events toggle's term, so the question reads first.
    const own = kept.findIndex(isHideOwn);
    const at = first !== -1 ? first : own !== -1 && key !== 'hide_own' ? own : kept.length;
    kept.splice(at, 0, replacement);
  }
  return printTerms(kept);
}

/** True when the text holds any term at all (used for "Clear filters"). */
export function hasTerms(text: string): boolean {
  return parseTerms(text).length > 0;
}

const META_PREFIX = 'meta.';

/** The metadata filter's one `meta.KEY:value` term: null when none, 'mixed' when several. */
export function readMeta(text: string): { key: string; value: string } | 'mixed' | null {
  const own = parseTerms(text).filter((term) => canonicalKey(term)?.startsWith(META_PREFIX));
  const only = own[0];
  if (own.length === 0) return null;
  if (own.length > 1 || only === undefined || only.negated) return 'mixed';
  return { key: (canonicalKey(only) ?? '').slice(META_PREFIX.length), value: only.value };
}

/** The query text with its metadata terms replaced by `meta.KEY:value`, or removed (null). */
export function withMeta(text: string, meta: { key: string; value: string } | null): string {
  const terms = parseTerms(text);
  const belongs = (term: Term) => canonicalKey(term)?.startsWith(META_PREFIX) === true;
  const first = terms.findIndex(belongs);
  const kept = terms.filter((term) => !belongs(term));
  if (meta !== null) {
    const own = kept.findIndex(isHideOwn);
    const at = first !== -1 ? first : own !== -1 ? own : kept.length;
    kept.splice(at, 0, { key: `${META_PREFIX}${meta.key}`, value: meta.value, negated: false });
  }
  return printTerms(kept);
}
