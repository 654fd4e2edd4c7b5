import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // Suites start real sshd and daemon processes: give them room on a 2-core machine, and never retry
    // (a flaky pass hides a real bug).
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    fileParallelism: true,
    // Three files at once on 2 cores: much of the suite waits on real processes, grace periods and timeouts,
    // and a third worker fills that idle time (the whole suite 310 s -> 277 s on this 2-core machine, green
    // in both runs at three).
    maxWorkers: 3,
    reporters: ['default', './test/summary-reporter.ts'],
  },
});
