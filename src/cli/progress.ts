/** A progress bar on a terminal; silent when stderr is not a TTY (pipes, CI, tests). */
import cliProgress from 'cli-progress';

export interface Progress {
  update(done: number): void;
  setTotal(total: number): void;
  stop(): void;
}

export function createProgress(total: number, label: string): Progress {
  if (!process.stderr.isTTY) {
    return { update: () => undefined, setTotal: () => undefined, stop: () => undefined };
  }
  const bar = new cliProgress.SingleBar(
    {
      format: `${label} [{bar}] {percentage}% | {value}/{total} | {eta_formatted} left`,
      stream: process.stderr,
      hideCursor: true,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0);
  return {
    update: (done) => bar.update(done),
    setTotal: (t) => bar.setTotal(t),
    stop: () => bar.stop(),
  };
}
