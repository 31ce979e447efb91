/**
 * The zone the viewer shows times in: the reader's own or UTC, chosen with the switch in the
 * table's Time header and remembered in this browser. The date filters follow it, so a day
 * picked in Since/Until is the same day the Time column shows.
 */
import { useSyncExternalStore } from 'react';

export type ZoneChoice = 'local' | 'utc';

const KEY = 'trailkeep.time-zone';
const listeners = new Set<() => void>();

function read(): ZoneChoice {
  try {
    return window.localStorage.getItem(KEY) === 'utc' ? 'utc' : 'local';
  } catch {
    // Storage can be off (private modes, policies): the reader's zone, not remembered.
    return 'local';
  }
}

export function setZoneChoice(choice: ZoneChoice): void {
  try {
    window.localStorage.setItem(KEY, choice);
  } catch {
    // Not remembered; the listeners below still switch this page.
  }
  current = choice;
  for (const listener of listeners) listener();
}

let current: ZoneChoice | undefined;

function snapshot(): ZoneChoice {
  current ??= read();
  return current;
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function useZoneChoice(): ZoneChoice {
  return useSyncExternalStore(subscribe, snapshot, () => 'local');
}

/** The IANA zone for Intl: UTC, or undefined for the reader's own. */
export function timeZoneOf(choice: ZoneChoice): string | undefined {
  return choice === 'utc' ? 'UTC' : undefined;
}

const UTC_NAMES: ReadonlySet<string> = new Set([
  'UTC',
  'Etc/UTC',
  'Etc/GMT',
  'GMT',
  'Etc/Universal',
]);

/**
 * The zone whole days are written in: a reader whose own zone is UTC writes plain days
 * (`since:2026-05-12`), the shortest form, whichever choice is made.
 */
export function useDayZone(): ZoneChoice {
  const choice = useZoneChoice();
  if (choice === 'utc') return 'utc';
  return readerIsUtc() ? 'utc' : 'local';
}

/** The reader's own zone is UTC: then there is nothing to switch between. */
export function readerIsUtc(): boolean {
  return UTC_NAMES.has(new Intl.DateTimeFormat('en-US').resolvedOptions().timeZone);
}
