// npm run test:long: the long simulations, whose properties npm test proves at a cheaper level
// (the log's retention on the partition itself, shorter runs of the same paths): weeks of telegrams
// at the meter's real rate, and the exhaustive power-cut sweep on the device's sector size.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/long/**/*.test.ts'],
    testTimeout: 20 * 60_000,
    hookTimeout: 20 * 60_000,
  },
});
