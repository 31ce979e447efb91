import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { normalizeActionWords } from '../core/categories.js';
import { fieldRule } from '../core/changes.js';
import { resourceSchema, toDraft } from '../core/draft.js';
import { applyEvent, HIDDEN, type EntityState } from '../core/entity-state.js';
import type { EventDraft, EventInput, StoredEvent } from '../core/event.js';
import type { JsonObject } from '../core/json.js';
import { parseWorkspaceSettings, type WorkspaceSettings } from '../core/settings.js';
import { validateEvents } from '../core/validate.js';
import { generateDemo, splitByShare, type DemoDataset } from './generate.js';
import { IsoFormatter } from './iso-time.js';

const NOW = new Date('2026-05-12T12:00:00.000Z');
const DAY_MS = 86_400_000;
const TOTAL = 12_000;

interface Loaded {
  id: string;
  settings: WorkspaceSettings;
  events: EventInput[];
  drafts: EventDraft[];
}

let dataset: DemoDataset;
const loaded = new Map<string, Loaded>();

function workspace(id: string): Loaded {
  const found = loaded.get(id);
  if (found === undefined) throw new Error(`no demo workspace ${id}`);
  return found;
}

beforeAll(() => {
  dataset = generateDemo({ seed: 42, events: TOTAL, now: NOW });
  for (const ws of dataset.workspaces) {
    const events = [...ws.events()];
    const settings = parseWorkspaceSettings(ws.settings);
    const drafts = events.map((event, i) =>
      toDraft(event, {
        workspace: ws.id,
        id: `unused_${i}`,
        receivedAt: NOW.toISOString(),
        settings,
      }),
    );
    loaded.set(ws.id, { id: ws.id, settings, events, drafts });
  }
});

describe('generateDemo: shape', () => {
  it('makes one workspace per vocabulary with unequal shares that add up to the total', () => {
    expect(dataset.workspaces.map((ws) => ws.id)).toEqual([
      'jobs',
      'devplatform',
      'engineering',
      'crm',
    ]);
    const counts = dataset.workspaces.map((ws) => ws.count);
    expect(counts).toEqual([4800, 3000, 2400, 1800]);
    for (const ws of dataset.workspaces) expect(workspace(ws.id).events).toHaveLength(ws.count);
  });

  it('declares settings that the core accepts as they are', () => {
    for (const ws of dataset.workspaces) {
      expect(parseWorkspaceSettings(ws.settings)).toEqual(ws.settings);
    }
  });

  it('yields the same sequence on every pass, lazily', () => {
    const ws = dataset.workspaces[0]!;
    const iterator = ws.events()[Symbol.iterator]();
    const first = iterator.next();
    expect(first.done).toBe(false);
    expect(first.value).toEqual(workspace(ws.id).events[0]);
  });

  it('rejects impossible options with a precise message', () => {
    expect(() => generateDemo({ events: -1, now: NOW })).toThrow(/events must be an integer/);
    expect(() => generateDemo({ events: 1.5, now: NOW })).toThrow(/events must be an integer/);
    expect(() => generateDemo({ events: 10, now: NOW, days: 0 })).toThrow(/days must be positive/);
    expect(() => generateDemo({ events: 10, now: new Date(Number.NaN) })).toThrow(/valid date/);
  });

  it('handles tiny data sets', () => {
    expect(generateDemo({ events: 0, now: NOW }).workspaces.map((ws) => [...ws.events()])).toEqual([
      [],
      [],
      [],
      [],
    ]);
    const one = generateDemo({ events: 1, now: NOW }).workspaces.flatMap((ws) => [...ws.events()]);
    expect(one).toHaveLength(1);
    expect(one[0]?.action).toBe('workspace.created');
  });
});

describe('generateDemo: determinism', () => {
  it('gives identical events for the same options', () => {
    const again = generateDemo({ seed: 42, events: TOTAL, now: NOW });
    for (const ws of again.workspaces) {
      expect([...ws.events()]).toEqual(workspace(ws.id).events);
    }
  });

  it('gives other events and other ids for another seed', () => {
    const other = generateDemo({ seed: 43, events: TOTAL, now: NOW }).workspaces[0]!;
    const mine = workspace('jobs').events;
    const theirs = [...other.events()];
    expect(theirs.map((e) => e.id)).not.toEqual(mine.map((e) => e.id));
    const mineIds = new Set(mine.map((e) => e.id));
    expect(theirs.filter((e) => mineIds.has(e.id))).toEqual([]);
  });

  it('never uses one id for two events, across all workspaces', () => {
    const ids = dataset.workspaces.flatMap((ws) => workspace(ws.id).events.map((e) => e.id));
    expect(ids.every((id) => typeof id === 'string' && /^evt_[0-9a-f]{16}$/.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe('generateDemo: validity', () => {
  it('passes the core validation in batches of 1,000', () => {
    for (const ws of dataset.workspaces) {
      const events = workspace(ws.id).events;
      for (let i = 0; i < events.length; i += 1000) {
        const batch = events.slice(i, i + 1000);
        expect(validateEvents(batch, { now: NOW })).toHaveLength(batch.length);
      }
    }
  });

  it('puts every action in one of its own workspace categories', () => {
    for (const ws of dataset.workspaces) {
      const { settings, drafts } = workspace(ws.id);
      const own = new Set((settings.categories ?? []).map((c) => c.id));
      const stray = drafts.filter((d) => !own.has(d.category)).map((d) => d.action);
      expect(stray, ws.id).toEqual([]);
    }
  });

  it('spends about 500 bytes of JSON per event on average', () => {
    let bytes = 0;
    let count = 0;
    for (const ws of dataset.workspaces) {
      for (const event of workspace(ws.id).events) {
        bytes += Buffer.byteLength(JSON.stringify(event));
        count++;
      }
    }
    const average = bytes / count;
    expect(average).toBeGreaterThan(350);
    expect(average).toBeLessThan(700);
  });
});

describe('generateDemo: time', () => {
  it('stays inside the window before now, in order but for a few late arrivals', () => {
    let late = 0;
    let earliest = Infinity;
    let latest = -Infinity;
    const problems: string[] = [];
    for (const ws of dataset.workspaces) {
      const events = workspace(ws.id).events;
      events.forEach((event, i) => {
        const at = Date.parse(event.occurred_at!);
        earliest = Math.min(earliest, at);
        latest = Math.max(latest, at);
        const previous = events[i - 1];
        if (previous === undefined || at >= Date.parse(previous.occurred_at!)) return;
        late++;
        // A little late: it overtakes the one event before it, by a minute and a half at most.
        const lateness = Date.parse(previous.occurred_at!) - at;
        if (lateness > 90_000) problems.push(`${event.id} is ${lateness} ms late`);
        if (at <= Date.parse(events[i - 2]!.occurred_at!)) {
          problems.push(`${event.id} overtakes more than one event`);
        }
        // ...and one about other things, so every entity's history keeps its order.
        const keys = new Set((previous.targets ?? []).map((t) => `${t.type}/${t.id}`));
        if ((event.targets ?? []).some((t) => keys.has(`${t.type}/${t.id}`))) {
          problems.push(`${event.id} overtakes an event about the same target`);
        }
      });
    }
    expect(problems).toEqual([]);
    expect(latest).toBeLessThan(NOW.getTime());
    expect(earliest).toBeGreaterThanOrEqual(NOW.getTime() - 90 * DAY_MS - 90_000);
    expect(late).toBeGreaterThan(3);
    expect(late).toBeLessThan(TOTAL / 100);
  });

  it('is busier in working hours than at night', () => {
    const byHour = new Array<number>(24).fill(0);
    for (const event of workspace('engineering').events) {
      // The engineering team works at UTC+1.
      byHour[(new Date(event.occurred_at!).getUTCHours() + 1) % 24]!++;
    }
    const working = byHour.slice(9, 17).reduce((a, b) => a + b, 0) / 8;
    const night = byHour.slice(1, 5).reduce((a, b) => a + b, 0) / 4;
    expect(working).toBeGreaterThan(night * 5);
  });

  it('formats instants exactly like Date#toISOString', () => {
    const formatter = new IsoFormatter();
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 253402300799999 }), (ms) => {
        expect(formatter.format(ms)).toBe(new Date(ms).toISOString());
      }),
    );
  });
});

describe('generateDemo: the design vocabulary', () => {
  function actions(id: string): Set<string> {
    return new Set(workspace(id).events.map((e) => e.action));
  }

  it('job runner: every label of the design, people, agents and runners', () => {
    const labels = [
      'Workspace Created',
      'Invite Sent',
      'Invite Accepted',
      'Job Created',
      'Job Updated',
      'Job Ready',
      'Worker Claimed Job',
      'Worker Completed Attempt',
      'Worker Updated',
      'Job Deleted',
      'Job Canceled',
      'Job State Changed',
    ];
    const seen = new Set([...actions('jobs')].map(normalizeActionWords));
    for (const label of labels) expect(seen, label).toContain(normalizeActionWords(label));
    const { events, settings } = workspace('jobs');
    expect(new Set(events.map((e) => e.actor.type))).toEqual(
      new Set(['user', 'agent', 'automation', 'system']),
    );
    expect(events.some((e) => e.actor.type === 'automation' && e.action === 'worker.claimed_job'));
    expect((settings.categories ?? []).map((c) => c.label)).toEqual([
      'Workspace',
      'Members',
      'Invites',
      'Jobs',
      'Runners',
    ]);
    const primaryTypes = new Set(events.map((e) => e.targets?.[0]?.type));
    expect(primaryTypes).toContain('job');
    expect(primaryTypes).toContain('attempt');
  });

  it('developer platform: every verb and resource type, builds with build_reason', () => {
    const verbs = ['auto_off', 'auto_start', 'connect', 'cordon', 'create', 'delete', 'enqueue'];
    verbs.push('login', 'open', 'ssh', 'stop', 'uncordon', 'view', 'write');
    expect([...actions('devplatform')].sort()).toEqual(verbs.sort());
    const { events, settings } = workspace('devplatform');
    const types = new Set(events.flatMap((e) => (e.targets ?? []).map((t) => t.type)));
    for (const type of [
      'workspace',
      'template',
      'template_version',
      'user',
      'group',
      'organization',
      'organization_member',
      'git_ssh_key',
      'workspace_build',
    ]) {
      expect(types, type).toContain(type);
    }
    const builds = events.filter((e) => e.targets?.[0]?.type === 'workspace_build');
    expect(builds.every((e) => typeof e.metadata?.['build_reason'] === 'string')).toBe(true);
    expect(new Set(builds.map((e) => e.metadata?.['build_reason']))).toEqual(
      new Set(['initiator', 'autostart', 'autostop']),
    );
    expect(settings.resources?.['user']?.fields).toEqual({
      email: 'track',
      username: 'track',
      status: 'track',
      rbac_roles: 'track',
      hashed_password: 'secret',
      created_at: 'ignore',
      updated_at: 'ignore',
      last_seen_at: 'ignore',
    });
    expect(events.some((e) => e.action === 'login' && e.outcome === 'failure')).toBe(true);
  });

  it('engineering workspace: the upper-case tokens, categories and target kinds', () => {
    const seen = actions('engineering');
    for (const token of [
      'REPOSITORY_RUN_CLAIM',
      'MEMBERSHIP_DEFAULTED',
      'AGENT_REASSIGNMENT_QUEUED',
      'GROUP_MEMBERSHIP_VOL_QUEUE',
      'TOKEN_MINTED',
      'TOKEN_ROTATED',
      'INTEGRATION_CONNECTED',
      'MEMBER_PROMOTED',
    ]) {
      expect(seen, token).toContain(token);
    }
    const { events, settings, drafts } = workspace('engineering');
    expect((settings.categories ?? []).map((c) => c.label)).toEqual([
      'Workspace',
      'Members',
      'Auth & tokens',
      'Integrations',
      'Artifact repos',
      'Pipelines',
      'Repos',
      'Improvements',
      'Clarifications',
      'Invites',
      'Agent',
    ]);
    // Every category of the catalog is used.
    expect(new Set(drafts.map((d) => d.category))).toEqual(
      new Set((settings.categories ?? []).map((c) => c.id)),
    );
    const kinds = new Set(events.flatMap((e) => (e.targets ?? []).map((t) => t.type)));
    for (const kind of [
      'workspace',
      'user',
      'api_token',
      'integration',
      'artifact_repo',
      'pipeline',
      'pipeline_run',
      'workspace_repo',
      'invite',
      'improvement',
    ]) {
      expect(kinds, kind).toContain(kind);
    }
  });

  it('CRM: customers created, updated and deleted by people, automations and API tokens', () => {
    const { events } = workspace('crm');
    const customerEvents = events.filter((e) => e.action.startsWith('customer.'));
    const byActorType = new Set(customerEvents.map((e) => `${e.action} ${e.actor.type}`));
    for (const pair of [
      'customer.created user',
      'customer.created api_token',
      'customer.updated user',
      'customer.updated automation',
      'customer.updated api_token',
      'customer.deleted user',
      'customer.deleted automation',
    ]) {
      expect(byActorType, pair).toContain(pair);
    }
    const oldAndNew = customerEvents.filter((e) =>
      (e.changes ?? []).some((c) => c.old !== undefined && c.new !== undefined),
    );
    expect(oldAndNew.length).toBeGreaterThan(10);
  });

  it('has failures, AI agents, IPv6 and rarely seen addresses in the mix', () => {
    const all = dataset.workspaces.flatMap((ws) => workspace(ws.id).events);
    const failures = all.filter((e) => e.outcome === 'failure').length;
    expect(failures).toBeGreaterThan(all.length / 200);
    expect(failures).toBeLessThan(all.length / 10);
    expect(all.some((e) => e.context?.ip?.includes(':'))).toBe(true);
    expect(all.every((e) => e.context?.request_id?.startsWith('req_'))).toBe(true);
    // Each person mostly uses one to three addresses, plus one now and then.
    const alex = all.filter((e) => e.actor.email === 'alex@example.com');
    const counts = new Map<string, number>();
    for (const e of alex) counts.set(e.context!.ip!, (counts.get(e.context!.ip!) ?? 0) + 1);
    const usual = [...counts.values()].filter((n) => n > alex.length / 20);
    expect(usual.length).toBeGreaterThanOrEqual(1);
    expect(usual.length).toBeLessThanOrEqual(3);
    expect([...counts.values()].some((n) => n < alex.length / 20)).toBe(true);
  });
});

describe('generateDemo: change tracking', () => {
  it('sends every declared secret field with a value, and the core redacts every one', () => {
    for (const ws of dataset.workspaces) {
      const { settings, events, drafts } = workspace(ws.id);
      for (const [type, schema] of Object.entries(settings.resources ?? {})) {
        for (const [field, rule] of Object.entries(schema.fields)) {
          if (rule !== 'secret') continue;
          const sent = events
            .map((e, i) => ({ e, draft: drafts[i]! }))
            .filter(({ e }) => e.targets?.[0]?.type === type)
            .filter(({ e }) => typeof (e.after?.[field] ?? e.before?.[field]) === 'string');
          expect(sent.length, `${ws.id} ${type}.${field}`).toBeGreaterThan(0);
          for (const { e, draft } of sent) {
            const value = (e.after?.[field] ?? e.before?.[field]) as string;
            expect(JSON.stringify(draft)).not.toContain(value);
          }
          expect(
            sent.some(({ draft }) => draft.changes.some((c) => c.field === field && c.secret)),
          ).toBe(true);
        }
      }
    }
  });

  it('tells consistent stories: each before is the entity as its history left it', () => {
    for (const ws of dataset.workspaces) {
      const { settings, events, drafts } = workspace(ws.id);
      const states = new Map<string, EntityState>();
      let compared = 0;
      drafts.forEach((draft, seq) => {
        const primary = draft.targets[0];
        if (primary === undefined) return;
        const key = `${primary.type}/${primary.id}`;
        const previous = states.get(key);
        const before = events[seq]!.before;
        if (previous !== undefined && !previous.deleted && before !== undefined) {
          const schema = resourceSchema(settings, primary.type);
          const expected: JsonObject = {};
          for (const [field, value] of Object.entries(before)) {
            const rule = fieldRule(field, schema);
            if (rule === 'ignore') continue;
            expected[field] = rule === 'secret' ? HIDDEN : value;
          }
          expect(previous.state, `${ws.id} event ${seq} ${draft.action} on ${key}`).toEqual(
            expected,
          );
          compared++;
        }
        const stored = { ...draft, seq: seq + 1, prev_hash: '', hash: '' } satisfies StoredEvent;
        states.set(key, applyEvent(previous, stored, primary));
      });
      expect(compared, ws.id).toBeGreaterThan(50);
    }
  });
});

describe('splitByShare', () => {
  it('adds up exactly and stays within one of the exact share', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 10_000_000 }),
        fc.array(fc.integer({ min: 1, max: 100 }), { minLength: 1, maxLength: 6 }),
        (total, shares) => {
          const counts = splitByShare(total, shares);
          const sum = shares.reduce((a, b) => a + b, 0);
          expect(counts.reduce((a, b) => a + b, 0)).toBe(total);
          counts.forEach((count, i) => {
            expect(Math.abs(count - (total * shares[i]!) / sum)).toBeLessThan(1);
          });
        },
      ),
    );
  });
});
