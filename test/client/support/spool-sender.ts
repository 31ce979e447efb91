/**
 * A sending process for the spool acceptance test, run as a child (node --import tsx). Args:
 * URL KEY SPOOL_DIR PHASE. Phase `record`: records events 0..99, flushes, prints `half`, waits
 * for a line on stdin, records 100..199 and prints `recorded` (each record() has resolved, so
 * each event is fsynced in the spool), then idles until it is killed. Phase `deliver`: opens the
 * same spool, delivers what is left, closes and prints `done`.
 */
import { once } from 'node:events';
import { TrailkeepClient } from '../../../src/client/index.js';

const [url, apiKey, spoolDir, phase] = process.argv.slice(2);
if (url === undefined || apiKey === undefined || spoolDir === undefined) {
  throw new Error('usage: spool-sender URL KEY SPOOL_DIR record|deliver');
}

const client = new TrailkeepClient({
  url,
  workspace: 'acme',
  apiKey,
  spoolDir,
  batchSize: 20,
  flushIntervalMs: 10,
  retry: { baseMs: 10, maxMs: 100 },
  onError: (error) => process.stderr.write(`onError: ${error.message}\n`),
});

async function recordRange(from: number, to: number): Promise<void> {
  for (let n = from; n < to; n++) {
    await client.record({
      action: 'job.created',
      actor: { type: 'automation', id: 'spool-sender' },
      targets: [{ type: 'job', id: `spooled-${n}` }],
      metadata: { n },
    });
  }
}

if (phase === 'record') {
  await recordRange(0, 100);
  await client.flush();
  process.stdout.write('half\n');
  process.stdin.setEncoding('utf8');
  await once(process.stdin, 'data');
  await recordRange(100, 200);
  process.stdout.write('recorded\n');
  setInterval(() => undefined, 60_000);
} else {
  await client.close();
  process.stdout.write('done\n');
}
