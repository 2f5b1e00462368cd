// npm run test:dashboard-year: the dashboard on a backend filled by a simulated year
// (smgw sim --days 365 --speed max --backend embedded), about 12 minutes: not part of npm test.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/dashboard-year.browser.ts'],
    testTimeout: 30 * 60_000,
    hookTimeout: 30 * 60_000,
  },
});
