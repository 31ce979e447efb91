/**
 * The PostgreSQL schema as an ordered list of migrations, and the code that applies them.
 * A migration is never edited once released: changes go into a new one with the next version.
 * docs/postgres.md explains the tables, the partitions and the concurrency design.
 *
 * Layout rules, kept by every table that grows with the log:
 * - the workspace id comes first in every key and index, so the schema can later be distributed
 *   by workspace (Citus) and no query ever reads another workspace's rows;
 * - `events` is range-partitioned by month on occurred_at; uniqueness that a partitioned table
 *   cannot enforce without the partition key ((workspace, id) and (workspace, seq)) lives in the
 *   small `event_ids` table written in the same transaction;
 * - `events.body` is TEXT, the exact canonical JSON that was hashed, so it comes back byte for
 *   byte; the other event columns are the indexed copies of src/core/columns.ts.
 */
import { TrailkeepError } from '../../core/errors.js';
import type { Pool, Queryable } from './driver.js';
import { DERIVED_GUARDS, MIGRATION_4_GUARDS } from './derived.js';
import { PartitionKeeper, monthsAround } from './partitions.js';
import { backfillTree } from './tree.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
  /** Runs after `sql` in the same transaction, for data SQL alone cannot compute. */
  backfill?: (db: Queryable) => Promise<void>;
}

/** First key of every advisory lock Trailkeep takes ('TRKP'); the second names the lock. */
export const LOCK_NAMESPACE = 0x54524b50;
export const MIGRATION_LOCK = 1;
export const PARTITION_LOCK = 2;

/** Months created ahead (and behind, for late events) at every migrate. */
const MONTHS_BEFORE = 3;
const MONTHS_AFTER = 3;

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'initial schema',
    sql: `
CREATE TABLE workspaces (
  id text PRIMARY KEY,
  name text NOT NULL,
  created_at text NOT NULL,
  settings text NOT NULL
);

-- The last link of each workspace's chain. Appends lock this row (SELECT ... FOR UPDATE), which
-- serializes appends to one workspace across every process and no others.
CREATE TABLE workspace_heads (
  workspace text PRIMARY KEY REFERENCES workspaces (id),
  seq bigint NOT NULL,
  hash text NOT NULL
);

CREATE TABLE events (
  workspace text NOT NULL,
  seq bigint NOT NULL,
  id text NOT NULL,
  occurred_at timestamptz NOT NULL,
  action text NOT NULL,
  category text NOT NULL,
  outcome text NOT NULL,
  operation text NOT NULL,
  actor_type text NOT NULL,
  actor_id text NOT NULL,
  actor_name text,
  actor_email text,
  ip_key text,
  targets text NOT NULL,
  prev_hash text NOT NULL,
  hash text NOT NULL,
  body text NOT NULL,
  -- The metadata object as jsonb, for meta.KEY filters; NULL when jsonb cannot hold it (a
  -- U+0000 character). Not part of the hashed columns: the body stays the truth.
  metadata jsonb,
  PRIMARY KEY (workspace, occurred_at, seq)
) PARTITION BY RANGE (occurred_at);
CREATE TABLE events_default PARTITION OF events DEFAULT;

CREATE INDEX events_by_seq ON events (workspace, seq);
CREATE INDEX events_by_action ON events (workspace, lower(action), occurred_at, seq);
CREATE INDEX events_by_category ON events (workspace, lower(category), occurred_at, seq);
CREATE INDEX events_by_actor ON events (workspace, actor_type, actor_id, occurred_at, seq);
CREATE INDEX events_by_outcome ON events (workspace, outcome, occurred_at, seq);
CREATE INDEX events_by_operation ON events (workspace, operation, occurred_at, seq);
CREATE INDEX events_by_ip ON events (workspace, ip_key, occurred_at, seq) WHERE ip_key IS NOT NULL;
CREATE INDEX events_by_metadata ON events USING gin (metadata);

-- Uniqueness of ids and seqs per workspace (the partitioned table cannot enforce it), and the
-- way from an id to its row: (occurred_at, seq) is the events primary key.
CREATE TABLE event_ids (
  workspace text NOT NULL,
  id text NOT NULL,
  seq bigint NOT NULL,
  occurred_at timestamptz NOT NULL,
  PRIMARY KEY (workspace, id),
  UNIQUE (workspace, seq)
);

-- One row per target, in target order: "target matches any" and entity history are index
-- lookups. Lower-cased copies are made in JavaScript (full Unicode, as the evaluator does).
CREATE TABLE event_targets (
  workspace text NOT NULL,
  seq bigint NOT NULL,
  pos integer NOT NULL,
  occurred_at timestamptz NOT NULL,
  type text NOT NULL,
  id text NOT NULL,
  type_lc text NOT NULL,
  name_lc text,
  PRIMARY KEY (workspace, seq, pos)
);
CREATE INDEX event_targets_by_entity ON event_targets (workspace, type, id, occurred_at, seq);
CREATE INDEX event_targets_by_type ON event_targets (workspace, type_lc, occurred_at, seq);
CREATE INDEX event_targets_by_id ON event_targets (workspace, id, occurred_at, seq);
CREATE INDEX event_targets_by_name ON event_targets (workspace, name_lc, occurred_at, seq)
  WHERE name_lc IS NOT NULL;

-- One row per distinct (type, id, name, email) an actor was seen with ('' = absent): actor
-- searches scan this small table, then reach events through events_by_actor. The counts feed
-- the actors facet.
CREATE TABLE actors (
  workspace text NOT NULL,
  actor_type text NOT NULL,
  actor_id text NOT NULL,
  actor_name text NOT NULL,
  actor_email text NOT NULL,
  id_lc text NOT NULL,
  name_lc text NOT NULL,
  email_lc text NOT NULL,
  events bigint NOT NULL,
  -- seq of the first event seen with this form: the actors facet names an actor by its
  -- most recently first-seen form.
  first_seq bigint NOT NULL,
  PRIMARY KEY (workspace, actor_type, actor_id, actor_name, actor_email)
);
CREATE INDEX actors_by_name ON actors (workspace, name_lc);
CREATE INDEX actors_by_email ON actors (workspace, email_lc);

-- Workspace-wide counts for the dropdowns, kept inside the append transaction.
CREATE TABLE facet_counts (
  workspace text NOT NULL,
  kind text NOT NULL,
  value text NOT NULL,
  events bigint NOT NULL,
  PRIMARY KEY (workspace, kind, value)
);

CREATE FUNCTION trailkeep_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  RAISE EXCEPTION 'trailkeep: % on % is refused: the audit log is append-only', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'insufficient_privilege';
END
$fn$;

CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events
  FOR EACH ROW EXECUTE FUNCTION trailkeep_refuse_change();
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
  FOR EACH STATEMENT EXECUTE FUNCTION trailkeep_refuse_change();
CREATE TRIGGER events_default_no_truncate BEFORE TRUNCATE ON events_default
  FOR EACH STATEMENT EXECUTE FUNCTION trailkeep_refuse_change();
CREATE TRIGGER event_ids_append_only BEFORE UPDATE OR DELETE ON event_ids
  FOR EACH ROW EXECUTE FUNCTION trailkeep_refuse_change();
CREATE TRIGGER event_ids_no_truncate BEFORE TRUNCATE ON event_ids
  FOR EACH STATEMENT EXECUTE FUNCTION trailkeep_refuse_change();
CREATE TRIGGER event_targets_append_only BEFORE UPDATE OR DELETE ON event_targets
  FOR EACH ROW EXECUTE FUNCTION trailkeep_refuse_change();
CREATE TRIGGER event_targets_no_truncate BEFORE TRUNCATE ON event_targets
  FOR EACH STATEMENT EXECUTE FUNCTION trailkeep_refuse_change();

-- Creates the partition of one month unless it exists. SECURITY DEFINER: it runs with the
-- rights of the schema owner, so a service role without DDL rights can still call it.
CREATE FUNCTION trailkeep_ensure_month(month_start date) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $fn$
DECLARE
  part text := 'events_' || to_char(month_start, 'YYYY_MM');
  lo timestamptz := (date_trunc('month', month_start)::timestamp AT TIME ZONE 'UTC');
  hi timestamptz := ((date_trunc('month', month_start) + interval '1 month')::timestamp
                     AT TIME ZONE 'UTC');
BEGIN
  IF to_regclass(quote_ident(part)) IS NOT NULL THEN
    RETURN false;
  END IF;
  PERFORM pg_advisory_xact_lock(${LOCK_NAMESPACE}, ${PARTITION_LOCK});
  IF to_regclass(quote_ident(part)) IS NOT NULL THEN
    RETURN false;
  END IF;
  EXECUTE format('CREATE TABLE %I PARTITION OF events FOR VALUES FROM (%L) TO (%L)', part, lo, hi);
  EXECUTE format('CREATE TRIGGER no_truncate BEFORE TRUNCATE ON %I '
                 'FOR EACH STATEMENT EXECUTE FUNCTION trailkeep_refuse_change()', part);
  RETURN true;
EXCEPTION
  -- Rows of this month already sit in the DEFAULT partition (inserted by hand, or before this
  -- month was created): leave them there; queries read every partition alike.
  WHEN check_violation THEN RETURN false;
  WHEN duplicate_table THEN RETURN false;
END
$fn$;

CREATE TABLE users (
  id text PRIMARY KEY,
  email text NOT NULL,
  email_lc text NOT NULL UNIQUE,
  name text,
  password_hash text NOT NULL,
  created_at text NOT NULL
);

CREATE TABLE memberships (
  workspace text NOT NULL REFERENCES workspaces (id),
  user_id text NOT NULL REFERENCES users (id),
  role text NOT NULL CHECK (role IN ('owner', 'admin', 'auditor', 'member')),
  created_at text NOT NULL,
  PRIMARY KEY (workspace, user_id)
);
CREATE INDEX memberships_by_user ON memberships (user_id);

CREATE TABLE api_keys (
  workspace text NOT NULL REFERENCES workspaces (id),
  id text NOT NULL UNIQUE,
  name text NOT NULL,
  scope text NOT NULL CHECK (scope IN ('ingest', 'read', 'admin')),
  prefix text NOT NULL UNIQUE,
  hash text NOT NULL,
  created_at text NOT NULL,
  created_by text,
  revoked_at text,
  last_used_at text,
  PRIMARY KEY (workspace, id)
);

CREATE TABLE sessions (
  id_hash text PRIMARY KEY,
  user_id text NOT NULL REFERENCES users (id),
  csrf_token text NOT NULL,
  created_at text NOT NULL,
  expires_at text NOT NULL
);

CREATE TABLE secrets (
  name text PRIMARY KEY,
  value text NOT NULL
);
`,
  },
  {
    version: 2,
    name: 'compact event storage',
    // Converts rows stored by version 1 in place. ALTER COLUMN ... TYPE ... USING rewrites the
    // partitions without firing the append-only row triggers, and the conversions are exact:
    // decode(x, 'hex') of lower-case hex is undone by encode(y, 'hex'), which is what the
    // adapter's bytea parser (driver.ts) hands back. The DO block refuses (and the migration
    // rolls back, changing nothing) if any stored value is not lower-case hex of the right
    // length, rather than store it in a form that would read back differently.
    sql: `
DO $check$
BEGIN
  IF EXISTS (SELECT 1 FROM events
              WHERE prev_hash !~ '^[0-9a-f]{64}$' OR hash !~ '^[0-9a-f]{64}$'
                 OR ip_key !~ '^[0-9a-f]{32}$') THEN
    RAISE EXCEPTION 'trailkeep: an event holds a hash or IP key that is not lower-case hex; '
      'it cannot be converted without changing it (run trailkeep verify to find it)';
  END IF;
END
$check$;

-- Hashes and IP keys as bytes: 33 bytes instead of 65 per hash, 17 instead of 33 per IP key
-- (in the row and in events_by_ip). The targets text copy goes: verify rebuilds it from
-- event_targets, which is what target filters actually read.
ALTER TABLE events
  ALTER COLUMN prev_hash TYPE bytea USING decode(prev_hash, 'hex'),
  ALTER COLUMN hash TYPE bytea USING decode(hash, 'hex'),
  ALTER COLUMN ip_key TYPE bytea USING decode(ip_key, 'hex'),
  DROP COLUMN targets;

-- outcome has two values; 'success' is most events, so only failures are indexed. A page of
-- successes is read in time order and checked row by row.
DROP INDEX events_by_outcome;
CREATE INDEX events_by_failure ON events (workspace, occurred_at, seq) WHERE outcome = 'failure';

-- One target index for both entity history (id and type known) and target_id: (id, type)
-- instead of (type, id) serves both. target_type is checked per event through the primary key.
DROP INDEX event_targets_by_type;
DROP INDEX event_targets_by_id;
DROP INDEX event_targets_by_entity;
CREATE INDEX event_targets_by_id ON event_targets (workspace, id, type, occurred_at, seq);
`,
  },
  {
    version: 3,
    name: 'invitations',
    // People join a workspace by accepting an invitation, never by being added outright; the
    // link's token is kept only as its sha256.
    sql: `
CREATE TABLE invitations (
  workspace text NOT NULL REFERENCES workspaces (id),
  id text NOT NULL UNIQUE,
  email text NOT NULL,
  role text NOT NULL CHECK (role IN ('owner', 'admin', 'auditor', 'member')),
  name text,
  token_hash text NOT NULL UNIQUE,
  invited_by text,
  created_at text NOT NULL,
  expires_at text NOT NULL,
  status text NOT NULL CHECK (status IN ('invited', 'accepted', 'declined', 'revoked')),
  closed_at text,
  accepted_by text REFERENCES users (id),
  PRIMARY KEY (workspace, id)
);
CREATE INDEX invitations_open_by_workspace ON invitations (workspace, email)
  WHERE status = 'invited';
CREATE INDEX invitations_open_by_email ON invitations (email) WHERE status = 'invited';
`,
  },
  {
    version: 4,
    name: 'derived rows append-only',
    // Queries read actors and facet_counts as much as events. What a row describes never
    // changes and no row goes away; only the counters grow. One way through for `trailkeep
    // reindex`: the tables' owner (who could drop the triggers anyway) after SET LOCAL
    // trailkeep.reindex = 'on'. A service role may set that too, but is not the owner.
    sql: `
CREATE FUNCTION trailkeep_refuse_derived_change() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  IF current_setting('trailkeep.reindex', true) = 'on'
     AND pg_has_role(current_user, (SELECT relowner FROM pg_class WHERE oid = TG_RELID), 'USAGE')
  THEN
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
  END IF;
  RAISE EXCEPTION 'trailkeep: % on % is refused: the audit log is append-only '
    '(its derived rows are rebuilt only by trailkeep reindex)', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'insufficient_privilege';
END
$fn$;

DROP TRIGGER event_ids_append_only ON event_ids;
DROP TRIGGER event_targets_append_only ON event_targets;
${DERIVED_GUARDS.filter((guard) => MIGRATION_4_GUARDS.includes(guard.name))
  .map((guard) => `${guard.sql};`)
  .join('\n')}
`,
  },
  {
    version: 5,
    name: 'merkle tree',
    // The RFC 9162 tree over each workspace's chain hashes (src/store/tree.ts): the node hashes
    // at levels 0, 8, 16 …, which are the C2SP tiles' contents, one row per node. Its own table
    // so that pruning event bodies never touches it; written in the append transaction under
    // the head lock; the backfill builds the tree of every existing workspace from its stored
    // chain hashes.
    sql: `
CREATE TABLE tree_nodes (
  workspace text NOT NULL,
  level smallint NOT NULL,
  idx bigint NOT NULL,
  hash bytea NOT NULL,
  PRIMARY KEY (workspace, level, idx)
);
CREATE TRIGGER tree_nodes_append_only BEFORE UPDATE OR DELETE ON tree_nodes
  FOR EACH ROW EXECUTE FUNCTION trailkeep_refuse_change();
CREATE TRIGGER tree_nodes_no_truncate BEFORE TRUNCATE ON tree_nodes
  FOR EACH STATEMENT EXECUTE FUNCTION trailkeep_refuse_change();
`,
    backfill: backfillTree,
  },
  {
    version: 6,
    name: 'tree rebuilt by reindex',
    // The tree is derived from the chain hashes like the rows of migration 4, and `trailkeep
    // reindex` rebuilds it: its guard takes the same single way through (the tables' owner,
    // after SET LOCAL trailkeep.reindex = 'on'); everyone else is refused as before.
    sql: `
DROP TRIGGER tree_nodes_append_only ON tree_nodes;
${DERIVED_GUARDS.find((guard) => guard.name === 'tree_nodes_append_only')?.sql ?? ''};
`,
  },
  {
    version: 7,
    name: 'retention and legal holds',
    // Off by default: no policy row, nothing is pruned. The one way an events row goes is
    // trailkeep_prune (SECURITY DEFINER, so it runs as the tables' owner): it re-checks the
    // policy, the cut-off, the head and the open holds for every seq it is given, keeps seq,
    // prev_hash and hash in a tombstone, takes the derived rows off, and records the run. The
    // guards let a row go only for the owner inside it (trailkeep.prune set for the
    // transaction); a service role may set the flag but is not the owner, so its own DELETE
    // stays refused. tree_nodes is never touched. docs/postgres.md and docs/storage.md.
    sql: `
CREATE TABLE retention_policies (
  workspace text PRIMARY KEY REFERENCES workspaces (id),
  days integer NOT NULL CHECK (days >= 1),
  set_at text NOT NULL,
  set_by text
);
CREATE TABLE legal_holds (
  workspace text NOT NULL REFERENCES workspaces (id),
  id text NOT NULL UNIQUE,
  target_id text,
  reason text NOT NULL,
  created_by text,
  created_at text NOT NULL,
  released_at text,
  released_by text,
  release_reason text,
  PRIMARY KEY (workspace, id)
);
CREATE TABLE prune_runs (
  workspace text NOT NULL REFERENCES workspaces (id),
  run text NOT NULL,
  at text NOT NULL,
  cutoff text NOT NULL,
  policy_days integer NOT NULL,
  ranges text NOT NULL,
  count bigint NOT NULL,
  holds text NOT NULL,
  PRIMARY KEY (workspace, run)
);
CREATE TABLE pruned_events (
  workspace text NOT NULL,
  seq bigint NOT NULL,
  prev_hash bytea NOT NULL,
  hash bytea NOT NULL,
  run text NOT NULL,
  PRIMARY KEY (workspace, seq)
);

CREATE OR REPLACE FUNCTION trailkeep_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  IF TG_LEVEL = 'ROW' AND TG_OP = 'DELETE'
     AND TG_TABLE_NAME NOT IN ('pruned_events', 'prune_runs', 'tree_nodes')
     AND current_setting('trailkeep.prune', true) = 'on'
     AND pg_has_role(current_user, (SELECT relowner FROM pg_class WHERE oid = TG_RELID), 'USAGE')
  THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'trailkeep: % on % is refused: the audit log is append-only', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'insufficient_privilege';
END
$fn$;

CREATE OR REPLACE FUNCTION trailkeep_refuse_derived_change() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  IF (current_setting('trailkeep.reindex', true) = 'on'
      OR (current_setting('trailkeep.prune', true) = 'on' AND TG_TABLE_NAME <> 'tree_nodes'))
     AND pg_has_role(current_user, (SELECT relowner FROM pg_class WHERE oid = TG_RELID), 'USAGE')
  THEN
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
  END IF;
  RAISE EXCEPTION 'trailkeep: % on % is refused: the audit log is append-only '
    '(its derived rows are rebuilt only by trailkeep reindex)', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'insufficient_privilege';
END
$fn$;

CREATE TRIGGER pruned_events_append_only BEFORE UPDATE OR DELETE ON pruned_events
  FOR EACH ROW EXECUTE FUNCTION trailkeep_refuse_change();
CREATE TRIGGER pruned_events_no_truncate BEFORE TRUNCATE ON pruned_events
  FOR EACH STATEMENT EXECUTE FUNCTION trailkeep_refuse_change();
CREATE TRIGGER prune_runs_append_only BEFORE UPDATE OR DELETE ON prune_runs
  FOR EACH ROW EXECUTE FUNCTION trailkeep_refuse_change();
CREATE TRIGGER prune_runs_no_truncate BEFORE TRUNCATE ON prune_runs
  FOR EACH STATEMENT EXECUTE FUNCTION trailkeep_refuse_change();

-- A hold is never deleted and is released once: only its release columns, only while open.
CREATE FUNCTION trailkeep_hold_history() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  IF TG_OP = 'UPDATE' AND OLD.released_at IS NULL AND NEW.released_at IS NOT NULL
     AND (NEW.workspace, NEW.id, NEW.reason, NEW.created_at) = (OLD.workspace, OLD.id, OLD.reason, OLD.created_at)
     AND NEW.target_id IS NOT DISTINCT FROM OLD.target_id
     AND NEW.created_by IS NOT DISTINCT FROM OLD.created_by
  THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION 'trailkeep: % on legal_holds is refused: a hold is never deleted, and only released once', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END
$fn$;
CREATE TRIGGER legal_holds_history BEFORE UPDATE OR DELETE ON legal_holds
  FOR EACH ROW EXECUTE FUNCTION trailkeep_hold_history();
CREATE TRIGGER legal_holds_no_truncate BEFORE TRUNCATE ON legal_holds
  FOR EACH STATEMENT EXECUTE FUNCTION trailkeep_refuse_change();

CREATE FUNCTION trailkeep_prune(p_workspace text, p_seqs bigint[], p_run text, p_at text,
  p_cutoff text, p_days integer, p_ranges text, p_holds text) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $fn$
DECLARE
  stored_days integer;
  bad bigint;
  pruned bigint;
BEGIN
  SELECT days INTO stored_days FROM retention_policies WHERE workspace = p_workspace;
  -- An hour of slack: the service's clock plans the cut-off, the database's checks it.
  IF stored_days IS DISTINCT FROM p_days
     OR p_cutoff::timestamptz > now() - make_interval(days => stored_days) + interval '1 hour' THEN
    RAISE EXCEPTION 'trailkeep: pruning % refused: its retention policy does not allow a cut-off of %',
      p_workspace, p_cutoff USING ERRCODE = 'insufficient_privilege';
  END IF;
  -- json, not jsonb: a body may hold U+0000, which jsonb cannot.
  SELECT s INTO bad FROM unnest(p_seqs) AS s
   WHERE s >= (SELECT seq FROM workspace_heads WHERE workspace = p_workspace)
      OR NOT EXISTS (SELECT 1 FROM events e WHERE e.workspace = p_workspace AND e.seq = s
                        AND (e.body::json->>'received_at')::timestamptz < p_cutoff::timestamptz)
      OR EXISTS (SELECT 1 FROM legal_holds h WHERE h.workspace = p_workspace AND h.released_at IS NULL
                   AND (h.target_id IS NULL OR h.target_id IN
                        (SELECT t.id FROM event_targets t WHERE t.workspace = p_workspace AND t.seq = s)))
   LIMIT 1;
  IF bad IS NOT NULL THEN
    RAISE EXCEPTION 'trailkeep: pruning seq % of % refused: it is the newest event, not older than the cut-off, or held',
      bad, p_workspace USING ERRCODE = 'insufficient_privilege';
  END IF;
  PERFORM set_config('trailkeep.prune', 'on', true);
  INSERT INTO pruned_events (workspace, seq, prev_hash, hash, run)
    SELECT workspace, seq, prev_hash, hash, p_run FROM events
     WHERE workspace = p_workspace AND seq = ANY (p_seqs);
  GET DIAGNOSTICS pruned = ROW_COUNT;
  UPDATE facet_counts f SET events = f.events - d.n FROM (
      SELECT 'action' AS kind, action AS value, count(*) AS n FROM events
       WHERE workspace = p_workspace AND seq = ANY (p_seqs) GROUP BY action
      UNION ALL SELECT 'category', category, count(*) FROM events
       WHERE workspace = p_workspace AND seq = ANY (p_seqs) GROUP BY category
      UNION ALL SELECT 'actor_type', actor_type, count(*) FROM events
       WHERE workspace = p_workspace AND seq = ANY (p_seqs) GROUP BY actor_type
      UNION ALL SELECT 'outcome', outcome, count(*) FROM events
       WHERE workspace = p_workspace AND seq = ANY (p_seqs) GROUP BY outcome
      UNION ALL SELECT 'target_type', type, count(DISTINCT seq) FROM event_targets
       WHERE workspace = p_workspace AND seq = ANY (p_seqs) GROUP BY type) d
   WHERE f.workspace = p_workspace AND f.kind = d.kind AND f.value = d.value;
  UPDATE actors a SET events = a.events - d.n FROM (
      SELECT actor_type, actor_id, coalesce(actor_name, '') AS actor_name,
             coalesce(actor_email, '') AS actor_email, count(*) AS n
        FROM events WHERE workspace = p_workspace AND seq = ANY (p_seqs) GROUP BY 1, 2, 3, 4) d
   WHERE a.workspace = p_workspace AND (a.actor_type, a.actor_id, a.actor_name, a.actor_email)
         = (d.actor_type, d.actor_id, d.actor_name, d.actor_email);
  DELETE FROM event_targets WHERE workspace = p_workspace AND seq = ANY (p_seqs);
  DELETE FROM event_ids WHERE workspace = p_workspace AND seq = ANY (p_seqs);
  DELETE FROM events WHERE workspace = p_workspace AND seq = ANY (p_seqs);
  DELETE FROM facet_counts WHERE workspace = p_workspace AND events <= 0;
  DELETE FROM actors WHERE workspace = p_workspace AND events <= 0;
  UPDATE actors a SET first_seq = (
      SELECT min(e.seq) FROM events e
       WHERE e.workspace = a.workspace AND e.actor_type = a.actor_type AND e.actor_id = a.actor_id
         AND coalesce(e.actor_name, '') = a.actor_name AND coalesce(e.actor_email, '') = a.actor_email)
   WHERE a.workspace = p_workspace AND a.first_seq = ANY (p_seqs);
  IF pruned > 0 THEN
    INSERT INTO prune_runs (workspace, run, at, cutoff, policy_days, ranges, count, holds)
      VALUES (p_workspace, p_run, p_at, p_cutoff, p_days, p_ranges, pruned, p_holds);
  END IF;
  PERFORM set_config('trailkeep.prune', 'off', true);
  RETURN pruned;
END
$fn$;
REVOKE ALL ON FUNCTION trailkeep_prune(text, bigint[], text, text, text, integer, text, text) FROM PUBLIC;
`,
  },
  {
    version: 8,
    name: 'witnesses',
    // A workspace's witnesses and what each last cosigned (src/store/witnesses.ts): owner
    // configuration, so rows change and go; the log itself is never read or written here.
    sql: `
CREATE TABLE witnesses (
  workspace text NOT NULL REFERENCES workspaces (id),
  name text NOT NULL,
  url text NOT NULL,
  vkey text NOT NULL,
  created_at text NOT NULL,
  cosigned_size bigint,
  cosigned_root text,
  cosignature text,
  cosigned_at text,
  last_error text,
  last_error_at text,
  last_attempt_at text,
  PRIMARY KEY (workspace, name)
);
`,
  },
];

export const LATEST_VERSION = MIGRATIONS.reduce((max, m) => Math.max(max, m.version), 0);

const CREATE_LEDGER = `CREATE TABLE IF NOT EXISTS trailkeep_migrations (
  version integer PRIMARY KEY,
  name text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
)`;

/** The schema version recorded in the database, 0 for an empty database. */
export async function recordedVersion(db: Queryable): Promise<number> {
  const ledger = await db.query<{ present: boolean }>(
    `SELECT to_regclass('trailkeep_migrations') IS NOT NULL AS present`,
  );
  if (ledger.rows[0]?.present !== true) return 0;
  const result = await db.query<{ version: number | null }>(
    'SELECT max(version) AS version FROM trailkeep_migrations',
  );
  return result.rows[0]?.version ?? 0;
}

export function refuseNewerSchema(version: number): void {
  if (version > LATEST_VERSION) {
    throw new TrailkeepError(
      'schema_too_new',
      `the database schema is at version ${version} but this Trailkeep knows only up to ` +
        `version ${LATEST_VERSION}; upgrade Trailkeep before opening this database`,
      { extra: { database_version: version, code_version: LATEST_VERSION } },
    );
  }
}

/**
 * Brings the schema up to date. Several processes may call it at once: a session advisory lock
 * lets one migrate while the others wait, then find nothing left to do. An up-to-date database
 * takes no lock and needs no DDL right (a least-privilege service role can open it). Finally the
 * partitions around `now` are created, which a least-privilege role may do through
 * trailkeep_ensure_month.
 */
export async function migrateSchema(
  pool: Pool,
  partitions: PartitionKeeper,
  now: Date = new Date(),
): Promise<void> {
  const seen = await recordedVersion(pool);
  refuseNewerSchema(seen);
  if (seen < LATEST_VERSION) await applyPending(pool);
  await partitions.ensureMonths(pool, monthsAround(now, MONTHS_BEFORE, MONTHS_AFTER));
}

async function applyPending(pool: Pool): Promise<void> {
  const client = await pool.connect();
  try {
    // Index builds on a large log may outlast the service's statement timeout.
    await client.query('SET statement_timeout = 0');
    await client.query('SELECT pg_advisory_lock($1, $2)', [LOCK_NAMESPACE, MIGRATION_LOCK]);
    try {
      await client.query(CREATE_LEDGER);
      const current = await recordedVersion(client);
      refuseNewerSchema(current);
      for (const migration of MIGRATIONS) {
        if (migration.version <= current) continue;
        await client.query('BEGIN');
        try {
          await client.query(migration.sql);
          await migration.backfill?.(client);
          await client.query('INSERT INTO trailkeep_migrations (version, name) VALUES ($1, $2)', [
            migration.version,
            migration.name,
          ]);
          await client.query('COMMIT');
        } catch (error) {
          await client.query('ROLLBACK');
          throw error;
        }
      }
    } finally {
      await client.query('SELECT pg_advisory_unlock($1, $2)', [LOCK_NAMESPACE, MIGRATION_LOCK]);
    }
  } finally {
    // The session carried a changed statement_timeout: never hand it back to the pool.
    client.release(true);
  }
}
