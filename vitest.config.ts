import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Server and browser tests start real processes; two cores are shared by them all.
    maxWorkers: 2,
    globalSetup: ['test/support/build-global.ts', 'test/support/postgres-global.ts'],
  },
});
