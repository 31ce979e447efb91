/**
 * What the Go cross-checks share: whether Go and Debian's golang-golang-x-mod-dev are installed
 * (a skip with the reason when not, a failure under CI, where a skip would hide a broken
 * install), and an offline build of one of the Go programs here.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const GOPATH = '/usr/share/gocode';
const root = new URL('../..', import.meta.url).pathname;

/** Why `check` cannot run here, or undefined when it can. */
export function goMissing(check: string): string | undefined {
  const goFound = spawnSync('go', ['version']).status === 0;
  const modFound = existsSync(join(GOPATH, 'src/golang.org/x/mod/sumdb/tlog/tlog.go'));
  if (goFound && modFound) return undefined;
  const reason = !goFound
    ? 'go is not installed'
    : 'golang-golang-x-mod-dev (golang.org/x/mod in /usr/share/gocode) is not installed';
  if (process.env.CI !== undefined) {
    throw new Error(`${check} cannot run under CI: ${reason}; .ci/run should install it`);
  }
  console.warn(`skipping ${check}: ${reason}`);
  return reason;
}

/** Builds the Go program in `dir` (from the repository's root) into the file `out`. */
export function buildGo(dir: string, out: string): void {
  const build = spawnSync('go', ['build', '-o', out, dir], {
    cwd: root,
    encoding: 'utf8',
    env: {
      ...process.env,
      GO111MODULE: 'off',
      GOPATH,
      GOFLAGS: '',
      // A cache that outlives the run: later runs skip compiling x/mod again.
      GOCACHE: join(tmpdir(), 'trailkeep-go-build-cache'),
    },
  });
  if (build.status !== 0) throw new Error(`go build failed: ${build.stderr}`);
}
