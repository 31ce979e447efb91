/**
 * How the viewer words things: action labels, actor kinds, times and counts. Pure, so the
 * table, the detail view and the tests agree.
 */
import type { ActorType } from '../../src/core/event.js';
import type { JsonValue } from '../../src/core/json.js';

/**
 * Words readers expect in capitals ("SSH key", not "Ssh key"), and a few with their own casing.
 * A Map: the word looked up comes from events.
 */
const SPECIAL_WORDS: ReadonlyMap<string, string> = new Map([
  ...'ai api aws ci cli cpu csv dns gpg gpu http https iam id ip jwt ldap mfa otp pdf saml scim sdk sql sso ssh ssl tls totp ui uri url uuid vm vpn 2fa'
    .split(' ')
    .map((word): [string, string] => [word, word.toUpperCase()]),
  ['ids', 'IDs'],
  ['urls', 'URLs'],
  ['oauth', 'OAuth'],
  ['oidc', 'OIDC'],
  ['github', 'GitHub'],
  ['gitlab', 'GitLab'],
]);

function specialWord(word: string): string | undefined {
  return SPECIAL_WORDS.get(word.toLowerCase());
}

/**
 * `job.created`, `JOB_CREATED`, `jobCreated` and `job-created` all read "Job Created";
 * `ssh_key.created` reads "SSH Key Created".
 */
export function actionLabel(action: string): string {
  const words = action
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .split(/[._:\-\s]+/)
    .filter((word) => word !== '');
  if (words.length === 0) return action;
  return words
    .map((word) => specialWord(word) ?? word.charAt(0).toUpperCase() + word.slice(1).toLowerCase())
    .join(' ');
}

const ACTOR_KIND_LABELS: Readonly<Record<ActorType, string>> = {
  user: 'Person',
  agent: 'AI agent',
  api_token: 'API token',
  automation: 'Automation',
  system: 'System',
};

/** The visible label of an actor's kind; unknown kinds are shown as sent. */
export function actorKindLabel(type: string): string {
  // Own members only: an inherited `constructor` is a function, not a label.
  return Object.hasOwn(ACTOR_KIND_LABELS, type)
    ? ACTOR_KIND_LABELS[type as ActorType]
    : kindLabel(type);
}

/**
 * A target kind as a reader says it: `pipeline_run` -> "Pipeline run", `api_key` -> "API key",
 * `dev_url` -> "Dev URL", `API token` unchanged.
 */
export function kindLabel(kind: string): string {
  const spaced = kind
    .replace(/_/g, ' ')
    .trim()
    .split(' ')
    .map((word) => specialWord(word) ?? word)
    .join(' ');
  return spaced.charAt(0).toUpperCase() + spaced.slice(1);
}

/** An entity kind as a data type for export: `job` -> "Jobs", `policy` -> "Policies". */
export function pluralKindLabel(kind: string): string {
  const label = kindLabel(kind);
  if (/[^aeiou]y$/i.test(label)) return `${label.slice(0, -1)}ies`;
  if (/(s|x|ch|sh)$/i.test(label)) return `${label}es`;
  return `${label}s`;
}

function yearIn(date: Date, timeZone?: string): string {
  return new Intl.DateTimeFormat('en-US', {
    year: 'numeric',
    ...(timeZone === undefined ? {} : { timeZone }),
  }).format(date);
}

/**
 * "Mar 21, 07:57 PM" in the reader's zone (or the given one), with the year when it is not the
 * current one there: "Dec 2, 2025, 11:49 AM".
 */
export function shortTime(iso: string, timeZone?: string, now: Date = new Date()): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return new Intl.DateTimeFormat('en-US', {
    ...(yearIn(date, timeZone) === yearIn(now, timeZone) ? {} : { year: 'numeric' }),
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    hour12: true,
    ...(timeZone === undefined ? {} : { timeZone }),
  }).format(date);
}

/** "just now", "5 min ago", "3 h ago", "2 d ago", "4 mo ago", "2 y ago" (or "in 5 min"). */
export function relativeTime(iso: string, now: Date = new Date()): string {
  const at = Date.parse(iso);
  if (Number.isNaN(at)) return iso;
  const seconds = Math.round((now.getTime() - at) / 1000);
  const size = Math.abs(seconds);
  if (size < 60) return 'just now';
  const units: ReadonlyArray<[number, string]> = [
    [365 * 86_400, 'y'],
    [30 * 86_400, 'mo'],
    [86_400, 'd'],
    [3_600, 'h'],
    [60, 'min'],
  ];
  const [unit, name] = units.find(([length]) => size >= length) ?? [60, 'min'];
  const amount = Math.floor(size / unit);
  return seconds > 0 ? `${amount} ${name} ago` : `in ${amount} ${name}`;
}

/** The zone times are shown in: the given one, or the reader's ("Europe/Berlin"). */
export function zoneName(timeZone?: string): string {
  return new Intl.DateTimeFormat(
    'en-US',
    timeZone === undefined ? {} : { timeZone },
  ).resolvedOptions().timeZone;
}

/**
 * The full instant in the reader's zone with its offset and zone name, then UTC:
 * "2026-03-21T19:57:03.120+01:00 (Europe/Berlin) · 2026-03-21T18:57:03.120Z".
 */
export function fullTime(iso: string, timeZone?: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const format = new Intl.DateTimeFormat('en-US', {
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
    timeZoneName: 'longOffset',
    ...(timeZone === undefined ? {} : { timeZone }),
  });
  const parts: Record<string, string> = {};
  for (const part of format.formatToParts(date)) parts[part.type] = part.value;
  const offset = (parts.timeZoneName ?? 'GMT').replace('GMT', '') || '+00:00';
  const millis = String(date.getUTCMilliseconds()).padStart(3, '0');
  const zone = format.resolvedOptions().timeZone;
  const local = `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:${parts.second}.${millis}${offset}`;
  return `${local} (${zone}) · ${date.toISOString()}`;
}

export interface Count {
  readonly value: number;
  readonly capped: boolean;
}

/** "1 event", "1,234 events", "10,000+ events" (counts stop being exact at 10,000). */
export function countLabel(count: Count, singular: string, plural = `${singular}s`): string {
  const number = `${count.value.toLocaleString('en-US')}${count.capped ? '+' : ''}`;
  return `${number} ${count.value === 1 && !count.capped ? singular : plural}`;
}

/** A changed value as text; absent values (a field that appeared or disappeared) read "—". */
export function valueText(value: JsonValue | undefined): string {
  if (value === undefined) return '—';
  if (typeof value === 'string') return value;
  return JSON.stringify(value);
}

/** The name a reader knows an actor by. */
export function actorName(actor: { id: string; name?: string; email?: string }): string {
  return actor.name ?? actor.email ?? actor.id;
}
