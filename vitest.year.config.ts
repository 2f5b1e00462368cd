// npm run test:dashboard-year: the dashboard on a backend filled by a simulated year
// (smgw sim --days 365 --speed max --backend embedded, about 8 minutes, and the
// household's PV meter for the same year, about 28 more): not part of npm test.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/dashboard-year.browser.ts'],
    testTimeout: 30 * 60_000,
    hookTimeout: 90 * 60_000,
  },
});
