/**
 * Categories group actions for the viewer's filters ("Members", "Auth & tokens"). A sender may
 * name the category; otherwise the workspace's catalog of patterns decides.
 *
 * Matching works on the action's words, so one pattern fits every naming style: the action and
 * the pattern are both lower-cased, split into words (on `._:-`, spaces and camelCase) and joined
 * with dots, so `JOB_CREATED`, `Job Created`, `jobCreated` and `job.created` all read
 * `job.created`, and the pattern `job.*` matches them all. In a pattern, `*` matches any text;
 * a leading `*.` and a trailing `.*` may also match nothing, so `*.token.*` matches `token`,
 * `api_token.created` and `TOKEN_MINTED`, but never `tokenizer`.
 *
 * A pattern `target:GLOB` matches the primary target's type instead (`target:api_token`,
 * `target:*.repo`). Action patterns are tried first across the whole catalog, then target
 * patterns, each in catalog order; the first match wins, and `general` is the fallback.
 */
import { actionWords } from './operation.js';
import type { WorkspaceSettings } from './settings.js';

export interface CategoryDefinition {
  id: string;
  label: string;
  patterns: string[];
}

export const FALLBACK_CATEGORY = 'general';

/**
 * Trailkeep's own events (sign-ins, log views, exports, admin actions): actions starting with
 * `trailkeep.`, in this category. Both are reserved: a product can neither send such an action or
 * category nor define the category, so "hide Trailkeep's own events" (`-action:trailkeep.*`)
 * hides exactly what Trailkeep recorded, and no product's chip can carry the same label. No
 * patterns: only Trailkeep assigns it.
 */
export const OWN_CATEGORY: CategoryDefinition = Object.freeze({
  id: 'trailkeep',
  label: 'Trailkeep',
  patterns: Object.freeze([]) as unknown as string[],
});
export const OWN_ACTION_PREFIX = 'trailkeep.';

/** Case-insensitive, like the `action:` filter that hides them. */
export function isOwnAction(action: string): boolean {
  return action.toLowerCase().startsWith(OWN_ACTION_PREFIX);
}
const TARGET_PREFIX = 'target:';

/**
 * The built-in catalog, in matching order: specific categories before broad ones (`artifact
 * repo` before `repo`, `workspace repo` before `workspace`, invites before members).
 */
export const DEFAULT_CATEGORIES: readonly CategoryDefinition[] = Object.freeze([
  {
    id: 'auth',
    label: 'Auth & tokens',
    patterns: [
      '*.login.*',
      '*.logout.*',
      '*.log.in.*',
      '*.log.out.*',
      '*.signin.*',
      '*.signout.*',
      '*.sign.in.*',
      '*.sign.out.*',
      '*.session.*',
      '*.sessions.*',
      '*.token.*',
      '*.tokens.*',
      '*.apikey.*',
      '*.key.*',
      '*.keys.*',
      '*.password.*',
      '*.sso.*',
      '*.saml.*',
      '*.mfa.*',
      '*.2fa.*',
      'target:*.token',
      'target:*.key',
      'target:session',
      'target:apikey',
    ],
  },
  {
    id: 'invites',
    label: 'Invites',
    patterns: [
      '*.invite.*',
      '*.invites.*',
      '*.invited.*',
      '*.invitation.*',
      '*.invitations.*',
      'target:invite',
      'target:invitation',
    ],
  },
  {
    id: 'agent',
    label: 'Agent',
    patterns: ['agent.*', 'agents.*', 'target:agent', 'target:ai.agent'],
  },
  {
    id: 'members',
    label: 'Members',
    patterns: [
      '*.member.*',
      '*.members.*',
      '*.membership.*',
      '*.memberships.*',
      '*.role.*',
      '*.roles.*',
      'user.*',
      'users.*',
      'group.*',
      'groups.*',
      'target:user',
      'target:*.member',
      'target:membership',
      'target:group',
      'target:role',
    ],
  },
  {
    id: 'integrations',
    label: 'Integrations',
    patterns: [
      '*.integration.*',
      '*.integrations.*',
      'webhook.*',
      'webhooks.*',
      'target:integration',
      'target:webhook',
    ],
  },
  {
    id: 'artifact_repos',
    label: 'Artifact repos',
    patterns: ['*.artifact.repo.*', '*.artifact.repository.*', 'artifact.*', 'target:artifact.*'],
  },
  {
    id: 'pipelines',
    label: 'Pipelines',
    patterns: ['*.pipeline.*', '*.pipelines.*', 'target:pipeline', 'target:pipeline.*'],
  },
  {
    id: 'repos',
    label: 'Repos',
    patterns: [
      '*.repo.*',
      '*.repos.*',
      '*.repository.*',
      '*.repositories.*',
      'target:*.repo',
      'target:*.repository',
    ],
  },
  {
    id: 'improvements',
    label: 'Improvements',
    patterns: ['*.improvement.*', '*.improvements.*', 'target:improvement'],
  },
  {
    id: 'clarifications',
    label: 'Clarifications',
    patterns: ['*.clarification.*', '*.clarifications.*', 'target:clarification'],
  },
  {
    id: 'runners',
    label: 'Runners',
    patterns: ['worker.*', 'workers.*', 'runner.*', 'runners.*', 'target:worker', 'target:runner'],
  },
  {
    id: 'jobs',
    label: 'Jobs',
    patterns: ['job.*', 'jobs.*', 'attempt.*', 'target:job', 'target:attempt'],
  },
  {
    id: 'customers',
    label: 'Customers',
    patterns: [
      'customer.*',
      'customers.*',
      'contact.*',
      'contacts.*',
      'deal.*',
      'deals.*',
      'target:customer',
      'target:contact',
      'target:deal',
    ],
  },
  {
    id: 'templates',
    label: 'Templates',
    patterns: ['*.template.*', '*.templates.*', 'target:template', 'target:template.*'],
  },
  {
    id: 'workspace',
    label: 'Workspace',
    patterns: [
      'workspace.*',
      'workspaces.*',
      'organization.*',
      'organisation.*',
      'org.*',
      'settings.*',
      'target:workspace',
      'target:workspace.*',
      'target:organization',
      'target:organisation',
      'target:org',
    ],
  },
  { id: FALLBACK_CATEGORY, label: 'General', patterns: [] },
] satisfies CategoryDefinition[]);

/**
 * A workspace's own definitions first (they win), then the defaults it does not redefine;
 * Trailkeep's own category is always there (settings cannot define it).
 */
export function categoryCatalog(settings: WorkspaceSettings): CategoryDefinition[] {
  const own = settings.categories ?? [];
  const ownIds = new Set(own.map((c) => c.id));
  return [...own, ...DEFAULT_CATEGORIES.filter((c) => !ownIds.has(c.id)), OWN_CATEGORY];
}

/** `Job Created`, `JOB_CREATED` and `jobCreated` all become `job.created`. */
export function normalizeActionWords(text: string): string {
  return actionWords(text).join('.');
}

const compiled = new Map<string, RegExp>();
const COMPILED_CACHE_LIMIT = 10_000;

/** The matcher of one glob (over normalized words), cached since ingest runs it per event. */
function globMatcher(glob: string): RegExp {
  let regex = compiled.get(glob);
  if (regex !== undefined) return regex;
  // `*` is not a separator, so it stays inside its word: `*_TOKEN_*` -> `*.token.*`.
  let text = normalizeActionWords(glob);
  let prefix = '^';
  let suffix = '$';
  if (text.startsWith('*.')) {
    prefix = '^(?:.*\\.)?';
    text = text.slice(2);
  }
  if (text.endsWith('.*')) {
    suffix = '(?:\\..*)?$';
    text = text.slice(0, -2);
  }
  const body = text
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  regex = new RegExp(`${prefix}${body}${suffix}`);
  if (compiled.size >= COMPILED_CACHE_LIMIT) compiled.clear();
  compiled.set(glob, regex);
  return regex;
}

/** Whether a glob (with `*`) matches a name after both are normalized to dotted words. */
export function matchesPattern(glob: string, text: string): boolean {
  return globMatcher(glob).test(normalizeActionWords(text));
}

/** The category of an action: see the module comment for the matching rules. */
export function categorize(
  action: string,
  primaryTargetType: string | undefined,
  catalog: readonly CategoryDefinition[],
): string {
  const words = normalizeActionWords(action);
  for (const category of catalog) {
    for (const pattern of category.patterns) {
      if (!pattern.startsWith(TARGET_PREFIX) && globMatcher(pattern).test(words)) {
        return category.id;
      }
    }
  }
  if (primaryTargetType !== undefined) {
    const kind = normalizeActionWords(primaryTargetType);
    for (const category of catalog) {
      for (const pattern of category.patterns) {
        if (
          pattern.startsWith(TARGET_PREFIX) &&
          globMatcher(pattern.slice(TARGET_PREFIX.length)).test(kind)
        ) {
          return category.id;
        }
      }
    }
  }
  return FALLBACK_CATEGORY;
}

/** The display label of a category id; ids outside the catalog get a title-cased label. */
export function categoryLabel(id: string, catalog: readonly CategoryDefinition[]): string {
  const known = catalog.find((c) => c.id === id);
  if (known !== undefined) return known.label;
  return id
    .split(/[_-]+/)
    .filter((word) => word.length > 0)
    .map((word) => word[0]!.toUpperCase() + word.slice(1))
    .join(' ');
}
