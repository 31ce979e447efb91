/**
 * Derives an event's CRUD operation from its action when the sender does not say, so "every
 * delete last month" works whatever naming style a product uses: `job.deleted`, `JOB_DELETED`,
 * `deleteJob`, `delete`. The table is documented in docs/events.md.
 */
import type { Operation } from './event.js';

/** The verbs (and their inflections) that name each operation. Everything else is `other`. */
export const OPERATION_VERBS: Readonly<Record<Exclude<Operation, 'other'>, readonly string[]>> = {
  create: [
    'create',
    'created',
    'creates',
    'add',
    'added',
    'adds',
    'insert',
    'inserted',
    'new',
    'mint',
    'minted',
    'register',
    'registered',
  ],
  update: [
    'update',
    'updated',
    'updates',
    'change',
    'changed',
    'changes',
    'write',
    'written',
    'edit',
    'edited',
    'set',
    'modify',
    'modified',
    'rename',
    'renamed',
    'patch',
    'patched',
    'replace',
    'replaced',
    'rotate',
    'rotated',
    'promote',
    'promoted',
    'demote',
    'demoted',
    'enable',
    'enabled',
    'disable',
    'disabled',
  ],
  delete: [
    'delete',
    'deleted',
    'deletes',
    'remove',
    'removed',
    'removes',
    'destroy',
    'destroyed',
    'revoke',
    'revoked',
    'erase',
    'erased',
    'purge',
    'purged',
  ],
  read: [
    'read',
    'view',
    'viewed',
    'get',
    'list',
    'listed',
    'open',
    'opened',
    'export',
    'exported',
    'download',
    'downloaded',
    'search',
    'searched',
  ],
};

let verbIndex: Map<string, Operation> | undefined;

function verbs(): Map<string, Operation> {
  if (verbIndex === undefined) {
    verbIndex = new Map();
    for (const [operation, words] of Object.entries(OPERATION_VERBS)) {
      for (const word of words) verbIndex.set(word, operation as Operation);
    }
  }
  return verbIndex;
}

/**
 * The words of an action, lower-cased: split on `.`, `_`, `:`, `-`, spaces and camelCase
 * boundaries. `member.role_changed` -> member, role, changed; `deleteJob` -> delete, job;
 * `HTTPRequestSent` -> http, request, sent.
 */
export function actionWords(action: string): string[] {
  return action
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z])([A-Z][a-z])/g, '$1 $2')
    .split(/[._:\-\s]+/)
    .filter((word) => word.length > 0)
    .map((word) => word.toLowerCase());
}

/**
 * The operation an action names. Words are read from the end, because actions usually end in
 * their verb (`job.created`) and otherwise start with it (`create_job`), while the resource
 * words that come first rarely are verbs; the last word that is a known verb decides.
 */
export function deriveOperation(action: string): Operation {
  const table = verbs();
  const words = actionWords(action);
  for (let i = words.length - 1; i >= 0; i--) {
    const operation = table.get(words[i]!);
    if (operation !== undefined) return operation;
  }
  return 'other';
}
