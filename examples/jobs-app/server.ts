/**
 * Runs the jobs app against a running Trailkeep:
 *
 *   TRAILKEEP_URL=http://127.0.0.1:8080 TRAILKEEP_WORKSPACE=default TRAILKEEP_INGEST_KEY=tk_ingest_... \
 *     npx tsx examples/jobs-app/server.ts
 *
 * Events are spooled to disk (JOBS_APP_SPOOL, default ./data/jobs-app-spool) before a request
 * is answered, so neither a Trailkeep restart nor a restart of this app loses one.
 */
import { TrailkeepClient } from '../../src/client/index.js';
import { createJobsApp } from './app.js';

function required(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') {
    process.stderr.write(`jobs-app: set ${name} (see examples/jobs-app/README.md)\n`);
    process.exit(2);
  }
  return value;
}

const client = new TrailkeepClient({
  url: process.env['TRAILKEEP_URL'] ?? 'http://127.0.0.1:8080',
  workspace: required('TRAILKEEP_WORKSPACE'),
  apiKey: required('TRAILKEEP_INGEST_KEY'),
  spoolDir: process.env['JOBS_APP_SPOOL'] ?? './data/jobs-app-spool',
  onError: (error) => process.stderr.write(`trailkeep: ${error.message}\n`),
});

const port = Number(process.env['PORT'] ?? '3000');
const server = createJobsApp(client, { trustProxy: ['loopback'] }).listen(port, '127.0.0.1', () => {
  process.stdout.write(`jobs-app listening on http://127.0.0.1:${port}\n`);
});

function stop(): void {
  server.close();
  // Whatever is not delivered within 5 s stays in the spool for the next start.
  client.close({ timeoutMs: 5000 }).then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(
        `trailkeep: ${error instanceof Error ? error.message : String(error)}\n`,
      );
      process.exit(1);
    },
  );
}
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
