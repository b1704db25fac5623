import { defineConfig } from 'vitest/config';

// The browser suite: real headless Chromium (Debian's, at /usr/bin/chromium), one file at a time
// so that two browsers never compete for the CPU. The global setup builds dist/ first: pages load
// the package as published, and must never run a stale build.
export default defineConfig({
  test: {
    include: ['test/browser/**/*.test.ts'],
    globalSetup: ['test/browser/build-package.ts'],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    reporters: ['default'],
  },
});
