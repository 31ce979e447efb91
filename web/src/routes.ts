import { DEFAULT_QUERY } from './query/terms.js';

/**
 * The viewer's addresses. Everything a person can share lives here: the workspace, the query
 * text and the page cursor, so reload, back/forward and a pasted link show the same view.
 */
export type Route =
  | { readonly page: 'login'; readonly next: string }
  | { readonly page: 'home' }
  /** The invitation link; its secret is in the fragment, which no server ever receives. */
  | { readonly page: 'invite' }
  | {
      readonly page: 'audit';
      readonly workspace: string;
      readonly q: string;
      readonly cursor: string | null;
    }
  /** One event's own page: its permalink. */
  | { readonly page: 'event'; readonly workspace: string; readonly id: string }
  | {
      readonly page: 'history';
      readonly workspace: string;
      readonly type: string;
      readonly id: string;
    }
  | { readonly page: 'not_found' };

function segment(value: string): string {
  return encodeURIComponent(value);
}

function decode(value: string): string | null {
  try {
    return decodeURIComponent(value);
  } catch {
    return null;
  }
}

export function parseRoute(pathname: string, search: string): Route {
  const params = new URLSearchParams(search);
  if (pathname === '/' || pathname === '') return { page: 'home' };
  if (pathname === '/login') return { page: 'login', next: params.get('next') ?? '/' };
  if (pathname === '/invite') return { page: 'invite' };
  const parts = pathname.split('/').slice(1).map(decode);
  if (parts.some((part) => part === null || part === '')) return { page: 'not_found' };
  const [root, workspace, sub, type, id, ...extra] = parts as string[];
  if (root !== 'w' || workspace === undefined) return { page: 'not_found' };
  if (sub === undefined) {
    // No `q` at all is the default question; `q=` (empty) asks for everything.
    return {
      page: 'audit',
      workspace,
      q: params.get('q') ?? DEFAULT_QUERY,
      cursor: params.get('cursor'),
    };
  }
  if (sub === 'events' && type !== undefined && id === undefined) {
    return { page: 'event', workspace, id: type };
  }
  if (sub === 'history' && type !== undefined && id !== undefined && extra.length === 0) {
    return { page: 'history', workspace, type, id };
  }
  return { page: 'not_found' };
}

export function auditPath(
  workspace: string,
  q = DEFAULT_QUERY,
  cursor: string | null = null,
): string {
  const params = new URLSearchParams();
  if (q.trim() !== DEFAULT_QUERY) params.set('q', q.trim());
  if (cursor !== null) params.set('cursor', cursor);
  const search = params.toString();
  return `/w/${segment(workspace)}${search === '' ? '' : `?${search}`}`;
}

export function eventPath(workspace: string, id: string): string {
  return `/w/${segment(workspace)}/events/${segment(id)}`;
}

export function historyPath(workspace: string, type: string, id: string): string {
  return `/w/${segment(workspace)}/history/${segment(type)}/${segment(id)}`;
}

export function loginPath(next: string): string {
  return next === '/' ? '/login' : `/login?${new URLSearchParams({ next }).toString()}`;
}

/** Stands in for the viewer's own origin: only whether a path leaves it matters. */
const HERE = 'https://viewer.invalid';
/** Backslashes (browsers read them as slashes) and control characters (browsers drop them). */
function hasUnsafeCharacter(text: string): boolean {
  for (const char of text) {
    const code = char.charCodeAt(0);
    if (char === '\\' || code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

/**
 * Where to go after signing in: a path on this origin, else `/`. `/\evil.example`,
 * `/%2F%2Fevil.example` and `/\t/evil.example` all read as `//evil.example` to someone (a
 * browser, a decoder), and a cross-origin address would make history.replaceState throw.
 */
export function safeNext(next: string): string {
  let decoded: string;
  try {
    decoded = decodeURIComponent(next);
  } catch {
    return '/';
  }
  for (const text of [next, decoded]) {
    if (!text.startsWith('/') || text.startsWith('//') || hasUnsafeCharacter(text)) return '/';
  }
  let url: URL;
  try {
    url = new URL(next, HERE);
  } catch {
    return '/';
  }
  if (url.origin !== HERE || url.pathname === '/login') return '/';
  return `${url.pathname}${url.search}${url.hash}`;
}
