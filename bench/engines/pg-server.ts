/**
 * A throwaway PostgreSQL server for a benchmark run: the tests' harness
 * (test/support/postgres.ts: the machine's own binaries, a free port of 127.0.0.1, a temporary
 * folder removed when it stops) with the benchmark's settings instead of the tests' small ones.
 */
import { startPostgres } from '../../test/support/postgres.js';

/** Settings for a 2-core machine with a few GB to spare; durability as in production. */
export const BENCH_SETTINGS: Readonly<Record<string, string>> = {
  shared_buffers: '512MB',
  max_wal_size: '4GB',
  checkpoint_timeout: '15min',
  effective_cache_size: '4GB',
  work_mem: '16MB',
  maintenance_work_mem: '256MB',
  random_page_cost: '1.1',
  fsync: 'on',
  synchronous_commit: 'on',
  max_connections: '200',
};

export interface BenchPostgres {
  /** `postgres://postgres@127.0.0.1:PORT/postgres`, trust authentication. */
  url: string;
  stop(): Promise<void>;
}

export function startBenchPostgres(): Promise<BenchPostgres> {
  return startPostgres(BENCH_SETTINGS);
}
