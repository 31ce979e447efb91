/**
 * Acceptance: a sending process that is SIGKILLed with events recorded but undelivered loses
 * nothing. A new process on the same spool directory delivers them, each once, in order.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { TrailkeepClient, type StoredEvent } from '../../src/client/index.js';
import { startInProcess } from './support/trailkeep.js';

const SENDER = fileURLToPath(new URL('./support/spool-sender.ts', import.meta.url));

function startSender(args: string[]): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, ['--import', 'tsx', SENDER, ...args], { stdio: 'pipe' });
}

function waitForLine(child: ChildProcessWithoutNullStreams, line: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (out.split('\n').includes(line)) resolve();
    });
    child.once('exit', (code, signal) =>
      reject(new Error(`sender exited (${code ?? signal}) before "${line}": ${err}`)),
    );
  });
}

describe('the on-disk spool', () => {
  it('delivers, after the sender is killed and started again, every event once and in order', async () => {
    const server = await startInProcess({ rateLimit: false });
    const spoolDir = await mkdtemp(join(tmpdir(), 'tk-spool-kill-'));
    const gate = server.app.trailkeep.appendGate;
    let held = 0;
    try {
      const args = [server.url, server.keys.ingest, spoolDir];
      const first = startSender([...args, 'record']);
      const exited = new Promise((resolve) => first.once('exit', resolve));
      const half = waitForLine(first, 'half');
      await half;
      // The server now refuses appends (503), so the next events stay in the spool.
      while (gate.tryAcquire()) held += 1;
      const recorded = waitForLine(first, 'recorded');
      first.stdin.write('go\n');
      await recorded;
      first.kill('SIGKILL');
      await exited;
      expect((await readdir(spoolDir)).some((name) => name.endsWith('.ndjson'))).toBe(true);
      for (; held > 0; held--) gate.release();

      const second = startSender([...args, 'deliver']);
      await waitForLine(second, 'done');
      expect((await readdir(spoolDir)).filter((name) => name.endsWith('.ndjson'))).toEqual([]);

      const reader = new TrailkeepClient({
        url: server.url,
        workspace: 'acme',
        apiKey: server.keys.read,
      });
      const stored: StoredEvent[] = [];
      for await (const event of reader.events({ q: 'actor:spool-sender', limit: 200 }))
        stored.push(event);
      stored.sort((a, b) => a.seq - b.seq);
      expect(stored.map((e) => e.metadata['n'])).toEqual(Array.from({ length: 200 }, (_, n) => n));
    } finally {
      for (; held > 0; held--) gate.release();
      await rm(spoolDir, { recursive: true, force: true });
      await server.close();
    }
  });
});
