/**
 * The SQLite schema as an ordered list of migrations. A migration is never edited once released:
 * changes go into a new one with the next version. docs/storage.md explains every table and
 * index.
 */
import type { SqliteDatabase } from './driver.js';
import { backfillTree } from './tree.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
  /** Runs after `sql` in the same transaction, for data SQL alone cannot compute. */
  backfill?: (db: SqliteDatabase) => void;
}

const APPEND_ONLY = `'trailkeep: events are append-only'`;
const TREE_APPEND_ONLY = `'trailkeep: the Merkle tree is append-only'`;
const DERIVED_APPEND_ONLY = `'trailkeep: derived rows are append-only (trailkeep reindex rebuilds them)'`;

/** A trigger of the schema, by name, so `reindex` can put it back exactly. */
export interface TriggerDefinition {
  name: string;
  sql: string;
}

/** The guards of migration 1, as it created them. */
const EVENTS_GUARDS: readonly TriggerDefinition[] = [
  {
    name: 'events_no_update',
    sql: `CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, ${APPEND_ONLY}); END`,
  },
  {
    name: 'events_no_delete',
    sql: `CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, ${APPEND_ONLY}); END`,
  },
  {
    name: 'event_targets_no_update',
    sql: `CREATE TRIGGER event_targets_no_update BEFORE UPDATE ON event_targets
BEGIN SELECT RAISE(ABORT, ${APPEND_ONLY}); END`,
  },
  {
    name: 'event_targets_no_delete',
    sql: `CREATE TRIGGER event_targets_no_delete BEFORE DELETE ON event_targets
BEGIN SELECT RAISE(ABORT, ${APPEND_ONLY}); END`,
  },
];

/**
 * Migration 4's guards (released: never edit). An actors row and a facet counter never change
 * what they describe; only their counters grow with appends, and verify recomputes those.
 */
const COUNTER_TABLE_GUARDS: readonly TriggerDefinition[] = [
  {
    name: 'actors_no_update',
    sql: `CREATE TRIGGER actors_no_update
BEFORE UPDATE OF akey, ws, type, id, name, email, id_lc, name_lc, email_lc ON actors
BEGIN SELECT RAISE(ABORT, ${DERIVED_APPEND_ONLY}); END`,
  },
  {
    name: 'actors_no_delete',
    sql: `CREATE TRIGGER actors_no_delete BEFORE DELETE ON actors
BEGIN SELECT RAISE(ABORT, ${DERIVED_APPEND_ONLY}); END`,
  },
  {
    name: 'facet_counts_no_update',
    sql: `CREATE TRIGGER facet_counts_no_update BEFORE UPDATE OF ws, kind, value ON facet_counts
BEGIN SELECT RAISE(ABORT, ${DERIVED_APPEND_ONLY}); END`,
  },
  {
    name: 'facet_counts_no_delete',
    sql: `CREATE TRIGGER facet_counts_no_delete BEFORE DELETE ON facet_counts
BEGIN SELECT RAISE(ABORT, ${DERIVED_APPEND_ONLY}); END`,
  },
];

/** Migration 2's trigger that keeps the actor search index in step with the actors. */
export const ACTOR_SEARCH_TRIGGER: TriggerDefinition = {
  name: 'actors_search_insert',
  sql: `CREATE TRIGGER actors_search_insert AFTER INSERT ON actors BEGIN
  INSERT INTO actors_search (rowid, id_lc, name_lc, email_lc)
  VALUES (new.akey, new.id_lc, new.name_lc, new.email_lc);
END`,
};

/** The guards of migration 5, as it created them. */
const TREE_GUARDS: readonly TriggerDefinition[] = ['update', 'delete'].map((op) => ({
  name: `tree_nodes_no_${op}`,
  sql: `CREATE TRIGGER tree_nodes_no_${op} BEFORE ${op.toUpperCase()} ON tree_nodes
BEGIN SELECT RAISE(ABORT, ${TREE_APPEND_ONLY}); END`,
}));

const PRUNE_RECORD = `'trailkeep: tombstones and pruning runs are append-only'`;
const HOLD_HISTORY = `'trailkeep: a legal hold is never deleted, and only released once'`;

/**
 * The guards of migration 6, as it created them. A tombstone and the run that made it are as
 * permanent as the event they replace; a hold is closed by filling its release columns once.
 */
const RETENTION_GUARDS: readonly TriggerDefinition[] = [
  ...['pruned_events', 'prune_runs'].flatMap((table) =>
    ['update', 'delete'].map((op) => ({
      name: `${table}_no_${op}`,
      sql: `CREATE TRIGGER ${table}_no_${op} BEFORE ${op.toUpperCase()} ON ${table}
BEGIN SELECT RAISE(ABORT, ${PRUNE_RECORD}); END`,
    })),
  ),
  {
    name: 'legal_holds_no_delete',
    sql: `CREATE TRIGGER legal_holds_no_delete BEFORE DELETE ON legal_holds
BEGIN SELECT RAISE(ABORT, ${HOLD_HISTORY}); END`,
  },
  {
    name: 'legal_holds_release_once',
    sql: `CREATE TRIGGER legal_holds_release_once BEFORE UPDATE ON legal_holds
WHEN old.released_at IS NOT NULL OR new.released_at IS NULL OR new.id IS NOT old.id
  OR new.ws IS NOT old.ws OR new.target_id IS NOT old.target_id OR new.reason IS NOT old.reason
  OR new.created_by IS NOT old.created_by OR new.created_at IS NOT old.created_at
BEGIN SELECT RAISE(ABORT, ${HOLD_HISTORY}); END`,
  },
];

/** Every append-only guard of the current schema. */
export const APPEND_ONLY_TRIGGERS: readonly TriggerDefinition[] = [
  ...EVENTS_GUARDS,
  ...COUNTER_TABLE_GUARDS,
  ...TREE_GUARDS,
  ...RETENTION_GUARDS,
];

/**
 * The guards pruning lifts inside its own transaction (src/store/sqlite/retention.ts) and puts
 * back before committing: removing an event row, its target rows, an actors row and a facet
 * counter whose count reached zero.
 */
export const PRUNE_LIFTS: readonly TriggerDefinition[] = APPEND_ONLY_TRIGGERS.filter((t) =>
  [
    'events_no_delete',
    'event_targets_no_delete',
    'actors_no_delete',
    'facet_counts_no_delete',
  ].includes(t.name),
);

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'initial schema',
    sql: `
CREATE TABLE workspaces (
  wsk INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  created_at TEXT NOT NULL,
  settings TEXT NOT NULL
) STRICT;

-- One row per distinct (type, id, name, email) an actor was seen with: actor searches scan this
-- small table, never the events. Lower-cased copies are made in JavaScript (full Unicode).
CREATE TABLE actors (
  akey INTEGER PRIMARY KEY,
  ws INTEGER NOT NULL REFERENCES workspaces (wsk),
  type TEXT NOT NULL,
  id TEXT NOT NULL,
  name TEXT,
  email TEXT,
  id_lc TEXT NOT NULL,
  name_lc TEXT,
  email_lc TEXT,
  event_count INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX actors_by_id ON actors (ws, id);
CREATE INDEX actors_by_name ON actors (ws, name_lc) WHERE name_lc IS NOT NULL;
CREATE INDEX actors_by_email ON actors (ws, email_lc) WHERE email_lc IS NOT NULL;

-- body is the exact canonical JSON that was hashed; the other columns are indexed copies of
-- body fields (see src/core/columns.ts) that verify checks against it. No foreign keys on the
-- two hot tables: the append transaction writes them consistently, and the checks would cost
-- a lookup per row on the ingest path.
CREATE TABLE events (
  eid INTEGER PRIMARY KEY,
  ws INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  id TEXT NOT NULL,
  occurred_ms INTEGER NOT NULL,
  action TEXT NOT NULL COLLATE NOCASE,
  category TEXT NOT NULL COLLATE NOCASE,
  outcome TEXT NOT NULL,
  operation TEXT NOT NULL,
  actor_type TEXT NOT NULL,
  actor_key INTEGER NOT NULL,
  ip BLOB,
  prev_hash BLOB NOT NULL,
  hash BLOB NOT NULL,
  body TEXT NOT NULL
) STRICT;
CREATE UNIQUE INDEX events_by_seq ON events (ws, seq);
CREATE UNIQUE INDEX events_by_id ON events (ws, id);
CREATE INDEX events_by_time ON events (ws, occurred_ms, seq);
CREATE INDEX events_by_action ON events (ws, action, occurred_ms, seq);
CREATE INDEX events_by_category ON events (ws, category, occurred_ms, seq);
CREATE INDEX events_by_actor ON events (ws, actor_key, occurred_ms, seq);
CREATE INDEX events_by_actor_type ON events (ws, actor_type, occurred_ms, seq);
CREATE INDEX events_by_outcome ON events (ws, outcome, occurred_ms, seq);
CREATE INDEX events_by_operation ON events (ws, operation, occurred_ms, seq);
CREATE INDEX events_by_ip ON events (ws, ip, occurred_ms, seq) WHERE ip IS NOT NULL;

-- One row per target of an event, in target order, so "target matches any" is an index lookup.
CREATE TABLE event_targets (
  eid INTEGER NOT NULL,
  pos INTEGER NOT NULL,
  ws INTEGER NOT NULL,
  type TEXT NOT NULL COLLATE NOCASE,
  id TEXT NOT NULL,
  name_lc TEXT,
  occurred_ms INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  PRIMARY KEY (eid, pos)
) STRICT, WITHOUT ROWID;
CREATE INDEX event_targets_by_id ON event_targets (ws, id, occurred_ms, seq);
CREATE INDEX event_targets_by_name ON event_targets (ws, name_lc, occurred_ms, seq)
  WHERE name_lc IS NOT NULL;

-- Workspace-wide counts for the dropdowns, kept inside the append transaction.
CREATE TABLE facet_counts (
  ws INTEGER NOT NULL REFERENCES workspaces (wsk),
  kind TEXT NOT NULL,
  value TEXT NOT NULL,
  n INTEGER NOT NULL,
  PRIMARY KEY (ws, kind, value)
) STRICT, WITHOUT ROWID;

CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, ${APPEND_ONLY}); END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, ${APPEND_ONLY}); END;
CREATE TRIGGER event_targets_no_update BEFORE UPDATE ON event_targets
BEGIN SELECT RAISE(ABORT, ${APPEND_ONLY}); END;
CREATE TRIGGER event_targets_no_delete BEFORE DELETE ON event_targets
BEGIN SELECT RAISE(ABORT, ${APPEND_ONLY}); END;

CREATE TABLE users (
  id TEXT PRIMARY KEY,
  email TEXT NOT NULL UNIQUE COLLATE NOCASE,
  name TEXT,
  password_hash TEXT NOT NULL,
  created_at TEXT NOT NULL
) STRICT;

CREATE TABLE memberships (
  ws INTEGER NOT NULL REFERENCES workspaces (wsk),
  user_id TEXT NOT NULL REFERENCES users (id),
  role TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'auditor', 'member')),
  created_at TEXT NOT NULL,
  PRIMARY KEY (ws, user_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX memberships_by_user ON memberships (user_id);

CREATE TABLE api_keys (
  id TEXT PRIMARY KEY,
  ws INTEGER NOT NULL REFERENCES workspaces (wsk),
  name TEXT NOT NULL,
  scope TEXT NOT NULL CHECK (scope IN ('ingest', 'read', 'admin')),
  prefix TEXT NOT NULL UNIQUE,
  hash TEXT NOT NULL,
  created_at TEXT NOT NULL,
  created_by TEXT,
  revoked_at TEXT,
  last_used_at TEXT
) STRICT;
CREATE INDEX api_keys_by_workspace ON api_keys (ws);

CREATE TABLE sessions (
  id_hash TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users (id),
  csrf_token TEXT NOT NULL,
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL
) STRICT;

CREATE TABLE secrets (
  name TEXT PRIMARY KEY,
  value TEXT NOT NULL
) STRICT;
`,
  },
  {
    version: 2,
    name: 'actor substring index',
    // Actor searches (actor:alex@) look for a substring in every actor row of a workspace, and
    // actor rows grow with the log. A trigram index over the lower-cased texts answers a term
    // of three characters or more from the index; the exact instr() check still runs on the
    // rows it finds. External content: the text stays only in actors, whose rows are never
    // updated in these columns.
    sql: `
CREATE VIRTUAL TABLE actors_search USING fts5(
  id_lc, name_lc, email_lc,
  content = 'actors', content_rowid = 'akey', tokenize = 'trigram case_sensitive 1'
);
INSERT INTO actors_search (actors_search) VALUES ('rebuild');
CREATE TRIGGER actors_search_insert AFTER INSERT ON actors BEGIN
  INSERT INTO actors_search (rowid, id_lc, name_lc, email_lc)
  VALUES (new.akey, new.id_lc, new.name_lc, new.email_lc);
END;
`,
  },
  {
    version: 3,
    name: 'invitations',
    // People join a workspace by accepting an invitation, never by being added outright; the
    // link's token is kept only as its sha256. Open invitations are found by workspace and by
    // email (a person signing in sees theirs).
    sql: `
CREATE TABLE invitations (
  id TEXT PRIMARY KEY,
  ws INTEGER NOT NULL REFERENCES workspaces (wsk),
  email TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'auditor', 'member')),
  name TEXT,
  token_hash TEXT NOT NULL UNIQUE,
  invited_by TEXT,
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('invited', 'accepted', 'declined', 'revoked')),
  closed_at TEXT,
  accepted_by TEXT REFERENCES users (id)
) STRICT;
CREATE INDEX invitations_open_by_workspace ON invitations (ws, email) WHERE status = 'invited';
CREATE INDEX invitations_open_by_email ON invitations (email) WHERE status = 'invited';
`,
  },
  {
    version: 4,
    name: 'derived rows append-only',
    // Queries read actors and facet_counts as much as events: refuse any change to what a row
    // describes, and any removal, as event_targets already does. Counters still grow in place.
    sql: COUNTER_TABLE_GUARDS.map((trigger) => `${trigger.sql};`).join('\n'),
  },
  {
    version: 5,
    name: 'merkle tree',
    // The RFC 9162 tree over each workspace's chain hashes (src/store/tree.ts): the node hashes
    // at levels 0, 8, 16 …, which are the C2SP tiles' contents, one row per node. Its own table
    // so that pruning event bodies never touches it; written in the append transaction; the
    // backfill builds the tree of every existing workspace from its stored chain hashes.
    sql: `
CREATE TABLE tree_nodes (
  ws INTEGER NOT NULL,
  level INTEGER NOT NULL,
  idx INTEGER NOT NULL,
  hash BLOB NOT NULL,
  PRIMARY KEY (ws, level, idx)
) STRICT, WITHOUT ROWID;
CREATE TRIGGER tree_nodes_no_update BEFORE UPDATE ON tree_nodes
BEGIN SELECT RAISE(ABORT, ${TREE_APPEND_ONLY}); END;
CREATE TRIGGER tree_nodes_no_delete BEFORE DELETE ON tree_nodes
BEGIN SELECT RAISE(ABORT, ${TREE_APPEND_ONLY}); END;
`,
    backfill: backfillTree,
  },
  {
    version: 6,
    name: 'retention and legal holds',
    // Off by default: no policy row, nothing is pruned. Pruning replaces an events row by a
    // tombstone that keeps seq, prev_hash and hash (the chain links across it, tree_nodes is
    // untouched) and records its run; docs/storage.md describes each table.
    sql: `
CREATE TABLE retention_policies (
  ws INTEGER PRIMARY KEY REFERENCES workspaces (wsk),
  days INTEGER NOT NULL CHECK (days >= 1),
  set_at TEXT NOT NULL,
  set_by TEXT
) STRICT;
CREATE TABLE legal_holds (
  id TEXT PRIMARY KEY,
  ws INTEGER NOT NULL REFERENCES workspaces (wsk),
  target_id TEXT,
  reason TEXT NOT NULL,
  created_by TEXT,
  created_at TEXT NOT NULL,
  released_at TEXT,
  released_by TEXT,
  release_reason TEXT
) STRICT;
CREATE INDEX legal_holds_by_workspace ON legal_holds (ws, created_at);
CREATE TABLE prune_runs (
  ws INTEGER NOT NULL REFERENCES workspaces (wsk),
  run TEXT NOT NULL,
  at TEXT NOT NULL,
  cutoff TEXT NOT NULL,
  policy_days INTEGER NOT NULL,
  ranges TEXT NOT NULL,
  count INTEGER NOT NULL,
  holds TEXT NOT NULL,
  PRIMARY KEY (ws, run)
) STRICT;
CREATE TABLE pruned_events (
  ws INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  prev_hash BLOB NOT NULL,
  hash BLOB NOT NULL,
  run TEXT NOT NULL,
  PRIMARY KEY (ws, seq)
) STRICT, WITHOUT ROWID;
${RETENTION_GUARDS.map((trigger) => `${trigger.sql};`).join('\n')}
`,
  },
  {
    version: 7,
    name: 'witnesses',
    // A workspace's witnesses and what each last cosigned (src/store/witnesses.ts): owner
    // configuration, so rows change and go; the log itself is never read or written here.
    sql: `
CREATE TABLE witnesses (
  ws INTEGER NOT NULL REFERENCES workspaces (wsk),
  name TEXT NOT NULL,
  url TEXT NOT NULL,
  vkey TEXT NOT NULL,
  created_at TEXT NOT NULL,
  cosigned_size INTEGER,
  cosigned_root TEXT,
  cosignature TEXT,
  cosigned_at TEXT,
  last_error TEXT,
  last_error_at TEXT,
  last_attempt_at TEXT,
  PRIMARY KEY (ws, name)
) STRICT;
`,
  },
];

/** The version that added the retention tables (tombstones among them). */
export const RETENTION_VERSION = 6;

/** The version that added `actors_search`. */
export const ACTOR_INDEX_VERSION = 2;

export const LATEST_VERSION = MIGRATIONS.reduce((max, m) => Math.max(max, m.version), 0);
