/**
 * The least-privilege role for the service: it may read everything and add events, but the
 * database refuses it any UPDATE, DELETE or TRUNCATE of the log (events, event_ids,
 * event_targets), on top of the append-only triggers that bind even the owner. Migrations stay
 * with the owner; the role only calls trailkeep_ensure_month (SECURITY DEFINER) for partitions.
 * docs/postgres.md shows the operator's side.
 */
import { TrailkeepError } from '../../core/errors.js';
import type { Queryable } from './driver.js';

/** Tables and what the service role may do with each. */
export const APP_ROLE_GRANTS: Readonly<Record<string, readonly string[]>> = {
  events: ['SELECT', 'INSERT'],
  event_ids: ['SELECT', 'INSERT'],
  event_targets: ['SELECT', 'INSERT'],
  tree_nodes: ['SELECT', 'INSERT'],
  // Counters and the chain head move with every append (UPDATE also covers SELECT ... FOR UPDATE).
  // Of an actors row or a facet counter only the count may change.
  workspace_heads: ['SELECT', 'INSERT', 'UPDATE'],
  actors: ['SELECT', 'INSERT', 'UPDATE (events)'],
  facet_counts: ['SELECT', 'INSERT', 'UPDATE (events)'],
  workspaces: ['SELECT', 'INSERT', 'UPDATE'],
  users: ['SELECT', 'INSERT', 'UPDATE'],
  memberships: ['SELECT', 'INSERT', 'UPDATE'],
  api_keys: ['SELECT', 'INSERT', 'UPDATE'],
  sessions: ['SELECT', 'INSERT', 'DELETE'],
  invitations: ['SELECT', 'INSERT', 'UPDATE'],
  secrets: ['SELECT', 'INSERT'],
  // Retention: the policy is the owner's setting; a hold is only ever released; tombstones
  // and runs are written by trailkeep_prune alone.
  retention_policies: ['SELECT', 'INSERT', 'UPDATE', 'DELETE'],
  legal_holds: ['SELECT', 'INSERT', 'UPDATE (released_at, released_by, release_reason)'],
  prune_runs: ['SELECT'],
  pruned_events: ['SELECT'],
  witnesses: ['SELECT', 'INSERT', 'UPDATE', 'DELETE'],
  trailkeep_migrations: ['SELECT'],
};

const LOG_TABLES = [
  'events',
  'event_ids',
  'event_targets',
  'tree_nodes',
  'pruned_events',
  'prune_runs',
] as const;

export interface AppRoleOptions {
  /** Makes it a login role with this password; without it the role is NOLOGIN (grant it on). */
  password?: string;
}

/**
 * Creates (or brings up to date) `name` with exactly the rights the service needs. Run it as the
 * schema owner after migrating; safe to run again.
 */
export async function createAppRole(
  db: Queryable,
  name: string,
  options: AppRoleOptions = {},
): Promise<void> {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) {
    throw new TrailkeepError(
      'bad_request',
      `role name "${name}" must be lower-case letters, digits and underscores`,
    );
  }
  const exists = (await db.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [name])).rows.length;
  // Utility statements take no parameters: let the server quote the name and password.
  const template =
    options.password !== undefined
      ? `${exists ? 'ALTER' : 'CREATE'} ROLE %I LOGIN PASSWORD %L`
      : exists
        ? undefined
        : 'CREATE ROLE %I NOLOGIN';
  if (template !== undefined) {
    const statement = await db.query<{ sql: string }>(
      'SELECT format($1::text, $2::text, $3::text) AS sql',
      [template, name, options.password ?? null],
    );
    const sql = statement.rows[0]?.sql;
    if (sql !== undefined) await db.query(sql);
  }

  const role = `"${name}"`;
  await db.query(`GRANT USAGE ON SCHEMA ${await currentSchema(db)} TO ${role}`);
  for (const [table, rights] of Object.entries(APP_ROLE_GRANTS)) {
    await db.query(`REVOKE ALL ON ${table} FROM ${role}`);
    await db.query(`GRANT ${rights.join(', ')} ON ${table} TO ${role}`);
  }
  // Partitions are reached through the parent; make sure nothing was granted on them directly.
  const partitions = await db.query<{ name: string }>(
    `SELECT quote_ident(c.relname) AS name FROM pg_inherits i
       JOIN pg_class c ON c.oid = i.inhrelid
      WHERE i.inhparent = 'events'::regclass`,
  );
  for (const table of [...LOG_TABLES, ...partitions.rows.map((r) => r.name)]) {
    await db.query(`REVOKE UPDATE, DELETE, TRUNCATE ON ${table} FROM ${role}`);
  }
  await db.query(`GRANT EXECUTE ON FUNCTION trailkeep_ensure_month(date) TO ${role}`);
  // The one way bodies leave the log (migration 7): it checks the policy and holds itself.
  await db.query(
    `GRANT EXECUTE ON FUNCTION trailkeep_prune(text, bigint[], text, text, text, integer, text, text) TO ${role}`,
  );
}

async function currentSchema(db: Queryable): Promise<string> {
  const result = await db.query<{ schema: string }>(
    'SELECT quote_ident(current_schema()) AS schema',
  );
  const schema = result.rows[0]?.schema;
  if (schema === undefined) throw new Error('no current schema');
  return schema;
}
