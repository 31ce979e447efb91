/**
 * A minimal History API router: the current location as React state, and navigation that
 * pushes (or replaces) an entry so back/forward replay the views.
 */
import { useSyncExternalStore } from 'react';

const NAVIGATED = 'trailkeep:navigated';

function subscribe(onChange: () => void): () => void {
  window.addEventListener('popstate', onChange);
  window.addEventListener(NAVIGATED, onChange);
  return () => {
    window.removeEventListener('popstate', onChange);
    window.removeEventListener(NAVIGATED, onChange);
  };
}

function snapshot(): string {
  return window.location.pathname + window.location.search;
}

/** The current path and query string, re-rendering on every navigation. */
export function useLocation(): { pathname: string; search: string } {
  const href = useSyncExternalStore(subscribe, snapshot);
  const url = new URL(href, window.location.origin);
  return { pathname: url.pathname, search: url.search };
}

export function navigate(to: string, options: { replace?: boolean } = {}): void {
  if (to === snapshot()) return;
  try {
    if (options.replace === true) window.history.replaceState(null, '', to);
    else window.history.pushState(null, '', to);
  } catch {
    // Another origin (the History API throws rather than leave it): go home instead of
    // leaving the page stuck between two views.
    window.history.replaceState(null, '', '/');
  }
  window.dispatchEvent(new Event(NAVIGATED));
  window.scrollTo({ top: 0 });
}
