import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Two cores: run files two at a time so spawned servers are not starved into flaky timeouts.
    maxWorkers: 2,
    reporters: ['default', './test/summary-reporter.ts'],
  },
});
