import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    // Long runs have their own configs (vitest.long.config.ts, vitest.year.config.ts).
    exclude: ['tests/long/**'],
    // One test file per core. Vitest's default leaves one core free, which on a 2-core machine runs the files
    // one after another while most of them wait on a child process, a browser or a socket half the time.
    maxWorkers: Math.max(2, availableParallelism()),
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
