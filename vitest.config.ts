import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'packages/*/test/**/*.test.ts'],
    // the long fault-injection runs: npm run test:chaos (vitest.chaos.config.ts)
    exclude: [...configDefaults.exclude, 'test/chaos/**'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    // Test files each open their own database; two cores do not gain from more.
    maxWorkers: 2,
    pool: 'forks',
  },
});
