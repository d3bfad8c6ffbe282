import { defineConfig } from 'vitest/config';

/*
 * The chaos suite (`npm run test:chaos`): real `herald` processes (the
 * compiled build) killed, stopped and restarted, and a private PostgreSQL
 * server stopped under load. Files run one at a time: each one starts
 * several processes and measures timings, and two cores are all there is.
 */
export default defineConfig({
  test: {
    include: ['test/chaos/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 240_000,
    hookTimeout: 180_000,
    teardownTimeout: 60_000,
    pool: 'forks',
    fileParallelism: false,
    maxWorkers: 1,
  },
});
