import { availableParallelism } from 'node:os';

import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Two test files at a time at least (vitest's default is one per core less one: a single
    // file at a time on two cores). Much of this suite waits on child processes, sockets and
    // timers rather than computing, so a second file overlaps with it. No test here measures
    // time: bounds are counts and sizes.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    reporters: ['default'],
  },
});
