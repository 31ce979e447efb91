/**
 * A real Trailkeep server for the viewer's browser tests: a temp SQLite file, one workspace of
 * seeded events (every actor kind, failures, role changes, secrets, HTML payloads), people of
 * every role, and the viewer built from web/ into a temp folder so a running dev build is never
 * overwritten.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { EventInput } from '../../../src/core/event.js';
import { generateDemo } from '../../../src/demo/generate.js';
import { loadDemo } from '../../../src/demo/load.js';
import { buildApp } from '../../../src/http/app.js';
import { AccountService } from '../../../src/service/accounts.js';
import { LogService } from '../../../src/service/log-service.js';
import { SIGNATURE_COSIGNATURE_V1, generateNoteKey } from '../../../src/core/tlog/note.js';
import { openStore } from '../../../src/store/open.js';

const root = new URL('../../..', import.meta.url).pathname;

export const WORKSPACE = 'acme';
/** The demo data set's job-runner workspace (from `trailkeep demo`). */
export const DEMO_WORKSPACE = 'jobs';
export const OTHER_WORKSPACE = 'beta';
export const PASSWORD = 'correct horse battery staple';
export const PEOPLE = {
  owner: 'olivia@acme.test',
  admin: 'adam@acme.test',
  auditor: 'audrey@acme.test',
  member: 'max@acme.test',
} as const;

/** Payloads that would run script if any event text were rendered as HTML. */
export const XSS = {
  img: '<img src=x onerror="window.__xss=1">',
  script: '<script>window.__xss=2</script>',
};
export const XSS_ACTION = 'integration.connected';

export interface ViewerServer {
  readonly baseUrl: string;
  /** Seeded events in the main workspace, by purpose. */
  readonly counts: {
    readonly total: number;
    readonly integrations: number;
    readonly system: number;
  };
  close(): Promise<void>;
}

/** Builds the viewer once into `outDir` with the project's Vite config. */
export function buildViewer(outDir: string): void {
  execFileSync(
    process.execPath,
    [
      join(root, 'node_modules/vite/bin/vite.js'),
      'build',
      '--config',
      join(root, 'web/vite.config.ts'),
      '--outDir',
      outDir,
      '--emptyOutDir',
      '--logLevel',
      'error',
    ],
    { cwd: root, stdio: 'pipe' },
  );
}

const MINUTE = 60_000;

function at(now: number, minutesAgo: number): string {
  return new Date(now - minutesAgo * MINUTE).toISOString();
}

const ALEX = { type: 'user', id: 'u_alex', name: 'Alex Kim', email: 'alex@example.com' } as const;
const SAM = { type: 'user', id: 'u_sam', name: 'Sam Lee', email: 'sam@example.com' } as const;
const AGENT = { type: 'agent', id: 'agt_fixer', name: 'Fixer agent' } as const;
const TOKEN = { type: 'api_token', id: 'tok_ci', name: 'ci-deploy token' } as const;
const RUNNER = { type: 'automation', id: 'runner_7', name: 'runner-7' } as const;
const SYSTEM = { type: 'system', id: 'trailkeep' } as const;

/**
 * The seeded log: newest last (ingest order), every 97 minutes from nine days ago, so that the
 * people's events (the last dozen) fall within the last seven days.
 */
export function seedEvents(now: number): EventInput[] {
  const events: EventInput[] = [];
  let minutesAgo = 9 * 24 * 60;
  const next = () => {
    minutesAgo -= 97;
    return at(now, minutesAgo);
  };
  // Runners churn through jobs: system noise a person usually hides.
  for (let i = 0; i < 90; i++) {
    events.push({
      action: i % 3 === 0 ? 'WORKER_CLAIMED_JOB' : 'worker.completed_attempt',
      occurred_at: next(),
      actor: i % 2 === 0 ? RUNNER : SYSTEM,
      targets: [{ type: 'job', id: `job_${i % 12}`, name: `nightly-build-${i % 12}` }],
      category: 'runners',
      context: { ip: '10.0.0.7' },
    });
    if (i % 10 === 0) {
      events.push({
        action: 'job.created',
        occurred_at: next(),
        actor: i % 20 === 0 ? ALEX : AGENT,
        targets: [{ type: 'job', id: `job_${i}`, name: `deploy-${i}` }],
        category: 'jobs',
        changes: [{ field: 'state', new: 'queued' }],
        context: { ip: '203.0.113.7', user_agent: 'Mozilla/5.0', request_id: `req_job_${i}` },
      });
    }
  }
  for (let i = 0; i < 6; i++) {
    events.push({
      action: 'integration.connected',
      occurred_at: next(),
      actor: i % 2 === 0 ? ALEX : TOKEN,
      targets: [{ type: 'integration', id: `int_${i}`, name: `GitHub org ${i}` }],
      category: 'integrations',
      outcome: i === 3 ? 'failure' : 'success',
      context: { ip: i % 2 === 0 ? '203.0.113.7' : '198.51.100.4' },
      metadata: { provider: 'github' },
    });
  }
  events.push({
    action: 'member.role_changed',
    occurred_at: next(),
    actor: ALEX,
    targets: [{ type: 'user', id: 'u_sam', name: 'sam@example.com' }],
    category: 'members',
    changes: [{ field: 'role', old: 'member', new: 'admin' }],
    context: { ip: '203.0.113.7', user_agent: 'Mozilla/5.0 (Macintosh)', request_id: 'req_role_1' },
  });
  events.push({
    action: 'USER_UPDATED',
    occurred_at: next(),
    actor: SAM,
    targets: [{ type: 'user', id: 'u_sam', name: 'sam@example.com' }],
    category: 'members',
    before: { email: 'sam@old.example', password: 'hunter2-old-secret' },
    after: { email: 'sam@example.com', password: 'hunter2-new-secret' },
    context: { ip: '198.51.100.4' },
  });
  events.push({
    action: XSS_ACTION,
    occurred_at: next(),
    actor: { type: 'user', id: 'u_mallory', name: XSS.img, email: 'mallory@example.com' },
    targets: [{ type: 'integration', id: 'int_evil', name: XSS.script }],
    category: 'integrations',
    changes: [{ field: 'webhook_url', old: XSS.script, new: XSS.img }],
    context: { ip: '192.0.2.66', user_agent: XSS.img },
    metadata: { note: XSS.script },
  });
  return events;
}

export async function startViewerServer(): Promise<ViewerServer> {
  const dir = mkdtempSync(join(tmpdir(), 'trailkeep-web-'));
  const webRoot = join(dir, 'dist');
  buildViewer(webRoot);
  const store = await openStore(`sqlite:${join(dir, 'viewer.db')}`);
  const log = await LogService.open(store);
  // Cheap password hashing: these tests sign in many times.
  const accounts = new AccountService(store, { scrypt: { N: 1024, r: 8, p: 1 } });

  await accounts.initWorkspace({
    workspace: WORKSPACE,
    name: 'Acme Jobs',
    ownerEmail: PEOPLE.owner,
    ownerName: 'Olivia Owner',
    ownerPassword: PASSWORD,
    keyScopes: [],
  });
  for (const role of ['admin', 'auditor', 'member'] as const) {
    await accounts.addMember(WORKSPACE, { email: PEOPLE[role], role, password: PASSWORD });
  }
  await accounts.initWorkspace({
    workspace: OTHER_WORKSPACE,
    name: 'Beta Platform',
    ownerEmail: PEOPLE.owner,
    keyScopes: [],
  });
  await accounts.addMember(OTHER_WORKSPACE, { email: PEOPLE.auditor, role: 'auditor' });

  // The demo data set, small: what `trailkeep demo` loads, read by the auditor and the owner.
  const demo = await loadDemo(
    store,
    log,
    generateDemo({ events: 1500, now: new Date(), days: 30 }),
  );
  for (const ws of demo) {
    await accounts.addMember(ws.id, { email: PEOPLE.owner, role: 'owner' });
    await accounts.addMember(ws.id, { email: PEOPLE.auditor, role: 'auditor' });
  }

  const events = seedEvents(Date.now());
  await log.ingestEvents(WORKSPACE, events);
  await log.ingestEvents(OTHER_WORKSPACE, [
    {
      // From an earlier year, with words readers spell in capitals.
      action: 'ssh_key.created',
      occurred_at: new Date(Date.now() - 400 * 86_400_000).toISOString(),
      actor: { type: 'user', id: 'u_alex', name: 'Alex Kim' },
      targets: [{ type: 'api_key', id: 'key_1', name: 'deploy key' }],
    },
    {
      action: 'auto_start',
      actor: SYSTEM,
      targets: [{ type: 'workspace_build', id: 'wb_1', name: 'build 1' }],
      metadata: { build_reason: 'autostart' },
    },
  ]);

  // Beta's witnesses: one that cosigned its log, one that refuses (its history was changed).
  const witnessKey = generateNoteKey('witness.example', SIGNATURE_COSIGNATURE_V1).verifierKey;
  const at = new Date().toISOString();
  for (const name of ['auditor-box', 'customer-witness']) {
    await store.addWitness({
      workspace: OTHER_WORKSPACE,
      name,
      url: `http://127.0.0.1:9/${name}`,
      vkey: witnessKey,
      created_at: at,
    });
  }
  const size = await store.treeSize(OTHER_WORKSPACE);
  const cosigned = { size, root: 'AAAA', cosignature: '\u2014 witness.example AAAAAAAA' };
  const witness = (name: string) => ({ name, vkey: witnessKey });
  await store.recordWitnessOutcome(OTHER_WORKSPACE, witness('auditor-box'), { at, cosigned });
  await store.recordWitnessOutcome(OTHER_WORKSPACE, witness('customer-witness'), {
    at,
    cosigned: { ...cosigned, size: size - 1 },
  });
  await store.recordWitnessOutcome(OTHER_WORKSPACE, witness('customer-witness'), {
    at,
    error: `the witness refused the checkpoint of size ${size} from old size ${size - 1}: HTTP 422 the checkpoint does not extend what the witness cosigned before (the history changed)`,
  });

  // The seeded witnesses are not reachable: keep their seeded status, no background pushes.
  const app = await buildApp({
    log,
    accounts,
    webRoot,
    rateLimit: false,
    witnesses: { background: false },
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    counts: {
      total: events.length,
      integrations: events.filter((e) => e.category === 'integrations').length,
      system: events.filter((e) => e.actor.type === 'system' || e.actor.type === 'automation')
        .length,
    },
    close: async () => {
      await app.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
