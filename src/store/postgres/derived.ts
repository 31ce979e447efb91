/**
 * PostgreSQL's derived rows (docs/integrity.md, "Derived rows"): how appends write them, the
 * model verify compares them with, the end of a verification walk, and `reindex`.
 *
 * Rows: `event_ids` (id -> seq, occurred_at), `event_targets`, `actors` (one per actor form,
 * '' for an absent name or email), `facet_counts`, and the `metadata` jsonb copy in events.
 */
import {
  actorIndex,
  EventRowOf,
  facetKey,
  targetNameLc,
  facetValues,
  targetIndex,
  type DerivedModel,
  type DerivedRow,
} from '../../core/derived.js';
import type { HashedBody } from '../../core/chain.js';
import { TrailkeepError } from '../../core/errors.js';
import { EMPTY_HEAD, type Actor } from '../../core/event.js';
import { MerkleFrontier } from '../../core/tlog/merkle.js';
import { ChainVerifier } from '../../core/verify.js';
import type { FrontierCache } from '../tree.js';
import type { ReindexResult, VerifyTail } from '../store.js';
import { actorKey, chainBatch, CHAIN_BATCH } from './chain.js';
import { inTransaction, sqlState, type Pool, type Queryable } from './driver.js';
import { jsonbText } from './jsonb-text.js';
import { runRecords } from './retention.js';
import { growStoredTree } from './tree.js';

/** jsonb cannot hold U+0000; such metadata is left out of the meta.KEY index (body keeps it). */
export function metadataJson(metadata: unknown): string | null {
  const text = JSON.stringify(metadata ?? null);
  return text.includes('\\u0000') ? null : text;
}

/** An actor as its actors row holds it: '' stands for an absent name or email. */
export function actorForm(actor: Actor): {
  actor_type: string;
  actor_id: string;
  actor_name: string;
  actor_email: string;
  id_lc: string;
  name_lc: string;
  email_lc: string;
} {
  const index = actorIndex(actor);
  return {
    actor_type: index.type,
    actor_id: index.id,
    actor_name: index.name ?? '',
    actor_email: index.email ?? '',
    id_lc: index.id_lc,
    name_lc: index.name_lc ?? '',
    email_lc: index.email_lc ?? '',
  };
}

export const postgresModel: DerivedModel = {
  eventRows(event) {
    // NULL exactly where metadataJson is: both escape U+0000 and backslash alike.
    const text = jsonbText(event.metadata ?? null);
    const metadata = text.includes('\\u0000') ? null : text;
    return [
      new EventRowOf('events', { metadata }, 'seq', event.seq),
      new EventRowOf(
        'event_ids',
        { id: event.id, occurred_at: event.occurred_at },
        'seq',
        event.seq,
      ),
      ...event.targets.map(
        (target, pos) =>
          new EventRowOf(
            'event_targets',
            {
              pos,
              occurred_at: event.occurred_at,
              type: target.type,
              id: target.id,
              type_lc: target.type.toLowerCase(),
              name_lc: targetNameLc(target),
            },
            'seq',
            event.seq,
            pos,
          ),
      ),
    ];
  },
  actorRow(key, first, tally) {
    return {
      table: 'actors',
      key,
      columns: { ...actorForm(first.actor), events: tally.events, first_seq: tally.firstSeq },
    };
  },
  facetRow(kind, value, events) {
    return { table: 'facet_counts', key: facetKey(kind, value), columns: { events } };
  },
};

// ---------------------------------------------------------------------------------------------
// Writing: the append path and reindex share these.

export async function insertEventIds(
  tx: Queryable,
  workspace: string,
  events: readonly HashedBody[],
): Promise<void> {
  await tx.query(
    `INSERT INTO event_ids (workspace, id, seq, occurred_at)
     SELECT $1, * FROM unnest($2::text[], $3::bigint[], $4::timestamptz[])`,
    [
      workspace,
      events.map((e) => e.id),
      events.map((e) => e.seq),
      events.map((e) => e.occurred_at),
    ],
  );
}

export async function insertTargets(
  tx: Queryable,
  workspace: string,
  events: readonly HashedBody[],
): Promise<number> {
  const targets = events.flatMap((event) =>
    targetIndex(event).map((target) => ({ event, target })),
  );
  if (targets.length === 0) return 0;
  await tx.query(
    `INSERT INTO event_targets (workspace, seq, pos, occurred_at, type, id, type_lc, name_lc)
     SELECT $1, * FROM unnest($2::bigint[], $3::int[], $4::timestamptz[], $5::text[],
       $6::text[], $7::text[], $8::text[])`,
    [
      workspace,
      targets.map((t) => t.event.seq),
      targets.map((t) => t.target.pos),
      targets.map((t) => t.event.occurred_at),
      targets.map((t) => t.target.type),
      targets.map((t) => t.target.id),
      targets.map((t) => t.target.type_lc),
      targets.map((t) => t.target.name_lc),
    ],
  );
  return targets.length;
}

/** Rows sorted by key, so concurrent writers would take row locks in one order anyway. */
function sortedByKey<T>(entries: Map<string, T>): T[] {
  return [...entries.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, r]) => r);
}

/** Adds the events to the facet counters; returns how many counters they touched. */
export async function addFacetCounts(
  tx: Queryable,
  workspace: string,
  events: readonly HashedBody[],
): Promise<number> {
  const counts = new Map<string, { kind: string; value: string; n: number }>();
  for (const event of events) {
    for (const [kind, value] of facetValues(event)) {
      const key = JSON.stringify([kind, value]);
      const entry = counts.get(key) ?? { kind, value, n: 0 };
      entry.n += 1;
      counts.set(key, entry);
    }
  }
  const rows = sortedByKey(counts);
  await tx.query(
    `INSERT INTO facet_counts (workspace, kind, value, events)
     SELECT $1, * FROM unnest($2::text[], $3::text[], $4::bigint[])
     ON CONFLICT (workspace, kind, value) DO UPDATE SET events = facet_counts.events + excluded.events`,
    [workspace, rows.map((r) => r.kind), rows.map((r) => r.value), rows.map((r) => r.n)],
  );
  return rows.length;
}

/** Adds the events to their actors rows (a new row for a new form); returns the forms seen. */
export async function addActors(
  tx: Queryable,
  workspace: string,
  events: readonly HashedBody[],
): Promise<string[]> {
  const actors = new Map<string, ReturnType<typeof actorForm> & { n: number; first: number }>();
  for (const event of events) {
    const form = actorForm(event.actor);
    const key = actorKey(form.actor_type, form.actor_id, form.actor_name, form.actor_email);
    const entry = actors.get(key) ?? { ...form, n: 0, first: event.seq };
    entry.n += 1;
    actors.set(key, entry);
  }
  const rows = sortedByKey(actors);
  await tx.query(
    `INSERT INTO actors (workspace, actor_type, actor_id, actor_name, actor_email,
                         id_lc, name_lc, email_lc, events, first_seq)
     SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
       $7::text[], $8::text[], $9::bigint[], $10::bigint[])
     ON CONFLICT (workspace, actor_type, actor_id, actor_name, actor_email) DO UPDATE
       SET events = actors.events + excluded.events`,
    [
      workspace,
      rows.map((r) => r.actor_type),
      rows.map((r) => r.actor_id),
      rows.map((r) => r.actor_name),
      rows.map((r) => r.actor_email),
      rows.map((r) => r.id_lc),
      rows.map((r) => r.name_lc),
      rows.map((r) => r.email_lc),
      rows.map((r) => r.n),
      rows.map((r) => r.first),
    ],
  );
  return [...actors.keys()];
}

// ---------------------------------------------------------------------------------------------
// Verification

/** Rows kept for events the workspace does not have, named at most this many at a time. */
const ORPHAN_LIMIT = 10;

/**
 * The end of a walk (Store.verifyTail) in one REPEATABLE READ snapshot: the head, the rows
 * appended after the walk, every actors row and counter, and rows kept for a seq the chain
 * does not have (every seq the chain has was compared row by row).
 */
export function verifyTail(
  pool: Pool,
  workspace: string,
  walked: { head: { seq: number } },
): Promise<VerifyTail> {
  return inTransaction(
    pool,
    async (client) => {
      const heads = await client.query<{ seq: string; hash: string }>(
        'SELECT seq, hash FROM workspace_heads WHERE workspace = $1',
        [workspace],
      );
      const recorded = heads.rows[0];
      const head =
        recorded === undefined ? EMPTY_HEAD : { seq: Number(recorded.seq), hash: recorded.hash };
      const rows = [];
      for (let next = walked.head.seq + 1; next <= head.seq;) {
        const batch = await chainBatch(client, workspace, next, head.seq);
        rows.push(...batch);
        const last = batch.at(-1);
        if (last === undefined) break;
        next = last.seq + 1;
      }
      const actors = await client.query<Record<string, string>>(
        `SELECT actor_type, actor_id, actor_name, actor_email, id_lc, name_lc, email_lc, events,
                first_seq
           FROM actors WHERE workspace = $1`,
        [workspace],
      );
      const facets = await client.query<{ kind: string; value: string; events: string }>(
        'SELECT kind, value, events FROM facet_counts WHERE workspace = $1',
        [workspace],
      );
      const end = Math.max(walked.head.seq, head.seq, rows.at(-1)?.seq ?? 0);
      const lostTargets = await client.query<{ seq: string; pos: number; id: string }>(
        `SELECT seq, pos, id FROM event_targets WHERE workspace = $1 AND (seq < 1 OR seq > $2)
          ORDER BY seq, pos LIMIT ${ORPHAN_LIMIT}`,
        [workspace, end],
      );
      const lostIds = await client.query<{ seq: string; id: string }>(
        `SELECT seq, id FROM event_ids WHERE workspace = $1 AND (seq < 1 OR seq > $2)
          ORDER BY seq LIMIT ${ORPHAN_LIMIT}`,
        [workspace, end],
      );
      const derived: DerivedRow[] = [
        ...actors.rows.map((row) => ({
          table: 'actors',
          key: actorKey(
            row['actor_type'] ?? '',
            row['actor_id'] ?? '',
            row['actor_name'] ?? '',
            row['actor_email'] ?? '',
          ),
          columns: { ...row, events: Number(row['events']), first_seq: Number(row['first_seq']) },
        })),
        ...facets.rows.map(({ kind, value, events }) => ({
          table: 'facet_counts',
          key: facetKey(kind, value),
          columns: { events: Number(events) },
        })),
        ...lostTargets.rows.map(({ seq, pos, id }) => ({
          table: 'event_targets',
          key: `seq ${seq} pos ${pos}`,
          columns: { id },
        })),
        ...lostIds.rows.map(({ seq, id }) => ({
          table: 'event_ids',
          key: `seq ${seq}`,
          columns: { id },
        })),
      ];
      return { rows, head, derived, mismatches: [] };
    },
    { snapshot: true },
  );
}

// ---------------------------------------------------------------------------------------------
// reindex

/**
 * The append-only guards of the derived tables, as migrations 4 and 6 made them. reindex creates any
 * that are missing (someone dropped them to tamper), which only the tables' owner can do.
 */
export const DERIVED_GUARDS: readonly { name: string; table: string; sql: string }[] = [
  ...['event_ids', 'event_targets'].map((table) => ({
    name: `${table}_append_only`,
    table,
    sql: `CREATE TRIGGER ${table}_append_only BEFORE UPDATE OR DELETE ON ${table}
  FOR EACH ROW EXECUTE FUNCTION trailkeep_refuse_derived_change()`,
  })),
  {
    name: 'actors_append_only',
    table: 'actors',
    sql: `CREATE TRIGGER actors_append_only
  BEFORE UPDATE OF workspace, actor_type, actor_id, actor_name, actor_email, id_lc, name_lc,
    email_lc, first_seq OR DELETE ON actors
  FOR EACH ROW EXECUTE FUNCTION trailkeep_refuse_derived_change()`,
  },
  {
    name: 'facet_counts_append_only',
    table: 'facet_counts',
    sql: `CREATE TRIGGER facet_counts_append_only
  BEFORE UPDATE OF workspace, kind, value OR DELETE ON facet_counts
  FOR EACH ROW EXECUTE FUNCTION trailkeep_refuse_derived_change()`,
  },
  ...['event_ids', 'event_targets', 'actors', 'facet_counts'].map((table) => ({
    name: `${table}_no_truncate`,
    table,
    sql: `CREATE TRIGGER ${table}_no_truncate BEFORE TRUNCATE ON ${table}
  FOR EACH STATEMENT EXECUTE FUNCTION trailkeep_refuse_change()`,
  })),
  // Migration 6: the tree's guard lets the owner's reindex through like the others.
  {
    name: 'tree_nodes_append_only',
    table: 'tree_nodes',
    sql: `CREATE TRIGGER tree_nodes_append_only BEFORE UPDATE OR DELETE ON tree_nodes
  FOR EACH ROW EXECUTE FUNCTION trailkeep_refuse_derived_change()`,
  },
  {
    name: 'tree_nodes_no_truncate',
    table: 'tree_nodes',
    sql: `CREATE TRIGGER tree_nodes_no_truncate BEFORE TRUNCATE ON tree_nodes
  FOR EACH STATEMENT EXECUTE FUNCTION trailkeep_refuse_change()`,
  },
];

/** The guards migration 4 created (its text is built from these and must never change). */
export const MIGRATION_4_GUARDS: readonly string[] = [
  'event_ids_append_only',
  'event_targets_append_only',
  'actors_append_only',
  'facet_counts_append_only',
  'actors_no_truncate',
  'facet_counts_no_truncate',
];

const DERIVED_TABLES = [
  'event_ids',
  'event_targets',
  'tree_nodes',
  'actors',
  'facet_counts',
] as const;

/**
 * Rebuilds the workspace's derived rows (id lookups, targets, actors, facet counters and the
 * Merkle tree) in one transaction that holds its head row, so no
 * append interleaves. The guards let a row change only for the tables' owner who has set
 * `trailkeep.reindex` for this transaction (trailkeep_refuse_derived_change): the least-
 * privilege service role cannot, whatever it sets, and events stay closed to everyone. Rows
 * are rebuilt through the same inserts appends use, one batch at a time.
 */
export async function reindexWorkspace(
  pool: Pool,
  frontiers: FrontierCache,
  workspace: string,
): Promise<ReindexResult> {
  const frontier = MerkleFrontier.empty();
  try {
    const result = await inTransaction(
      pool,
      async (tx) => {
        const head = await tx.query(
          'SELECT 1 FROM workspace_heads WHERE workspace = $1 FOR UPDATE',
          [workspace],
        );
        if (head.rows.length === 0) {
          throw new TrailkeepError('workspace_not_found', `no workspace "${workspace}"`);
        }
        await restoreGuards(tx);
        await tx.query(`SET LOCAL trailkeep.reindex = 'on'`);
        for (const table of DERIVED_TABLES) {
          await tx.query(`DELETE FROM ${table} WHERE workspace = $1`, [workspace]);
        }
        const verifier = new ChainVerifier(workspace);
        const actors = new Set<string>();
        const facets = new Set<string>();
        let events = 0;
        let targets = 0;
        let treeRows = 0;
        for (let from = 1; ;) {
          const batch = await tx.query<{
            seq: string;
            id: string;
            prev_hash: string;
            hash: string;
            body: string;
            run: string | null;
          }>(
            `SELECT * FROM (
               SELECT seq, id, prev_hash, hash, body, NULL::text AS run FROM events
                WHERE workspace = $1 AND seq >= $2
               UNION ALL
               SELECT seq, '', prev_hash, hash, '', run FROM pruned_events
                WHERE workspace = $1 AND seq >= $2) r
              ORDER BY seq LIMIT ${CHAIN_BATCH}`,
            [workspace, from],
          );
          const runs = await runRecords(
            tx,
            workspace,
            batch.rows.flatMap((row) => (row.run === null ? [] : [row.run])),
          );
          // A tombstone has nothing to derive; its hash still goes into the tree.
          const bodies = batch.rows.flatMap((row) => {
            const event = verifier.linkForRebuild({
              ...row,
              seq: Number(row.seq),
              ...(row.run === null
                ? {}
                : { pruned: { run: row.run, record: runs.get(row.run) ?? null } }),
            });
            return event === undefined ? [] : [event];
          });
          if (bodies.length > 0) {
            await insertEventIds(tx, workspace, bodies);
            targets += await insertTargets(tx, workspace, bodies);
            for (const key of await addActors(tx, workspace, bodies)) actors.add(key);
            await addFacetCounts(tx, workspace, bodies);
            for (const event of bodies) {
              for (const [kind, value] of facetValues(event)) facets.add(facetKey(kind, value));
            }
          }
          treeRows += await growStoredTree(
            tx,
            workspace,
            frontier,
            batch.rows.map((row) => row.hash),
          );
          events += bodies.length;
          const last = batch.rows.at(-1);
          if (last === undefined || batch.rows.length < CHAIN_BATCH) break;
          from = Number(last.seq) + 1;
        }
        return {
          events,
          rows: {
            event_ids: events,
            event_targets: targets,
            actors: actors.size,
            facet_counts: facets.size,
            tree_nodes: treeRows,
          },
        };
      },
      { durable: true },
    );
    // Only once committed: a rolled-back rebuild leaves the cache as it was.
    frontiers.commit(workspace, frontier);
    return result;
  } catch (error) {
    if (sqlState(error) === '42501') {
      throw new TrailkeepError(
        'forbidden',
        'reindex must connect as the owner of the Trailkeep tables (the role that migrates): ' +
          `derived rows may not be rewritten by any other role (${(error as Error).message})`,
        { cause: error },
      );
    }
    throw error;
  }
}

/** Creates the guards of the derived tables that someone dropped. */
async function restoreGuards(tx: Queryable): Promise<void> {
  const present = await tx.query<{ name: string }>(
    `SELECT tgname AS name FROM pg_trigger
      WHERE tgrelid = ANY($1::regclass[]) AND NOT tgisinternal`,
    [[...DERIVED_TABLES]],
  );
  const names = new Set(present.rows.map((row) => row.name));
  for (const guard of DERIVED_GUARDS) {
    if (!names.has(guard.name)) await tx.query(guard.sql);
  }
}
