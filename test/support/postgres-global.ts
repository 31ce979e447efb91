/**
 * Vitest globalSetup: starts one PostgreSQL server for the whole run and provides its URL as
 * `postgresUrl`. Test files get it through `usePostgres()` in ./postgres.ts, which also
 * starts a server of its own when this setup is not configured.
 */
import type { TestProject } from 'vitest/node';
import { startPostgres } from './postgres.js';

declare module 'vitest' {
  export interface ProvidedContext {
    postgresUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const server = await startPostgres();
  project.provide('postgresUrl', server.url);
  return () => server.stop();
}
