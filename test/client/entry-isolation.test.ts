/**
 * The published `trailkeep/client` entry loads none of the server: no store, HTTP or service
 * module, and no database driver or Fastify. A fresh Node process imports the built entry
 * through the package's `exports` map, with a resolve hook that logs every module it loads.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

const HOOKS = `
import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  appendFileSync(process.env.TK_LOAD_LOG, result.url + '\\n');
  return result;
}
`;

const REGISTER = `
import { register } from 'node:module';
register('./hooks.mjs', import.meta.url);
`;

// Run from the package root so that the self-reference `trailkeep/client` goes through the
// `exports` map, exactly as an application importing the package would.
const PROGRAM = `
import { createRequire } from 'node:module';
const client = await import('trailkeep/client');
const cjs = Object.keys(createRequire(import.meta.url).cache);
process.stdout.write(JSON.stringify({ exports: Object.keys(client), cjs }));
`;

const FORBIDDEN = [
  /\/src\/store\//,
  /\/src\/http\//,
  /\/src\/service\//,
  /\/src\/cli\//,
  /\/node_modules\/better-sqlite3\//,
  /\/node_modules\/pg\//,
  /\/node_modules\/pg-[^/]+\//,
  /\/node_modules\/fastify\//,
  /\/node_modules\/@fastify\//,
  /\/node_modules\/express\//,
];

describe('the trailkeep/client entry', () => {
  it('loads no server code, database driver or web framework', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tk-entry-'));
    try {
      await writeFile(join(dir, 'hooks.mjs'), HOOKS);
      await writeFile(join(dir, 'register.mjs'), REGISTER);
      const logFile = join(dir, 'loaded.txt');
      const { stdout } = await promisify(execFile)(
        process.execPath,
        ['--import', join(dir, 'register.mjs'), '--input-type=module', '-e', PROGRAM],
        { cwd: root, env: { ...process.env, TK_LOAD_LOG: logFile } },
      );
      const result = JSON.parse(stdout) as { exports: string[]; cjs: string[] };
      const loaded = [
        ...(await readFile(logFile, 'utf8')).split('\n').filter(Boolean),
        ...result.cjs,
      ];

      expect(loaded).toContain(`file://${join(root, 'dist/src/client/index.js')}`);
      expect(result.exports).toEqual(
        expect.arrayContaining([
          'TrailkeepClient',
          'ValidationError',
          'BufferFullError',
          'AuthError',
          'TrailkeepClientError',
          'defineResource',
          'trailkeepExpress',
          'trailkeepFastify',
        ]),
      );
      const offending = loaded.filter((url) => FORBIDDEN.some((pattern) => pattern.test(url)));
      expect(offending).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
