/**
 * `trailkeep serve`: the HTTP service. On a first start with an empty database it creates a
 * workspace, its owner (with a generated password) and an ingest key, and prints them once.
 * SIGTERM or SIGINT stop it gracefully: no new connections, requests in flight finish (an
 * acknowledged event is already durable), then the store is closed. A second signal exits at once.
 */
import type { Command } from 'commander';
import ipaddr from 'ipaddr.js';
import { hostname } from 'node:os';
import { isTrailkeepError } from '../../core/errors.js';
import { DEFAULT_LOG_ORIGIN_HOST, isLogOriginHost } from '../../core/log-origin.js';
import { buildApp } from '../../http/app.js';
import { AccountService, type InitWorkspaceResult } from '../../service/accounts.js';
import { LogService } from '../../service/log-service.js';
import { schedulePruning } from '../../service/retention.js';
import { DEFAULT_LOGIN_THROTTLE } from '../../service/throttle.js';
import type { Store } from '../../store/store.js';
import {
  CliExit,
  openSigningKeys,
  positiveInt,
  withDb,
  withSigningKeys,
  type SigningOptions,
} from '../context.js';

interface ServeOptions extends SigningOptions {
  db: string;
  /** Also load the demo workspaces on a first start (events in all), owned by the owner. */
  demo?: number | boolean;
  port: number;
  host: string;
  workspace: string;
  owner: string;
  json?: boolean;
  secureCookies?: boolean;
  trustProxy?: boolean;
  webRoot?: string;
  logLevel: string;
  logOriginHost?: string;
  pruneIntervalMinutes: number;
}

/** The actor of the scheduled retention job's records. */
const PRUNE_JOB = {
  actor: { type: 'system' as const, id: 'trailkeep-retention', name: 'retention job' },
};

export function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65_535) {
    throw new CliExit(2, `trailkeep: --port must be 0 to 65535, got "${value}"`);
  }
  return n;
}

/** Creates the first workspace when the database has none; undefined when it already had one. */
async function firstStart(
  store: Store,
  accounts: AccountService,
  options: ServeOptions,
): Promise<InitWorkspaceResult | undefined> {
  if ((await store.listWorkspaces()).length > 0) return undefined;
  try {
    return await accounts.initWorkspace({
      workspace: options.workspace,
      ownerEmail: options.owner,
      keyScopes: ['ingest'],
    });
  } catch (error) {
    // Another process starting on the same empty database got there first.
    if (isTrailkeepError(error) && error.code === 'already_exists') return undefined;
    throw error;
  }
}

const DEFAULT_DEMO_EVENTS = 10_000;
export const LOG_ORIGIN_ENV = 'TRAILKEEP_LOG_ORIGIN_HOST';

export function logOriginHost(value: string): string {
  if (!isLogOriginHost(value)) {
    throw new CliExit(
      2,
      `trailkeep: --log-origin-host must be a lower-case host name or IP literal with an optional port (e.g. audit.example.com), got "${value.slice(0, 80)}"`,
    );
  }
  return value;
}

/**
 * The machine's name when it makes a valid origin, else localhost: a checkpoint's origin must not
 * change from one start to the next, so an operator whose clients see another name sets it.
 */
export function defaultLogOriginHost(): string {
  const fromEnv = process.env[LOG_ORIGIN_ENV];
  if (fromEnv !== undefined && fromEnv !== '') return logOriginHost(fromEnv);
  const name = hostname().toLowerCase();
  return isLogOriginHost(name) ? name : DEFAULT_LOG_ORIGIN_HOST;
}

/** Whether only this machine can reach `host` (a name other than localhost may be anything). */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, '$1');
  if (bare.toLowerCase() === 'localhost') return true;
  return ipaddr.isValid(bare) && ipaddr.process(bare).range() === 'loopback';
}

/**
 * Sign-in throttling counts failures per client address. Reachable from other machines without
 * --trust-proxy, a reverse proxy in front makes every client the proxy's one address, and a
 * handful of failed sign-ins by anyone locks everyone out. The operator must hear it at start.
 */
export function proxyWarning(host: string, trustProxy: boolean): string | undefined {
  if (trustProxy || isLoopbackHost(host)) return undefined;
  const { ipFailures, maxLockMs } = DEFAULT_LOGIN_THROTTLE;
  return (
    `trailkeep: warning: listening on ${host} without --trust-proxy: sign-in throttling counts ` +
    `failures per client address, so behind a reverse proxy (where every client has the ` +
    `proxy's address) ${ipFailures} failed sign-ins by anyone lock sign-in for everyone, for up ` +
    `to ${maxLockMs / 60_000} minutes. Pass --trust-proxy when a proxy forwards to this server.`
  );
}

/**
 * The first-run experience: the demo's workspaces (one per vocabulary of the design), with the
 * first owner as their owner, so a new user sees a realistic log at once.
 */
async function loadDemoFor(
  store: Store,
  log: LogService,
  accounts: AccountService,
  created: InitWorkspaceResult,
  demo: number | boolean,
): Promise<string[]> {
  const { generateDemo } = await import('../../demo/generate.js');
  const { loadDemo } = await import('../../demo/load.js');
  const events = demo === true ? DEFAULT_DEMO_EVENTS : Number(demo);
  if (!Number.isInteger(events) || events < 0) {
    throw new CliExit(2, `trailkeep: --demo takes a number of events, got "${String(demo)}"`);
  }
  process.stdout.write(`Loading ${events.toLocaleString('en-US')} demo events...\n`);
  const loaded = await loadDemo(store, log, generateDemo({ events, now: new Date() }));
  for (const { id } of loaded) {
    await accounts.addMember(id, { email: created.owner.email, role: 'owner' });
  }
  return loaded.map((l) => l.id);
}

function printFirstStart(
  url: string,
  created: InitWorkspaceResult,
  json: boolean,
  demoWorkspaces: readonly string[],
): void {
  if (json) {
    process.stdout.write(
      `${JSON.stringify({
        url,
        workspace: created.workspace.id,
        owner: created.owner,
        keys: created.keys,
        demo_workspaces: demoWorkspaces,
      })}\n`,
    );
    return;
  }
  const lines = [
    '',
    'Trailkeep created its first workspace. These credentials are shown only once:',
    '',
    `  Viewer:       ${url}/`,
    `  Workspace:    ${created.workspace.id}`,
    `  Owner email:  ${created.owner.email}`,
    `  Password:     ${created.owner.password ?? '(unchanged: the account already existed)'}`,
    `  Ingest key:   ${created.keys.ingest ?? ''}`,
    ...(demoWorkspaces.length > 0
      ? [`  Demo data:    ${demoWorkspaces.join(', ')} (switch workspaces in the viewer)`]
      : []),
    '',
    'Send an event:',
    `  curl -X POST ${url}/api/v1/workspaces/${created.workspace.id}/events \\`,
    `    -H "Authorization: Bearer ${created.keys.ingest ?? ''}" -H "Content-Type: application/json" \\`,
    `    -d '{"action":"user.login","actor":{"type":"user","id":"u_1","email":"alex@example.com"}}'`,
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

async function serve(options: ServeOptions): Promise<void> {
  const { openStore } = await import('../../store/open.js');
  const store = await openStore(options.db);
  let closed = false;
  const closeStore = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await store.close();
  };
  try {
    const keys = await openSigningKeys(store, options.db, options);
    const log = await LogService.open(store, {
      keys,
      logOriginHost: options.logOriginHost ?? defaultLogOriginHost(),
    });
    const accounts = new AccountService(store);
    const created = await firstStart(store, accounts, options);
    const demoWorkspaces =
      created && options.demo ? await loadDemoFor(store, log, accounts, created, options.demo) : [];
    const app = await buildApp({
      log,
      accounts,
      logger: { level: options.logLevel },
      trustProxy: options.trustProxy ?? false,
      secureCookies: options.secureCookies ?? false,
      ...(options.webRoot === undefined ? {} : { webRoot: options.webRoot }),
    });
    const warning = proxyWarning(options.host, options.trustProxy ?? false);
    if (warning !== undefined) process.stderr.write(`${warning}\n`);
    // Hooks can only be added before the server listens.
    const stopPruning = schedulePruning(
      () =>
        app.trailkeep.retention.pruneAll(PRUNE_JOB, (workspace, error) =>
          app.log.error({ workspace, err: error }, 'pruning run failed'),
        ),
      options.pruneIntervalMinutes * 60_000,
    );
    app.addHook('onClose', () => stopPruning());
    await app.listen({ host: options.host, port: options.port });
    // Witnesses catch up on what was appended while the server was down.
    await app.trailkeep.witnesses.start();
    const address = app.server.address();
    const boundPort = typeof address === 'object' && address !== null ? address.port : options.port;
    const host = options.host.includes(':') ? `[${options.host}]` : options.host;
    const url = `http://${host}:${boundPort}`;
    if (created) printFirstStart(url, created, options.json ?? false, demoWorkspaces);
    else if (options.json) process.stdout.write(`${JSON.stringify({ url })}\n`);
    else process.stdout.write(`Trailkeep is listening on ${url}/\n`);

    await new Promise<void>((resolve, reject) => {
      let stopping = false;
      const stop = (signal: NodeJS.Signals): void => {
        if (stopping) {
          // A second signal: the operator wants out now.
          process.exit(130);
        }
        stopping = true;
        app.log.info({ signal }, 'shutting down: finishing requests in flight');
        app
          .close()
          .then(closeStore)
          .then(resolve, reject)
          .finally(() => {
            process.off('SIGTERM', stop);
            process.off('SIGINT', stop);
          });
      };
      process.on('SIGTERM', stop);
      process.on('SIGINT', stop);
    });
  } finally {
    await closeStore();
  }
}

export function register(program: Command): void {
  withSigningKeys(withDb(program.command('serve')))
    .description('run the HTTP service and the viewer')
    .option(
      '--port <n>',
      'port (env TRAILKEEP_PORT)',
      port,
      port(process.env['TRAILKEEP_PORT'] ?? '8080'),
    )
    .option(
      '--host <address>',
      'address to listen on (env TRAILKEEP_HOST)',
      process.env['TRAILKEEP_HOST'] ?? '127.0.0.1',
    )
    .option('--workspace <id>', 'first workspace, created on a first start', 'default')
    .option('--owner <email>', 'owner of the first workspace', 'owner@localhost')
    .option('--json', 'print the first-start credentials and the URL as JSON')
    .option(
      '--demo [events]',
      `on a first start, also load the demo workspaces (default ${DEFAULT_DEMO_EVENTS} events)`,
    )
    .option('--secure-cookies', 'mark cookies Secure even without TLS here (TLS ends at a proxy)')
    .option('--trust-proxy', 'trust X-Forwarded-For and X-Forwarded-Proto from a reverse proxy')
    .option('--web-root <dir>', 'the built viewer (default web/dist)')
    .option(
      '--log-origin-host <host>',
      `host of the checkpoints' origin <host>/<workspace> (env ${LOG_ORIGIN_ENV}; default this machine's name)`,
      logOriginHost,
    )
    .option(
      '--prune-interval-minutes <n>',
      'how often the retention job runs for workspaces with a retention policy',
      positiveInt('--prune-interval-minutes'),
      60,
    )
    .option(
      '--log-level <level>',
      'pino level: fatal, error, warn, info, debug (env TRAILKEEP_LOG_LEVEL)',
      process.env['TRAILKEEP_LOG_LEVEL'] ?? 'info',
    )
    .action(serve);
}
