/**
 * The one place where the server reads a raw request URL. Every decision that depends on the
 * path (no-store, API or viewer, source maps) or on query parameter names (credentials refused
 * and masked) is made on what this module derives, never on the raw text: the router, the query
 * parser and the proxies in front decode and fold differently, and an attacker picks whichever
 * spelling slips past a check on the raw URL (`/%61pi/`, `?api%5Fkey=`, `?key[]=`).
 */

/** Enough for any real double or triple encoding; a bound so a crafted URL cannot spin. */
const MAX_DECODE_ROUNDS = 4;
const ESCAPES = /(?:%[0-9A-Fa-f]{2})+/g;

/**
 * Percent-decodes every well-formed escape, repeatedly (`%255F` is `_` to anyone who decodes
 * twice), and leaves malformed ones as they are instead of giving up on the whole text.
 */
export function decodeLeniently(text: string): string {
  let current = text;
  for (let round = 0; round < MAX_DECODE_ROUNDS; round++) {
    const next = current.replace(ESCAPES, (run) =>
      Buffer.from(run.replace(/%/g, ''), 'hex').toString('utf8'),
    );
    if (next === current) break;
    current = next;
  }
  return current;
}

function splitUrl(url: string): { path: string; query: string; fragment: string } {
  const hash = url.indexOf('#');
  const beforeHash = hash === -1 ? url : url.slice(0, hash);
  const fragment = hash === -1 ? '' : url.slice(hash);
  const mark = beforeHash.indexOf('?');
  return mark === -1
    ? { path: beforeHash, query: '', fragment }
    : { path: beforeHash.slice(0, mark), query: beforeHash.slice(mark + 1), fragment };
}

/**
 * The path as any lenient component along the way could read it: decoded, lower-cased,
 * backslashes as slashes (browsers do that), `;params` dropped from segments (servlet
 * containers do that), empty and `.` segments removed and `..` resolved, never above the root.
 * `/%61pi/./V1//events;x` and `/api/v1/events` are the same path here.
 */
export function normalizedPath(url: string): string {
  const decoded = decodeLeniently(splitUrl(url).path).replace(/\\/g, '/').toLowerCase();
  const segments: string[] = [];
  for (const raw of decoded.split('/')) {
    const segment = raw.split(';')[0] ?? '';
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  return `/${segments.join('/')}`;
}

/** Paths that belong to the API: they never fall back to the viewer and are never cached. */
export function isApiPath(url: string): boolean {
  const path = normalizedPath(url);
  return (
    path === '/api' || path.startsWith('/api/') || path === '/openapi.json' || path === '/healthz'
  );
}

/** Source maps would publish the viewer's source; they are neither built nor served. */
export function isSourceMapPath(url: string): boolean {
  return normalizedPath(url).endsWith('.map');
}

/**
 * Query parameter names that carry a credential, compacted (lower case, letters and digits
 * only), so `api_key`, `API-Key`, `api.key` and `apikey` are one name. Trailkeep reads no
 * credential from a URL; these are refused so that a client doing it fails loudly.
 */
export const CREDENTIAL_PARAMETER_NAMES: ReadonlySet<string> = new Set([
  'apikey',
  'xapikey',
  'apitoken',
  'key',
  'token',
  'accesstoken',
  'authtoken',
  'auth',
  'authorization',
  'bearer',
  'password',
  'secret',
  'tksession',
  'session',
  'sessiontoken',
]);

/** `&` and also `;`, which some parsers and proxies in front treat as a separator. */
const PAIR_SEPARATOR = /([&;])/;

/**
 * The parts of a parameter name as parsers that nest read it (qs, PHP, Rails: `a[b][c]`,
 * `key[]`; qs with allowDots: `a.b`), each compacted. `+` is a space in a query string.
 */
function nameParts(rawName: string): string[] {
  const name = decodeLeniently(rawName.replace(/\+/g, ' ')).normalize('NFKC').toLowerCase();
  return name
    .split(/[[\].]/)
    .map((part) => part.replace(/[^a-z0-9]/g, ''))
    .filter((part) => part !== '');
}

/** Whether a raw query parameter name, however spelled or nested, names a credential. */
export function isCredentialName(rawName: string): boolean {
  return nameParts(rawName).some((part) => CREDENTIAL_PARAMETER_NAMES.has(part));
}

function rawName(pair: string): string {
  const equals = pair.indexOf('=');
  return equals === -1 ? pair : pair.slice(0, equals);
}

/** The first query parameter (as sent) that names a credential, if any. */
export function credentialParameter(url: string): string | undefined {
  const { query } = splitUrl(url);
  if (query === '') return undefined;
  for (const pair of query.split(PAIR_SEPARATOR)) {
    if (pair === '&' || pair === ';') continue;
    const name = rawName(pair);
    if (isCredentialName(name)) return name;
  }
  return undefined;
}

/** A whole Trailkeep key, in any encoding, anywhere: masked even under an innocent name. */
const API_KEY_TEXT = /tk_(?:ingest|read|admin)_[0-9A-Za-z]{22,}/gi;

function holdsKey(text: string): boolean {
  return decodeLeniently(text.replace(/\+/g, ' ')).search(API_KEY_TEXT) !== -1;
}

export const REDACTED = '[REDACTED]';

/** Text for a log line (e.g. an error detail that echoes a parameter) without whole keys. */
export function redactKeys(text: string): string {
  return text.replace(API_KEY_TEXT, REDACTED);
}

/**
 * The URL as it may be written to a log: the value of every credential-named parameter and
 * any path segment or value that holds a whole API key are replaced by `[REDACTED]`.
 */
export function redactUrl(url: string): string {
  const { path, query, fragment } = splitUrl(url);
  const safePath = path
    .split('/')
    .map((segment) => (holdsKey(segment) ? REDACTED : segment))
    .join('/');
  if (query === '' && !url.includes('?')) return `${safePath}${fragment}`;
  const safeQuery = query
    .split(PAIR_SEPARATOR)
    .map((pair) => {
      if (pair === '&' || pair === ';') return pair;
      const name = rawName(pair);
      if (isCredentialName(name)) return `${name}=${REDACTED}`;
      if (holdsKey(pair)) return holdsKey(name) ? REDACTED : `${name}=${REDACTED}`;
      return pair;
    })
    .join('');
  return `${safePath}?${safeQuery}${fragment}`;
}
