/**
 * SQLite's derived rows (docs/integrity.md, "Derived rows"): the model verify compares them
 * with, the end of a verification walk, the check of the actor search index, and `reindex`.
 *
 * Rows: `event_targets` (one per target, by eid), `actors` (one per actor form, by akey, which
 * events.actor_key points to), `facet_counts`, and the FTS5 index `actors_search` over the
 * actors' lower-cased texts.
 */
import {
  actorIndex,
  EventRowOf,
  facetKey,
  targetNameLc,
  type DerivedMismatch,
  type DerivedModel,
  type ActorIndex,
  type DerivedRow,
} from '../../core/derived.js';
import type { Actor } from '../../core/event.js';
import { MerkleFrontier } from '../../core/tlog/merkle.js';
import { ChainVerifier } from '../../core/verify.js';
import type { FrontierCache } from '../tree.js';
import type { ReindexResult, VerifyTail } from '../store.js';
import { FacetTally, insertTargets, readHead, type ActorKeys } from './append.js';
import type { SqliteContext } from './context.js';
import { sqliteErrorCode } from './driver.js';
import {
  actorKeyName,
  chainBatch,
  runRecord,
  targetRow,
  type ActorReads,
  type RunReads,
  type TargetRow,
} from './chain.js';
import { BATCH_SIZE } from './read.js';
import { ACTOR_SEARCH_TRIGGER, APPEND_ONLY_TRIGGERS } from './schema.js';
import { growStoredTree } from './tree.js';

/** The actors columns an actor implies, as the append path writes them. */
export function actorColumns(ws: number, actor: Actor): { ws: number } & ActorIndex {
  return { ws, ...actorIndex(actor) };
}

export function sqliteModel(context: SqliteContext): DerivedModel {
  const wsOf = (workspace: string): number => context.workspaceKey(workspace) ?? -1;
  return {
    eventRows(event) {
      const ws = wsOf(event.workspace);
      const occurredMs = Date.parse(event.occurred_at);
      return event.targets.map(
        (target, pos) =>
          new EventRowOf(
            'event_targets',
            {
              ws,
              pos,
              type: target.type,
              id: target.id,
              name_lc: targetNameLc(target),
              occurred_ms: occurredMs,
              seq: event.seq,
            },
            'seq',
            event.seq,
            pos,
          ),
      );
    },
    actorRow(key, first, tally) {
      return {
        table: 'actors',
        key,
        columns: { ...actorColumns(wsOf(first.workspace), first.actor), event_count: tally.events },
      };
    },
    facetRow(kind, value, events) {
      return { table: 'facet_counts', key: facetKey(kind, value), columns: { n: events } };
    },
  };
}

interface ActorsRow extends ActorIndex {
  akey: number;
  ws: number;
  event_count: number;
}

const ACTORS_COLUMNS = 'akey, ws, type, id, name, email, id_lc, name_lc, email_lc, event_count';

function actorsDerivedRow(row: ActorsRow): DerivedRow {
  const { akey, ...columns } = row;
  return { table: 'actors', key: actorKeyName(akey), columns };
}

/** `akey N` back to N; undefined for anything else. */
function akeyOf(name: string): number | undefined {
  const match = /^akey (\d+)$/.exec(name);
  return match === null ? undefined : Number(match[1]);
}

/** Target rows of the workspace that belong to none of its events, at most `limit`. */
const ORPHAN_LIMIT = 10;

/**
 * The end of a walk (Store.verifyTail), in one read transaction so the head, the rows after
 * the walk and every counter are of the same moment. The search index is checked after it:
 * the check needs a write statement (see actorSearchMismatches).
 */
export function verifyTail(
  context: SqliteContext,
  workspace: string,
  walked: { head: { seq: number }; actorKeys: readonly string[]; targetRows: number },
  checked: IndexCheckCache,
): VerifyTail {
  const ws = context.requireWorkspaceKey(workspace);
  const db = context.db;
  db.exec('BEGIN');
  let tail: Omit<VerifyTail, 'mismatches'>;
  let actors: ActorsRow[];
  try {
    const head = readHead(context, ws);
    const reads: ActorReads = new Map();
    const rows = [];
    for (let next = walked.head.seq + 1; next <= head.seq;) {
      const batch = chainBatch(context, ws, next, reads, head.seq);
      rows.push(...batch);
      const last = batch.at(-1);
      if (last === undefined) break;
      next = last.seq + 1;
    }
    actors = context
      .statement(`SELECT ${ACTORS_COLUMNS} FROM actors WHERE ws = ? ORDER BY akey`)
      .all(ws) as ActorsRow[];
    // Rows an event names but that say they are another workspace's.
    const own = new Set(actors.map((a) => a.akey));
    const named = [...walked.actorKeys, ...rows.map((r) => r.derived?.actor_key ?? '')];
    for (const key of new Set(named)) {
      const akey = akeyOf(key);
      if (akey === undefined || own.has(akey)) continue;
      const row = context
        .statement(`SELECT ${ACTORS_COLUMNS} FROM actors WHERE akey = ?`)
        .get(akey) as ActorsRow | undefined;
      if (row !== undefined) actors.push(row);
    }
    const facets = context
      .statement('SELECT kind, value, n FROM facet_counts WHERE ws = ?')
      .all(ws) as { kind: string; value: string; n: number }[];
    const derived = [
      ...actors.map(actorsDerivedRow),
      ...facets.map(({ kind, value, n }) => ({
        table: 'facet_counts',
        key: facetKey(kind, value),
        columns: { n },
      })),
      ...orphanTargets(context, ws, walked.targetRows, rows),
    ];
    tail = { rows, head, derived };
  } finally {
    db.exec('COMMIT');
  }
  return {
    ...tail,
    mismatches: actorSearchMismatches(
      context,
      actors.filter((a) => a.ws === ws),
      checked,
    ),
  };
}

/**
 * Target rows that say they are the workspace's but hang off no event of it. Counted first
 * (an index range), searched for only when the count says there are some.
 */
function orphanTargets(
  context: SqliteContext,
  ws: number,
  walkedTargets: number,
  tailRows: VerifyTail['rows'],
): DerivedRow[] {
  const attached =
    walkedTargets +
    tailRows.reduce(
      (sum, row) => sum + (row.derived?.rows.filter((t) => t.columns['ws'] === ws).length ?? 0),
      0,
    );
  const { n } = context
    .statement('SELECT count(*) AS n FROM event_targets WHERE ws = ?')
    .get(ws) as { n: number };
  if (n <= attached) return [];
  const rows = context
    .statement(
      `SELECT eid, pos, ws, type, id, name_lc, occurred_ms, seq FROM event_targets t
       WHERE t.ws = ? AND NOT EXISTS (SELECT 1 FROM events e WHERE e.eid = t.eid AND e.ws = t.ws)
       LIMIT ${ORPHAN_LIMIT}`,
    )
    .all(ws) as TargetRow[];
  return rows.map(targetRow);
}

/** When the search index last passed its integrity check, so one verify of many workspaces checks it once. */
export interface IndexCheckCache {
  passedAt?: string;
}

const SEARCH_COLUMNS = ['id_lc', 'name_lc', 'email_lc'] as const;

/**
 * Where the actor search index does not hold exactly the texts of the workspace's actors rows.
 * Substring searches take their candidates from it (instr() then decides), so a missing entry
 * hides that actor's events.
 *
 * FTS5's own 'integrity-check', compared with the content table, says whether anything differs
 * at all (about 5 µs per actor). It is an INSERT, so it needs the write lock and cannot run on
 * a read-only connection; then, and when it fails, the index is read back through fts5vocab and
 * each actor's texts rebuilt from their trigrams, which names the row and column (about 20
 * times slower, only on that path).
 */
function actorSearchMismatches(
  context: SqliteContext,
  actors: readonly ActorsRow[],
  checked: IndexCheckCache,
): DerivedMismatch[] {
  if (!context.actorIndex || actors.length === 0) return [];
  if (checked.passedAt === changeState(context)) return [];
  try {
    context
      .statement(`INSERT INTO actors_search (actors_search, rank) VALUES ('integrity-check', 1)`)
      .run();
    checked.passedAt = changeState(context);
    return [];
  } catch (error) {
    const code = sqliteErrorCode(error);
    if (code !== 'SQLITE_CORRUPT_VTAB' && code !== 'SQLITE_READONLY' && code !== 'SQLITE_BUSY') {
      throw error;
    }
  }
  return rebuiltTexts(context, actors);
}

/** Changes whenever any connection commits (data_version) or this one writes (total_changes). */
function changeState(context: SqliteContext): string {
  const version = context.db.pragma('data_version', { simple: true }) as number;
  const { n } = context.statement('SELECT total_changes() AS n').get() as { n: number };
  return `${version}/${n}`;
}

/** The index read back per actor and column, compared with the actors rows. */
function rebuiltTexts(context: SqliteContext, actors: readonly ActorsRow[]): DerivedMismatch[] {
  const wanted = new Map(actors.map((a) => [a.akey, a]));
  /** akey -> column -> characters by position, or null once two trigrams disagree. */
  const texts = new Map<number, Map<string, { chars: string[]; tokens: number; clash: boolean }>>();
  context.db.exec(
    `CREATE VIRTUAL TABLE IF NOT EXISTS temp.trailkeep_actors_vocab USING fts5vocab(main, 'actors_search', 'instance')`,
  );
  try {
    const instances = context.db
      .prepare('SELECT term, doc, col, offset FROM temp.trailkeep_actors_vocab')
      .iterate() as Iterable<{ term: string; doc: number; col: string; offset: number }>;
    for (const { term, doc, col, offset } of instances) {
      if (!wanted.has(doc)) continue;
      let columns = texts.get(doc);
      if (columns === undefined) {
        columns = new Map();
        texts.set(doc, columns);
      }
      let text = columns.get(col);
      if (text === undefined) {
        text = { chars: [], tokens: 0, clash: false };
        columns.set(col, text);
      }
      text.tokens += 1;
      [...term].forEach((char, i) => {
        const at = offset + i;
        const seen = text.chars[at];
        if (seen === undefined) text.chars[at] = char;
        else if (seen !== char) text.clash = true;
      });
    }
  } finally {
    context.db.exec('DROP TABLE IF EXISTS temp.trailkeep_actors_vocab');
  }
  const found: DerivedMismatch[] = [];
  for (const actor of actors) {
    for (const column of SEARCH_COLUMNS) {
      const expected = actor[column];
      const length = expected === null ? 0 : [...expected].length;
      const text = texts.get(actor.akey)?.get(column);
      // The trigram tokenizer indexes nothing for a text shorter than three characters.
      const indexed =
        text === undefined
          ? null
          : text.clash || text.tokens !== Math.max(0, text.chars.length - 2)
            ? `${text.chars.join('')} (trigrams that do not make one text)`
            : text.chars.join('');
      const ok = length < 3 ? text === undefined : indexed === expected;
      if (!ok) {
        found.push({
          table: 'actors_search',
          key: actorKeyName(actor.akey),
          column,
          seq: 0,
          expected,
          found: indexed,
        });
      }
    }
  }
  return found;
}

/**
 * Rebuilds the workspace's derived rows (targets, actors, facet counters, the Merkle tree and
 * the actor search index) from its bodies and chain hashes in one IMMEDIATE transaction. SQLite
 * has no privileges: anyone who can write the file can drop the guards, so reindex does just
 * that inside its transaction, and creates every guard of the schema again before committing
 * (which also puts back a guard someone dropped). Rows are derived only from a chain that
 * verifies: any problem other than an indexed column of events throws integrity_broken and the
 * rollback leaves everything, guards included, as it was.
 *
 * events.actor_key is the one events column rewritten: it points into the rebuilt actors rows,
 * and an actors row altered while the service kept appending files new events under it.
 */
export function reindexWorkspace(
  context: SqliteContext,
  caches: { actors: ActorKeys; frontiers: FrontierCache },
  workspace: string,
): ReindexResult {
  const frontier = MerkleFrontier.empty();
  const result = context.write(() => {
    const ws = context.requireWorkspaceKey(workspace);
    const db = context.db;
    const guards = [...APPEND_ONLY_TRIGGERS, ...(context.actorIndex ? [ACTOR_SEARCH_TRIGGER] : [])];
    for (const { name } of guards) db.exec(`DROP TRIGGER IF EXISTS ${name}`);

    const { next } = context
      .statement('SELECT ifnull(max(akey), 0) + 1 AS next FROM actors')
      .get() as { next: number };
    let nextKey = next;
    context
      .statement(
        'DELETE FROM event_targets WHERE ws = ? OR eid IN (SELECT eid FROM events WHERE ws = ?)',
      )
      .run(ws, ws);
    context.statement('DELETE FROM facet_counts WHERE ws = ?').run(ws);
    context.statement('DELETE FROM tree_nodes WHERE ws = ?').run(ws);

    const refile = context.statement('UPDATE events SET actor_key = ? WHERE eid = ?');
    const verifier = new ChainVerifier(workspace);
    const runs: RunReads = new Map();
    /** Actor form -> its akey and tally; akey -> the form that holds it. */
    const forms = new Map<string, { akey: number; actor: Actor; events: number }>();
    const holders = new Map<number, string>();
    const facets = new FacetTally();
    let events = 0;
    let targets = 0;
    let treeRows = 0;
    for (let from = 1; ;) {
      const batch = context
        .statement(
          `SELECT eid, seq, id, lower(hex(prev_hash)) AS prev_hash, lower(hex(hash)) AS hash,
                  body, actor_key, NULL AS run
           FROM events WHERE ws = ? AND seq >= ?
           UNION ALL
           SELECT NULL, seq, '', lower(hex(prev_hash)), lower(hex(hash)), '', NULL, run
           FROM pruned_events WHERE ws = ? AND seq >= ?
           ORDER BY 2 LIMIT ${BATCH_SIZE}`,
        )
        .all(ws, from, ws, from) as {
        eid: number;
        seq: number;
        id: string;
        prev_hash: string;
        hash: string;
        body: string;
        actor_key: number;
        run: string | null;
      }[];
      for (const row of batch) {
        // A tombstone: nothing to derive, its hash still goes into the tree. Its run is
        // verify's to check; reindex only needs it to stand where the chain says.
        const event = verifier.linkForRebuild(
          row.run === null
            ? row
            : { ...row, pruned: { run: row.run, record: runRecord(context, ws, row.run, runs) } },
        );
        if (event === undefined) continue;
        events += 1;
        targets += insertTargets(context, row.eid, ws, event);
        facets.addEvent(event);
        const form = JSON.stringify([
          event.actor.type,
          event.actor.id,
          event.actor.name ?? null,
          event.actor.email ?? null,
        ]);
        let entry = forms.get(form);
        if (entry === undefined) {
          // Keep the key the event already has unless another form holds it or it is another
          // workspace's row: keys other processes have cached stay valid.
          const akey =
            holders.has(row.actor_key) || ownedElsewhere(context, ws, row.actor_key)
              ? nextKey++
              : row.actor_key;
          entry = { akey, actor: event.actor, events: 0 };
          forms.set(form, entry);
          holders.set(akey, form);
        }
        entry.events += 1;
        if (row.actor_key !== entry.akey) refile.run(entry.akey, row.eid);
      }
      treeRows += growStoredTree(
        context,
        ws,
        frontier,
        batch.map((row) => row.hash),
      );
      const last = batch.at(-1);
      if (last === undefined || batch.length < BATCH_SIZE) break;
      from = last.seq + 1;
    }

    const removeActor = context.statement('DELETE FROM actors WHERE akey = ?');
    context.statement('DELETE FROM actors WHERE ws = ?').run(ws);
    const insertActor = context.statement(
      `INSERT INTO actors (akey, ws, type, id, name, email, id_lc, name_lc, email_lc, event_count)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    for (const { akey, actor, events: count } of forms.values()) {
      // A row under this key that claims another workspace but that no event of it names.
      removeActor.run(akey);
      const c = actorIndex(actor);
      insertActor.run(
        akey,
        ws,
        c.type,
        c.id,
        c.name,
        c.email,
        c.id_lc,
        c.name_lc,
        c.email_lc,
        count,
      );
    }
    facets.write(context, ws);
    if (context.actorIndex) {
      // The external-content index cannot be patched reliably once it disagrees with its
      // content: rebuild it whole, from the actors rows of every workspace.
      db.exec(`INSERT INTO actors_search (actors_search) VALUES ('rebuild')`);
    }
    for (const { sql } of guards) db.exec(sql);
    return {
      events,
      rows: {
        event_targets: targets,
        actors: forms.size,
        facet_counts: facets.size,
        tree_nodes: treeRows,
      },
    };
  });
  // Only once committed: a rolled-back rebuild leaves the caches as they were.
  caches.frontiers.commit(workspace, frontier);
  // An actor form may have moved to another key.
  caches.actors.clear();
  return result;
}

/** Whether the actors row `akey` is another workspace's and named by that workspace's events. */
function ownedElsewhere(context: SqliteContext, ws: number, akey: number): boolean {
  const row = context.statement('SELECT ws FROM actors WHERE akey = ?').get(akey) as
    { ws: number } | undefined;
  if (row === undefined || row.ws === ws) return false;
  return (
    context
      .statement('SELECT 1 FROM events WHERE ws = ? AND actor_key = ? LIMIT 1')
      .get(row.ws, akey) !== undefined
  );
}
