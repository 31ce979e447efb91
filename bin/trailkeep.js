#!/usr/bin/env node
// The published entry point: the compiled CLI (npm run build writes dist/).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const argv = process.argv.slice(2);

/**
 * Streaming commands (an event export, verify, copy) hold only a few hundred rows at a time,
 * but V8 lets the old generation grow far past that before it collects. They run in a child
 * with a bounded old generation, which keeps their peak memory flat at any log size (and makes
 * them faster: smaller heaps are cheaper to collect). An entity export keeps one state per
 * entity, so it runs unbounded in this process. See docs/performance.md.
 */
const HEAP_FLAG = '--max-old-space-size=128';
const streaming =
  ['export', 'verify', 'copy'].includes(argv[0] ?? '') &&
  !argv.includes('entities') &&
  !argv.some((a) => a.startsWith('--type=entities'));

if (streaming && !process.execArgv.some((a) => a.startsWith('--max-old-space-size'))) {
  const child = spawn(
    process.execPath,
    [...process.execArgv, HEAP_FLAG, fileURLToPath(import.meta.url), ...argv],
    { stdio: 'inherit' },
  );
  // A Ctrl-C reaches the whole process group; the child decides what it means.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => undefined);
  child.on('exit', (code, signal) => {
    process.exitCode = code ?? (signal ? 128 + 2 : 1);
  });
} else {
  const { main } = await import('../dist/src/cli/main.js');
  process.exitCode = await main(argv);
}
