/**
 * `trailkeep demo`: four realistic workspaces, one per naming style (job runner, developer
 * platform, engineering workspace, CRM), loaded through the same ingest path as real events.
 * Re-running it with the same seed is idempotent: the story is anchored at the time of the
 * first run, so the same events come out again and the store recognizes them.
 */
import type { Command } from 'commander';
import { parseTimestamp } from '../../core/timestamp.js';
import { DEFAULT_DAYS, DEFAULT_SEED, generateDemo } from '../../demo/generate.js';
import { loadDemo, type LoadedWorkspace } from '../../demo/load.js';
import type { Store } from '../../store/store.js';
import { CliExit, DEFAULT_DB, positiveInt, printJson, withDb, withServices } from '../context.js';
import { createProgress } from '../progress.js';

interface DemoOptions {
  db: string;
  events: number;
  seed: number;
  days: number;
  now?: string;
  json?: boolean;
}

const DEFAULT_EVENTS = 20_000;

function seedOption(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new CliExit(2, `trailkeep: --seed must be a non-negative integer, got "${value}"`);
  }
  return n;
}

/**
 * When the story ends: `--now`, else the time of the first demo run with this seed (kept in the
 * store's set-once values), so that a second run regenerates the very same events.
 */
async function storyEnd(store: Store, options: DemoOptions): Promise<Date> {
  if (options.now !== undefined) {
    const now = parseTimestamp(options.now);
    if (now === undefined) {
      throw new CliExit(
        2,
        `trailkeep: --now must be an ISO 8601 time with a zone, got "${options.now}"`,
      );
    }
    if (now.getTime() > Date.now())
      throw new CliExit(2, 'trailkeep: --now must not be in the future');
    return now;
  }
  const anchor = await store.ensureSecret(
    `demo_anchor_seed_${options.seed}`,
    new Date().toISOString(),
  );
  return new Date(anchor);
}

function hints(db: string): string[] {
  const where = db === DEFAULT_DB ? '' : ` --db '${db}'`;
  return [
    `trailkeep query${where} --workspace jobs 'actor:alex@'`,
    `trailkeep query${where} --workspace devplatform 'action:login outcome:failure'`,
    `trailkeep query${where} --workspace engineering 'category:auth_tokens actor_type:user'`,
    `trailkeep query${where} --workspace crm 'action:customer.updated -is:system'`,
    `trailkeep export${where} --workspace jobs --type entities --target-type job --out -`,
    `trailkeep serve${where}   (then open the viewer in a browser)`,
  ];
}

function printSummary(
  loaded: readonly LoadedWorkspace[],
  meta: { seed: number; now: Date; days: number; seconds: number; db: string },
): void {
  const sent = loaded.reduce((sum, ws) => sum + ws.events, 0);
  const stored = loaded.reduce((sum, ws) => sum + ws.stored, 0);
  const rate = meta.seconds > 0 ? Math.round(sent / meta.seconds) : sent;
  const out: string[] = [
    `Demo data set: seed ${meta.seed}, ${meta.days} days up to ${meta.now.toISOString()}.`,
    '',
  ];
  const width = Math.max(...loaded.map((ws) => ws.id.length));
  for (const ws of loaded) {
    const again = ws.events - ws.stored;
    out.push(
      `  ${ws.id.padEnd(width)}  ${ws.events.toLocaleString('en-US').padStart(10)} events` +
        (again > 0 ? ` (${again.toLocaleString('en-US')} already stored)` : '') +
        `  ${ws.name}${ws.created ? ', new workspace' : ''}`,
    );
  }
  out.push(
    '',
    `Stored ${stored.toLocaleString('en-US')} new events of ${sent.toLocaleString('en-US')} ` +
      `in ${meta.seconds.toFixed(1)} s (${rate.toLocaleString('en-US')} events/s).`,
    '',
    'Look around:',
    ...hints(meta.db).map((line) => `  ${line}`),
  );
  process.stdout.write(`${out.join('\n')}\n`);
}

export function register(program: Command): void {
  withDb(program.command('demo'))
    .description('load four realistic demo workspaces (jobs, devplatform, engineering, crm)')
    .option(
      '--events <n>',
      'total events over all workspaces',
      positiveInt('--events'),
      DEFAULT_EVENTS,
    )
    .option(
      '--seed <n>',
      'seed of the story; the same seed gives the same events',
      seedOption,
      DEFAULT_SEED,
    )
    .option('--days <n>', 'how many days the story spans', positiveInt('--days'), DEFAULT_DAYS)
    .option('--now <time>', 'when the story ends (default: the first demo run with this seed)')
    .option('--json', 'machine-readable summary')
    .action(async (options: DemoOptions) => {
      await withServices(options.db, async ({ store, log }) => {
        const now = await storyEnd(store, options);
        const dataset = generateDemo({
          seed: options.seed,
          events: options.events,
          now,
          days: options.days,
        });
        const progress = createProgress(options.events, 'demo');
        const started = performance.now();
        let loaded: LoadedWorkspace[];
        try {
          loaded = await loadDemo(store, log, dataset, {
            onProgress: (sent) => progress.update(sent),
          });
        } finally {
          progress.stop();
        }
        const seconds = (performance.now() - started) / 1000;
        if (options.json) {
          printJson({
            seed: options.seed,
            now: now.toISOString(),
            days: options.days,
            events: options.events,
            stored: loaded.reduce((sum, ws) => sum + ws.stored, 0),
            seconds: Math.round(seconds * 1000) / 1000,
            events_per_second: seconds > 0 ? Math.round(options.events / seconds) : null,
            workspaces: loaded,
          });
        } else {
          printSummary(loaded, {
            seed: options.seed,
            now,
            days: options.days,
            seconds,
            db: options.db,
          });
        }
      });
    });
}
