/**
 * Reads on the biggest workspace: one page per filter family, the deep walk, bounded counts,
 * facets and entity history, each timed against hand-written SQL over the same indexes that
 * returns the same rows (checked on the first run and reported as `same_rows`).
 */
import type { StoredEvent } from '../../src/core/event.js';
import { cidrKeyRange, normalizeCidr } from '../../src/core/ip.js';
import { entityHistory } from '../../src/service/export.js';
import { COUNT_CAP, type LogService } from '../../src/service/log-service.js';
import { latencyFigure, type Figure } from '../figures.js';
import type { HandQuery, RawLog } from '../engines/raw.js';
import { compareLatency } from '../stats.js';

const PAGE = 50;

export interface QueryCase {
  id: string;
  label: string;
  q: string;
  hand: HandQuery;
}

export interface ReadPlan {
  cases: QueryCase[];
  entity: { type: string; id: string };
}

function quote(value: string): string {
  return /[\s:"\\]/.test(value) ? `"${value.replace(/["\\]/g, (c) => `\\${c}`)}"` : value;
}

function dayOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** Picks the values of each filter family from the data itself, so they exist at any size. */
export async function planReads(
  log: LogService,
  workspace: string,
  storyEnd: Date,
  days: number,
): Promise<ReadPlan> {
  const facets = await log.facets(workspace);
  const byCount = <T extends { count: number }>(list: T[]): T[] =>
    [...list].sort((a, b) => b.count - a.count);
  const actions = byCount(facets.actions);
  const categories = byCount(facets.categories);
  const actorTypes = byCount(facets.actor_types);
  const action = (actions[2] ?? actions[0])!.value;
  const category = (categories[1] ?? categories[0])!.value;
  // Three terms that do meet: the first (category, actor type, outcome) with matches, failures
  // first, so that the page has to be found among many rows that match only one or two terms.
  const comboCategory = categories[0]!.value;
  let comboActorType = actorTypes[0]!.value;
  let outcome = 'success';
  search: for (const candidate of ['failure', 'success']) {
    for (const { value } of actorTypes) {
      const q = `category:${quote(comboCategory)} actor_type:${value} outcome:${candidate}`;
      if ((await log.count(workspace, log.resolveFilter(workspace, { q }))).value > 0) {
        comboActorType = value;
        outcome = candidate;
        break search;
      }
    }
  }

  // A whole day two thirds of the way through the story.
  const dayMs = storyEnd.getTime() - Math.floor(days / 3) * 86_400_000;
  const day = dayOf(dayMs);
  const since = `${day}T00:00:00.000Z`;
  const until = new Date(Date.parse(since) + 86_400_000).toISOString();

  // An entity from the middle of the log: the primary target of an event on that day.
  const typed = await log.query(workspace, { q: `target_type:job until:${day}`, limit: 1 });
  const middle =
    typed.events[0] ?? (await log.query(workspace, { q: `until:${day}`, limit: 1 })).events[0];
  const target = middle?.targets.find((t) => t.type.toLowerCase() === 'job') ?? middle?.targets[0];
  if (target === undefined) throw new Error('the data set has no event with a target');

  const cidr = normalizeCidr('203.0.113.0/24')!;
  const { lo, hi } = cidrKeyRange(cidr);
  const actor = 'alex@';
  const cases: QueryCase[] = [
    { id: 'first_page', label: 'first page, no filter', q: '', hand: { kind: 'all' } },
    {
      id: 'time',
      label: `time range only (one day)`,
      q: `since:${day} until:${day}`,
      hand: { kind: 'time', since, until },
    },
    {
      id: 'action',
      label: `action (${action})`,
      q: `action:${quote(action)}`,
      hand: { kind: 'action', action },
    },
    {
      id: 'category',
      label: `category (${category})`,
      q: `category:${quote(category)}`,
      hand: { kind: 'category', category },
    },
    {
      id: 'actor',
      label: `actor substring (${actor})`,
      q: `actor:${actor}`,
      hand: { kind: 'actor', substring: actor },
    },
    {
      id: 'target',
      label: 'target kind + id',
      q: `target_type:${quote(target.type)} target_id:${quote(target.id)}`,
      hand: { kind: 'target', type: target.type, id: target.id },
    },
    { id: 'ip', label: `IP CIDR (${cidr})`, q: `ip:${cidr}`, hand: { kind: 'ip', lo, hi } },
    {
      id: 'combo',
      label: `3 filters (category, actor type, outcome)`,
      q: `category:${quote(comboCategory)} actor_type:${comboActorType} outcome:${outcome}`,
      hand: { kind: 'combo', category: comboCategory, actorType: comboActorType, outcome },
    },
    {
      id: 'no_match',
      label: 'no match (two terms that never meet)',
      q: `actor:${actor} actor_type:automation`,
      hand: { kind: 'actor', substring: actor, actorType: 'automation' },
    },
    {
      id: 'no_match_unknown',
      label: 'no match (unknown action)',
      q: 'action:no.such.action',
      hand: { kind: 'action', action: 'no.such.action' },
    },
  ];
  return { cases, entity: { type: target.type, id: target.id } };
}

function sameSeqs(a: readonly StoredEvent[], b: readonly StoredEvent[]): boolean {
  return a.length === b.length && a.every((e, i) => e.seq === b[i]?.seq);
}

export async function pageFigures(
  log: LogService,
  raw: RawLog,
  workspace: string,
  plan: ReadPlan,
  runs: number,
): Promise<Figure[]> {
  const figures: Figure[] = [];
  for (const c of plan.cases) {
    const mine = await log.query(workspace, { q: c.q, limit: PAGE });
    const theirs = (await raw.page(workspace, c.hand, PAGE + 1)).slice(0, PAGE);
    const { subject, baseline } = await compareLatency(
      () => log.query(workspace, { q: c.q, limit: PAGE }),
      () => raw.page(workspace, c.hand, PAGE + 1),
      { runs },
    );
    figures.push(
      latencyFigure(
        `query.${c.id}`,
        `page query: ${c.label}`,
        subject,
        {
          label: 'hand-written SQL, same page',
          latency: baseline,
        },
        { q: c.q, rows: mine.events.length, same_rows: sameSeqs(mine.events, theirs) },
      ),
    );
  }
  return figures;
}

/** Walks `pages` pages of the whole workspace, then times the last one against the first. */
export async function deepWalkFigures(
  log: LogService,
  raw: RawLog,
  workspace: string,
  pages: number,
  runs: number,
): Promise<Figure[]> {
  let cursor: string | undefined;
  let previous: StoredEvent | undefined;
  let walked = 1;
  let page = await log.query(workspace, { limit: PAGE });
  while (walked < pages && page.next_cursor !== null) {
    previous = page.events.at(-1);
    cursor = page.next_cursor;
    page = await log.query(workspace, { cursor, limit: PAGE });
    walked += 1;
  }
  if (cursor === undefined || previous === undefined) return [];
  const at = cursor;
  const before = { occurred_at: previous.occurred_at, seq: previous.seq };
  const theirs = (await raw.page(workspace, { kind: 'all', before }, PAGE + 1)).slice(0, PAGE);
  const deep = await compareLatency(
    () => log.query(workspace, { cursor: at, limit: PAGE }),
    () => raw.page(workspace, { kind: 'all', before }, PAGE + 1),
    { runs },
  );
  const first = await compareLatency(
    () => log.query(workspace, { cursor: at, limit: PAGE }),
    () => log.query(workspace, { limit: PAGE }),
    { runs },
  );
  return [
    latencyFigure(
      'query.deep_page',
      `page query: page ${walked} of a walk (cursor)`,
      deep.subject,
      { label: 'hand-written keyset SQL, same page', latency: deep.baseline },
      { page: walked, same_rows: sameSeqs(page.events, theirs) },
    ),
    latencyFigure(
      'query.deep_vs_first',
      `page ${walked} against page 1 (both Trailkeep)`,
      first.subject,
      { label: 'page 1 through Trailkeep', latency: first.baseline },
      { page: walked },
    ),
  ];
}

const COUNT_CASES = ['first_page', 'action', 'category', 'actor', 'ip', 'combo', 'no_match'];

export async function countFigures(
  log: LogService,
  raw: RawLog,
  workspace: string,
  plan: ReadPlan,
  runs: number,
): Promise<Figure[]> {
  const figures: Figure[] = [];
  const count = async (q: string): Promise<number> => {
    const result = await log.count(workspace, log.resolveFilter(workspace, { q }));
    return result.capped ? COUNT_CAP + 1 : result.value;
  };
  for (const c of plan.cases.filter((x) => COUNT_CASES.includes(x.id))) {
    const mine = await count(c.q);
    const theirs = await raw.count(workspace, c.hand, COUNT_CAP + 1);
    const { subject, baseline } = await compareLatency(
      () => count(c.q),
      () => raw.count(workspace, c.hand, COUNT_CAP + 1),
      { runs },
    );
    figures.push(
      latencyFigure(
        `count.${c.id}`,
        `bounded count: ${c.id === 'first_page' ? 'no filter' : c.label}`,
        subject,
        { label: 'hand-written count(*) ... LIMIT 10,001', latency: baseline },
        { q: c.q, count: mine, same_count: mine === theirs },
      ),
    );
  }
  return figures;
}

export async function facetFigures(
  log: LogService,
  raw: RawLog,
  workspace: string,
  runs: number,
): Promise<Figure[]> {
  // The GROUP BY baseline reads the whole workspace; a few runs tell enough.
  const { subject, baseline } = await compareLatency(
    () => log.facets(workspace),
    () => raw.groupByFacets(workspace),
    { runs: Math.min(runs, 10), warmup: 1 },
  );
  return [
    latencyFigure('facets', 'facets (all dropdowns)', subject, {
      label: 'GROUP BY over the events (no counters)',
      latency: baseline,
    }),
  ];
}

export async function historyFigures(
  log: LogService,
  raw: RawLog,
  workspace: string,
  plan: ReadPlan,
  runs: number,
): Promise<Figure[]> {
  const { type, id } = plan.entity;
  const mine = await entityHistory(log, workspace, type, id);
  const theirs = await raw.entity(workspace, type, id);
  const { subject, baseline } = await compareLatency(
    () => entityHistory(log, workspace, type, id),
    () => raw.entity(workspace, type, id),
    { runs },
  );
  return [
    latencyFigure(
      'history',
      `entity history (${type} with ${mine.events.length} events)`,
      subject,
      {
        label: 'hand-written SQL, same events',
        latency: baseline,
      },
      {
        entity: `${type}:${id}`,
        events: mine.events.length,
        same_rows: sameSeqs(
          mine.events.map((s) => s.event),
          theirs,
        ),
      },
    ),
  ];
}
