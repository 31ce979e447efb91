/** A real server on either engine, for tests that run once per engine with describe.each. */
import type { ServiceOptions } from '../../src/service/log-service.js';
import { createDatabase, usePostgres } from '../support/postgres.js';
import { startServer, type Server } from './support.js';

export const ENGINES = ['sqlite', 'postgres'] as const;
export type Engine = (typeof ENGINES)[number];

/**
 * startServer on a new SQLite file, or on a new database (named after `name`) of the shared
 * PostgreSQL server; `close` also lets that server go.
 */
export async function startOn(
  engine: Engine,
  name: string,
  options: Omit<Parameters<typeof startServer>[0], 'db'> = {},
  service: ServiceOptions = {},
): Promise<Server> {
  if (engine === 'sqlite') return startServer(options, service);
  const { server: pg, release } = await usePostgres();
  const server = await startServer({ ...options, db: await createDatabase(pg, name) }, service);
  return {
    ...server,
    async close() {
      await server.close();
      await release();
    },
  };
}
