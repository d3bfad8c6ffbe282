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
    // Each fork runs file after file with its modules loaded once. Isolated (a fresh fork per file), a file
    // paid seconds to import Fastify, PGlite and playwright-core again: the embedded pass took about 12.5
    // minutes against 8.8 without isolation (the same tests and results, this machine). Test files share no state
    // through modules: each opens its own database, Herald and receivers and closes them in afterAll.
    isolate: false,
  },
});
